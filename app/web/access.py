"""The access token: who may use the server at all (issue 31; Jupyter's way).

No token configured (``ACCESS_TOKEN`` None; `python -m app` on loopback without ``--token``):
nothing changes. With one, every request must carry it, one of these ways:

* ``Authorization: Bearer <token>`` (API clients; a Socket.IO client's handshake header);
* the session cookie ``backprop_session`` (browsers): a page opened with ``?token=<token>``, or
  the login form (``POST /login``), sets it (HttpOnly, SameSite=Lax) and redirects to the same
  address without the token. Its value is derived from the token (HMAC), so the token itself is
  not in the cookie and every web process started with the same token accepts it;
* ``?token=<token>`` on any request;
* Socket.IO: the handshake's header or cookie, or ``auth: {token}`` in its CONNECT packet
  (checked by the connect handler, `AccessGate.socket_level`).

The admin token (``ADMIN_TOKEN``, ``--admin-token``) opens the door too, as an administrator.
Wrong or missing: 401, as JSON ``{error}`` under /api/ and /socket.io/, a small login page for
pages, plain text for files. Tokens are compared in constant time (`hmac.compare_digest`).
Wrong tokens (not missing ones, not stale cookies) are counted per client address: past
`MAX_FAILURES` within `FAILURE_WINDOW` seconds, any token that address presents is answered 429
with Retry-After, without being compared, until the window has passed (so guessing goes no
faster than `MAX_FAILURES` a minute); sessions it already opened (the cookie) go on.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import request
from flask_socketio import ConnectionRefusedError

COOKIE = "backprop_session"
CLIENT_COOKIE = "backprop_client"  # a browser's own id: the owner of its runs (app/web/owners.py)
LOGIN_PATH = "/login"
MAX_FAILURES = 5  # wrong tokens from one address within FAILURE_WINDOW before it waits
FAILURE_WINDOW = 60.0  # seconds
MAX_ADDRESSES = 10_000  # addresses whose failures are remembered (the oldest go first)
MAX_LOGIN_BODY = 4096  # bytes of the login form read at most
ENVIRON_KEY = "backprop.access"  # "admin" or "user" once the request is let in


def new_token() -> str:
    """A fresh random token (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def session_value(token: str) -> str:
    """The session cookie's value for `token` (hex HMAC-SHA256; not the token)."""
    return hmac.new(token.encode(), b"backprop-studio session", hashlib.sha256).hexdigest()


class FailureLimiter:
    """Wrong tokens per client address: `wait(address)` is how long it must wait (0: none)."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = FAILURE_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failures.get(address, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def wait(self, address: str) -> float:
        """Seconds until `address` may try a token again (0.0: now)."""
        with self._lock:
            now = self.clock()
            times = self._recent(address, now)
            return 0.0 if len(times) < self.limit else self.window - (now - times[0])

    def failed(self, address: str) -> None:
        """Count one wrong token from `address`."""
        with self._lock:
            now = self.clock()
            times = self._recent(address, now)
            times.append(now)
            self._failures[address] = times
            self._failures.move_to_end(address)
            while len(self._failures) > MAX_ADDRESSES:
                self._failures.popitem(last=False)


class AccessGate:
    """WSGI middleware letting in only requests that carry the token; see the module docstring.
    `token` None: everything passes (then `admin_token` is ignored)."""

    def __init__(self, app: Callable, token: str | None, admin_token: str | None = None,
                 limiter: FailureLimiter | None = None) -> None:  # fmt: skip
        self.app, self.token, self.admin_token = app, token, admin_token
        self.limiter = limiter or FailureLimiter()
        self._cookies = {
            level: session_value(value)
            for level, value in (("user", token), ("admin", admin_token))
            if value
        }

    # ----------------------------------------------------------------- the rules

    def token_level(self, given: Any) -> str | None:
        """"admin", "user" or None for a presented token (compared in constant time)."""
        if not isinstance(given, str) or not given:
            return None
        if self.admin_token and _same(given, self.admin_token):
            return "admin"
        return "user" if self.token and _same(given, self.token) else None

    def _cookie_level(self, environ: dict[str, Any]) -> str | None:
        cookie = SimpleCookie()
        try:
            cookie.load(environ.get("HTTP_COOKIE", ""))
        except Exception:  # a malformed Cookie header counts as none
            return None
        morsel = cookie.get(COOKIE)
        if morsel is None:
            return None
        for level in ("admin", "user"):
            if level in self._cookies and _same(morsel.value, self._cookies[level]):
                return level
        return None

    @staticmethod
    def presented(environ: dict[str, Any]) -> tuple[str | None, str | None]:
        """(token, how: "header" or "query") the request presents, else (None, None)."""
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip(), "header"
        for name, value in parse_qsl(environ.get("QUERY_STRING", "")):
            if name == "token":
                return value, "query"
        return None, None

    def socket_level(self, environ: dict[str, Any], auth: Any) -> str | None:
        """The access of a Socket.IO connection: its handshake's (header, cookie, query), else
        its CONNECT packet's ``auth: {token}``; a wrong one counts as a failure."""
        if self.token is None:
            return "user"
        if environ.get(ENVIRON_KEY):
            return environ[ENVIRON_KEY]
        given = auth.get("token") if isinstance(auth, dict) else None
        level = self.token_level(given)
        if level is None and given is not None:
            self.limiter.failed(_address(environ))
        return level

    # ----------------------------------------------------------------- WSGI

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        if self.token is None:
            return self.app(environ, start_response)
        path = environ.get("PATH_INFO", "")
        if path == LOGIN_PATH and environ.get("REQUEST_METHOD") == "POST":
            return self._login(environ, start_response)
        given, how = self.presented(environ)
        level = self._cookie_level(environ)
        if given is not None and level is None:
            address = _address(environ)
            wait = self.limiter.wait(address)
            if wait > 0:
                return _too_many(environ, start_response, wait)
            level = self.token_level(given)
            if level is None:
                self.limiter.failed(address)
        if level is not None:
            if how == "query" and _is_page(environ):  # the token leaves the address bar
                return self._enter(environ, start_response, level, _without_token(environ))
            environ[ENVIRON_KEY] = level
            return self.app(environ, start_response)
        if path.startswith("/socket.io/") and given is None:
            return self.app(environ, start_response)  # `auth` is checked on connect
        return _unauthorized(environ, start_response, wrong=given is not None)

    def _enter(self, environ: dict[str, Any], start_response: Callable, level: str,
               location: str) -> Any:  # fmt: skip
        """302 to `location` with the session cookie of `level`."""
        secure = "; Secure" if environ.get("wsgi.url_scheme") == "https" else ""
        flags = f"Path=/; HttpOnly; SameSite=Lax{secure}"
        session = f"{COOKIE}={self._cookies[level]}; {flags}"
        headers = [("Location", location), ("Set-Cookie", session), ("Content-Length", "0"),
                   ("Cache-Control", "no-store")]  # fmt: skip
        if f"{CLIENT_COOKIE}=" not in environ.get("HTTP_COOKIE", ""):  # who this browser is
            client = f"{CLIENT_COOKIE}={secrets.token_hex(16)}; Max-Age=31536000; {flags}"
            headers.append(("Set-Cookie", client))
        start_response("302 FOUND", headers)
        return [b""]

    def _login(self, environ: dict[str, Any], start_response: Callable) -> Any:
        """``POST /login`` (the login page's form: token, next): in, or the page again."""
        address = _address(environ)
        wait = self.limiter.wait(address)
        if wait > 0:
            return _too_many(environ, start_response, wait)
        try:
            size = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_LOGIN_BODY)
        except ValueError:
            size = 0
        fields = dict(parse_qsl(environ["wsgi.input"].read(size).decode("utf-8", "replace")))
        target = fields.get("next", "/")
        target = target if target.startswith("/") and not target.startswith("//") else "/"
        level = self.token_level(fields.get("token"))  # `target`: only this server's addresses
        if level is None:
            self.limiter.failed(address)
            return _unauthorized(environ, start_response, wrong=True, target=target)
        return self._enter(environ, start_response, level, target)


def _address(environ: dict[str, Any]) -> str:
    return str(environ.get("REMOTE_ADDR") or "?")


def _is_page(environ: dict[str, Any]) -> bool:
    """A GET of a page (not the API, the socket or a file)."""
    path = environ.get("PATH_INFO", "")
    files = ("/api/", "/socket.io/", "/static/", "/vendor/")
    return environ.get("REQUEST_METHOD") == "GET" and not path.startswith(files)


def _without_token(environ: dict[str, Any]) -> str:
    """The request's address without its ``token`` parameter."""
    kept = [(k, v) for k, v in parse_qsl(environ.get("QUERY_STRING", ""), True) if k != "token"]
    query = urlencode(kept)
    return environ.get("PATH_INFO", "/") + (f"?{query}" if query else "")


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Backprop Studio: access token</title>
<style>body{{font:16px system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}}
input,button{{font:inherit;padding:.4rem}}input{{width:100%;box-sizing:border-box}}
.wrong{{color:#b00020}}</style></head>
<body><h1>Backprop Studio</h1>
<p>This server needs its access token: paste the token here, or open the address with
<code>?token=…</code> (the one it printed at start, or the one your teacher gave).</p>{wrong}
<form method="post" action="/login"><input type="hidden" name="next" value="{next}">
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" autofocus>
<p><button type="submit">Open the dashboard</button></p></form></body></html>
"""


def _unauthorized(environ: dict[str, Any], start_response: Callable, wrong: bool,
                  target: str | None = None) -> Any:  # fmt: skip
    message = ("wrong access token" if wrong else "this server needs its access token") + (
        ": send Authorization: Bearer <token>, or open a page with ?token=<token>"
    )
    path = environ.get("PATH_INFO", "")
    if path.startswith(("/api/", "/socket.io/")):
        body, kind = json.dumps({"error": message}).encode(), "application/json"
    elif _is_page(environ) or path == LOGIN_PATH:
        note = '<p class="wrong" role="alert">That token is wrong.</p>' if wrong else ""
        target = html.escape(target or (path if _is_page(environ) else "/"), quote=True)
        body, kind = LOGIN_PAGE.format(wrong=note, next=target).encode(), "text/html"
    else:
        body, kind = message.encode(), "text/plain"
    headers = [("Content-Type", f"{kind}; charset=utf-8"), ("Content-Length", str(len(body))),
               ("WWW-Authenticate", 'Bearer realm="backprop-studio"'),
               ("Cache-Control", "no-store")]  # fmt: skip
    start_response("401 UNAUTHORIZED", headers)
    return [body] if environ.get("REQUEST_METHOD") != "HEAD" else [b""]


def _too_many(environ: dict[str, Any], start_response: Callable, wait: float) -> Any:
    seconds = max(1, int(wait + 0.999))
    body = json.dumps({"error": f"too many wrong tokens: try again in {seconds} s"}).encode()
    start_response("429 TOO MANY REQUESTS", [
        ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
        ("Retry-After", str(seconds))])  # fmt: skip
    return [body] if environ.get("REQUEST_METHOD") != "HEAD" else [b""]


def install_access(app: Any, socketio: Any) -> AccessGate:
    """Wrap `app`'s WSGI app in an `AccessGate` from its config (``ACCESS_TOKEN``,
    ``ADMIN_TOKEN``) and refuse Socket.IO connections without access."""
    gate = AccessGate(app.wsgi_app, app.config.get("ACCESS_TOKEN"), app.config.get("ADMIN_TOKEN"))
    app.wsgi_app = gate
    app.extensions["access"] = gate

    @socketio.on("connect")
    def connect(auth: Any = None) -> None:
        level = gate.socket_level(request.environ, auth)
        if level is None:
            raise ConnectionRefusedError(
                "this server needs its access token: give it as auth: {token}, or as the "
                "handshake's Authorization: Bearer header"
            )
        request.environ[ENVIRON_KEY] = level

    return gate
