"""A sweep's body checked and expanded (app/sweeps/spec.py) and successive halving's rules
(app/sweeps/halving.py)."""

from __future__ import annotations

import math

import pytest

from app.runs.validation import ConfigError
from app.sweeps import halving
from app.sweeps.spec import MAX_RUNS, plan, run_count

BASE = {"task": "sin", "samples": 100, "epochs": 20}


def errors_of(body) -> dict:
    with pytest.raises(ConfigError) as caught:
        plan(body)
    return caught.value.errors


def test_a_grid_is_every_combination_times_the_seeds():
    planned = plan({"base": {**BASE, "seed": 7}, "vary": {"hidden": [[4], [8, 8]],
                    "activation": ["tanh", "relu"]}, "seeds": 3})  # fmt: skip
    assert len(planned.runs) == 12
    assert [run.seed for run in planned.runs[:3]] == [7, 8, 9]
    assert planned.runs[0].values == {"hidden": [4], "activation": "tanh"}
    assert planned.runs[-1].config["hidden"] == [8, 8]
    assert planned.runs[-1].config["activation"] == "relu"
    assert planned.runs[0].params == 2 * 4 + 5 and planned.runs[-1].params == 16 + 72 + 9


def test_random_mode_draws_from_lists_and_ranges_reproducibly():
    body = {"base": BASE, "mode": "random", "count": 20, "seeds": 2,
            "vary": {"lr": {"log_uniform": [1e-4, 1e-1]}, "batch_size": {"uniform": [4, 64]},
                     "optimizer": ["sgd", "adam"]}}  # fmt: skip
    planned = plan(body)
    assert len(planned.runs) == 40 == run_count(planned.config)
    lrs = [run.values["lr"] for run in planned.runs]
    assert all(1e-4 <= lr <= 1e-1 for lr in lrs) and len(set(lrs)) > 5
    assert all(isinstance(run.values["batch_size"], int) for run in planned.runs)
    assert {run.values["optimizer"] for run in planned.runs} == {"sgd", "adam"}
    assert [run.values for run in plan(body).runs] == [run.values for run in planned.runs]


def test_too_many_runs_is_refused_with_the_count():
    body = {"base": BASE, "vary": {"lr": [0.01] * 21}, "seeds": 10}
    assert "210 runs" in errors_of(body)["runs"]
    assert str(MAX_RUNS) in errors_of(body)["runs"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"base": BASE, "vary": {"lr": [0.01, -1]}}, "vary.lr", "lr = -1"),
        ({"base": BASE, "vary": {"hidden": [[4], [0]]}}, "vary.hidden", "hidden = [0]"),
        # a value is shown as the client wrote it (a typed "abc" read as null: not Python's None)
        ({"base": BASE, "vary": {"lr": [None, 0.01]}}, "vary.lr", "lr = null"),
        ({"base": BASE, "vary": {"activation": ["relu", "abc"]}}, "vary.activation", '"abc"'),
        ({"base": BASE, "vary": {"seed": [1, 2]}}, "vary.seed", "cannot be varied"),
        ({"base": BASE, "vary": {}}, "vary", "axes"),
        ({"base": BASE, "vary": {"lr": []}}, "vary.lr", "list"),
        ({"base": BASE, "vary": {"lr": {"log_uniform": [0, 1]}}, "mode": "random"}, "vary.lr",
         "above 0"),
        ({"base": BASE, "vary": {"lr": {"uniform": [0.1, 0.2]}}}, "vary.lr", "random mode"),
        ({"base": BASE, "vary": {"lr": [0.1]}, "seeds": 0}, "seeds", "1 to 10"),
        ({"base": BASE, "vary": {"lr": [0.1]}, "mode": "both"}, "mode", "grid or random"),
        ({"base": BASE, "vary": {"lr": [0.1]}, "early_stop": "median"}, "early_stop", "halving"),
        ({"base": {**BASE, "samples": -5}, "vary": {"lr": [0.1]}}, "base.samples", ""),
        ({"base": BASE, "vary": {"lr": [0.1]}, "extra": 1}, "extra", "unknown"),
        ([1, 2], "body", "JSON object"),
    ],
)
def test_bad_bodies_name_the_field_and_value(body, field, words):
    errors = errors_of(body)
    assert field in errors, errors
    assert words in errors[field]


def test_rungs_double_from_an_eighth_of_the_epochs():
    assert halving.rungs(80) == [10, 20, 40]
    assert halving.rungs(4) == [1, 2]
    assert halving.rungs(1) == []


def test_the_worst_half_of_a_rung_is_past_its_first_ceil_half():
    assert not halving.worst_half(5.0, [5.0])
    assert halving.worst_half(5.0, [1.0, 5.0])
    assert not halving.worst_half(1.0, [1.0, 5.0])
    assert not halving.worst_half(2.0, [1.0, 2.0, 3.0])
    assert halving.worst_half(3.0, [1.0, 2.0, 3.0])
    assert halving.worst_half(math.inf, [1.0, math.inf])
    values = [float(v) for v in range(10)]
    assert sum(halving.worst_half(v, values) for v in values) == 5
