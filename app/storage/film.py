"""A run's film in storage (table ``film_frames``, see `app.training.film`): the frames a
checkpoint brings that are not written yet (`new_frames`, for the recorder), the epochs stored
(`stored_epochs`) and one frame (`stored_frame`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.storage.store import FilmFrameRow, RunStore
from app.training.film import encode_frame


def new_frames(checkpoint: Any, written: set[int], final: bool) -> list[dict[str, Any]]:
    """``[{epoch, data}]``: the frames of `checkpoint` (`Checkpoint.film`) whose epochs are
    not in `written`; with `final` (the run ended), the checkpoint's own weights too, as the
    frame of its epoch (the last epoch is always kept, however the run ended)."""
    film = checkpoint.film
    frames = {epoch: film.state for epoch in (film.epochs() if film else ())}
    if final and checkpoint.epoch > 0:
        frames.setdefault(checkpoint.epoch, lambda _epoch: checkpoint.state)
    scalers = checkpoint.x_scaler, checkpoint.y_scaler
    return [
        {"epoch": epoch, "data": encode_frame(state(epoch), *scalers)}
        for epoch, state in sorted(frames.items())
        if epoch not in written
    ]


def stored_epochs(store: RunStore, run_id: str) -> list[int]:
    """The epochs of a run's stored frames, increasing."""
    with store.session() as session:
        rows = session.scalars(
            select(FilmFrameRow.epoch).where(FilmFrameRow.run_id == run_id)
            .order_by(FilmFrameRow.epoch)
        )  # fmt: skip
        return [int(epoch) for epoch in rows]


def stored_frame(store: RunStore, run_id: str, epoch: int) -> bytes | None:
    """The stored frame (`app.training.film.encode_frame`) of a run's `epoch`, or None."""
    with store.session() as session:
        row = session.get(FilmFrameRow, (run_id, epoch))
        return None if row is None else row.data


def stored_bytes(store: RunStore, run_id: str) -> int:
    """Bytes of a run's stored frames (for the storage bound and its benchmark)."""
    with store.session() as session:
        total = session.scalar(
            select(func.sum(func.length(FilmFrameRow.data))).where(FilmFrameRow.run_id == run_id)
        )
        return int(total or 0)
