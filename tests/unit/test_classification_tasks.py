"""The classification tasks of the app's registry: their data, grid, probabilities and configs."""

from __future__ import annotations

import numpy as np
import pytest

from app.data.tasks import DOMAIN_MARGIN, TASKS, build_data, fitting_domain
from app.runs.validation import ConfigError, validate_config
from app.training.session import class_probabilities

CLASSIFIERS = {"moons": 2, "circles": 2, "xor": 2, "spiral": 2, "spiral3": 3, "blobs": 3}
classifier_ids = pytest.mark.parametrize("task_id", list(CLASSIFIERS))


def config_of(task_id: str, **overrides) -> dict:
    return validate_config({"task": task_id, **overrides})


def test_the_registry_holds_the_six_point_classification_tasks_and_digits():
    ids = {task.id for task in TASKS.values() if task.kind == "classification"}
    assert ids == set(CLASSIFIERS) | {"digits"}


@classifier_ids
def test_task_declares_its_classes_and_output_width(task_id):
    task = TASKS[task_id]
    assert task.inputs == 2 and task.outputs == CLASSIFIERS[task_id]
    assert task.classes == tuple(str(k) for k in range(CLASSIFIERS[task_id]))
    assert task.losses() == ("cross_entropy", "mse")
    assert task.defaults()["loss"] == "cross_entropy"


@classifier_ids
def test_task_data_has_the_declared_classes_balanced(task_id):
    task = TASKS[task_id]
    for n_samples in (2000, 301):
        _, labels = task.sample(n_samples, task.defaults()["noise"], 3)
        counts = np.bincount(labels, minlength=task.outputs)
        assert len(counts) == task.outputs and counts.sum() == n_samples
        assert counts.max() - counts.min() <= 1


@classifier_ids
def test_run_data_is_split_with_int_labels_of_every_class(task_id):
    data = build_data(TASKS[task_id], config_of(task_id))
    assert data.x_train.shape == (1400, 2) and data.x_test.shape == (600, 2)
    assert data.x_train.dtype == np.float32
    for labels in (data.y_train, data.y_test):
        assert labels.dtype == np.int64 and labels.shape == (len(labels),)
        assert set(np.unique(labels)) == set(range(CLASSIFIERS[task_id]))
    assert data.grid_target is None and data.grid_x.shape == (2500, 2)


@classifier_ids
def test_run_data_is_deterministic_per_seed(task_id):
    task = TASKS[task_id]
    first = build_data(task, config_of(task_id, seed=7, samples=300))
    again = build_data(task, config_of(task_id, seed=7, samples=300))
    other = build_data(task, config_of(task_id, seed=8, samples=300))
    for name in ("x_train", "y_train", "x_test", "y_test", "grid_x"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.x_train, other.x_train)


@classifier_ids
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_grid_holds_every_point_with_a_margin(task_id, seed):
    task = TASKS[task_id]
    data = build_data(task, config_of(task_id, seed=seed))
    points = np.concatenate([data.x_train, data.x_test])
    for axis, (lo, hi) in zip(data.grid_axes, data.domain, strict=True):
        assert axis[0] == lo and axis[-1] == hi
    for column, (lo, hi) in enumerate(data.domain):
        values = points[:, column]
        margin = DOMAIN_MARGIN * (values.max() - values.min())
        assert lo <= values.min() - margin + 1e-6 and values.max() + margin - 1e-6 <= hi
    if seed == 0:  # the default domain was derived from exactly this data
        assert data.domain == [list(pair) for pair in task.domain]


def test_noisier_data_widens_the_default_domain():
    config = config_of("moons", noise=1.0)
    data = build_data(TASKS["moons"], config)
    (x_lo, x_hi), (y_lo, y_hi) = data.domain
    (default_x_lo, default_x_hi), (default_y_lo, default_y_hi) = TASKS["moons"].domain
    assert x_lo < default_x_lo and x_hi > default_x_hi and y_lo < default_y_lo
    assert y_hi > default_y_hi


def test_a_wider_config_domain_is_kept():
    data = build_data(TASKS["circles"], config_of("circles", domain=[[-5, 5], [-4, 6]]))
    assert data.domain == [[-5.0, 5.0], [-4.0, 6.0]]


def test_fitting_domain_pads_by_the_margin_and_rounds_outward():
    X = np.array([[0.0, -1.0], [4.0, 0.5]])
    assert fitting_domain(X) == [[-0.4, 4.4], [-1.2, 0.7]]
    assert fitting_domain(X, centred=True) == [[-4.8, 4.8], [-1.2, 1.2]]  # margin of ±4, ±1
    assert fitting_domain(np.array([[-20.0, 3.0], [20.0, 3.0]]))[0] == [-24.0, 24.0]


# --------------------------------------------------------------------------- probabilities


def test_cross_entropy_probabilities_are_the_softmax_of_the_logits():
    logits = np.array([[2.0, 0.0, -1.0], [1000.0, 1000.0, 0.0]], dtype=np.float32)
    probabilities = class_probabilities(logits, "cross_entropy")
    expected = np.exp([2.0, 0.0, -1.0]) / np.exp([2.0, 0.0, -1.0]).sum()
    np.testing.assert_allclose(probabilities[0], expected, rtol=1e-12)
    np.testing.assert_allclose(probabilities[1], [0.5, 0.5, 0.0], atol=1e-12)  # no overflow


def test_mse_probabilities_are_the_clipped_outputs_normalised():
    outputs = np.array([[1.0, 0.0], [1.2, -0.3], [0.3, 0.1], [-0.5, -0.1]], dtype=np.float32)
    probabilities = class_probabilities(outputs, "mse")
    np.testing.assert_allclose(
        probabilities, [[1.0, 0.0], [1.0, 0.0], [0.75, 0.25], [0.5, 0.5]], rtol=1e-6
    )
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


# --------------------------------------------------------------------------- configs


def test_a_classification_config_defaults_to_cross_entropy_and_seed_001s_net():
    config = config_of("moons")
    assert config["loss"] == "cross_entropy" and config["hidden"] == [25, 50, 25]
    assert config["samples"] == 2000 and config["noise"] == 0.2 and config["test_fraction"] == 0.3
    assert config_of("spiral3", loss="mse")["loss"] == "mse"


def test_regression_refuses_cross_entropy_naming_the_loss_field():
    with pytest.raises(ConfigError) as error:
        validate_config({"task": "sin", "loss": "cross_entropy"})
    assert set(error.value.errors) == {"loss"} and "mse" in error.value.errors["loss"]
    assert validate_config({"task": "sin"})["loss"] == "mse"


@pytest.mark.parametrize("loss", ["hinge", None, 1, ["mse"]])
def test_an_unknown_loss_is_refused(loss):
    with pytest.raises(ConfigError) as error:
        validate_config({"task": "moons", "loss": loss})
    assert set(error.value.errors) == {"loss"}
