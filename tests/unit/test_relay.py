"""Scaled mode's relay (app.transports.relay): what a worker emits is what a web process would have
sent."""

from __future__ import annotations

import base64
import json
import math

import numpy as np

from app.data.encoding import history_from_text, history_text, pack_history, unpack_history
from app.runs.control import ComputeSlots
from app.runs.payloads import inside_json
from app.runs.run import Run
from app.runs.runner import execute
from app.runs.validation import validate_run
from app.training.session import TrainingSession
from app.transports.relay import (
    RELAY_EVENT,
    RELAY_NAMESPACE,
    RelayManager,
    RunRelay,
    decode_inside,
)


class Emitter:
    """Records what a `RunRelay` emits (as JSON, as the message queue carries it)."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def emit(self, event, data, namespace=None, to=None):
        assert (event, namespace) == (RELAY_EVENT, RELAY_NAMESPACE) and to == data["run_id"]
        self.sent.append(json.loads(json.dumps(data, allow_nan=False)))


def test_history_rows_travel_exactly_with_non_finite_values():
    columns = {"train_loss": np.array([0.1, np.nan, np.inf, -np.inf, 1e-7], np.float32)}
    rows = json.loads(json.dumps(history_text(columns, ["train_loss"]), allow_nan=False))
    back = history_from_text(rows, ["train_loss"])["train_loss"]
    assert back.dtype == np.float32 and back[0] == columns["train_loss"][0]
    assert math.isnan(back[1]) and back[2] == np.inf and back[3] == -np.inf
    assert back[4] == columns["train_loss"][4]


def test_the_relay_and_the_store_carry_history_in_one_encoding():
    columns = {
        "train_loss": np.array([0.5, np.nan, np.inf], np.float32),
        "lr": np.array([0.1, 0.1, 0.05], np.float32),
    }
    names = ["train_loss", "lr"]
    relayed = history_text(columns, names)
    assert unpack_history(pack_history(columns, names), names).keys() == columns.keys()
    for name, column in unpack_history(pack_history(columns, names), names).items():
        np.testing.assert_array_equal(column, columns[name])  # exact, NaN and inf included
    assert history_from_text(relayed, names).keys() == columns.keys()
    assert base64.b64decode(relayed) == pack_history(columns, names)  # the store's chunk


def test_a_relayed_look_inside_encodes_as_the_original():
    config, task = validate_run({"task": "saddle", "hidden": [8, 4], "samples": 200})
    inside = TrainingSession(task, config).view(inside=True).inside
    encoded = json.loads(json.dumps(inside_json(inside)))
    assert inside_json(decode_inside(encoded)) == encoded


def test_a_run_relays_every_epoch_once_with_views_and_its_end_last():
    config, task = validate_run({"task": "sin", "samples": 100, "epochs": 40})
    run = Run("r1", task, config)
    run.watched = True  # some web process streams it: views are relayed
    emitter = Emitter()
    relay = RunRelay(emitter, run, interval=0.01)
    relay.start()
    slots = ComputeSlots(1)
    slots.request(run.id, lambda: None)
    execute(run, slots, 0.01, 0.02)
    relay.stop()
    sent = emitter.sent
    epochs = []
    for message in sent:
        assert message["start"] == len(epochs)  # each continues the one before
        count = len(history_from_text(message["rows"], message["names"])["train_loss"])
        epochs += range(message["start"] + 1, message["start"] + count + 1)
    assert epochs == list(range(1, 41))
    assert {m["status"] for m in sent[:-1]} <= {"queued", "running"}
    assert sent[-1]["status"] == "finished"  # only the last one (sent after the stored end)
    assert sum("view" in m for m in sent) >= 2 and sum("inside" in m for m in sent) >= 1
    last_view = [m["view"] for m in sent if "view" in m][-1]
    assert last_view == json.loads(json.dumps(run.payloads.view_json(run.view)))


def test_the_manager_hands_relay_messages_to_its_sink_only():
    manager = RelayManager("redis://127.0.0.1:1/0")
    taken = []
    manager.sink = taken.append
    manager._handle_emit(  # noqa: SLF001
        {"method": "emit", "event": RELAY_EVENT, "namespace": RELAY_NAMESPACE,
         "data": [{"run_id": "r1"}], "room": "r1"}  # fmt: skip
    )
    manager._handle_emit(  # noqa: SLF001
        {"method": "emit", "event": "other", "namespace": RELAY_NAMESPACE, "data": [{}]}
    )
    assert taken == [{"run_id": "r1"}]


def test_the_private_hook_relay_py_overrides_is_still_called_by_python_socketio():
    """Contract of `RelayManager._handle_emit` (a private method of python-socketio's
    `PubSubManager`): its listening thread hands another host's ``emit`` messages, decoded from
    JSON, to ``self._handle_emit(message)`` with ``namespace``, ``event`` and ``data`` (a list)."""
    import logging
    import threading
    import types

    manager = RelayManager("redis://127.0.0.1:1/0")
    taken: list = []
    arrived = threading.Event()
    manager.sink = lambda data: (taken.append(data), arrived.set())
    message = {"method": "emit", "event": RELAY_EVENT, "namespace": RELAY_NAMESPACE,
               "data": [{"run_id": "r1"}], "room": "r1", "host_id": "another host"}  # fmt: skip
    forever = threading.Event()

    def listen():  # one message from another host, then nothing
        yield json.dumps(message)
        forever.wait()

    manager._listen = listen  # noqa: SLF001
    manager.server = types.SimpleNamespace(logger=logging.getLogger("contract"))
    threading.Thread(target=manager._thread, daemon=True).start()  # noqa: SLF001
    assert arrived.wait(5)
    assert taken == [{"run_id": "r1"}]
    forever.set()
