"""Validation of run configs: every bad field gets its own message (``400 {errors: {...}}``).

Besides the registry's task ids, a config may name ``custom`` (with an ``expression`` in x, or x
and y, checked by `app.expressions`) or ``dataset:<id>`` (an upload held by a `DatasetStore`).
"""

from __future__ import annotations

import math
from typing import Any

from .expressions import ExpressionError, compile_expression
from .tasks import (
    CUSTOM_DOMAIN_1D,
    CUSTOM_DOMAIN_2D,
    CUSTOM_ID,
    DATASET_PREFIX,
    TASKS,
    Task,
    custom_task,
    dataset_task,
)
from .uploads import DatasetStore

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus", "identity")
OPTIMIZERS = ("sgd", "adam", "rmsprop")

MAX_LAYERS = 8
MAX_NEURONS = 1024
MAX_EPOCHS = 100_000
MIN_SAMPLES, MAX_SAMPLES = 10, 100_000
MAX_TEST_FRACTION = 0.9
MAX_SEED = 2**32 - 1
MAX_POINT_NOISE = 100.0  # classification: std of the point noise (blobs are 6 apart)
MAX_DOMAIN_BOUND = 1e6
MIN_EPOCHS_PER_SECOND, MAX_EPOCHS_PER_SECOND = 1, 100_000


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


def validate_config(body: Any, datasets: DatasetStore | None = None) -> dict[str, Any]:
    """Return the complete run config (defaults filled in) or raise `ConfigError`.

    `body` is the decoded JSON of ``POST /api/runs``; every field but ``task`` is optional.
    `datasets` resolves ``dataset:<id>`` tasks (without it they are unknown).
    """
    return validate_run(body, datasets)[0]


def _task_names() -> str:
    return f"{', '.join(TASKS)}, {CUSTOM_ID} or {DATASET_PREFIX}<id of an upload>"


def _domain_shape_error(domain: Any, inputs: int | None) -> str | None:
    """Why `domain` is not a list of [lo, hi] pairs (of `inputs` pairs, if given), or None."""
    counts = (inputs,) if inputs else (1, 2)
    if (
        not isinstance(domain, list)
        or len(domain) not in counts
        or not all(isinstance(pair, list) and len(pair) == 2 for pair in domain)
    ):
        if inputs:
            return f"must be {inputs} pair(s) [lo, hi], one per input"
        return "must be one pair [lo, hi] (input x) or two pairs (inputs x and y)"
    if not all(_is_number(lo) and _is_number(hi) and lo < hi for lo, hi in domain):
        return "each pair [lo, hi] needs finite numbers with lo < hi"
    if not all(abs(lo) <= MAX_DOMAIN_BOUND and abs(hi) <= MAX_DOMAIN_BOUND for lo, hi in domain):
        return "bounds must be within ±1e6"
    return None


def resolve_custom(body: dict[str, Any], errors: dict[str, str]) -> Task | None:
    """The ``custom`` task of a config (expression + domain), or None with `errors` filled in.

    Without a domain, the expression decides: one that uses ``y`` is 2-D on [-3, 3]², else 1-D
    on [-3, 3]. With one, its number of pairs decides (1 -> x; 2 -> x and y).
    """
    text = body.get("expression")
    if "expression" not in body or text is None:
        errors["expression"] = 'is required for a custom task, e.g. "sin(5*x)*x" or "x*y"'
        return None
    if not isinstance(text, str):
        errors["expression"] = 'must be text, e.g. "sin(5*x)*x"'
        return None
    domain = body.get("domain")
    if domain is None:
        try:
            uses_y = "y" in compile_expression(text, ("x", "y")).variables
        except ExpressionError as error:
            errors["expression"] = error.message
            return None
        domain = CUSTOM_DOMAIN_2D if uses_y else CUSTOM_DOMAIN_1D
    elif message := _domain_shape_error(domain, None):
        errors["domain"] = message
        domain = None
    variables = ("x",) if domain is not None and len(domain) == 1 else ("x", "y")
    try:
        expression = compile_expression(text, variables)
    except ExpressionError as error:
        message = error.message
        if domain is not None and len(domain) == 1 and "'y'" in message:
            message += " (give two domain pairs for a function of x and y)"
        errors["expression"] = message
        return None
    if domain is None:
        return None
    return custom_task(expression, [[float(lo), float(hi)] for lo, hi in domain])


def resolve_task(
    body: dict[str, Any], datasets: DatasetStore | None, errors: dict[str, str]
) -> Task | None:
    """The task a config names (registry, ``custom`` or ``dataset:<id>``), or None with `errors`
    filled in (``task``, or ``expression``/``domain`` for a bad custom task)."""
    task_id = body.get("task")
    if "task" not in body:
        errors["task"] = f"is required: one of {_task_names()}"
        return None
    if not isinstance(task_id, str):
        errors["task"] = f"must be a task id: one of {_task_names()}"
        return None
    if task_id in TASKS:
        return TASKS[task_id]
    if task_id == CUSTOM_ID:
        return resolve_custom(body, errors)
    if task_id.startswith(DATASET_PREFIX):
        dataset_id = task_id[len(DATASET_PREFIX) :]
        dataset = datasets.get(dataset_id) if datasets is not None else None
        if dataset is None:
            errors["task"] = (
                f"unknown dataset {dataset_id!r}: upload the CSV file again "
                "(uploads are kept in memory only while the server runs)"
            )
            return None
        return dataset_task(dataset_id, dataset)
    errors["task"] = f"unknown task {task_id!r}; choose one of {_task_names()}"
    return None


def validate_run(body: Any, datasets: DatasetStore | None = None) -> tuple[dict[str, Any], Task]:
    """Like `validate_config`, and also return the `Task` the config trains on."""
    if not isinstance(body, dict):
        raise ConfigError({"body": "must be a JSON object with the run config"})
    errors: dict[str, str] = {}

    task = resolve_task(body, datasets, errors)
    # Without a valid task, the other fields are still checked (against the first task's schema,
    # all tasks share one) so that every bad field is reported at once.
    known_task = task is not None
    is_custom = body.get("task") == CUSTOM_ID
    is_dataset = known_task and task.dataset is not None
    task = task or next(iter(TASKS.values()))
    defaults = task.defaults()
    allowed = set(defaults) | ({"expression"} if is_custom else set())
    for name in body:
        if name != "task" and name not in allowed:
            errors[name] = f"unknown field {name!r}"

    config = {"task": task.id if known_task else body.get("task"), **defaults}
    config.update({name: value for name, value in body.items() if name in defaults})
    if is_dataset:
        # the rows are the data: their count, their box, no added noise (reported back as such)
        config["samples"] = defaults["samples"]
        config["domain"] = defaults["domain"]
        config["noise"] = 0.0

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

    pace = config["epochs_per_second"]
    if pace is not None and (
        not _is_number(pace) or not MIN_EPOCHS_PER_SECOND <= pace <= MAX_EPOCHS_PER_SECOND
    ):
        errors["epochs_per_second"] = (
            f"must be null (full speed) or a number of epochs per second from "
            f"{MIN_EPOCHS_PER_SECOND} to {MAX_EPOCHS_PER_SECOND}"
        )

    domain = config["domain"]
    if not known_task or is_dataset or "domain" in errors:
        pass  # the number of inputs is unknown, or the domain is the data's, or already reported
    elif message := _domain_shape_error(domain, task.inputs):
        errors["domain"] = message

    if errors:
        raise ConfigError(errors)
    config["lr"] = float(lr)
    for name in ("momentum", "weight_decay", "noise", "test_fraction"):
        config[name] = float(config[name])
    config["domain"] = [[float(lo), float(hi)] for lo, hi in domain]
    config["hidden"] = list(hidden)
    return config, task
