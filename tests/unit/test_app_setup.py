"""What `create_app` and `python -m app` set up: BLAS threads, the dataset store, body limits."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np  # noqa: F401  (loads BLAS, so that threadpoolctl sees it)
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from app import DEFAULT_CONFIG, create_app
from app.__main__ import app_config, parse_args
from app.uploads import MAX_BYTES, DatasetStore


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
