"""The contract of python-socketio and python-engineio that app/web/wire.py relies on beyond their
public API, checked against the installed versions (pinned to one minor version each in
pyproject.toml): a release that changes one of them fails here, not silently in the frames.

Each test names the internal it covers; tests/integration/test_hostile_clients.py exercises the
whole on a real server and real clients.
"""

from __future__ import annotations

import json
import queue
import socket
import tomllib
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import engineio
import pytest
import socketio
from engineio import packet as eio_packet
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from packaging.requirements import Requirement
from packaging.version import Version
from socketio import packet as sio_packet

from app.web.wire import NAMESPACE, Outbox, TimedSocket

ROOT = Path(__file__).resolve().parents[2]
WEBSOCKET_REQUEST = {
    "REQUEST_METHOD": "GET",
    "QUERY_STRING": "EIO=4&transport=websocket",
    "HTTP_CONNECTION": "Upgrade",
    "HTTP_UPGRADE": "websocket",
    "PATH_INFO": "/socket.io/",
}


@pytest.fixture
def server() -> Iterator[socketio.Server]:
    """A Socket.IO server in the app's async mode, served no request."""
    sio = socketio.Server(async_mode="threading")
    sio.eio.start_service_task = False  # no background thread for these tests
    yield sio
    sio.eio.sockets.clear()


def connect(sio: socketio.Server, eio_sid: str = "eio-1") -> tuple[str, engineio.socket.Socket]:
    """An Engine.IO connection `eio_sid` and its Socket.IO session on the default namespace:
    (the Socket.IO sid, the Engine.IO socket)."""
    eio_socket = engineio.socket.Socket(sio.eio, eio_sid)
    sio.eio.sockets[eio_sid] = eio_socket
    sid = sio.manager.connect(eio_sid, NAMESPACE)
    return sid, eio_socket


def outbox_of(sio: socketio.Server, max_unsent: int = 1_000_000) -> Outbox:
    return Outbox(SimpleNamespace(server=sio), max_unsent=max_unsent, send_timeout=1.0)


def queued(eio_socket: engineio.socket.Socket) -> list[Any]:
    items = []
    while True:
        try:
            items.append(eio_socket.queue.get_nowait())
        except queue.Empty:
            return items


@pytest.mark.parametrize("name", ["python-socketio", "python-engineio"])
def test_each_is_pinned_to_the_one_minor_version_installed(name):
    """pyproject.toml's [project] dependencies allow one minor version (``>=X.Y,<X.Y+1``), and
    it is the installed one: these tests were run against it."""
    with open(ROOT / "pyproject.toml", "rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    (pin,) = [Requirement(text) for text in dependencies if Requirement(text).name == name]
    bounds = {spec.operator: Version(spec.version) for spec in pin.specifier}
    low, high = bounds[">="], bounds["<"]
    assert set(bounds) == {">=", "<"} and (high.major, high.minor) == (low.major, low.minor + 1)
    assert Version(version(name)) in pin.specifier


def test_the_event_frame_is_socketios_own_layout():
    """``2<ack id>["<event>",<json>]``: what `Outbox.send_text` writes by hand."""
    data = {"run_id": "r1", "epoch": [1, 2], "loss": 0.5}
    text = json.dumps(data, separators=(",", ":"))
    own = sio_packet.Packet(sio_packet.EVENT, data=["frame", data], namespace=NAMESPACE, id=7)
    assert own.encode() == f'27["frame",{text}]'
    plain = sio_packet.Packet(sio_packet.EVENT, data=["frame", data], namespace=NAMESPACE)
    assert plain.encode() == f'2["frame",{text}]'


def test_an_ack_id_from_generate_ack_id_calls_its_callback_when_the_ack_comes(server):
    """``manager._generate_ack_id(sid, callback)``: ids 1, 2, ... per connection; the client's
    ACK packet (``3<id>[...]``) with that id calls the callback with its arguments."""
    sid, _ = connect(server)
    answers: list[Any] = []
    first = server.manager._generate_ack_id(sid, lambda *args: answers.append(("first", args)))
    second = server.manager._generate_ack_id(sid, lambda *args: answers.append(("second", args)))
    assert (first, second) == (1, 2)
    server._handle_eio_message("eio-1", f'3{second}[{{"ok":true}}]')
    assert answers == [("second", ({"ok": True},))]


def test_send_text_queues_the_frame_and_its_ack_calls_back(server):
    """`Outbox.send_text` end to end on an unserved connection: the queued Engine.IO MESSAGE is
    the Socket.IO frame, ``unsent_bytes`` measures it, the client's ACK calls back."""
    sid, eio_socket = connect(server)
    outbox = outbox_of(server)
    assert outbox._eio_sid(sid) == "eio-1"  # manager.eio_sid_from_sid
    answers: list[Any] = []
    assert outbox.send_text(sid, "frame", '{"epoch":3}', callback=answers.append)
    assert outbox.unsent_bytes(sid) == len('21["frame",{"epoch":3}]')
    (pkt,) = queued(eio_socket)
    assert isinstance(pkt, eio_packet.Packet) and pkt.encode() == '421["frame",{"epoch":3}]'
    server._handle_eio_message("eio-1", "31[true]")
    assert answers == [True]
    assert outbox.connected(sid) and not outbox.send_text("nobody", "frame", "{}")


def test_drop_closes_the_connection_and_empties_its_queue(server):
    """``eio.sockets[eio_sid]``: its ``queue`` (a `queue.Queue`, emptied with
    ``get_queue_empty_exception``) and ``close(wait=False, abort=True)``; ``None`` ends its
    writer."""
    sid, eio_socket = connect(server)
    assert isinstance(eio_socket.queue, queue.Queue)
    assert server.eio.get_queue_empty_exception() is queue.Empty
    outbox = outbox_of(server, max_unsent=10)
    outbox.send_text(sid, "frame", '{"a":1}')
    assert not outbox.room_for(sid, 100)  # past max_unsent: dropped
    assert eio_socket.closed and outbox.dropped == 1
    assert queued(eio_socket)[-1] is None
    assert not outbox.connected(sid)


def test_the_websocket_driver_is_built_from_async_with_the_sockets_handler(server, monkeypatch):
    """``eio._async["websocket"]``: a `SimpleWebSocketWSGI` subclass once the outbox installed
    its own (on a copy of the driver's dict); Engine.IO builds it with the connection's
    ``_websocket_handler`` (``app.__self__.sid`` is the Engine.IO sid) and calls it as a WSGI
    app with the request's environ, where the outbox's guard has put a `TimedSocket`."""
    import engineio.async_drivers.threading as threading_driver

    original = dict(threading_driver._async)
    assert original["websocket"] is SimpleWebSocketWSGI
    outbox = outbox_of(server)
    guard = server.eio._async["websocket"]
    assert issubclass(guard, SimpleWebSocketWSGI) and guard is not SimpleWebSocketWSGI
    assert threading_driver._async == original  # the driver's own dict is untouched

    seen: list[tuple[Any, Any]] = []

    def parent_call(self: SimpleWebSocketWSGI, environ: dict, start_response: Any) -> list:
        eio_sid = self.app.__self__.sid
        seen.append((environ["werkzeug.socket"], outbox._sockets.get(eio_sid)))
        return []

    monkeypatch.setattr(SimpleWebSocketWSGI, "__call__", parent_call)
    left, right = socket.socketpair()
    try:
        server.eio.handle_request({**WEBSOCKET_REQUEST, "werkzeug.socket": left}, lambda *a: None)
    finally:
        left.close()
        right.close()
    ((wrapped, registered),) = seen
    assert isinstance(wrapped, TimedSocket) and registered is wrapped
    assert outbox._sockets == {}  # forgotten once the websocket ended


def test_the_ping_task_sleeps_through_the_server_and_then_looks_at_closed():
    """`wire.ping_sleep` recognises Engine.IO's ping task by its code, two frames up (through
    ``Server.sleep``), and relies on it looking at ``closing`` and ``closed`` after the sleep."""
    from engineio.socket import Socket

    from app.web.wire import ping_sleep

    names = Socket._send_ping.__code__.co_names
    assert {"sleep", "closing", "closed"} <= set(names)
    woken = []
    plain = ping_sleep(lambda seconds: woken.append(seconds))
    server = SimpleNamespace(sleep=lambda seconds: plain(seconds), ping_interval=30)
    closed = SimpleNamespace(server=server, closing=False, closed=True, last_ping=None)
    Socket._send_ping(closed)  # returns at once: the socket is closed, nothing is sent
    assert woken == [] and closed.last_ping is None
    plain(0.01)  # any other caller sleeps the plain way
    assert woken == [0.01]
