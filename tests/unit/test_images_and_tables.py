"""Tasks of more than two inputs: the digits images, the slice view, image payloads."""

from __future__ import annotations

import numpy as np

from app.data.tasks import TASKS, build_data
from app.runs.payloads import IMAGES_SHOWN, RunPayloads
from app.runs.validation import validate_run
from app.training.session import TrainingSession


def test_digits_is_sixty_four_inputs_ten_classes_and_an_image_shape():
    task = TASKS["digits"].to_json()
    assert (task["inputs"], task["outputs"], task["image_shape"]) == (64, 10, [8, 8])
    assert task["slice_features"] == [42, 43]


def test_digits_reaches_ninety_percent_with_64_32_10():
    config, task = validate_run({"task": "digits", "hidden": [32], "epochs": 40})
    session = TrainingSession(task, config)
    assert session.sizes == [64, 32, 10]
    records = [session.advance() for _ in range(40)]
    assert records[-1]["test_acc"] >= 0.9


def test_the_slice_grid_holds_the_other_inputs_at_their_median():
    config, task = validate_run({"task": "digits"})
    data = build_data(task, config)
    assert data.grid_x.shape == (50 * 50, 64) and data.grid_shape() == (50, 50)
    medians = np.median(data.x_train, axis=0)
    others = np.delete(np.arange(64), [42, 43])
    np.testing.assert_allclose(data.grid_x[:, others], np.tile(medians[others], (2500, 1)))
    assert data.grid_x[:, 42].min() == 0 and data.grid_x[:, 42].max() == 16


def test_image_payloads_carry_test_images_and_first_layer_weights():
    config, task = validate_run({"task": "digits", "hidden": [20]})
    session = TrainingSession(task, config)
    payloads = RunPayloads(task, session.data, session.sizes)
    images = payloads.images_json()
    assert images["shape"] == [8, 8] and len(images["pixels"]) == IMAGES_SHOWN
    assert all(len(row) == 64 and 0 <= min(row) and max(row) <= 1 for row in images["pixels"])
    view = session.view()
    first = payloads.first_layer_json(view)
    assert len(first) == 20 and len(first[0]) == 64
    points = payloads.data_json()["test"]
    assert set(points) == {"x", "y", "label"}  # the slice view's two pixels
    assert payloads.images_json()["labels"] == points["label"][:IMAGES_SHOWN]
