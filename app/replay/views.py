"""Views of a run at a stored epoch of its film (issue 28), computed on demand and cached.

A view at epoch k is drawn as the stream draws a run's views: a `TrainingSession` on the run's
data with the frame's weights, its ``view(inside=True)``, encoded by the run's `RunPayloads`
and `inside_json` — so it has the stream's shapes and numbers (``prediction``, ``network``,
``inside``, and the test-set parts a frame carries: ``test_predicted``, ``misclassified``,
``confusion``, ``first_layer``). The look inside has no gradients (a frame keeps weights only):
its gradient histograms are empty.

Frames come from storage (`app.storage.film`) and, for a run trained in this process whose
latest frames are not written yet, from its checkpoint (`Checkpoint.film`).

`looks` gives the layers card's history of a run opened after it trained: the per-layer
statistics of every stored epoch (weights' histograms, dead or saturated shares), without
gradients (``grads`` and ``grad_norm`` null: a frame keeps weights only).
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from typing import Any

from app.runs.payloads import inside_json
from app.storage.film import stored_epochs, stored_frame
from app.training.film import decode_frame
from app.training.session import TrainingSession

CACHED_VIEWS = 64  # views kept (each a few tens of kilobytes of JSON)
CACHED_LOOKS = 8  # ended runs whose looks are kept (each ~150 epochs × layers × 2 histograms)


class NoFrames(LookupError):
    """The run has no stored frame yet (it has not completed an epoch)."""


def nearest(epochs: list[int], epoch: int) -> int:
    """The element of `epochs` (increasing, non-empty) nearest `epoch` (the earlier on a tie)."""
    at = bisect.bisect_left(epochs, epoch)
    if at == 0:
        return epochs[0]
    if at == len(epochs):
        return epochs[-1]
    before, after = epochs[at - 1], epochs[at]
    return before if epoch - before <= after - epoch else after


class Replay:
    """The film of the runs of `store` (None: in-memory checkpoints only) and their views."""

    def __init__(self, store: Any, cached: int = CACHED_VIEWS) -> None:
        self.store = store
        self.cached = cached
        self._views: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        self._looks: OrderedDict[tuple, list[dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def epochs(self, run: Any) -> list[int]:
        """The epochs of `run`'s frames, increasing (stored, or in its checkpoint)."""
        found = set(self._memory(run))
        if self.store is not None:
            found.update(stored_epochs(self.store, run.id))
        return sorted(found)

    @staticmethod
    def _memory(run: Any) -> dict[int, Any]:
        """``{epoch: function of the epoch giving its state}``: the frames of the run's
        checkpoint in memory; an ended run's last epoch too (as `new_frames` stores it)."""
        checkpoint = run.checkpoint
        if checkpoint is None:
            return {}
        film = checkpoint.film
        frames = {epoch: film.state for epoch in (film.epochs() if film else ())}
        if run.control.ended and checkpoint.epoch > 0:
            frames.setdefault(checkpoint.epoch, lambda _epoch: checkpoint.state)
        return frames

    def view(self, run: Any, epoch: int) -> dict[str, Any]:
        """``{epoch, prediction, network, inside, ...}`` at the stored epoch nearest `epoch`.
        Raises `NoFrames` when the run has none yet."""
        epochs = self.epochs(run)
        if not epochs:
            raise NoFrames(f"run {run.id} has no stored epoch yet")
        chosen = nearest(epochs, epoch)
        key = (run.id, chosen, run.layout)
        with self._lock:
            if key in self._views:
                self._views.move_to_end(key)
                return self._views[key]
        answer = self._draw(run, chosen)
        with self._lock:
            self._views[key] = answer
            while len(self._views) > self.cached:
                self._views.popitem(last=False)
        return answer

    def looks(self, run: Any) -> list[dict[str, Any]]:
        """``[{epoch, layers}]`` at every stored epoch, increasing: each layer's ``weights``
        histogram and ``dead`` / ``saturated`` share as a look inside has them, ``grads`` and
        ``grad_norm`` null (not kept). An ended run's are cached."""
        epochs = self.epochs(run)
        if not epochs:
            return []
        key = (run.id, epochs[-1], len(epochs))
        with self._lock:
            if key in self._looks:
                self._looks.move_to_end(key)
                return self._looks[key]
        if run.payloads_now() is None:
            raise NoFrames(f"the data of run {run.id} cannot be rebuilt")
        session = TrainingSession(run.task, run.config, run.data(), self._state(run, epochs[0]))
        answer = []
        for epoch in epochs:
            session.model.load_state_dict(self._state(run, epoch))
            layers = _no_gradients(inside_json(session.probe.probe(session.model)))["layers"]
            answer.append({"epoch": epoch, "layers": layers})
        if run.control.ended:
            with self._lock:
                self._looks[key] = answer
                while len(self._looks) > CACHED_LOOKS:
                    self._looks.popitem(last=False)
        return answer

    def forget(self, run_id: str) -> None:
        """Drop the cached views and looks of a run (it was deleted)."""
        with self._lock:
            for key in [key for key in self._views if key[0] == run_id]:
                del self._views[key]
            for key in [key for key in self._looks if key[0] == run_id]:
                del self._looks[key]

    def state_at(self, run: Any, epoch: int) -> tuple[int, dict[str, Any]]:
        """``(stored epoch, its weights and scalers)`` at the stored epoch nearest `epoch` (what
        `app.backprop` traces at a past epoch). Raises `NoFrames` when the run has none yet."""
        epochs = self.epochs(run)
        if not epochs:
            raise NoFrames(f"run {run.id} has no stored epoch yet")
        chosen = nearest(epochs, epoch)
        return chosen, self._state(run, chosen)

    def _state(self, run: Any, epoch: int) -> dict[str, Any]:
        state = self._memory(run).get(epoch)  # a function of the epoch
        if state is not None:
            return state(epoch)
        blob = stored_frame(self.store, run.id, epoch) if self.store is not None else None
        if blob is None:
            raise NoFrames(f"run {run.id} has no stored epoch {epoch}")
        return decode_frame(blob)["state"]

    def _draw(self, run: Any, epoch: int) -> dict[str, Any]:
        """The view of `run` with the weights of `epoch`, encoded as the stream encodes."""
        payloads = run.payloads_now()
        if payloads is None:
            raise NoFrames(f"the data of run {run.id} cannot be rebuilt")
        session = TrainingSession(run.task, run.config, run.data(), self._state(run, epoch))
        view = session.view(inside=True)
        parts = payloads.view_json(view)
        return {"epoch": epoch, **parts, "inside": _no_gradients(inside_json(view.inside))}


def _no_gradients(inside: dict[str, Any]) -> dict[str, Any]:
    """A look inside at a stored epoch, its gradients null: a frame keeps weights only (a
    session rebuilt from it has never computed one, and its zeros would read as vanished
    gradients: a fresh user's finding)."""
    for layer in inside["layers"]:
        layer.update(grads=None, grad_norm=None)
    return inside
