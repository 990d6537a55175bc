"""``POST /api/runs/<id>/backprop``: one forward and backward pass of a run's network, every
number of it (see `app.backprop.compute` and docs/backprop.md).

Where the numbers come from: a run that has a training session (running or paused, in this
server) answers from that session, in its training process when it has one, so weights,
optimizer state and the next mini-batch are the training's own at that moment. Any other run
(ended, interrupted, or trained by a scaled-mode worker) answers from its latest checkpoint on a
session rebuilt from its config: the same weights, with the optimizer state the checkpoint kept
(none for a checkpoint read back from storage: ``update`` is then a fresh optimizer's step, and
the answer says so with ``"optimizer_state": "fresh"``).

At a past epoch (``"epoch": k`` beside a sample, what the dashboard asks while its time slider
holds epoch k): the weights of the stored epoch nearest k, from the run's film (the replay's,
``app.extensions["replay"].state_at``), on a session rebuilt from its config; ``update`` is a
fresh optimizer's step there (``"optimizer_state": "fresh"``), and there is no next mini-batch.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from app.backprop.compute import Ask, BackpropError, backprop
from app.training.forked import TrainingProcessError
from app.training.session import TrainingSession

MAX_NUMBERS = 2_000_000  # numbers one answer may carry (`check_size`)

backprop_api = Blueprint("backprop_api", __name__, url_prefix="/api")

REBUILT_KEPT = 4  # sessions rebuilt from checkpoints kept for the next requests (per app)
FIELDS = {"index", "near", "x", "y", "batch"}  # and "epoch" (`parse_epoch`), beside a sample
MAX_EPOCH = 10**12
ALONE = ("batch", "index", "near")  # fields that take no other


def parse_ask(body: Any) -> Ask:
    """The request body as an `Ask`; raises `BackpropError` naming the field at fault."""
    if not isinstance(body, dict):
        raise BackpropError("body", 'a JSON object: {"index": i}, {"x": [...], "y": t} or '
                            '{"batch": true}')  # fmt: skip
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise BackpropError(unknown[0], f"unknown field {unknown[0]!r}")
    for name in ALONE:
        if name in body and len(body) > 1:
            others = ", ".join(sorted(set(body) - {name}))
            raise BackpropError(name, f"give {name} alone, not with {others}")
    if "batch" in body:
        if body["batch"] is not True:
            raise BackpropError("batch", "must be true (the next mini-batch)")
        return Ask(batch=True)
    if "index" in body:
        index = body["index"]
        if isinstance(index, bool) or not isinstance(index, int):
            raise BackpropError("index", "must be a whole number (a training sample)")
        return Ask(index=index)
    if "near" in body:
        return Ask(near=body["near"])
    if "x" not in body:
        raise BackpropError("x", 'give {"index": i}, {"x": [...], "y": t} or {"batch": true}')
    if "y" not in body:
        raise BackpropError("y", "the target of the point x is missing")
    return Ask(x=body["x"], y=body["y"])


def parse_epoch(body: Any) -> tuple[Any, int | None]:
    """``(the body without "epoch", the epoch or None)``; raises `BackpropError` naming
    ``epoch`` unless it is a whole number ≥ 0."""
    if not isinstance(body, dict) or "epoch" not in body:
        return body, None
    rest = {name: value for name, value in body.items() if name != "epoch"}
    epoch = body["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch <= MAX_EPOCH:
        raise BackpropError("epoch", "must be a whole number ≥ 0 (a past epoch of the run)")
    if rest.get("batch") is not None:
        raise BackpropError("epoch", "a past epoch has no next mini-batch: give a sample "
                            '({"index": i}, {"near": ...} or {"x", "y"})')  # fmt: skip
    return rest, epoch


@backprop_api.post("/runs/<run_id>/backprop")
def run_backprop(run_id: str) -> Any:
    """200 the pass (see `app.backprop.compute.backprop`), 400 ``{errors: {field: message}}``
    for a bad body, index, point or target, 404 for an unknown run, 409 when the run has no
    weights yet."""
    manager = current_app.extensions["runs"]
    run = manager.get(run_id)
    if run is None:
        return jsonify(error=manager.unknown(run_id)), 404
    try:
        body, epoch = parse_epoch(request.get_json(silent=True))
        ask = parse_ask(body)
        check_size(run.sizes, int(run.config.get("batch_size") or 1) if ask.batch else 1)
        answer = _answer(run, ask) if epoch is None else _at_epoch(run, ask, epoch)
    except BackpropError as error:
        return jsonify(errors={error.field: error.message}), 400
    if answer is None:
        return jsonify(id=run.id, status=run.status, error="the run has no weights yet"), 409
    return jsonify(id=run.id, status=run.status, **answer)


def check_size(sizes: list[int], rows: int) -> None:
    """Refuse a pass whose answer would carry more than `MAX_NUMBERS` numbers (`sizes` the
    layer widths, `rows` the samples): every weight three times (W, dW, the update) and five
    arrays of every layer's width per row. A 1-1024×8-1 net's would be ~460 MB of JSON, built
    while the server waits; the view draws at most 16 neurons a layer anyway."""
    weights = sum(a * b + b for a, b in zip(sizes, sizes[1:], strict=False))
    numbers = 3 * weights + rows * (sizes[0] + 5 * sum(sizes[1:]))
    if numbers > MAX_NUMBERS:
        raise BackpropError("batch" if rows > 1 else "run", (
            f"the pass would carry {numbers:,} numbers, more than the {MAX_NUMBERS:,} shown at "
            "most: pick one sample instead of a batch, or a smaller network"
            if rows > 1 else
            f"this network is too large to show every number of a pass ({numbers:,}, at most "
            f"{MAX_NUMBERS:,})"))  # fmt: skip


def _answer(run: Any, ask: Ask) -> dict[str, Any] | None:
    live = run.live  # the session while the run loop holds it (app.runs.runner)
    if live is not None:
        try:
            if hasattr(live, "call"):  # a training process: ask it
                return {**live.call(backprop, ask), "source": "training process"}
            return {**backprop(live, ask), "source": "training session"}
        except TrainingProcessError:  # it ended meanwhile: its checkpoint has the last weights
            pass
    checkpoint = run.checkpoint
    if checkpoint is None:
        return None
    session = _rebuilt(run, checkpoint)
    answer = backprop(session, ask)
    fresh = checkpoint.optimizer is None
    return {**answer, "source": "checkpoint", "optimizer_state": "fresh" if fresh else "kept"}


def _at_epoch(run: Any, ask: Ask, epoch: int) -> dict[str, Any] | None:
    """The pass on the weights of the stored epoch nearest `epoch` (None: none stored yet)."""
    try:
        chosen, state = current_app.extensions["replay"].state_at(run, epoch)
    except LookupError:  # app.replay.views.NoFrames: no stored epoch yet
        return None
    session = TrainingSession(run.task, run.config, run.data(), state)
    answer = backprop(session, ask)
    return {**answer, "epoch": chosen, "source": "film", "optimizer_state": "fresh"}


def _rebuilt(run: Any, checkpoint: Any) -> TrainingSession:
    """A session on the run's data with the checkpoint's weights and optimizer state (kept for
    the next requests while the run's checkpoint is the same object)."""
    kept: RebuiltSessions = current_app.extensions["backprop_sessions"]
    with kept.lock:
        found = kept.sessions.get(run.id)
        if found is not None and found[0] is checkpoint:
            kept.sessions.move_to_end(run.id)
            return found[1]
    session = TrainingSession(run.task, run.config, run.data(), checkpoint.state)
    if checkpoint.optimizer is not None:
        session.optimizer.load_state_dict(checkpoint.optimizer)
    with kept.lock:
        kept.sessions[run.id] = (checkpoint, session)
        while len(kept.sessions) > REBUILT_KEPT:
            kept.sessions.popitem(last=False)
    return session


class RebuiltSessions:
    """The sessions rebuilt from checkpoints, per run id (the latest `REBUILT_KEPT`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions: OrderedDict[str, tuple[Any, TrainingSession]] = OrderedDict()


def register_backprop(app: Any) -> None:
    """Add the endpoint to `app` (the app factory calls this)."""
    app.extensions["backprop_sessions"] = RebuiltSessions()
    app.register_blueprint(backprop_api)
