"""A look inside the network: neuron maps and layer statistics (app.training.inside,
app.runs.payloads)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.runs.payloads import inside_json
from app.runs.validation import validate_run
from app.training.session import TrainingSession


def session_of(**fields) -> TrainingSession:
    config, task = validate_run(fields)
    return TrainingSession(task, config)


def test_a_surface_has_an_n_by_n_map_per_hidden_neuron():
    session = session_of(task="saddle", hidden=[8, 8], samples=200)
    inside = session.view(inside=True).inside
    assert [maps.shape for maps in inside.neurons] == [(8, 20, 20), (8, 20, 20)]
    assert inside.output.shape == (1, 20, 20)
    assert [list(i) for i in inside.indices] == [list(range(8))] * 2
    encoded = inside_json(inside)
    assert len(encoded["neurons"][0][3]) == 20 and len(encoded["neurons"][0][3][0]) == 20


def test_a_curve_has_a_curve_per_hidden_neuron():
    session = session_of(task="sin", hidden=[6], samples=100)
    encoded = inside_json(session.view(inside=True).inside)
    assert len(encoded["neurons"]) == 1 and len(encoded["neurons"][0]) == 6
    assert all(len(curve) >= 50 for curve in encoded["neurons"][0])
    assert len(encoded["axes"]) == 1


def test_a_wide_layer_shows_its_16_most_active_neurons():
    session = session_of(task="sin", hidden=[256], samples=100)
    inside = session.view(inside=True).inside
    (shown,) = inside.indices
    assert len(shown) == 16 and list(shown) == sorted(shown)
    hidden = session.model.activations(session.probe.inputs)[1]
    strength = np.abs(hidden).mean(axis=0)
    assert strength[shown].min() >= np.delete(strength, shown).max()
    assert inside.weights[0].shape == (1, 16) and inside.weights[1].shape == (16, 1)


def test_layer_statistics_have_histograms_norms_and_unit_shares():
    session = session_of(task="sin", hidden=[16, 16], activation="relu", samples=100)
    session.advance()
    layers = session.view(inside=True).inside.layers
    assert len(layers) == 3
    for layer in layers:
        edges, counts = layer.weights
        assert len(edges) == len(counts) + 1 >= 11 and counts.sum() > 0
        assert layer.grad_norm > 0 and sum(layer.grads[1]) > 0
    assert all(0 <= layer.dead <= 1 for layer in layers[:2]) and layers[2].dead is None
    tanh = session_of(task="sin", hidden=[4], samples=100).view(inside=True).inside
    assert tanh.layers[0].saturated is not None and tanh.layers[0].dead is None


def test_maps_change_as_the_network_learns():
    session = session_of(task="saddle", hidden=[8], samples=400, lr=0.03)
    before = session.view(inside=True).inside.neurons[0].copy()
    for _ in range(20):
        session.advance()
    after = session.view(inside=True).inside.neurons[0]
    assert np.abs(after - before).max() > 0.05


def test_a_frame_sized_inside_stays_small():
    session = session_of(task="saddle", hidden=[32, 32], samples=400)
    text = json.dumps(inside_json(session.view(inside=True).inside))
    assert len(text) < 150_000  # the whole frame must stay under 300 KB


def test_a_classification_view_has_the_test_confusion_matrix():
    session = session_of(task="blobs", samples=300, epochs=5)
    for _ in range(5):
        session.advance()
    view = session.view().prediction
    truth, predicted = session.data.y_test, view.test_predicted
    assert view.confusion.shape == (3, 3) and view.confusion.sum() == len(truth)
    for true in range(3):
        for guess in range(3):
            expected = np.count_nonzero((truth == true) & (predicted == guess))
            assert view.confusion[true, guess] == expected


def test_a_regression_record_has_the_test_r2():
    session = session_of(task="square", hidden=[16], samples=200)
    for _ in range(60):
        record = session.record(session.advance())
    outputs = session.y_scaler.inverse_transform(session.model.predict(session.test_inputs))
    y = session.data.y_test
    r2 = 1 - np.sum((outputs - y) ** 2) / np.sum((y - y.mean()) ** 2)
    assert record["test_r2"] == pytest.approx(r2, abs=1e-4) and r2 > 0.9


def test_a_histogram_of_equal_values_spans_a_narrow_range_around_them():
    from app.training.inside import _histogram

    edges, counts = _histogram(np.zeros(50, dtype=np.float32))
    assert counts.sum() == 50 and edges[0] < 0 < edges[-1] and edges[-1] - edges[0] < 1e-9
    edges, counts = _histogram(np.full(10, 3.0))
    assert counts.sum() == 10 and abs(edges[-1] - edges[0]) < 0.01


def test_the_fast_histogram_equals_numpys_including_values_on_edges():
    from app.training.inside import HISTOGRAM_BINS, _histogram

    rng = np.random.default_rng(1)
    for trial in range(1500):
        values = rng.normal(size=int(rng.integers(1, 2000))) * 10 ** rng.uniform(-6, 3)
        if trial % 5 == 0:
            values = np.round(values, 1)  # many values exactly on bin edges
        if trial % 7 == 0:
            values[:] = values[0]  # all equal: a narrow range around them
        values = values.astype(np.float32)
        edges, counts = _histogram(values)
        expected, expected_edges = np.histogram(
            values.astype(np.float64), bins=HISTOGRAM_BINS, range=(edges[0], edges[-1])
        )
        np.testing.assert_array_equal(counts, expected)
        np.testing.assert_array_equal(edges, expected_edges)
        assert counts.sum() == values.size


def test_many_arrays_rounded_at_once_equal_each_rounded_alone():
    from app.data.encoding import round_array, round_arrays

    rng = np.random.default_rng(2)
    arrays = [rng.normal(size=shape) * 10.0 ** rng.uniform(-5, 5)
              for shape in [(3,), (4, 5), (2, 3, 4), (1,), (0,), (6, 1)]]  # fmt: skip
    arrays[1][2, 3] = np.nan
    arrays[2][0, 0, 0] = np.inf
    for digits in (3, 4, 6):
        assert round_arrays(arrays, digits) == [round_array(a, digits) for a in arrays]
    assert round_arrays([]) == []
