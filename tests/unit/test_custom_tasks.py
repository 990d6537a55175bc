"""Custom expression and uploaded-dataset tasks: validation, their data, previews and pacing."""

from __future__ import annotations

import numpy as np
import pytest

from app.config.expressions import ExpressionError, compile_expression
from app.data.previews import task_preview
from app.data.tasks import build_data, checked_target, custom_task, dataset_task
from app.data.uploads import DatasetStore, parse_csv
from app.runs.pace import LearningPace
from app.runs.runner import Pacer
from app.runs.validation import ConfigError, validate_config, validate_run


def errors_of(body: dict, datasets: DatasetStore | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        validate_config(body, datasets)
    return caught.value.errors


@pytest.fixture
def store() -> DatasetStore:
    return DatasetStore()


def add_csv(store: DatasetStore, text: str) -> str:
    return store.add(parse_csv(text.encode()))


REGRESSION_CSV = "x,target\n" + "".join(f"{i / 10},{(i / 10) ** 3}\n" for i in range(-20, 21))
CLASSES_CSV = "x,y,label\n" + "".join(f"{i},{i % 3},{'ab'[i % 2]}\n" for i in range(60))


# --------------------------------------------------------------------------- custom tasks


def test_a_custom_config_gets_the_task_and_its_defaults():
    config, task = validate_run({"task": "custom", "expression": "sin(5*x)*x"})
    assert config["task"] == "custom" and config["expression"] == "sin(5*x)*x"
    assert config["domain"] == [[-3.0, 3.0]] and config["samples"] == 500
    assert (task.id, task.kind, task.inputs, task.formula) == (
        "custom",
        "regression",
        1,
        "sin(5*x)*x",
    )
    assert task.to_json()["title"] == "Your function"


def test_the_domain_decides_between_1d_and_2d():
    config, task = validate_run({"task": "custom", "expression": "x", "domain": [[0, 1], [2, 3]]})
    assert task.inputs == 2 and config["samples"] == 2000
    _, task = validate_run({"task": "custom", "expression": "x*y"})
    assert task.inputs == 2 and task.to_json()["domain"] == [[-3.0, 3.0], [-3.0, 3.0]]


def test_custom_data_is_the_expression_on_the_samples_and_the_grid():
    config, task = validate_run(
        {"task": "custom", "expression": "x*y - 1", "samples": 100, "noise": 0}
    )
    data = build_data(task, config)
    assert len(data.x_train) + len(data.x_test) == 100
    X, Y = data.x_train.astype(np.float64), data.y_train[:, 0]
    np.testing.assert_allclose(Y, X[:, 0] * X[:, 1] - 1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        data.grid_target[:, 0], data.grid_x[:, 0] * data.grid_x[:, 1] - 1.0, atol=1e-5
    )


def test_custom_data_refuses_a_non_finite_target_naming_the_grid_point():
    config, task = validate_run(
        {"task": "custom", "expression": "1/x", "domain": [[0.5, 1]], "samples": 20}
    )
    with pytest.raises(ExpressionError, match=r"1/x is not finite at x = 0 \(got"):
        build_data(task, config.copy() | {"domain": [[0.0, 1.0]]})  # grid starts at 0


def test_a_pole_between_the_grid_points_is_refused_with_its_place():
    errors = errors_of({"task": "custom", "expression": "1/x", "domain": [[-1, 1]]})
    assert errors == {"expression": "1/x is not finite at x = 0 (division by zero)"}


def test_checked_target_refuses_values_too_large_to_train_on():
    target = checked_target(compile_expression("exp(x)"))
    assert target(np.array([0.0, 1.0])) == pytest.approx([1.0, np.e])
    with pytest.raises(ExpressionError, match=r"exp\(x\) is too large at x = 30 "):
        target(np.array([0.0, 30.0]))


def test_custom_task_needs_a_pair_per_input():
    with pytest.raises(ValueError):
        custom_task(compile_expression("x"), [[0.0, 1.0], [0.0, 1.0]])


# --------------------------------------------------------------------------- dataset tasks


def test_a_dataset_config_takes_rows_domain_and_no_noise_from_the_data(store):
    dataset_id = add_csv(store, REGRESSION_CSV)
    config, task = validate_run(
        {"task": f"dataset:{dataset_id}", "samples": 5, "noise": 3.0, "domain": [[0, 1]]}, store
    )
    assert config["samples"] == 41 and config["noise"] == 0.0
    assert config["domain"] == [[-2.0, 2.0]] and config["batch_size"] == 32
    assert task.id == f"dataset:{dataset_id}" and task.to_json()["n_rows"] == 41
    data = build_data(task, config)
    assert len(data.x_train) == 29 and len(data.x_test) == 12
    np.testing.assert_allclose(data.y_train[:, 0], data.x_train[:, 0] ** 3, atol=1e-5)
    assert data.grid_target is None and len(data.grid_x) == 200


def test_a_classification_dataset_has_its_classes_and_a_grid_around_its_points(store):
    dataset_id = add_csv(store, CLASSES_CSV)
    config, task = validate_run({"task": f"dataset:{dataset_id}"}, store)
    assert task.kind == "classification" and task.classes == ("a", "b") and task.outputs == 2
    assert config["loss"] == "cross_entropy" and config["hidden"] == [25, 50, 25]
    data = build_data(task, config)
    assert data.y_train.dtype == np.int64 and set(data.y_train) == {0, 1}
    (x_lo, x_hi), (y_lo, y_hi) = data.domain
    assert x_lo < 0 and x_hi > 59 and y_lo < 0 and y_hi > 2


def test_an_unknown_or_unresolvable_dataset_is_a_task_error(store):
    assert "unknown dataset 'nope'" in errors_of({"task": "dataset:nope"}, store)["task"]
    dataset_id = add_csv(store, REGRESSION_CSV)
    assert "unknown dataset" in errors_of({"task": f"dataset:{dataset_id}"})["task"]  # no store


def test_a_dataset_task_lists_its_kind_in_the_formula():
    dataset = parse_csv(CLASSES_CSV.encode())
    assert "label" in dataset_task("abc", dataset).formula


# --------------------------------------------------------------------------- previews


def test_a_custom_target_not_finite_on_part_of_the_domain_is_refused():
    errors = errors_of({"task": "custom", "expression": "log(x)", "domain": [[-1, 1]]})
    assert errors == {"expression": "log(x) is not finite at x = -1 (got nan)"}


def test_preview_of_a_dataset_is_its_points(store):
    dataset_id = add_csv(store, REGRESSION_CSV)
    config, task = validate_run({"task": f"dataset:{dataset_id}"}, store)
    answer = task_preview(task, config)
    assert set(answer["data"]) == {"x", "target"} and len(answer["data"]["x"]) == 41


# --------------------------------------------------------------------------- pacing


@pytest.mark.parametrize("pace", [None, 1, 2.5, 100_000])
def test_good_paces_are_kept(pace):
    assert validate_config({"task": "sin", "epochs_per_second": pace})["epochs_per_second"] == pace


@pytest.mark.parametrize("pace", [0, 0.99, 100_001, float("inf"), "20", True])
def test_bad_paces_are_refused(pace):
    assert "epochs_per_second" in errors_of({"task": "sin", "epochs_per_second": pace})


class VirtualClock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_paced_run_waits_one_interval_per_epoch():
    clock = VirtualClock()
    pacer = Pacer(100, clock)
    clock.now += 0.05  # the epoch took 50 ms
    assert pacer.delay(5.0) == pytest.approx(0.15)
    clock.now += 0.15 + 0.25  # waited, then an epoch of 250 ms: behind, due at once
    assert pacer.delay(5.0) == 0.0
    assert pacer.delay(None) == 0.0  # full speed: no wait
    clock.now += 0.01
    assert pacer.delay(10.0) == pytest.approx(0.09)  # a new pace applies at once


def test_the_auto_pace_waits_as_long_as_the_epoch_is_shown():
    now = [0.0]
    pacer, learning = Pacer(100, clock=lambda: now[0]), LearningPace(100)
    for loss in (1.0, 0.1, 0.1):
        shown = learning.after_epoch(loss)
        assert pacer.delay("auto", loss) == pytest.approx(shown)
        now[0] += shown  # the wait was served


def test_a_late_epoch_is_not_followed_by_a_burst():
    clock = VirtualClock()
    pacer = Pacer(100, clock)
    clock.now += 10.0  # 10 s behind (slow epochs, or a long pause)
    assert pacer.delay(2.0) == 0.0
    assert pacer.delay(2.0) == pytest.approx(0.5)  # one interval away, not due at once


def test_elapsed_counts_only_running_time_in_virtual_time():
    from app.runs.control import RunControl

    clock = VirtualClock()
    control = RunControl(clock)
    clock.now += 3.0  # queued: not counted
    control.set_status("running")
    clock.now += 5.0
    control.set_status("paused")
    clock.now += 10.0  # paused: not counted
    assert control.elapsed() == pytest.approx(5.0)
    control.set_status("running")
    clock.now += 2.0
    assert control.elapsed() == pytest.approx(7.0)
    control.set_status("finished")
    clock.now += 60.0
    assert control.elapsed() == pytest.approx(7.0)
