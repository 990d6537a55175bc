"""Validation of run configs: every bad field gets its own message (``400 {errors: {...}}``).

The fields, their limits and defaults are declared once in `app.config.schema`; this module adds
what
needs the task: which task a config names (a registry id, ``custom`` with an ``expression`` in x,
or x and y, checked by `app.config.expressions`, or ``dataset:<id>``, an upload held by a
`DatasetStore`), the task's defaults, the loss its kind allows, the domain's number of pairs, and
the rules between fields (batch size at most the samples). `validate_changes` checks the fields a
running run may change by the same declarations.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from app.config.expressions import (
    Expression,
    ExpressionError,
    compile_expression,
    evaluate_on_domain,
)
from app.config.schema import (
    ACTIVATIONS,
    FIELDS,
    LOSSES,
    MAX_DOMAIN_BOUND,
    MAX_EPOCHS,
    MAX_LAYERS,
    MAX_NEURONS,
    MAX_POINT_NOISE,
    MAX_SAMPLES,
    MAX_SEED,
    MAX_TEST_FRACTION,
    MIN_SAMPLES,
    OPTIMIZERS,
    STEERABLE_FIELDS,
    TABLE_FIELDS,
    check_changes,
    check_fields,
    field_message,
    is_number,
    optimizers_using,
    uses_field,
)
from app.config.singularities import find_singularity
from app.data.features import MAX_FEATURE, ignored_inputs, network_sizes
from app.data.tables import ChoiceError
from app.data.tasks import (
    CUSTOM_DOMAIN_1D,
    CUSTOM_DOMAIN_2D,
    CUSTOM_ID,
    DATASET_PREFIX,
    TASKS,
    Task,
    TaskData,
    app_tasks,
    custom_task,
    dataset_task,
    settle,
)
from app.data.uploads import DatasetStore

__all__ = [
    "ACTIVATIONS",
    "MAX_EPOCHS",
    "MAX_LAYERS",
    "MAX_NEURONS",
    "MAX_SAMPLES",
    "MAX_SEED",
    "MAX_TEST_FRACTION",
    "MIN_SAMPLES",
    "OPTIMIZERS",
    "STEERABLE_FIELDS",
    "ConfigError",
    "RunSpec",
    "resolve_custom",
    "resolve_task",
    "run_spec",
    "validate_changes",
    "validate_config",
    "validate_run",
]

WORK_BUDGET = 1e13  # multiply-adds one run may cost (a default; create_app's WORK_BUDGET)

# the names input features may use, by the number of raw inputs of the task
FEATURE_VARIABLES = {1: ("x",), 2: ("x", "y")}


class ConfigError(ValueError):
    """A run config with bad fields; `errors` maps each field to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_config(body: Any, datasets: DatasetStore | None = None) -> dict[str, Any]:
    """Return the complete run config (defaults filled in) or raise `ConfigError`.

    `body` is the decoded JSON of ``POST /api/runs``; every field but ``task`` is optional.
    `datasets` resolves ``dataset:<id>`` tasks (without it they are unknown).
    """
    return validate_run(body, datasets)[0]


def _task_names() -> str:
    return f"{', '.join(app_tasks())}, {CUSTOM_ID} or {DATASET_PREFIX}<id of an upload>"


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
    if not all(is_number(lo) and is_number(hi) and lo < hi for lo, hi in domain):
        return "each pair [lo, hi] needs finite numbers with lo < hi"
    if not all(abs(lo) <= MAX_DOMAIN_BOUND and abs(hi) <= MAX_DOMAIN_BOUND for lo, hi in domain):
        return "bounds must be within ±1e6"
    return None


def _custom_domain(body: dict[str, Any], text: str, errors: dict[str, str]) -> Any:
    """The domain of a custom task: the config's, or by the expression's use of ``y``.

    None with `errors` filled in when the domain (or, without one, the expression) is bad.
    """
    domain = body.get("domain")
    if domain is None:
        try:
            uses_y = "y" in compile_expression(text, ("x", "y")).variables
        except ExpressionError as error:
            errors["expression"] = error.message
            return None
        return CUSTOM_DOMAIN_2D if uses_y else CUSTOM_DOMAIN_1D
    if message := _domain_shape_error(domain, None):
        errors["domain"] = message
        return None
    return domain


def _compile_custom(text: str, domain: Any, errors: dict[str, str]) -> Expression | None:
    """`text` compiled in x (a one-pair `domain`) or x and y, or None with `errors` filled in."""
    one_input = domain is not None and len(domain) == 1
    try:
        return compile_expression(text, ("x",) if one_input else ("x", "y"))
    except ExpressionError as error:
        message = error.message
        if one_input and "'y'" in message:
            message += " (give two domain pairs for a function of x and y)"
        errors["expression"] = message
        return None


def resolve_custom(body: dict[str, Any], errors: dict[str, str]) -> Task | None:
    """The ``custom`` task of a config (expression + domain), or None with `errors` filled in.

    Without a domain, the expression decides: one that uses ``y`` is 2-D on [-3, 3]², else 1-D
    on [-3, 3]. With one, its number of pairs decides (1 -> x; 2 -> x and y). A target that
    `custom_task` refuses (e.g. a singularity) is reported as ``expression``.
    """
    text = body.get("expression")
    if text is None:
        errors["expression"] = 'is required for a custom task, e.g. "sin(5*x)*x" or "x*y"'
        return None
    if not isinstance(text, str):
        errors["expression"] = 'must be text, e.g. "sin(5*x)*x"'
        return None
    domain = _custom_domain(body, text, errors)
    if "expression" in errors:
        return None
    expression = _compile_custom(text, domain, errors)
    if expression is None or domain is None:
        return None
    try:
        return custom_task(expression, [[float(lo), float(hi)] for lo, hi in domain])
    except ExpressionError as error:
        errors["expression"] = error.message
        return None


def resolve_task(
    body: dict[str, Any], datasets: DatasetStore | None, errors: dict[str, str],
    tasks: dict[str, Task] | None = None,
) -> Task | None:  # fmt: skip
    """The task a config names (registry, ``custom`` or ``dataset:<id>``), or None with `errors`
    filled in (``task``, or ``expression``/``domain`` for a bad custom task). `tasks`: the
    named tasks (default: this app's, `app_tasks`; a worker passes its own)."""
    task_id = body.get("task")
    if "task" not in body:
        errors["task"] = f"is required: one of {_task_names()}"
        return None
    if not isinstance(task_id, str):
        errors["task"] = f"must be a task id: one of {_task_names()}"
        return None
    known = app_tasks() if tasks is None else tasks  # the registry and own tasks (mnist)
    if task_id in known:
        return known[task_id]
    if task_id == CUSTOM_ID:
        return resolve_custom(body, errors)
    if task_id.startswith(DATASET_PREFIX):
        dataset_id = task_id[len(DATASET_PREFIX) :]
        dataset = datasets.get(dataset_id) if datasets is not None else None
        if dataset is None:
            errors["task"] = (
                f"unknown dataset {dataset_id!r}: upload the CSV file again (uploads are "
                "stored with the runs; with --database-url none they last while the server runs)"
            )
            return None
        return _dataset_task(dataset_id, dataset, body, errors)
    errors["task"] = f"unknown task {task_id!r}; choose one of {_task_names()}"
    return None


def _dataset_task(
    dataset_id: str, dataset: Any, body: dict[str, Any], errors: dict[str, str]
) -> Task | None:
    """An upload's task for the config's choice of target and features (tables), or None with
    the choice's problem in `errors` (on ``target_column``, ``feature_columns`` or ``kind``).
    Values of the wrong type are left to the declared limits (`check_fields`) to report."""
    choice = {name: body.get(name) for name in TABLE_FIELDS}
    if dataset.table is None or not _choice_types_ok(choice):
        choice = {}
    try:
        return dataset_task(dataset_id, dataset, choice)
    except ChoiceError as error:
        errors[error.field] = str(error)
        return None


def _choice_types_ok(choice: dict[str, Any]) -> bool:
    target, features, kind = (choice[name] for name in TABLE_FIELDS)
    return (
        (target is None or isinstance(target, str))
        and (features is None or (isinstance(features, list) and bool(features)
                                  and all(isinstance(name, str) for name in features)))
        and (kind is None or kind in ("classification", "regression"))
    )  # fmt: skip


def _table_errors(values: dict[str, Any], task: Task) -> dict[str, str]:
    """The table fields are for uploaded tables only."""
    if task.dataset is not None and task.dataset.table is not None:
        return {}
    what = "this upload has the fixed layout x,target, x,y,target or x,y,label" if (
        task.dataset is not None) else f"task {task.id!r} is not one"  # fmt: skip
    return {
        name: f"only for uploaded tables with named columns ({what})"
        for name in TABLE_FIELDS
        if values.get(name) is not None
    }


def _requested_values(body: dict[str, Any], task: Task, defaults: dict[str, Any]) -> dict[str, Any]:
    """The fields to validate: the task's defaults, then the body's fields (unknown ones too, to
    be reported), less ``task`` and a custom task's ``expression`` (`resolve_task` judged them)."""
    values = {name: defaults[name] for name in FIELDS if name in defaults}
    named = {"task", "expression"} if body.get("task") == CUSTOM_ID else {"task"}
    values.update((name, value) for name, value in body.items() if name not in named)
    if task.dataset is not None:
        # the rows are the data: their count, their box, no added noise (reported back as such)
        values.update(samples=defaults["samples"], domain=defaults["domain"], noise=0.0)
        for name in TABLE_FIELDS:  # a table's choice as resolved (defaults filled in)
            if body.get(name) is None and name in defaults:
                values[name] = defaults[name]
    samples = values["samples"]
    if "batch_size" not in body and _is_int(samples):
        values["batch_size"] = max(1, min(values["batch_size"], samples))  # default fits samples
    return values


def _batch_size_error(batch_size: Any, samples: Any, flagged: bool) -> str | None:
    """Why `batch_size` does not fit `samples` (None when it does); `flagged`: the declared
    limits already refused it."""
    if _is_int(samples):
        return field_message("batch_size", batch_size, le=max(samples, 1))
    if flagged:
        return "must be a whole number from 1 to the number of samples"
    return None


def _feature_texts(
    features: list[str], inputs: int, domain: Any
) -> tuple[list[str], str | None]:
    """The normalised texts of `features` (expressions in the task's raw inputs), or the message
    naming the first bad one; each must be finite on `domain` (when that is a good one)."""
    variables = FEATURE_VARIABLES.get(inputs)
    if variables is None:
        return [], (
            f"input features take tasks of one or two inputs (x, or x and y); "
            f"this task has {inputs}"
        )
    texts = []
    for number, text in enumerate(features, start=1):
        try:
            feature = compile_expression(text, variables)
            if _domain_shape_error(domain, inputs) is None:
                find_singularity(feature, domain)
                evaluate_on_domain(feature, domain, bound=MAX_FEATURE)  # float32 must hold it
            texts.append(feature.text)
        except ExpressionError as error:
            message = error.message
            if inputs == 1 and "'y'" in message:
                message += " (this task has one input, x)"
            return [], f"feature {number} ({text.strip()}): {message}"
    return texts, None


def _task_errors(values: dict[str, Any], task: Task, known_task: bool) -> dict[str, str]:
    """The rules that depend on the task: its losses, its kind's noise limit, its inputs."""
    errors: dict[str, str] = {}
    loss = values["loss"]
    if known_task and loss in LOSSES and loss not in task.losses():
        errors["loss"] = f"{task.kind} tasks take only {' or '.join(task.losses())}, not {loss!r}"
    noise = values["noise"]
    if task.kind == "classification" and is_number(noise) and not 0 <= noise <= MAX_POINT_NOISE:
        errors["noise"] = (  # the point noise's own range, not the regression target noise's
            f"must be from 0 to {MAX_POINT_NOISE:g} for a classification task, got {noise:g}"
        )
    if known_task and task.dataset is None:
        if message := _domain_shape_error(values["domain"], len(task.domain)):
            errors["domain"] = message
    if known_task and (message := slice_error(values.get("slice_features"), task)):
        errors["slice_features"] = message
    features = values.get("input_features")
    if known_task and isinstance(features, list) and all(isinstance(f, str) for f in features):
        texts, message = _feature_texts(features, task.inputs, values["domain"])
        if message:
            errors["input_features"] = message
        else:
            values["input_features"] = texts
    return errors


def slice_error(value: Any, task: Task) -> str | None:
    """Why `value` is not a slice view of `task` (two distinct input indices, only for tasks of
    more than two inputs), or None (also for null: the task's own)."""
    if value is None or not isinstance(value, list) or len(value) != 2:
        return None  # null, or a shape the declared limits report
    if task.inputs <= 2:
        return f"only for tasks of more than two inputs (this one has {task.inputs})"
    if not all(_is_int(index) and 0 <= index < task.inputs for index in value):
        return f"two input indices from 0 to {task.inputs - 1}, got {value}"
    if value[0] == value[1]:
        return f"two different inputs, got {value}"
    return None


def _rule_errors(
    values: dict[str, Any], task: Task, known_task: bool, flagged: dict[str, str]
) -> dict[str, str]:
    """The messages of the rules between fields, given those of the declared limits (`flagged`):
    they replace the latter where they say more."""
    errors = _task_errors(values, task, known_task)
    if known_task:
        errors.update(_table_errors(values, task))
    if known_task and "input_features" not in errors.keys() | flagged.keys():  # app.data.features
        if message := ignored_inputs(values.get("input_features"), task.inputs):
            errors["input_features"] = message
    if "domain" in flagged and "domain" not in errors:  # in the words of the domain's own check
        if message := _domain_shape_error(values["domain"], None):
            errors["domain"] = message
    flagged_batch = "batch_size" in flagged
    if message := _batch_size_error(values["batch_size"], values["samples"], flagged_batch):
        errors["batch_size"] = message
    return errors


def run_work(config: dict[str, Any], task: Task) -> float:
    """About how many multiply-adds a run of a validated `config` costs: per epoch, forward and
    backward over the training rows (3 × n_train × Σ in·out over the layers) and the evaluation
    of the train and test sets (forward, samples × Σ in·out), times the epochs."""
    sizes = network_sizes(task, config)
    per_row = sum(inputs * outputs for inputs, outputs in zip(sizes, sizes[1:], strict=False))
    samples = int(config["samples"])
    n_train = samples - round(samples * float(config["test_fraction"]))
    return float(config["epochs"]) * (3 * n_train + samples) * per_row


def check_work(config: dict[str, Any], task: Task, budget: float | None) -> None:
    """Raise `ConfigError` (on ``epochs``, saying how to get under it) when the run's work
    (`run_work`) is over `budget` multiply-adds; None: no budget."""
    if budget is None:
        return
    work = run_work(config, task)
    if work <= budget:
        return
    most = int(budget // (work / config["epochs"]))
    within = (
        f"at most {most} epochs fit with these samples and layers"
        if most >= 1
        else "not even one epoch fits with these samples and layers"
    )
    raise ConfigError(
        {
            "epochs": f"this run is about {work:.2g} multiply-adds, over the budget of "
            f"{budget:.2g}: fewer epochs, samples or neurons ({within})"
        }
    )


def validate_run(
    body: Any, datasets: DatasetStore | None = None, work_budget: float | None = WORK_BUDGET
) -> tuple[dict[str, Any], Task]:
    """Like `validate_config`, and also return the `Task` the config trains on; a run whose
    work is over `work_budget` multiply-adds is refused (see `check_work`)."""
    if not isinstance(body, dict):
        raise ConfigError({"body": "must be a JSON object with the run config"})
    errors: dict[str, str] = {}
    task = resolve_task(body, datasets, errors)
    # Without a valid task, the other fields are still checked (against the first task's
    # defaults: all tasks share one schema) so that every bad field is reported at once.
    known_task = task is not None
    task = task or next(iter(TASKS.values()))
    defaults = task.defaults()
    values = _requested_values(body, task, defaults)
    config, field_errors = check_fields(values)
    field_errors.update(_rule_errors(values, task, known_task, field_errors))
    for name, message in field_errors.items():
        errors.setdefault(name, message)  # a custom task's own domain message comes first
    if errors:
        raise ConfigError(errors)
    if config["input_features"] is not None:  # as `_task_errors` normalised them
        config["input_features"] = values["input_features"]
    config = {"task": task.id, **defaults, **config}
    check_work(config, task, work_budget)
    return config, task


@dataclass(frozen=True)
class RunSpec:
    """A run as created, made once from the request body (`run_spec`): the validated config
    (defaults filled in, settled: a classification run's domain holds its points, a custom
    target and the input features finite on the grid) and its task. Read-only: a run keeps its
    own copy of `config` (`RunSpec.config_copy`), to which live changes are written."""

    config: Mapping[str, Any]
    task: Task
    # the data drawn while settling (a classification run's points, `tasks.settle`), or None:
    # the run trains and shows this rather than drawing it again (not part of the spec's value)
    data: TaskData | None = dataclasses.field(default=None, compare=False, repr=False)

    def config_copy(self) -> dict[str, Any]:
        """A deep copy of the config, the run's own."""
        return copy.deepcopy(dict(self.config))


def run_spec(
    body: Any, datasets: DatasetStore | None = None, work_budget: float | None = WORK_BUDGET
) -> RunSpec:
    """The `RunSpec` of a request body; raises `ConfigError` (every bad field, field by field)
    for anything wrong with it, including a target or input features that are not finite on
    the run's grid."""
    config, task = validate_run(body, datasets, work_budget)
    return settled_spec(config, task)


def settled_spec(config: dict[str, Any], task: Task) -> RunSpec:
    """The `RunSpec` of a validated `config` of `task` (`tasks.settle_config`); raises
    `ConfigError` where the config cannot be trained (e.g. a continued run's uploaded data that
    no longer fits it)."""
    try:
        settled, data = settle(task, copy.deepcopy(dict(config)))
    except ExpressionError as error:
        raise ConfigError({getattr(error, "field", "expression"): error.message}) from error
    return RunSpec(MappingProxyType(settled), task, data)


def validate_changes(body: Any, current_config: dict[str, Any]) -> dict[str, Any]:
    """The changes `body` asks of a running run's `current_config` (a validated config), each
    checked by the same declarations as at creation; raise `ConfigError` naming every bad field.

    Only `STEERABLE_FIELDS` (the schema's live fields) may change, and only those the run's
    optimizer uses (`app.config.schema.uses_field`: no momentum for Adam); ``batch_size`` stays at
    most the run's ``samples``.
    Returns the changed fields, normalised (numbers as floats where the field is a float).
    """
    if not isinstance(body, dict) or not body:
        raise ConfigError(
            {"body": 'must be a JSON object with the fields to change, e.g. {"lr": 0.001}'}
        )
    steerable = {name: value for name, value in body.items() if name in STEERABLE_FIELDS}
    changes, errors = check_changes(steerable)
    for name in body:
        if name in FIELDS or name in ("task", "expression"):
            if name not in STEERABLE_FIELDS:
                errors[name] = (
                    f"cannot change while the run trains (only {', '.join(STEERABLE_FIELDS)})"
                )
        elif name not in errors:
            errors[name] = f"unknown field {name!r}"
    optimizer = current_config.get("optimizer")
    for name in steerable:
        if optimizer is not None and not uses_field(optimizer, name):
            users = ", ".join(optimizers_using(name))
            errors[name] = f"{optimizer} does not use {name} (only {users})"
    if "batch_size" in steerable:  # at most the run's samples, said as at creation
        flagged = "batch_size" in errors
        samples = current_config.get("samples")
        if message := _batch_size_error(steerable["batch_size"], samples, flagged):
            errors["batch_size"] = message
    if errors:
        raise ConfigError(errors)
    return changes
