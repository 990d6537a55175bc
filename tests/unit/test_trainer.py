"""nn.Trainer: training a slice at a time follows the same trajectory as nn.train."""

from __future__ import annotations

import time

import numpy as np
import pytest

import network as nn


def make(seed: int = 0, n: int = 100, batch_size: int = 16, lr: float = 0.01):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, 1)).astype(np.float32)
    Y = np.sin(X)
    model = nn.mlp([1, 8, 8, 1], "tanh", seed=seed)
    optimizer = nn.Adam(model.parameters(), lr=lr)
    return model, optimizer, X, Y


def test_one_batch_at_a_time_follows_the_same_trajectory_as_train():
    model_a, opt_a, X, Y = make()
    records = list(nn.train(model_a, nn.MSELoss(), opt_a, X, Y, 3, 16, validation=(X, Y)))

    model_b, opt_b, _, _ = make()
    trainer = nn.Trainer(model_b, nn.MSELoss(), opt_b, X, Y, 16, validation=(X, Y))
    stepped = []
    while trainer.epoch < 3:
        record = trainer.run(max_batches=1)
        if record is not None:
            stepped.append(record)
    assert [r["train_loss"] for r in stepped] == [r["train_loss"] for r in records]
    assert [r["test_loss"] for r in stepped] == [r["test_loss"] for r in records]
    for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_max_batches_counts_mini_batches_and_never_passes_an_epoch_end():
    model, optimizer, X, Y = make(n=100, batch_size=16)
    trainer = nn.Trainer(model, nn.MSELoss(), optimizer, X, Y, 16)
    assert trainer.batches == 7  # ceil(100 / 16)
    assert trainer.run(max_batches=3) is None
    assert (trainer.epoch, trainer.batch, trainer.steps) == (0, 3, 3)
    record = trainer.run(max_batches=100)  # only 4 are left in the epoch
    assert record["epoch"] == 1 and trainer.steps == 7 and trainer.batch == 0


def test_a_deadline_in_the_past_trains_one_batch():
    model, optimizer, X, Y = make()
    trainer = nn.Trainer(model, nn.MSELoss(), optimizer, X, Y, 16)
    assert trainer.run(deadline=time.perf_counter() - 1) is None
    assert trainer.batch == 1


def test_changing_the_batch_size_applies_from_the_next_mini_batch():
    model, optimizer, X, Y = make(n=100)
    trainer = nn.Trainer(model, nn.MSELoss(), optimizer, X, Y, 10)
    trainer.run(max_batches=2)  # 20 rows done, 80 left
    trainer.batch_size = 40
    assert trainer.batches == 2 + 2
    assert trainer.run() is not None and trainer.steps == 4


def test_evaluation_can_be_cut_into_chunks():
    model, optimizer, X, Y = make(n=10_000)
    trainer = nn.Trainer(model, nn.MSELoss(), optimizer, X, Y, 10_000, validation=(X, Y))
    assert trainer.run(deadline=time.perf_counter() - 1) is None  # the one batch, then a chunk
    assert trainer.evaluating and trainer.epoch == 0
    record = trainer.run()
    assert record["epoch"] == 1 and not trainer.evaluating
    expected = nn.evaluate(model, nn.MSELoss(), X, Y)["loss"]
    assert record["train_loss"] == pytest.approx(expected, rel=1e-5)


def test_a_non_finite_loss_raises_divergence_with_the_epoch():
    model, _, X, Y = make()
    optimizer = nn.SGD(model.parameters(), lr=1e6)
    trainer = nn.Trainer(model, nn.MSELoss(), optimizer, X, Y * 1e3, 16)
    with pytest.raises(nn.DivergenceError) as caught:
        for _ in range(50):
            trainer.run()
    assert caught.value.epoch >= 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_max_batches_is_refused_by_name(bad):
    model, optimizer, X, Y = make()
    trainer = nn.Trainer(model, nn.MSELoss(), optimizer, X, Y, 16)
    with pytest.raises((TypeError, ValueError), match="max_batches"):
        trainer.run(max_batches=bad)


def test_activations_give_every_layers_output_and_end_with_the_prediction():
    model = nn.mlp([2, 5, 3, 1], "relu", seed=0)
    x = np.random.default_rng(1).normal(size=(7, 2)).astype(np.float32)
    outputs = model.activations(x)
    assert [o.shape for o in outputs] == [(7, 5), (7, 5), (7, 3), (7, 3), (7, 1)]
    np.testing.assert_array_equal(outputs[1], np.maximum(outputs[0], 0))  # ReLU of the Linear
    np.testing.assert_allclose(outputs[-1], model.predict(x), rtol=1e-6)
    assert model.training  # the mode is unchanged


def test_an_l1_penalty_pulls_weights_not_biases_towards_zero():
    model = nn.mlp([1, 4, 1], "tanh", seed=0)
    for p in model.parameters():
        p.data[...] = 0.5
        p.grad[...] = 0.0
    optimizer = nn.SGD(model.parameters(), lr=0.1, l1=0.2)
    optimizer.step()
    weights = [p for p in model.parameters() if p.data.ndim == 2]
    biases = [p for p in model.parameters() if p.data.ndim == 1]
    assert all(np.allclose(p.data, 0.5 - 0.1 * 0.2) for p in weights)
    assert all(np.allclose(p.data, 0.5) for p in biases)


def test_hyperparameters_can_change_between_steps():
    model = nn.mlp([1, 4, 1], "tanh", seed=0)
    optimizer = nn.SGD(model.parameters(), lr=0.1)  # no momentum buffer yet
    for p in model.parameters():
        p.grad[...] = 1.0
    optimizer.momentum = 0.9
    optimizer.l1 = 0.01
    before = [p.data.copy() for p in model.parameters()]
    optimizer.step()
    optimizer.step()
    params = model.parameters()
    moved = [float(np.abs(p.data - b).max()) for p, b in zip(params, before, strict=True)]
    assert all(m > 0.1 * 2 for m in moved)  # the second step carried momentum
