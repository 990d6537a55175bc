"""The film's epochs, its size bound, its stored form, and the replay request parsing (issue
28)."""

from __future__ import annotations

import numpy as np
import pytest

import network as nn
from app.replay.api import parse_epoch
from app.replay.views import nearest
from app.training.film import (
    DENSE_EPOCHS,
    MAX_FILM_BYTES,
    MAX_FRAMES,
    Film,
    chosen_epochs,
    decode_frame,
    encode_frame,
    frame_bytes,
    plan,
)


@pytest.mark.parametrize("total", [1, 9, 10, 11, 150, 151, 500, 1000, 12_345, 100_000])
def test_the_first_epochs_are_dense_the_last_is_kept_and_at_most_150(total):
    epochs = chosen_epochs(total)
    assert epochs[: min(total, DENSE_EPOCHS)] == list(range(1, min(total, DENSE_EPOCHS) + 1))
    assert epochs[-1] == total
    assert len(epochs) <= MAX_FRAMES
    assert epochs == sorted(set(epochs)) and epochs[0] >= 1


def test_a_long_run_fills_its_budget_with_log_and_even_spacing():
    epochs = chosen_epochs(100_000)
    assert len(epochs) >= MAX_FRAMES - 5
    assert sum(1 for epoch in epochs if epoch <= 1000) >= 30  # log-spaced: dense early
    gaps = np.diff([epoch for epoch in epochs if epoch > 50_000])
    assert gaps.max() <= 2 * 100_000 / MAX_FRAMES * 2  # evenly spaced: no long hole late


def test_a_short_run_keeps_every_epoch():
    assert chosen_epochs(42) == list(range(1, 43))
    assert chosen_epochs(0) == []


@pytest.mark.parametrize("total, budget", [(100, 1), (100, 3), (100, 11), (5, 2)])
def test_a_small_budget_still_keeps_the_last_epoch(total, budget):
    epochs = chosen_epochs(total, budget)
    assert len(epochs) <= budget and epochs[-1] == total


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="total"):
        chosen_epochs(-1)
    with pytest.raises(ValueError, match="budget"):
        chosen_epochs(10, 0)


@pytest.mark.parametrize("sizes", [[1, 32, 32, 1], [2, 8, 8, 2], [784, 50, 50, 10],
                                   [784, 512, 512, 10], [1, 1000, 1000, 1]])  # fmt: skip
def test_the_plan_stays_within_the_bound_and_says_when_it_thins(sizes):
    found = plan(sizes, 100_000)
    assert len(found.epochs) * found.frame_bytes <= MAX_FILM_BYTES
    assert (found.note is not None) == (len(found.epochs) < MAX_FRAMES)
    if found.note:
        assert f"{len(found.epochs)} of 100000 epochs" in found.note


def test_the_frame_estimate_covers_the_stored_frame():
    model = nn.mlp([784, 50, 50, 10], activation="tanh", seed=0)
    blob = encode_frame(model.state_dict(), (np.zeros(784, np.float32), np.ones(784, np.float32)),
                        None)  # fmt: skip
    assert len(blob) <= frame_bytes([784, 50, 50, 10])


def test_a_frame_decodes_to_the_same_weights_and_scalers():
    model = nn.mlp([1, 8, 1], activation="tanh", seed=3)
    x_scaler = (np.array([0.5], np.float32), np.array([2.0], np.float32))
    y_scaler = (np.array([-1.0], np.float32), np.array([3.0], np.float32))
    frame = decode_frame(encode_frame(model.state_dict(), x_scaler, y_scaler))
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(frame["state"][name], value)
        assert frame["state"][name].dtype == np.float32
    np.testing.assert_array_equal(frame["x_scaler"][1], x_scaler[1])
    np.testing.assert_array_equal(frame["y_scaler"][0], y_scaler[0])
    with pytest.raises(ValueError, match="blob"):
        decode_frame(b"not a frame")


def test_the_film_copies_the_weights_at_planned_epochs_only():
    model = nn.mlp([1, 4, 1], activation="tanh", seed=0)
    film = Film([1, 3])
    for epoch in (1, 2, 3):
        film.offer(epoch, model)
        model.linear_layers()[0].weight.data += 1.0  # training goes on
    frames = film.copy()
    assert frames.epochs() == [1, 3]
    first, third = frames.state(1), frames.state(3)
    assert not np.array_equal(first["0.weight"], third["0.weight"])
    assert {name: value.shape for name, value in first.items()} == {
        name: value.shape for name, value in model.state_dict().items()}
    np.testing.assert_array_equal(third["0.weight"], model.state_dict()["0.weight"] - 1.0)
    assert first["0.weight"].dtype == np.float32


@pytest.mark.parametrize("epoch, answer", [(0, 1), (1, 1), (2, 1), (3, 1), (4, 5), (5, 5), (7, 5),
                                           (8, 10), (99, 10)])  # fmt: skip
def test_the_nearest_stored_epoch_is_answered(epoch, answer):
    assert nearest([1, 5, 10], epoch) == answer


@pytest.mark.parametrize("text", ["abc", "-1", "1.5", "", " ", "1e3", "٣", "+4", None])
def test_an_epoch_must_be_a_whole_number(text):
    epoch, message = parse_epoch(text)
    assert epoch is None and message


def test_a_whole_epoch_parses():
    assert parse_epoch("40") == (40, None)
    assert parse_epoch("0") == (0, None)
