"""Sending to Socket.IO connections at a bounded cost per connection.

Engine.IO (threading mode) queues every outgoing packet of a connection in an unbounded
``queue.Queue`` that one writer thread per connection drains into the TCP socket; a client that
stops reading blocks that writer in ``send`` and the queue grows without limit (a client that
sent 100 ``watch`` events grew the server by 460 MB). `Outbox` bounds it:

* **unsent bytes**: before the app sends anything big (snapshots, frames) it measures what the
  connection's queue still holds; past `max_unsent` bytes the connection is dropped instead;
* **send timeout**: the websocket's TCP socket is wrapped (`TimedSocket`) so that a send that
  makes no progress for `send_timeout` seconds gives up and shuts the connection down;
* **unsent bytes in all**: past `max_unsent_total` bytes queued over every connection (clients
  that connected, asked for a run and never read again: an abandoned long-polling watcher held
  ~4.7 MB until its ping deadline), the connections holding the most are dropped first, so
  what abandoned clients hold has one ceiling for the whole server;
* **ping sleep**: Engine.IO's ping task of each connection sleeps its whole ping interval (25 s)
  before it looks whether the connection closed, one thread per closed websocket meanwhile;
  `Outbox` gives this server a sleep that ends within `PING_SLEEP_STEP` of the close;
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
* ``engineio.socket.Socket._send_ping``: the ping task, which sleeps with ``eio._async["sleep"]``
  and then looks at the socket's ``closing`` and ``closed``;
* ``eio.sockets[eio_sid]``: the connection, its ``queue`` of unsent packets (a `queue.Queue`
  of ``Packet``s that its writer ends on at ``None``), ``closed`` and ``close(wait, abort)``.
"""

from __future__ import annotations

import ctypes
import logging
import select
import socket
import ssl
import sys
import threading
import time
from typing import Any

from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from engineio.socket import Socket as EngineSocket

log = logging.getLogger(__name__)

NAMESPACE = "/"
SERVER_SOCKETS = ("werkzeug.socket", "gunicorn.socket")  # WSGI keys simple-websocket reads
PING_SLEEP_STEP = 1.0  # seconds: how soon a closed connection's ping task ends
TOTAL_CHECK_INTERVAL = 0.1  # seconds between two sums of the bytes unsent over all connections
TRIM_DELAY = 2.0  # seconds after a connection is released before the heap is given back
_SEND_PING = EngineSocket._send_ping.__code__


def ping_sleep(plain_sleep: Any) -> Any:
    """Engine.IO's ``sleep`` for `Outbox`'s server: for a connection's ping task, a sleep that
    ends as soon as the connection is closing or closed (looked at every `PING_SLEEP_STEP`
    seconds); any other caller sleeps with `plain_sleep`."""

    def sleep(seconds: float = 0) -> Any:
        caller = sys._getframe(2)  # through engineio's Server.sleep
        eio_socket = caller.f_locals.get("self") if caller.f_code is _SEND_PING else None
        if eio_socket is None:
            return plain_sleep(seconds)
        deadline = time.monotonic() + seconds
        while not (eio_socket.closing or eio_socket.closed):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(left, PING_SLEEP_STEP))
        return None

    return sleep


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

    def __init__(
        self,
        socketio: Any,
        max_unsent: int,
        send_timeout: float,
        max_unsent_total: int | None = None,
    ) -> None:
        self.socketio = socketio
        self.max_unsent = max_unsent
        self.max_unsent_total = max_unsent_total
        self._total = (0.0, 0)  # (when summed, bytes unsent over all connections)
        self._trim: threading.Timer | None = None  # a pending `trim_heap` after releases
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
                # the connection's socket, as Werkzeug (--dev) or gunicorn hands it over
                key = next((k for k in SERVER_SOCKETS if k in environ), SERVER_SOCKETS[0])
                raw = environ.get(key)
                eio_sid = getattr(getattr(self.app, "__self__", None), "sid", None)
                if raw is None or eio_sid is None:
                    return super().__call__(environ, start_response)
                timed = TimedSocket(raw, outbox.send_timeout)
                environ[key] = timed
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
        sleep = ping_sleep(eio._async["sleep"])
        eio._async = {**eio._async, "websocket": GuardedWebSocket, "sleep": sleep}

    # ----------------------------------------------------------------- measuring and dropping

    def _eio_sid(self, sid: str) -> str | None:
        return self.socketio.server.manager.eio_sid_from_sid(sid, NAMESPACE)

    def unsent_bytes(self, sid: str) -> int:
        """Bytes queued for `sid` that its writer has not taken yet (0 if it is gone)."""
        return _queued_bytes(self.socketio.server.eio.sockets.get(self._eio_sid(sid)))

    def _unsent_by_connection(self) -> dict[str, int]:
        """Engine.IO sid -> bytes queued, of every connection with something queued."""
        sockets = list(self.socketio.server.eio.sockets.items())
        queued = ((eio_sid, _queued_bytes(eio_socket)) for eio_sid, eio_socket in sockets)
        return {eio_sid: size for eio_sid, size in queued if size}

    def _make_room_in_all(self, sid: str, size: int) -> bool:
        """Keep the bytes unsent over all connections within `max_unsent_total`: past it, drop
        the connections holding the most (abandoned ones: they never read) until `size` more
        fit. False when `sid` itself was dropped."""
        if self.max_unsent_total is None:
            return True
        now = time.monotonic()
        summed_at, total = self._total
        if now - summed_at < TOTAL_CHECK_INTERVAL and total + size <= self.max_unsent_total:
            self._total = (summed_at, total + size)
            return True
        unsent = self._unsent_by_connection()
        total = sum(unsent.values())
        own = self._eio_sid(sid)
        for eio_sid, held in sorted(unsent.items(), key=lambda item: -item[1]):
            if total + size <= self.max_unsent_total:
                break
            self._drop_eio(eio_sid, f"{held} bytes unsent while all connections hold {total} "
                                    f"(at most {self.max_unsent_total})")  # fmt: skip
            total -= held
            if eio_sid == own:
                self._total = (now, total)
                return False
        self._total = (now, total + size)
        return True

    def connected(self, sid: str) -> bool:
        """True while `sid` is a live connection."""
        eio_socket = self.socketio.server.eio.sockets.get(self._eio_sid(sid))
        return eio_socket is not None and not eio_socket.closed

    def drop(self, sid: str, why: str) -> None:
        """Close `sid` now, without waiting for its queue to drain (its ``disconnect`` runs)."""
        self._drop_eio(self._eio_sid(sid), why)

    def _drop_eio(self, eio_sid: str | None, why: str) -> None:
        log.warning("dropping connection %s: %s", eio_sid, why)
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
        self._trim_soon()

    def _trim_soon(self) -> None:
        """Give the freed heap back to the system `TRIM_DELAY` s after the last releases (one
        pending trim at a time): what a dropped connection held is returned, not kept."""
        with self._lock:
            if self._trim is not None:
                return
            self._trim = threading.Timer(TRIM_DELAY, self._trim_now)
            self._trim.daemon = True
            self._trim.start()

    def _trim_now(self) -> None:
        with self._lock:
            self._trim = None
        trim_heap()

    # ----------------------------------------------------------------- sending

    def room_for(self, sid: str, size: int) -> bool:
        """True if `size` more bytes fit in what `sid` may have unsent; else drop it."""
        unsent = self.unsent_bytes(sid)
        if unsent and unsent + size > self.max_unsent:
            self.drop(sid, f"{unsent} bytes unsent (at most {self.max_unsent})")
            return False
        return self._make_room_in_all(sid, size)

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


def _queued_bytes(eio_socket: Any) -> int:
    """Bytes queued in an Engine.IO socket (None: 0) that its writer has not taken yet."""
    if eio_socket is None:
        return 0
    waiting = eio_socket.queue
    with waiting.mutex:
        packets = list(waiting.queue)
    return sum(len(p.data) for p in packets if p and isinstance(p.data, (str, bytes)))


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters
M_ARENA_MAX = -8
MALLOC_ARENAS = 2
MMAP_THRESHOLD = 256 * 1024


def trim_heap() -> bool:
    """glibc's ``malloc_trim(0)``: return the free pages of every heap to the system (the many
    small blocks of closed connections leave holes that stay resident otherwise). False where
    malloc is not glibc's."""
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def return_large_blocks_to_the_system() -> bool:
    """Make glibc's malloc serve every block over 256 KB by mmap, for the whole process.

    glibc raises its mmap threshold each time such a block is freed (up to 32 MB), after which
    megabyte-sized strings (encoded snapshots) come from the heap and stay there, fragmented, after
    they are freed: a client that was sent snapshots left the server ~45 MB larger; with a fixed
    threshold ~15 MB. Setting it explicitly turns the adjustment off. False where malloc is not
    glibc's (nothing changes).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        # and at most MALLOC_ARENAS heaps: glibc gives threads up to 8 per core, and a server of
        # ~150 short-lived connection threads grew each of them to its own high-water mark
        # (three rounds of 8 runs x 4 watchers to reach a plateau ~40 MB above the start)
        libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False
