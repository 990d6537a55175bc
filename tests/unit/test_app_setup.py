"""What `create_app` and `python -m app` set up: BLAS threads, the dataset store, body limits."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np  # noqa: F401  (loads BLAS, so that threadpoolctl sees it)
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from app import DEFAULT_CONFIG, create_app
from app.__main__ import app_config, parse_args
from app.data.uploads import MAX_BYTES, DatasetStore


def blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


@pytest.fixture
def two_blas_threads() -> Iterator[None]:
    """BLAS set to 2 threads before the test (so a limit to 1 is visible); restored after."""
    if not blas_threads():
        pytest.skip("no BLAS library visible to threadpoolctl")
    original = threadpool_limits(limits=2, user_api="blas")
    if set(blas_threads()) != {2}:
        original.restore_original_limits()
        pytest.skip("this BLAS cannot run 2 threads here")
    yield
    original.restore_original_limits()


def test_create_app_limits_blas_to_one_thread_by_default(two_blas_threads):
    assert DEFAULT_CONFIG["BLAS_THREADS"] == 1
    create_app()
    assert set(blas_threads()) == {1}


def test_blas_threads_can_be_set_or_left_alone(two_blas_threads):
    create_app({"BLAS_THREADS": None})
    assert set(blas_threads()) == {2}
    create_app({"BLAS_THREADS": 1})
    assert set(blas_threads()) == {1}
    create_app({"BLAS_THREADS": 2})
    assert set(blas_threads()) == {2}


def test_the_command_line_passes_blas_threads_on():
    assert app_config(parse_args([]))["BLAS_THREADS"] == 1
    assert app_config(parse_args(["--blas-threads", "2"]))["BLAS_THREADS"] == 2
    assert app_config(parse_args(["--blas-threads", "0"]))["BLAS_THREADS"] is None
    with pytest.raises(SystemExit):
        parse_args(["--blas-threads", "-1"])


def test_the_app_has_a_dataset_store_of_the_configured_size():
    app = create_app({"MAX_DATASETS": 3})
    store = app.extensions["datasets"]
    assert isinstance(store, DatasetStore) and store.max_datasets == 3
    assert create_app().extensions["datasets"] is not store  # one per app


def test_bodies_are_limited_a_little_above_the_upload_limit():
    limit = create_app().config["MAX_CONTENT_LENGTH"]
    assert MAX_BYTES < limit <= MAX_BYTES + 256 * 1024


def test_the_command_line_passes_the_limits_and_the_front_door_on():
    args = parse_args(["--host", "0.0.0.0", "--allow-host", "studio.lan", "--allow-origin",
                       "http://a.example:8000", "--max-unfinished-runs", "8",
                       "--work-budget", "1e9"])  # fmt: skip
    config = app_config(args)
    assert config["ALLOWED_HOSTS"] == ("0.0.0.0", "studio.lan")
    assert config["ALLOWED_ORIGINS"] == ("http://a.example:8000",)
    assert config["MAX_UNFINISHED_RUNS"] == 8 and config["WORK_BUDGET"] == 1e9
    defaults = app_config(parse_args([]))
    assert defaults["MAX_UNFINISHED_RUNS"] == DEFAULT_CONFIG["MAX_UNFINISHED_RUNS"] == 64
    assert defaults["WORK_BUDGET"] == DEFAULT_CONFIG["WORK_BUDGET"] >= 1e13


def test_the_front_door_knows_its_hosts_and_origins():
    from app.web.security import FrontDoor

    door = FrontDoor(lambda *_: [], hosts=("0.0.0.0", "studio.lan"), origins=("http://a.b:1",))
    for host in ("localhost:5000", "127.0.0.1", "[::1]:5000", "studio.lan:80", "10.0.0.7:5000"):
        assert door.host_allowed(host), host
    for host in ("evil.example", "evil.example:5000", "", None, "127.0.0.1.evil.example"):
        assert not door.host_allowed(host), host
    loopback_only = FrontDoor(lambda *_: [], hosts=("127.0.0.1",), origins=())
    assert not loopback_only.host_allowed("10.0.0.7:5000")
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "localhost:5000"}
    assert door.origin_allowed(None, environ)  # scripts send none
    assert door.origin_allowed("http://localhost:5000", environ)
    assert door.origin_allowed("http://a.b:1", environ)
    for origin in ("http://127.0.0.1:5000", "http://evil.example", "null", "https://localhost:5000"):
        assert not door.origin_allowed(origin, environ), origin


def test_the_work_estimate_counts_forward_backward_and_evaluation():
    from app.runs.validation import run_work, validate_run

    config, task = validate_run({"task": "sin", "hidden": [10], "samples": 100,
                                 "test_fraction": 0.3, "epochs": 7}, work_budget=None)  # fmt: skip
    per_row = 1 * 10 + 10 * 1
    assert run_work(config, task) == 7 * (3 * 70 + 100) * per_row


def test_json_depth_is_measured_without_recursion():
    from app.web.security import json_depth

    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert json_depth(deep) == 100_001 and json_depth({"a": [1, {"b": 2}]}) == 3
    assert json_depth(5) == 0


def test_the_looks_inside_can_be_turned_off_from_the_command_line():
    assert app_config(parse_args([]))["INSIDE_INTERVAL"] == DEFAULT_CONFIG["INSIDE_INTERVAL"]
    config = app_config(parse_args(["--inside-interval", "0"]))
    assert config["INSIDE_INTERVAL"] == 0
    assert create_app({**config, "TESTING": True}).extensions["runs"].inside_interval is None


def test_a_negative_unwatched_pause_is_refused_by_name():
    with pytest.raises(ValueError, match="UNWATCHED_PAUSE_SECONDS"):
        create_app({"TESTING": True, "UNWATCHED_PAUSE_SECONDS": -1})
