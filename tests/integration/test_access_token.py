"""The access token (issue 31, point 2), against real servers: a server bound to anything but
loopback generates a token and prints it in its address; with a token every route and the socket
refuse without it and work with it (Bearer header, session cookie from ?token= or the login form,
Socket.IO auth); wrong tokens are slowed down; loopback without a token changes nothing.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from server_helpers import wait_until

from app.transports.cluster import free_port
from app.web.access import FailureLimiter

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token-for-tests"
ADMIN = "admin-token-for-tests"


@pytest.fixture
def guarded(make_live_server: Any) -> Any:
    return make_live_server({"ACCESS_TOKEN": TOKEN, "ADMIN_TOKEN": ADMIN})


def _routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route of the app, its arguments filled with dummies."""
    found = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "x" if m.group(1) != "filename"
                      else "js/main.js", rule.rule)  # fmt: skip
        found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def test_every_route_refuses_without_the_token_and_serves_with_it(guarded: Any) -> None:
    routes = _routes(guarded.app)
    assert ("GET", "/") in routes and ("POST", "/api/runs") in routes
    for method, path in routes:
        answer = requests.request(method, f"{guarded.url}{path}", timeout=10)
        assert answer.status_code == 401, (method, path, answer.status_code)
        if path.startswith("/api/"):
            assert "access token" in answer.json()["error"]
    page = requests.get(f"{guarded.url}/runs", timeout=10)
    assert page.headers["Content-Type"].startswith("text/html") and 'name="token"' in page.text
    # the Socket.IO endpoint: refused at its CONNECT (test_the_socket_needs_the_token)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    for method, path in routes:  # let in: whatever the route answers next, not 401
        answer = requests.request(method, f"{guarded.url}{path}", headers=bearer, timeout=10)
        assert answer.status_code != 401, (method, path)
    assert requests.get(f"{guarded.url}/api/tasks", headers=bearer, timeout=10).ok
    assert requests.get(f"{guarded.url}/static/js/main.js", params={"token": TOKEN},
                        timeout=10).ok  # fmt: skip


def test_the_page_trades_the_token_for_a_session_cookie(guarded: Any) -> None:
    session = requests.Session()
    answer = session.get(f"{guarded.url}/runs?token={TOKEN}&task=sin", allow_redirects=False,
                         timeout=10)  # fmt: skip
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/runs?task=sin"  # the token leaves the address bar
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and TOKEN not in cookie
    assert session.get(f"{guarded.url}/runs", timeout=10).status_code == 200  # the cookie
    assert session.get(f"{guarded.url}/api/tasks", timeout=10).ok
    login = requests.post(f"{guarded.url}/login", data={"token": TOKEN, "next": "/runs"},
                          allow_redirects=False, timeout=10)  # fmt: skip
    assert login.status_code == 302 and login.headers["Location"] == "/runs"
    assert "backprop_session=" in login.headers["Set-Cookie"]
    elsewhere = requests.post(f"{guarded.url}/login", data={"token": TOKEN, "next": "//evil"},
                              allow_redirects=False, timeout=10)  # fmt: skip
    assert elsewhere.headers["Location"] == "/"


def _socket(url: str, **options: Any) -> socketio.Client:
    client = socketio.Client(reconnection=False)
    client.connect(url, transports=["websocket"], wait_timeout=10, **options)
    return client


def test_the_socket_needs_the_token(guarded: Any) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        _socket(guarded.url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        _socket(guarded.url, auth={"token": "wrong"})
    cookie = requests.get(f"{guarded.url}/?token={TOKEN}", allow_redirects=False,
                          timeout=10).cookies["backprop_session"]  # fmt: skip
    for options in ({"auth": {"token": TOKEN}},
                    {"headers": {"Authorization": f"Bearer {TOKEN}"}},
                    {"headers": {"Cookie": f"backprop_session={cookie}"}}):  # fmt: skip
        client = _socket(guarded.url, **options)
        assert client.connected
        client.disconnect()


def test_wrong_tokens_are_slowed_down_open_sessions_go_on(guarded: Any) -> None:
    session = requests.Session()
    assert session.get(f"{guarded.url}/?token={TOKEN}", timeout=10).ok
    for _ in range(5):
        answer = requests.get(f"{guarded.url}/api/tasks",
                              headers={"Authorization": "Bearer wrong"}, timeout=10)  # fmt: skip
        assert answer.status_code == 401 and "wrong" in answer.json()["error"]
    refused = requests.get(f"{guarded.url}/api/tasks", params={"token": "wrong"}, timeout=10)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    # not even compared: the right token waits too (until the window has passed, see below)
    assert requests.get(f"{guarded.url}/api/tasks", params={"token": TOKEN},
                        timeout=10).status_code == 429  # fmt: skip
    assert session.get(f"{guarded.url}/api/tasks", timeout=10).ok  # its cookie


def test_failure_limiter_forgets_after_its_window() -> None:
    now = [0.0]
    limiter = FailureLimiter(limit=2, window=10.0, clock=lambda: now[0])
    limiter.failed("a")
    limiter.failed("a")
    assert limiter.wait("a") == 10.0 and limiter.wait("b") == 0.0
    now[0] = 4.0
    assert limiter.wait("a") == 6.0
    now[0] = 10.0
    assert limiter.wait("a") == 0.0


def test_loopback_without_a_token_changes_nothing(live_server: Any) -> None:
    assert requests.get(f"{live_server.url}/api/tasks", timeout=10).ok
    assert requests.get(f"{live_server.url}/", timeout=10).ok
    client = _socket(live_server.url)
    assert client.connected
    client.disconnect()


@contextmanager
def printed_address(tmp_path: Path, host: str) -> Iterator[tuple[str, str]]:
    """`python -m app --host <host>` started as a user would; yields the address it printed
    (``http://name:port/``) and its token; ends the server."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--host", host, "--port", str(port),
         "--database-url", "none"],
        cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()  # type: ignore[arg-type]
    try:
        wait_until(lambda: any("?token=" in line for line in lines) or process.poll() is not None,
                   60, "the address with its token")  # fmt: skip
        printed = re.search(r"(http://[^/\s]+:\d+/)\?token=(\S+)", "".join(lines))
        assert printed, lines
        yield printed.group(1), printed.group(2)
    finally:
        process.terminate()
        process.wait(60)


def test_a_non_loopback_bind_generates_and_prints_a_token(tmp_path: Path) -> None:
    with printed_address(tmp_path, "127.0.0.2") as (base, token):
        assert base.startswith("http://127.0.0.2:")

        def answers() -> int:
            try:
                return requests.get(f"{base}api/tasks", timeout=5).status_code
            except (requests.ConnectionError, requests.Timeout):
                return 0

        assert wait_until(answers, 60, "the server to answer") == 401
        bearer = {"Authorization": f"Bearer {token}"}
        assert requests.get(f"{base}api/tasks", headers=bearer, timeout=10).ok
        opened = requests.get(f"{base}?token={token}", allow_redirects=False, timeout=10)
        assert opened.status_code == 302 and opened.headers["Location"] == "/"


def test_the_address_a_server_on_every_interface_prints_opens(tmp_path: Path) -> None:
    # a teacher's `--host 0.0.0.0`: the server prints this machine's name; that very address
    # must open (it was a 400 "does not answer for host"), reached here through loopback
    with printed_address(tmp_path, "0.0.0.0") as (base, token):
        name_and_port = base.removeprefix("http://").rstrip("/")
        assert name_and_port.rsplit(":", 1)[0] == socket.gethostname().lower()
        local = f"http://127.0.0.1:{name_and_port.rsplit(':', 1)[1]}/"

        def opened() -> int:
            try:
                return requests.get(f"{local}?token={token}", headers={"Host": name_and_port},
                                    allow_redirects=False, timeout=5).status_code  # fmt: skip
            except (requests.ConnectionError, requests.Timeout):
                return 0

        assert wait_until(opened, 60, "the server to answer") == 302
        foreign = requests.get(f"{local}api/tasks", headers={"Host": "evil.example"}, timeout=10)
        assert foreign.status_code == 400  # other names are still refused
