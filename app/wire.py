"""Sending to Socket.IO connections at a bounded cost per connection.

Engine.IO (threading mode) queues every outgoing packet of a connection in an unbounded
``queue.Queue`` that one writer thread per connection drains into the TCP socket; a client that
stops reading blocks that writer in ``send`` and the queue grows without limit (a client that
sent 100 ``watch`` events grew the server by 460 MB). `Outbox` bounds it:

* **unsent bytes**: before the app sends anything big (snapshots, frames) it measures what the
  connection's queue still holds; past `max_unsent` bytes the connection is dropped instead;
* **send timeout**: the websocket's TCP socket is wrapped (`TimedSocket`) so that a send that
  makes no progress for `send_timeout` seconds gives up and shuts the connection down;
* **ping deadline**: Engine.IO notices a client that misses its pong and fires ``disconnect``,
  but its writer and reader threads stayed blocked on the socket; `release` (called on every
  disconnect) shuts the TCP connection down, so threads and queued packets go at once.

`send_text` sends an event whose JSON is already encoded, so that one encoding serves every
watcher (with its own acknowledgement id), through Engine.IO's public ``Server.send``.

What this module takes from python-socketio and python-engineio beyond their public API (both
pinned to one minor version in pyproject.toml; tests/unit/test_socketio_contract.py checks each
against the installed versions, tests/integration/test_hostile_clients.py the whole on a server):

* Socket.IO's EVENT packet layout, ``2<ack id>["<event>",<json>]`` on the default namespace;
* ``manager._generate_ack_id(sid, callback)``: the ack id whose ACK packet calls `callback`;
* ``eio._async["websocket"]``: the websocket driver class (``engineio.async_drivers.
  _websocket_wsgi.SimpleWebSocketWSGI``), built as ``cls(socket._websocket_handler, server)``
  and called as a WSGI app; its ``app.__self__.sid`` is the Engine.IO sid;
* ``eio.sockets[eio_sid]``: the connection, its ``queue`` of unsent packets (a `queue.Queue`
  of ``Packet``s that its writer ends on at ``None``), ``closed`` and ``close(wait, abort)``.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import ssl
import threading
from typing import Any

from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

log = logging.getLogger(__name__)

NAMESPACE = "/"


class TimedSocket:
    """A connected TCP socket whose `send` sends everything or gives up (shutting the socket
    down) after `timeout` seconds without progress; everything else is the socket's own."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self._sock = sock
        self._timeout = timeout
        self._nonblocking_send = hasattr(socket, "MSG_DONTWAIT") and not isinstance(
            sock, ssl.SSLSocket
        )

    def send(self, data: bytes) -> int:
        """Send all of `data`; TimeoutError (connection shut down) if it stalls."""
        if not self._nonblocking_send:
            self._sock.sendall(data)
            return len(data)
        view = memoryview(data)
        sent = 0
        while sent < len(view):
            try:
                sent += self._sock.send(view[sent:], socket.MSG_DONTWAIT)
                continue
            except (BlockingIOError, InterruptedError):
                pass
            _, writable, _ = select.select([], [self._sock], [], self._timeout)
            if not writable:
                self.shutdown()
                raise TimeoutError(f"no progress sending for {self._timeout} s")
        return sent

    def shutdown(self, *_args: Any) -> None:
        """End the TCP connection both ways (blocked reads and writes return at once)."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class Outbox:
    """Bounded sending to the connections of one `socketio` server; see the module docstring."""

    def __init__(self, socketio: Any, max_unsent: int, send_timeout: float) -> None:
        self.socketio = socketio
        self.max_unsent = max_unsent
        self.send_timeout = send_timeout
        self._sockets: dict[str, TimedSocket] = {}  # Engine.IO sid -> its websocket's socket
        self._lock = threading.Lock()
        self.dropped = 0  # connections dropped for unsent bytes (for tests and logs)
        self._install_driver()

    # ----------------------------------------------------------------- the websocket driver

    def _install_driver(self) -> None:
        """Make Engine.IO build its websockets on `TimedSocket`s we can shut down."""
        outbox = self
        eio = self.socketio.server.eio

        class GuardedWebSocket(SimpleWebSocketWSGI):
            def __call__(self, environ: dict, start_response: Any) -> Any:
                raw = environ.get("werkzeug.socket")
                eio_sid = getattr(getattr(self.app, "__self__", None), "sid", None)
                if raw is None or eio_sid is None:
                    return super().__call__(environ, start_response)
                timed = TimedSocket(raw, outbox.send_timeout)
                environ["werkzeug.socket"] = timed
                with outbox._lock:
                    outbox._sockets[eio_sid] = timed
                try:
                    return super().__call__(environ, start_response)
                finally:
                    with outbox._lock:
                        if outbox._sockets.get(eio_sid) is timed:
                            del outbox._sockets[eio_sid]

            def close(self) -> None:
                try:
                    super().close()
                except OSError:  # the socket is gone already
                    pass

        # `_async` is the driver module's dict, shared by every server: give this one a copy
        eio._async = {**eio._async, "websocket": GuardedWebSocket}

    # ----------------------------------------------------------------- measuring and dropping

    def _eio_sid(self, sid: str) -> str | None:
        return self.socketio.server.manager.eio_sid_from_sid(sid, NAMESPACE)

    def unsent_bytes(self, sid: str) -> int:
        """Bytes queued for `sid` that its writer has not taken yet (0 if it is gone)."""
        eio_socket = self.socketio.server.eio.sockets.get(self._eio_sid(sid))
        if eio_socket is None:
            return 0
        waiting = eio_socket.queue
        with waiting.mutex:
            packets = list(waiting.queue)
        return sum(len(p.data) for p in packets if p and isinstance(p.data, (str, bytes)))

    def connected(self, sid: str) -> bool:
        """True while `sid` is a live connection."""
        eio_socket = self.socketio.server.eio.sockets.get(self._eio_sid(sid))
        return eio_socket is not None and not eio_socket.closed

    def drop(self, sid: str, why: str) -> None:
        """Close `sid` now, without waiting for its queue to drain (its ``disconnect`` runs)."""
        eio_sid = self._eio_sid(sid)
        log.warning("dropping connection %s: %s", sid, why)
        self.dropped += 1
        eio_socket = self.socketio.server.eio.sockets.get(eio_sid)
        if eio_socket is not None:
            eio_socket.close(wait=False, abort=True)
        self._release_eio(eio_sid)

    def release(self, sid: str) -> None:
        """`sid` disconnected (any reason): end its TCP connection and free its queue."""
        self._release_eio(self._eio_sid(sid))

    def _release_eio(self, eio_sid: str | None) -> None:
        if eio_sid is None:
            return
        with self._lock:
            timed = self._sockets.pop(eio_sid, None)
        if timed is not None:
            timed.shutdown()
        eio = self.socketio.server.eio
        eio_socket = eio.sockets.get(eio_sid)
        if eio_socket is not None:  # what was never sent goes now, not when the socket is reaped
            empty = eio.get_queue_empty_exception()
            while True:
                try:
                    eio_socket.queue.get_nowait()
                except empty:
                    break
                eio_socket.queue.task_done()
            eio_socket.queue.put(None)  # lets its writer end

    # ----------------------------------------------------------------- sending

    def room_for(self, sid: str, size: int) -> bool:
        """True if `size` more bytes fit in what `sid` may have unsent; else drop it."""
        unsent = self.unsent_bytes(sid)
        if unsent and unsent + size > self.max_unsent:
            self.drop(sid, f"{unsent} bytes unsent (at most {self.max_unsent})")
            return False
        return True

    def send_text(self, sid: str, event: str, json_text: str, callback: Any = None) -> bool:
        """Send `event` whose argument is the JSON `json_text`, with an ack `callback`.

        False (and nothing sent) if the connection is gone or was dropped for unsent bytes.
        """
        if not self.room_for(sid, len(json_text)):
            return False
        server = self.socketio.server
        eio_sid = self._eio_sid(sid)
        if eio_sid is None:
            return False
        ack = "" if callback is None else str(server.manager._generate_ack_id(sid, callback))
        server.eio.send(eio_sid, f'2{ack}["{event}",{json_text}]')
        return True


class EmitOutbox:
    """The `Outbox` interface over plain ``socketio.emit`` (no bounds): for a `Broadcaster`
    built without a real Socket.IO server (unit tests with a fake one)."""

    def __init__(self, socketio: Any) -> None:
        self.socketio = socketio

    def send_text(self, sid: str, event: str, json_text: str, callback: Any = None) -> bool:
        """Emit `event` with the decoded `json_text`."""
        self.socketio.emit(event, json.loads(json_text), to=sid, callback=callback)
        return True

    def connected(self, _sid: str) -> bool:
        """Always True: a plain emitter cannot tell."""
        return True

    def release(self, _sid: str) -> None:
        """Nothing to release."""


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters
M_ARENA_MAX = -8
MALLOC_ARENAS = 2
MMAP_THRESHOLD = 256 * 1024


def return_large_blocks_to_the_system() -> bool:
    """Make glibc's malloc serve every block over 256 KB by mmap, for the whole process.

    glibc raises its mmap threshold each time such a block is freed (up to 32 MB), after which
    megabyte-sized strings (encoded snapshots) come from the heap and stay there, fragmented, after
    they are freed: a client that was sent snapshots left the server ~45 MB larger; with a fixed
    threshold ~15 MB. Setting it explicitly turns the adjustment off. False where malloc is not
    glibc's (nothing changes).
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        # and at most MALLOC_ARENAS heaps: glibc gives threads up to 8 per core, and a server of
        # ~150 short-lived connection threads grew each of them to its own high-water mark
        # (three rounds of 8 runs x 4 watchers to reach a plateau ~40 MB above the start)
        libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False
