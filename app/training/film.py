"""The film of a run: its weights at a chosen set of epochs, kept while it trains (issue 28).

Which epochs (`plan`): every epoch up to `DENSE_EPOCHS` (early learning changes fastest), then
epochs spaced both logarithmically and evenly up to the run's last, the last always, at most
`MAX_FRAMES` in all — fewer for large nets, so that a run's frames stay within
`MAX_FILM_BYTES` (the plan then says so: `FilmPlan.note`). Epoch k means the weights after k
completed epochs, as in the history's ``epoch`` column.

`Film` is what the training process keeps (`app.training.session.TrainingSession.record`
offers it every epoch; a flat copy of the weights is taken only at planned epochs); its frames
(`FilmFrames`) travel with the run's checkpoint (`app.training.session.Checkpoint.film`) and are
written with it (`app.storage.recorder`, table ``film_frames``). `encode_frame` / `decode_frame` are
their stored form: float32 arrays and the scalers in an ``.npz``, zlib-compressed.

Plain numpy: no Flask, no storage (imported by the session in the training process).
"""

from __future__ import annotations

import io
import json
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

DENSE_EPOCHS = 10  # every epoch up to this one is kept
MAX_FRAMES = 150  # frames per run at most
MAX_FILM_BYTES = 10_000_000  # a run's frames stay within this (estimated before training)
FRAME_OVERHEAD = 600  # bytes of a stored frame besides its numbers (npz headers, scaler names)


def frame_bytes(sizes: list[int]) -> int:
    """Estimated bytes of one stored frame of a net of layer widths `sizes`: its float32
    weights and biases, and the scalers (mean and std of the inputs and outputs)."""
    layers = zip(sizes[:-1], sizes[1:], strict=True)
    parameters = sum((fan_in + 1) * fan_out for fan_in, fan_out in layers)
    return 4 * (parameters + 2 * sizes[0] + 2 * sizes[-1]) + FRAME_OVERHEAD


def chosen_epochs(total: int, budget: int = MAX_FRAMES) -> list[int]:
    """The epochs (increasing, 1..`total`) whose weights a run of `total` epochs keeps: every
    one up to `DENSE_EPOCHS`, then log-spaced and evenly spaced ones, `total` always, at most
    `budget` (≥ 1) in all. Raises ValueError for `total` < 0 or `budget` < 1."""
    if total < 0:
        raise ValueError(f"total must be ≥ 0, got {total}")
    if budget < 1:
        raise ValueError(f"budget must be ≥ 1, got {budget}")
    if total <= budget:
        return list(range(1, total + 1))
    dense = min(DENSE_EPOCHS, budget - 1)
    chosen = set(range(1, dense + 1)) | {total}
    spread = budget - len(chosen)  # frames left for the log-spaced and the even ones
    best = sorted(chosen)
    # rounding makes some spaced epochs coincide: ask for more until the budget is filled
    for wanted in range(spread, 4 * spread + 1):
        if wanted <= 0:
            break
        start = max(dense, 1)
        logs = np.geomspace(start, total, wanted // 2 + 2)[1:-1]
        evens = np.linspace(start, total, wanted - wanted // 2 + 2)[1:-1]
        spaced = {int(round(epoch)) for epoch in np.concatenate([logs, evens])}
        candidate = sorted(chosen | {epoch for epoch in spaced if dense < epoch < total})
        if len(candidate) > budget:
            break
        best = candidate
        if len(candidate) == budget:
            break
    return best


@dataclass(frozen=True)
class FilmPlan:
    """A run's film before it trains: the `epochs` kept, the estimated `frame_bytes` of each,
    and `note`, a sentence when the net is too large for `MAX_FRAMES` frames within
    `MAX_FILM_BYTES` (so fewer are kept), else None."""

    epochs: list[int]
    frame_bytes: int
    note: str | None

    def json(self) -> dict[str, Any]:
        """``{frames, frame_bytes, note}`` (what a run's status says of its film)."""
        return {"frames": len(self.epochs), "frame_bytes": self.frame_bytes, "note": self.note}


def plan(sizes: list[int], total: int) -> FilmPlan:
    """The `FilmPlan` of a net of layer widths `sizes` trained for `total` epochs."""
    size = frame_bytes(sizes)
    budget = max(1, min(MAX_FRAMES, MAX_FILM_BYTES // size))
    epochs = chosen_epochs(total, budget)
    note = None
    if budget < MAX_FRAMES and total > budget:
        note = (
            f"replay keeps {len(epochs)} of {total} epochs (not {min(MAX_FRAMES, total)}): "
            f"the weights take {size / 1e6:.2f} MB an epoch and a run's replay at most "
            f"{MAX_FILM_BYTES / 1e6:.0f} MB"
        )
    return FilmPlan(epochs, size, note)


@dataclass(frozen=True)
class FilmFrames:
    """Frames as they travel (pickled) from the training process: `layout` the parameters'
    ``(name, shape)`` in order, `frames` ``{epoch: every parameter, flat, in that order}`` — one
    array per epoch, so a checkpoint with 150 frames pickles fast."""

    layout: tuple[tuple[str, tuple[int, ...]], ...]
    frames: dict[int, np.ndarray]

    def epochs(self) -> list[int]:
        """The epochs kept, increasing."""
        return sorted(self.frames)

    def state(self, epoch: int) -> dict[str, np.ndarray]:
        """The weights of `epoch` as ``model.state_dict()`` gives them (views of the frame).
        Raises KeyError for an epoch not kept."""
        flat, state, start = self.frames[epoch], {}, 0
        for name, shape in self.layout:
            size = int(np.prod(shape))
            state[name] = flat[start : start + size].reshape(shape)
            start += size
        return state


class Film:
    """The frames a training process keeps: the weights (one flat copy) at the epochs of
    `epochs` (see `plan`)."""

    def __init__(self, epochs: list[int]) -> None:
        self.wanted = frozenset(epochs)
        self.frames: dict[int, np.ndarray] = {}
        self.layout: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def offer(self, epoch: int, model: Any) -> None:
        """Keep `model`'s weights (a copy) if `epoch` is a planned one."""
        if epoch not in self.wanted or epoch in self.frames:
            return
        named = model.named_parameters()
        if not self.layout:
            self.layout = tuple((name, p.data.shape) for name, p in named)
        self.frames[epoch] = np.concatenate([p.data.ravel() for _name, p in named])

    def copy(self) -> FilmFrames:
        """The frames so far (the arrays are never changed once kept)."""
        return FilmFrames(self.layout, dict(self.frames))


def encode_frame(
    state: dict[str, np.ndarray],
    x_scaler: tuple[np.ndarray, np.ndarray],
    y_scaler: tuple[np.ndarray, np.ndarray] | None,
) -> bytes:
    """A frame's stored form: the float32 weights (``state``) and the scalers, zlib-compressed."""
    arrays = {f"state/{name}": np.asarray(value, np.float32) for name, value in state.items()}
    arrays["x_mean"], arrays["x_std"] = x_scaler
    if y_scaler is not None:
        arrays["y_mean"], arrays["y_std"] = y_scaler
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.array(json.dumps({"version": 1})), **arrays)
    return zlib.compress(buffer.getvalue(), 6)


def decode_frame(blob: bytes) -> dict[str, Any]:
    """The inverse of `encode_frame`: ``{state, x_scaler, y_scaler}`` (y None for
    classification). Raises ValueError for a blob that is not a frame."""
    try:
        raw = zlib.decompress(blob)
        with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files if key != "__meta__"}
    except (zlib.error, OSError, ValueError) as error:
        raise ValueError(f"blob is not a stored frame: {error}") from error
    state = {key[6:]: value for key, value in arrays.items() if key.startswith("state/")}
    y_scaler = (arrays["y_mean"], arrays["y_std"]) if "y_mean" in arrays else None
    return {"state": state, "x_scaler": (arrays["x_mean"], arrays["x_std"]), "y_scaler": y_scaler}
