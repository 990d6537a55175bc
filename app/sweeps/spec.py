"""A sweep's body, checked and expanded into its runs (`plan`).

Body: ``{"base": {a run config}, "vary": {axis: [values] | {"uniform" | "log_uniform": [low,
high]}}, "seeds": n, "mode": "grid" | "random", "count": n, "early_stop": "halving"}``. Grid mode
makes every combination of the axes' lists; random mode draws `count` configs (a value of each
list, or a number in each range), seeded by the base config's seed. Each config runs `seeds`
times, with seeds ``base seed + 0 .. seeds - 1``. Every run is validated as a single run would be
(`validation.run_spec`, with the work budget); the first bad one is a `ConfigError` naming the
axis and the value.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.data.features import network_sizes
from app.runs.validation import ConfigError, run_spec

AXES = ("hidden", "lr", "activation", "optimizer", "batch_size", "l1", "weight_decay", "dropout",
        "input_features")  # fmt: skip
RANGES = ("uniform", "log_uniform")  # random mode's ranges of a numeric axis
NUMERIC = ("lr", "batch_size", "l1", "weight_decay", "dropout")  # the axes that take a range
FIELDS = ("base", "vary", "seeds", "mode", "count", "early_stop")
MAX_RUNS = 200
MAX_SEEDS = 10
MAX_VALUES = 50  # values of one axis's list
MAX_SEED = 2**31 - 1


def shown(value: Any) -> str:
    """A value of the request as the client wrote it (JSON: null, "abc", [4, 16]), for messages."""
    return json.dumps(value, default=str)


@dataclass
class Planned:
    """One run of a sweep: its place, the axes' values, its seed, its config (as sent to a
    single run) and its number of parameters (weights and biases)."""

    position: int
    values: dict[str, Any]
    seed: int
    config: dict[str, Any]
    params: int
    run_id: str | None = None
    state: str = "waiting"  # waiting, started, cancelled (stopped before it started)


@dataclass
class Plan:
    """A checked sweep: its normalised body and its runs."""

    config: dict[str, Any]
    runs: list[Planned] = field(default_factory=list)


def _fail(name: str, message: str) -> ConfigError:
    return ConfigError({name: message})


def _check_fields(body: Any) -> None:
    if not isinstance(body, dict):
        raise _fail("body", 'must be a JSON object such as {"base": {...}, "vary": {...}}')
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise _fail(unknown[0], f"unknown field (the fields are {', '.join(FIELDS)})")
    if not isinstance(body.get("base"), dict):
        raise _fail("base", "must be a JSON object: the run config every run starts from")
    vary = body.get("vary")
    if not isinstance(vary, dict) or not vary:
        raise _fail("vary", f"must be a JSON object of axes to vary, some of {', '.join(AXES)}")
    for axis in vary:
        if axis not in AXES:
            raise _fail(f"vary.{axis}", f"cannot be varied (the axes are {', '.join(AXES)})")


def _whole(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(name, f"must be a whole number from {low} to {high}, got {shown(value)}")
    return value


def _check_axis(axis: str, values: Any, mode: str) -> None:
    name = f"vary.{axis}"
    if isinstance(values, dict):
        if mode != "random" or axis not in NUMERIC:
            raise _fail(name, f"a range is for random mode and the axes {', '.join(NUMERIC)}")
        kind = next(iter(values), None)
        bounds = values.get(kind)
        good = (len(values) == 1 and kind in RANGES and isinstance(bounds, list)
                and len(bounds) == 2 and all(_number(b) for b in bounds)
                and bounds[0] <= bounds[1])  # fmt: skip
        if not good or (kind == "log_uniform" and bounds[0] <= 0):
            raise _fail(name, 'a range is {"uniform": [low, high]} or {"log_uniform": [low, '
                              "high]} with low <= high (above 0 for log_uniform)")
        return
    if not isinstance(values, list) or not 1 <= len(values) <= MAX_VALUES:
        raise _fail(name, f"must be a list of 1 to {MAX_VALUES} values to try")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_body(body: Any) -> dict[str, Any]:
    """The sweep's body with its defaults (seeds 1, mode grid, no early stop); raises
    `ConfigError` ``{field: message}`` for a bad field (``vary.<axis>`` for an axis)."""
    _check_fields(body)
    mode = body.get("mode", "grid")
    if mode not in ("grid", "random"):
        raise _fail("mode", f"must be grid or random, got {shown(mode)}")
    seeds = _whole(body, "seeds", 1, 1, MAX_SEEDS)
    count = _whole(body, "count", 1, 1, MAX_RUNS) if mode == "random" else None
    if mode == "grid" and "count" in body:
        raise _fail("count", "is for random mode (grid mode runs every combination)")
    early_stop = body.get("early_stop")
    if early_stop not in (None, "halving"):
        raise _fail("early_stop", f"must be halving (or absent), got {shown(early_stop)}")
    for axis, values in body["vary"].items():
        _check_axis(axis, values, mode)
    return {"base": body["base"], "vary": body["vary"], "seeds": seeds, "mode": mode,
            "count": count, "early_stop": early_stop}  # fmt: skip


def run_count(config: dict[str, Any]) -> int:
    """How many runs a checked sweep (`check_body`) makes."""
    if config["mode"] == "random":
        return config["count"] * config["seeds"]
    return math.prod(len(values) for values in config["vary"].values()) * config["seeds"]


def _draw(axis: str, values: Any, rng: np.random.Generator) -> Any:
    if isinstance(values, list):
        return values[int(rng.integers(len(values)))]
    (kind, (low, high)), = values.items()
    if kind == "log_uniform":
        value = float(math.exp(rng.uniform(math.log(low), math.log(high))))
    else:
        value = float(rng.uniform(low, high))
    return round(value) if axis == "batch_size" else float(f"{value:.4g}")


def combinations(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The axes' values of each config of a checked sweep (before seeds), in order."""
    vary = config["vary"]
    if config["mode"] == "grid":
        chosen = itertools.product(*vary.values())
        return [dict(zip(vary, values, strict=True)) for values in chosen]
    rng = np.random.default_rng(int(config["base"].get("seed", 0) or 0))
    return [{axis: _draw(axis, values, rng) for axis, values in vary.items()}
            for _ in range(config["count"])]  # fmt: skip


def _named(error: ConfigError, values: dict[str, Any]) -> ConfigError:
    """A single run's errors, each named after the sweep's field that caused it."""
    named = {}
    for name, message in error.errors.items():
        if name in values:
            named[f"vary.{name}"] = f"{name} = {shown(values[name])}: {message}"
        else:
            named[f"base.{name}"] = message
    return ConfigError(named)


def plan(body: Any, datasets: Any = None, work_budget: float | None = None) -> Plan:
    """The sweep of `body`, every run validated (see the module docstring). Raises
    `ConfigError`: a bad field, ``runs`` when it would make more than `MAX_RUNS` runs (the
    message gives the count), or the first run that a single run's validation refuses."""
    config = check_body(body)
    count = run_count(config)
    if count > MAX_RUNS:
        raise _fail("runs", f"this sweep makes {count} runs, more than the {MAX_RUNS} a sweep "
                            "may have: fewer values, configs or seeds")  # fmt: skip
    base_seed = config["base"].get("seed", 0)
    if not _number(base_seed) or not 0 <= base_seed <= MAX_SEED - MAX_SEEDS:
        raise _fail("base.seed", f"must be a whole number from 0 to {MAX_SEED - MAX_SEEDS}")
    result = Plan(config)
    for values in combinations(config):
        for repeat in range(config["seeds"]):
            body_of_run = {**config["base"], **values, "seed": int(base_seed) + repeat}
            try:
                spec = run_spec(body_of_run, datasets, work_budget)
            except ConfigError as error:
                raise _named(error, values) from error
            sizes = network_sizes(spec.task, spec.config)
            params = sum((a + 1) * b for a, b in zip(sizes, sizes[1:], strict=False))
            result.runs.append(Planned(len(result.runs), values, int(base_seed) + repeat,
                                       body_of_run, params))  # fmt: skip
    return result
