"""`Trainer.next_batch` names the rows the next mini-batch trains on, without drawing anything:
mid-epoch, at an epoch's end (the next shuffle) and without shuffling."""

from __future__ import annotations

import numpy as np
import pytest

import network as nn


@pytest.mark.parametrize("shuffle", [True, False])
def test_the_next_batch_is_the_one_the_next_step_trains(shuffle):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 2))
    y = x[:, :1] * 2 - x[:, 1:]
    model = nn.mlp([2, 4, 1], seed=1, dtype=np.float64)
    trainer = nn.Trainer(model, nn.MSELoss(), nn.SGD(model.parameters(), lr=0.1), x, y,
                         batch_size=4, seed=3, shuffle=shuffle)  # fmt: skip
    seen = []
    for _ in range(9):  # three epochs of 4 + 4 + 2 rows
        rows = trainer.next_batch()
        assert np.array_equal(trainer.next_batch(), rows)  # peeking draws nothing
        inputs, targets = trainer.samples(rows)
        expected = model.trace(inputs, targets, nn.MSELoss()).layers[0].dW
        before = model.layers[0].weight.data.copy()
        trainer.run(max_batches=1)
        change = model.layers[0].weight.data - before
        np.testing.assert_allclose(change, -0.1 * expected, rtol=1e-12, atol=1e-15)
        seen.append(rows.tolist())
    assert sorted(sum(seen[:3], [])) == list(range(10))  # one epoch: every row once
    assert (seen[0] != seen[3]) == shuffle  # a new shuffle each epoch
