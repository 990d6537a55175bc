"""Seed reproductions: known problems the engine must solve (issue 3, item 5)."""

import numpy as np
import pytest
from moons_setup import train_moons_net

import network as nn
from network.datasets import sample_function, train_test_split


def test_single_linear_layer_recovers_the_generating_weights():
    W = np.array([[3.0, 7.0, 4.0], [5.0, 2.0, 6.0]])
    b = np.array([2.0, 9.0, 3.0])
    X = np.random.default_rng(0).uniform(-1, 1, size=(200, 2))
    Y = X @ W + b
    model = nn.Sequential(nn.Linear(2, 3, seed=0))
    nn.fit(model, nn.MSELoss(), nn.SGD(model.parameters(), lr=0.1), X, Y, epochs=200)
    layer = model[0]
    np.testing.assert_allclose(layer.weight.data, W, atol=1e-3)
    np.testing.assert_allclose(layer.bias.data, b, atol=1e-3)


def test_moons_net_reaches_96_percent_mean_test_accuracy_over_five_data_seeds():
    accuracies = []
    for seed in range(5):
        _, history, _, _ = train_moons_net(seed, nn.CrossEntropyLoss(), epochs=50)
        accuracies.append(history[-1]["test_acc"])
    assert np.mean(accuracies) >= 0.96, accuracies


@pytest.mark.parametrize(
    ("fn", "domain"), [(np.sin, (-np.pi, np.pi)), (np.square, (-1.0, 1.0))], ids=["sin", "square"]
)
def test_small_tanh_mlp_fits_a_1d_function_to_test_mse_below_1e_3(fn, domain):
    X, Y = sample_function(fn, [domain], 500, seed=0)
    X_train, Y_train, X_test, Y_test = train_test_split(X, Y, test_fraction=0.3, seed=0)
    model = nn.mlp([1, 32, 32, 1], "tanh", seed=0)
    optimizer = nn.Adam(model.parameters(), lr=0.01)
    history = nn.fit(
        model,
        nn.MSELoss(),
        optimizer,
        X_train,
        Y_train,
        epochs=300,
        validation=(X_test, Y_test),
        scheduler=nn.CosineLR(optimizer, t_max=300),
    )
    assert history[-1]["test_loss"] < 1e-3
    prediction = model.predict(X_test)
    assert np.mean((prediction - Y_test) ** 2) == pytest.approx(history[-1]["test_loss"], rel=1e-4)
