"""nn.Affine: a fixed per-feature ``x · scale + shift`` that folds scalers into a saved model."""

import numpy as np
import pytest

import network as nn


def test_affine_maps_each_feature_by_its_scale_and_shift():
    layer = nn.Affine([2.0, -0.5], [1.0, 3.0])
    x = np.array([[1.0, 2.0], [0.0, -4.0]], dtype=np.float32)
    np.testing.assert_allclose(layer(x), [[3.0, 2.0], [1.0, 5.0]])


def test_affine_passes_gradcheck_before_and_after_linear_layers():
    model = nn.Sequential(
        nn.Affine([0.5, -2.0, 3.0], [1.0, 0.0, -1.0]),
        nn.Linear(3, 4, seed=1),
        nn.Tanh(),
        nn.Linear(4, 2, seed=2),
        nn.Affine([1.5, 0.25], [-3.0, 2.0]),
    ).to(np.float64)
    rng = np.random.default_rng(7)
    x, t = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    assert nn.gradcheck(model, nn.MSELoss(), x, t) < 1e-6


def test_affine_is_saved_and_loaded_with_its_values(tmp_path):
    model = nn.Sequential(nn.Affine([4.0], [-1.0]), nn.Linear(1, 3, seed=0), nn.ReLU(),
                          nn.Linear(3, 1, seed=1), nn.Affine([10.0], [5.0]))  # fmt: skip
    nn.save(model, tmp_path / "m.npz")
    loaded = nn.load(tmp_path / "m.npz")
    x = np.linspace(-2, 2, 9, dtype=np.float32)[:, None]
    np.testing.assert_array_equal(loaded(x), model(x))
    assert loaded[0].config() == {"scale": [4.0], "shift": [-1.0]}


def test_affine_has_no_parameters_and_follows_the_model_dtype():
    model = nn.Sequential(nn.Affine([2.0], [1.0]), nn.Linear(1, 1, seed=0)).to(np.float64)
    assert model[0].parameters() == []
    assert model(np.ones((2, 1))).dtype == np.float64


@pytest.mark.parametrize(
    ("scale", "shift"), [([1.0, 2.0], [0.0]), ([], []), ([np.inf], [0.0]), ([[1.0]], [[0.0]])]
)
def test_affine_refuses_mismatched_empty_or_non_finite_values(scale, shift):
    with pytest.raises(ValueError, match="scale"):
        nn.Affine(scale, shift)
