"""Validation of run configs: every bad field gets its own message (``400 {errors: {...}}``)."""

from __future__ import annotations

import math
from typing import Any

from .tasks import TASKS

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus", "identity")
OPTIMIZERS = ("sgd", "adam", "rmsprop")

MAX_LAYERS = 8
MAX_NEURONS = 1024
MAX_EPOCHS = 100_000
MIN_SAMPLES, MAX_SAMPLES = 10, 100_000
MAX_TEST_FRACTION = 0.9
MAX_SEED = 2**32 - 1
MAX_POINT_NOISE = 100.0  # classification: std of the point noise (blobs are 6 apart)


class ConfigError(ValueError):
    """A run config with bad fields; `errors` maps each field to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _int_in(value: Any, lo: int, hi: int) -> str | None:
    if not _is_int(value):
        return f"must be a whole number from {lo} to {hi}"
    if not lo <= value <= hi:
        return f"must be from {lo} to {hi}, got {value}"
    return None


def validate_config(body: Any) -> dict[str, Any]:
    """Return the complete run config (defaults filled in) or raise `ConfigError`.

    `body` is the decoded JSON of ``POST /api/runs``; every field but ``task`` is optional.
    """
    if not isinstance(body, dict):
        raise ConfigError({"body": "must be a JSON object with the run config"})
    errors: dict[str, str] = {}

    task_id = body.get("task")
    task = TASKS.get(task_id) if isinstance(task_id, str) else None
    if "task" not in body:
        errors["task"] = f"is required: one of {', '.join(TASKS)}"
    elif task is None:
        errors["task"] = f"unknown task {task_id!r}; choose one of {', '.join(TASKS)}"

    # Without a valid task, the other fields are still checked (against the first task's schema,
    # all tasks share one) so that every bad field is reported at once.
    known_task = task is not None
    task = task or next(iter(TASKS.values()))
    defaults = task.defaults()
    for name in body:
        if name != "task" and name not in defaults:
            errors[name] = f"unknown field {name!r}"

    config = {"task": task.id, **defaults}
    config.update({name: value for name, value in body.items() if name in defaults})

    hidden = config["hidden"]
    if not isinstance(hidden, list):
        errors["hidden"] = "must be a list of neuron counts, e.g. [32, 32]"
    elif len(hidden) > MAX_LAYERS:
        errors["hidden"] = f"at most {MAX_LAYERS} hidden layers, got {len(hidden)}"
    else:
        for index, size in enumerate(hidden, start=1):
            if not _is_int(size) or not 1 <= size <= MAX_NEURONS:
                errors["hidden"] = (
                    f"layer {index} has {size!r} neurons; each layer needs 1 to {MAX_NEURONS}"
                )
                break

    if config["activation"] not in ACTIVATIONS:
        errors["activation"] = f"must be one of {', '.join(ACTIVATIONS)}"
    if config["optimizer"] not in OPTIMIZERS:
        errors["optimizer"] = f"must be one of {', '.join(OPTIMIZERS)}"
    loss = config["loss"]
    all_losses = ("cross_entropy", "mse")
    if not isinstance(loss, str) or loss not in all_losses:
        errors["loss"] = f"must be one of {', '.join(all_losses)}"
    elif known_task and loss not in task.losses():
        errors["loss"] = f"{task.kind} tasks take only {' or '.join(task.losses())}, not {loss!r}"

    lr = config["lr"]
    if not _is_number(lr):
        errors["lr"] = "must be a number greater than 0"
    elif lr <= 0:
        errors["lr"] = f"must be greater than 0, got {lr}"

    momentum = config["momentum"]
    if not _is_number(momentum) or not 0 <= momentum < 1:
        errors["momentum"] = "must be a number from 0 to below 1"
    weight_decay = config["weight_decay"]
    if not _is_number(weight_decay) or weight_decay < 0:
        errors["weight_decay"] = "must be a number ≥ 0"
    noise = config["noise"]
    if not _is_number(noise) or noise < 0:
        of_what = "each point coordinate" if task.kind == "classification" else "the target"
        errors["noise"] = f"must be a number ≥ 0 (standard deviation of the noise on {of_what})"
    elif task.kind == "classification" and noise > MAX_POINT_NOISE:
        errors["noise"] = f"must be at most {MAX_POINT_NOISE} for a classification task"

    if message := _int_in(config["epochs"], 1, MAX_EPOCHS):
        errors["epochs"] = message
    samples = config["samples"]
    if "batch_size" not in body and _is_int(samples):
        config["batch_size"] = max(1, min(config["batch_size"], samples))  # default fits samples
    if message := _int_in(samples, MIN_SAMPLES, MAX_SAMPLES):
        errors["samples"] = message
    if _is_int(samples):
        if message := _int_in(config["batch_size"], 1, max(samples, 1)):
            errors["batch_size"] = message
    elif not _is_int(config["batch_size"]) or config["batch_size"] < 1:
        errors["batch_size"] = "must be a whole number from 1 to the number of samples"
    if message := _int_in(config["seed"], 0, MAX_SEED):
        errors["seed"] = message

    test_fraction = config["test_fraction"]
    if not _is_number(test_fraction) or not 0 < test_fraction <= MAX_TEST_FRACTION:
        errors["test_fraction"] = f"must be a number above 0 and at most {MAX_TEST_FRACTION}"

    domain = config["domain"]
    if not known_task:
        pass  # the number of inputs is unknown
    elif (
        not isinstance(domain, list)
        or len(domain) != task.inputs
        or not all(isinstance(pair, list) and len(pair) == 2 for pair in domain)
    ):
        errors["domain"] = f"must be {task.inputs} pair(s) [lo, hi], one per input"
    elif not all(_is_number(lo) and _is_number(hi) and lo < hi for lo, hi in domain):
        errors["domain"] = "each pair [lo, hi] needs finite numbers with lo < hi"
    elif not all(abs(lo) <= 1e6 and abs(hi) <= 1e6 for lo, hi in domain):
        errors["domain"] = "bounds must be within ±1e6"

    if errors:
        raise ConfigError(errors)
    config["lr"] = float(lr)
    for name in ("momentum", "weight_decay", "noise", "test_fraction"):
        config[name] = float(config[name])
    config["domain"] = [[float(lo), float(hi)] for lo, hi in domain]
    config["hidden"] = list(hidden)
    return config
