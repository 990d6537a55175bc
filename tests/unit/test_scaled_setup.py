"""Scaled mode is chosen only by a Redis URL: without one the app is the embedded server."""

from __future__ import annotations

import pytest

from app import create_app
from app.__main__ import app_config, parse_args
from app.runs.manager import RunManager


def test_no_redis_url_is_the_embedded_server(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert app_config(parse_args([]))["REDIS_URL"] is None
    manager = create_app({"TESTING": True}).extensions["runs"]
    assert type(manager) is RunManager
    manager.shutdown()


def test_the_redis_url_flag_reaches_the_config():
    config = app_config(parse_args(["--redis-url", "redis://127.0.0.1:6390/0"]))
    assert config["REDIS_URL"] == "redis://127.0.0.1:6390/0"


def test_scaled_mode_refuses_a_database_only_this_process_sees():
    with pytest.raises(ValueError, match="shared database"):
        create_app({"TESTING": True, "REDIS_URL": "redis://127.0.0.1:6390/0"})
