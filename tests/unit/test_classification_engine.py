"""Classification with the engine alone (issue 6, item 5, engine level).

The seed-001 reproduction with softmax cross-entropy (2-25-50-25-2 on moons, ≥ 96 % mean test
accuracy over 5 data seeds) lives in test_engine_reproductions.py
(`test_moons_net_reaches_96_percent_mean_test_accuracy_over_five_data_seeds`); here is seed 001's
own loss, MSE on one-hot targets, with accuracy forced on as the server does.
"""

import numpy as np
from moons_setup import train_moons_net

import network as nn


def test_moons_net_with_mse_on_one_hot_targets_reaches_96_percent_mean_test_accuracy():
    one_hot = np.eye(2, dtype=np.float32)
    accuracies = []
    for seed in range(5):
        model, history, X_test, y_test = train_moons_net(
            seed, nn.MSELoss(), epochs=30, targets=lambda labels: one_hot[labels], accuracy=True
        )
        accuracies.append(history[-1]["test_acc"])
        predicted = model.predict(X_test).argmax(axis=1)  # what the server draws and counts
        assert np.mean(predicted == y_test) == history[-1]["test_acc"]
    assert np.mean(accuracies) >= 0.96, accuracies
