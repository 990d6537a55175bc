"""Seed 001's moons classifier, shared by the engine reproductions that train it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import network as nn
from network.datasets import make_moons, train_test_split


def train_moons_net(
    seed: int,
    loss: nn.Loss,
    epochs: int,
    targets: Callable[[np.ndarray], np.ndarray] = lambda labels: labels,
    **fit_options: Any,
) -> tuple[nn.Sequential, list[dict[str, Any]], np.ndarray, np.ndarray]:
    """Train a 2-25-50-25-2 tanh net with Adam (lr 0.003) on 2000 moons (noise 0.2, 30 % test).

    `targets` turns class labels into what `loss` expects; the data, split, weights and batch
    order all follow `seed`. Returns the model, its history, the test inputs and their labels.
    """
    X, labels = make_moons(n_samples=2000, noise=0.2, seed=seed)
    X_train, y_train, X_test, y_test = train_test_split(X, labels, test_fraction=0.3, seed=seed)
    model = nn.mlp([2, 25, 50, 25, 2], "tanh", seed=seed)
    history = nn.fit(
        model,
        loss,
        nn.Adam(model.parameters(), lr=0.003),
        X_train,
        targets(y_train),
        epochs=epochs,
        validation=(X_test, targets(y_test)),
        seed=seed,
        **fit_options,
    )
    return model, history, X_test, y_test
