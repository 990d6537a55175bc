"""The front door: which hosts and origins the server answers, and the shape of request bodies.

`FrontDoor` wraps the whole WSGI app (pages, REST API and the Socket.IO endpoint):

* **Host** (DNS rebinding): a request whose ``Host`` is not one the server was started for is
  refused with 400 before anything else runs. Allowed are ``localhost``, ``127.0.0.1``, ``::1``,
  the ``--host`` the server binds and the configured ``ALLOWED_HOSTS``; when the server binds a
  wildcard address (``0.0.0.0`` or ``::``) any IP literal is allowed too (a rebinding attack needs
  a name), and so are this machine's own names (`machine_names`: the printed address uses the
  first). ``*`` allows every host.
* **Origin** (cross-site requests): a state-changing request (anything but GET, HEAD, OPTIONS)
  whose ``Origin`` — or, without one, ``Referer`` — is not the app's own (same scheme, host and
  port as the request's ``Host``) or one of ``ALLOWED_ORIGINS`` is refused with 403, as Jupyter
  does. Requests that carry neither header (curl, scripts) are allowed: browsers always send
  ``Origin`` on cross-origin POSTs. The Socket.IO endpoint applies the same origin rule (see
  `origin_allowed`, given to Engine.IO as its ``cors_allowed_origins``).

`check_json_body` (a ``before_request`` of the REST API) refuses a body that is not JSON (415),
not valid JSON or nested deeper than `MAX_JSON_DEPTH` (400) before any route reads it; routes
that take no body accept an empty one without a Content-Type.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_JSON_DEPTH = 20  # a run config nests 3 deep; JSON 1,000 deep used to be a RecursionError
UPLOAD_ENDPOINTS = frozenset({"api.upload_dataset", "api.upload_mnist"})  # multipart, not JSON


def host_name(host: str) -> str:
    """The name of a ``Host`` header without its port, lower case (``[::1]:5000`` -> ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):  # [IPv6]:port
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.rsplit(":", 1)[0]
    return host  # a bare name or a bare IPv6 address


def machine_names() -> tuple[str, ...]:
    """This machine's own names, lower case: its host name first (the address a server bound to
    a wildcard prints, `app.__main__.address`), then its fully qualified name if different."""
    names = [socket.gethostname().lower(), socket.getfqdn().lower()]
    return tuple(dict.fromkeys(name for name in names if name))


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL (an Origin is one already), or None if it has none."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class FrontDoor:
    """WSGI middleware refusing foreign hosts (400) and cross-origin writes (403); see above."""

    def __init__(self, app: Callable, hosts: Iterable[str], origins: Iterable[str]) -> None:
        self.app = app
        hosts = [host_name(host) for host in hosts]
        self.any_host = "*" in hosts
        self.any_ip = any(host in WILDCARD_HOSTS for host in hosts)
        self.hosts = frozenset(LOOPBACK_HOSTS) | {h for h in hosts if h not in WILDCARD_HOSTS}
        if self.any_ip:  # bound to every interface: the names others reach this machine by
            self.hosts |= set(machine_names())
        origins = list(origins)
        self.any_origin = "*" in origins
        self.origins = frozenset(o for o in map(_origin_of, origins) if o is not None)

    # ----------------------------------------------------------------- the rules

    def host_allowed(self, host: str | None) -> bool:
        """True if a request with this ``Host`` header is served."""
        if self.any_host:
            return True
        if not host:
            return False
        name = host_name(host)
        return name in self.hosts or (self.any_ip and _is_ip(name))

    def origin_allowed(self, origin: str | None, environ: dict[str, Any]) -> bool:
        """True if `origin` (an ``Origin`` header; None: none sent) may change state here."""
        if origin is None or self.any_origin:
            return True
        normalised = _origin_of(origin)  # "null" (sandboxed frames, file://) has none
        if normalised is None:
            return False
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '').lower()}"
        return normalised == own or normalised in self.origins

    def request_origin(self, environ: dict[str, Any]) -> str | None:
        """The request's ``Origin``, else the origin of its ``Referer``, else None."""
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None:
            return origin
        referer = environ.get("HTTP_REFERER")
        if referer is None:
            return None
        return _origin_of(referer) or "null"

    # ----------------------------------------------------------------- WSGI

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        host = environ.get("HTTP_HOST")
        if not self.host_allowed(host):
            message = (
                f"this server does not answer for host {host!r}; start it with "
                "--allow-host <name> to serve that name"
            )
            return _refuse(environ, start_response, "400 BAD REQUEST", message)
        if environ.get("REQUEST_METHOD", "GET").upper() not in SAFE_METHODS:
            origin = self.request_origin(environ)
            if not self.origin_allowed(origin, environ):
                message = (
                    f"cross-origin request refused: {origin} is not this server's origin; "
                    "start it with --allow-origin <origin> to allow it"
                )
                return _refuse(environ, start_response, "403 FORBIDDEN", message)
        return self.app(environ, start_response)


def _refuse(environ: dict[str, Any], start_response: Callable, status: str, message: str) -> Any:
    body = json.dumps({"error": message}).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body] if environ.get("REQUEST_METHOD") != "HEAD" else [b""]


# --------------------------------------------------------------------- request bodies


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in a decoded JSON value (a scalar is 0); iterative."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _has_body() -> bool:
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return bool(request.content_length) or chunked


def _body_error(message: str, status: int) -> tuple[Response, int]:
    return jsonify(errors={"body": message}), status


def check_json_body() -> tuple[Response, int] | None:
    """Before a REST route: refuse a body that is not JSON (415), not valid JSON or nested
    too deeply (400). Uploads (multipart) are left to their route; an empty body passes."""
    if request.method in SAFE_METHODS or request.endpoint in UPLOAD_ENDPOINTS:
        return None
    if not _has_body():
        return None
    if not request.is_json:
        sent = request.mimetype or "no Content-Type"
        return _body_error(f"must be sent as application/json, not {sent}", 415)
    try:
        body = json.loads(request.get_data(cache=True))
    except RecursionError:
        return _body_error(f"must be a JSON object nested at most {MAX_JSON_DEPTH} deep", 400)
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        return _body_error(f"must be a JSON object; this is not valid JSON ({error})", 400)
    if json_depth(body) > MAX_JSON_DEPTH:
        return _body_error(f"must be a JSON object nested at most {MAX_JSON_DEPTH} deep", 400)
    return None


def install_front_door(app: Flask, socketio: Any) -> FrontDoor:
    """Wrap `app` (Socket.IO included) in a `FrontDoor` built from its config, make Engine.IO
    apply the same origin rule, and answer unexpected errors of the API as JSON."""
    door = FrontDoor(app.wsgi_app, app.config["ALLOWED_HOSTS"], app.config["ALLOWED_ORIGINS"])
    app.wsgi_app = door  # type: ignore[method-assign]
    socketio.server.eio.cors_allowed_origins = door.origin_allowed

    @app.before_request
    def check_body() -> Any:
        if request.path.startswith("/api/"):
            return check_json_body()
        return None

    @app.errorhandler(404)
    def not_found(error: Any) -> Any:
        """An address under /api/ that no route serves answers JSON too, not an HTML page."""
        if request.path.startswith("/api/"):
            message = f"no such API address: {request.path} (see /api/openapi.json)"
            return jsonify(error=message), 404
        return error

    @app.errorhandler(405)
    def method_not_allowed(error: Any) -> Any:
        if request.path.startswith("/api/"):
            return jsonify(error=f"{request.method} is not allowed on {request.path}"), 405
        return error

    @app.errorhandler(500)
    def internal_error(_error: Exception) -> Any:
        if request.path.startswith("/api/"):
            return jsonify(error="internal error: the server could not answer this request"), 500
        return "internal error", 500

    return door
