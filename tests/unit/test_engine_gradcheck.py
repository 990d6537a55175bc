"""Back-propagation matches float64 central differences for every layer, activation and loss."""

import numpy as np
import pytest

import network as nn

TOLERANCE = 1e-6


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("activation", nn.ACTIVATIONS)
def test_every_activation_passes_gradcheck(activation, rng):
    model = nn.Sequential(
        nn.Linear(3, 5, seed=1), nn.get_activation(activation), nn.Linear(5, 2, seed=2)
    ).to(np.float64)
    x, t = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    assert nn.gradcheck(model, nn.MSELoss(), x, t) < TOLERANCE


@pytest.mark.parametrize("activation", ["leaky_relu", "elu", "softplus", "sigmoid"])
def test_activation_with_non_default_argument_passes_gradcheck(activation, rng):
    kwargs = {
        "leaky_relu": {"negative_slope": 0.3},
        "elu": {"alpha": 0.5},
        "softplus": {"beta": 2.0},
        "sigmoid": {},
    }[activation]
    layer = nn.get_activation(activation, **kwargs)
    model = nn.Sequential(nn.Linear(3, 4, seed=1), layer, nn.Linear(4, 2, seed=2))
    x, t = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    assert nn.gradcheck(model, nn.MSELoss(), x, t) < TOLERANCE


@pytest.mark.parametrize(
    ("n_in", "n_out", "bias"),
    [(4, 3, True), (4, 3, False), (1, 5, True), (5, 1, True), (1, 1, True)],
    ids=["linear", "no-bias", "width-1-input", "width-1-output", "scalar"],
)
def test_linear_passes_gradcheck(n_in, n_out, bias, rng):
    model = nn.Sequential(nn.Linear(n_in, n_out, bias=bias, seed=3, dtype=np.float64))
    x, t = rng.normal(size=(6, n_in)), rng.normal(size=(6, n_out))
    assert nn.gradcheck(model, nn.MSELoss(), x, t) < TOLERANCE


def test_stacked_activations_pass_gradcheck(rng):
    """Activation after activation: neither may overwrite what the other needs."""
    model = nn.Sequential(
        nn.Linear(3, 4, seed=1),
        nn.Tanh(),
        nn.Sigmoid(),
        nn.ReLU(),
        nn.Identity(),
        nn.Softplus(),
        nn.Linear(4, 2, seed=2),
    )
    x, t = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    assert nn.gradcheck(model, nn.MSELoss(), x, t) < TOLERANCE


@pytest.mark.parametrize("targets", ["int", "onehot", "soft"])
def test_cross_entropy_passes_gradcheck(targets, rng):
    model = nn.mlp([3, 6, 4], "tanh", seed=0)
    x = rng.normal(size=(8, 3)) * 3
    labels = rng.integers(0, 4, size=8)
    t = {"int": labels, "onehot": np.eye(4)[labels], "soft": rng.dirichlet(np.ones(4), 8)}[targets]
    assert nn.gradcheck(model, nn.CrossEntropyLoss(), x, t) < TOLERANCE


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_elementwise_losses_pass_gradcheck(loss, rng):
    model = nn.mlp([3, 6, 2], "tanh", seed=0)
    x, t = rng.normal(size=(8, 3)) * 3, rng.random((8, 2))
    assert nn.gradcheck(model, nn.get_loss(loss), x, t) < TOLERANCE


def test_loss_gradient_alone_passes_gradcheck(rng):
    """An Identity model checks dL/dy of the loss itself through the input gradient."""
    y, labels = rng.normal(size=(5, 3)), rng.integers(0, 3, 5)
    for loss, t in [
        (nn.MSELoss(), rng.normal(size=(5, 3))),
        (nn.CrossEntropyLoss(), labels),
        (nn.BCEWithLogitsLoss(), rng.random((5, 3))),
    ]:
        assert nn.gradcheck(nn.Sequential(nn.Identity()), loss, y, t) < TOLERANCE


def test_gradcheck_detects_a_wrong_gradient(rng):
    class BrokenTanh(nn.Tanh):
        def backward(self, grad, *args, **kwargs):
            return super().backward(grad, *args, **kwargs) * 1.01

    model = nn.Sequential(nn.Linear(3, 4, seed=1), BrokenTanh(), nn.Linear(4, 2, seed=2))
    assert (
        nn.gradcheck(model, nn.MSELoss(), rng.normal(size=(5, 3)), rng.normal(size=(5, 2))) > 1e-3
    )


def test_dropout_in_eval_mode_passes_gradcheck(rng):
    model = nn.Sequential(
        nn.Linear(3, 4, seed=1), nn.Dropout(0.5, seed=0), nn.Tanh(), nn.Linear(4, 2, seed=2)
    )
    assert (
        nn.gradcheck(model, nn.MSELoss(), rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
        < TOLERANCE
    )


def test_dropout_gradient_with_a_fixed_mask_matches_central_differences(rng):
    dropout = nn.Dropout(0.4)
    x, weights = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    mask = np.empty_like(x)  # what the forward leaves for the backward (its aux buffer)

    def loss(inputs):  # the same mask on every call: reseed before the forward pass
        dropout.rng = np.random.default_rng(7)
        return float(np.sum(weights * dropout.forward(inputs.copy(), None, mask)))

    loss(x)
    analytic = dropout.backward(weights.copy(), x, None, mask)
    numeric = np.zeros_like(x)
    eps = 1e-6
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        numeric[index] = (loss(up) - loss(down)) / (2 * eps)
    assert np.max(np.abs(analytic - numeric)) < 1e-8
    assert 0 < np.count_nonzero(analytic == 0) < x.size  # some dropped, some kept


def test_dropout_scales_kept_units_and_is_identity_in_eval_mode(rng):
    dropout = nn.Dropout(0.25, seed=0)
    x = np.ones((200, 50), dtype=np.float32)
    y = dropout.forward(x)
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    dropout.training = False
    np.testing.assert_array_equal(dropout.forward(x), x)
