"""The run config, declared once: its fields, choices, limits and defaults.

`TrainingConfig` holds every field a run of any task takes; `RunConfig` adds the two that say
what to train on (``task`` and a custom task's ``expression``, resolved by `app.runs.validation`).
The choices come from the engine's registries (`network.ACTIVATIONS`, `network.OPTIMIZERS`,
`network.LOSSES`), the limits are the fields' own ``Field(ge=..., le=..., gt=...)``. From this one
declaration come

* the validation of ``POST /api/runs`` (`check_fields`) and of live changes (`check_changes`),
  with a short message per field (`field_message`), e.g. "must be from 1 to 100000, got 0";
* the generic defaults (`field_defaults`; each task overrides some, see `Task.defaults`);
* the JSON Schema (draft 2020-12) served by ``GET /api/schema``
  (`app.web.openapi.run_config_json_schema`, which adds the task names), from which the page
  takes its fields, choices, limits, live tags and URL parameters;
* what a field is for beyond its value, as JSON Schema extension keywords on the field
  (``json_schema_extra``): `LIVE` (``x-live``: a running run takes it, ``PATCH /api/runs/<id>``;
  read by `STEERABLE_FIELDS`, the steering validation, the session and the OpenAPI document) and
  `OPTIMIZERS_USING` (``x-optimizers``: only these optimizers use the field, e.g. momentum: sgd
  and rmsprop; read by `uses_field`, in the session, the steering validation and the page).

A new config field is one declaration in `TrainingConfig` (with its default, limits and a
``description`` the page can show as help).
"""

from __future__ import annotations

import copy
import json
import math
import typing
from functools import cache
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt, Le, Lt
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

import network
from app.config.expressions import MAX_LENGTH as MAX_EXPRESSION_LENGTH

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# the engine's names the app trains with (the engine has more losses: "bce" is not offered)
ACTIVATIONS: tuple[str, ...] = tuple(network.ACTIVATIONS)
OPTIMIZERS: tuple[str, ...] = tuple(network.OPTIMIZERS)
LOSSES: tuple[str, ...] = tuple(sorted(set(network.LOSSES) & {"cross_entropy", "mse"}))

MAX_LAYERS = 8
MAX_NEURONS = 1024
MAX_LR = 10
MAX_EPOCHS = 100_000
MIN_SAMPLES, MAX_SAMPLES = 10, 100_000
MAX_TEST_FRACTION = 0.9
MAX_SEED = 2**32 - 1
MAX_POINT_NOISE = 100.0  # classification: std of the point noise (blobs are 6 apart)
MAX_DOMAIN_BOUND = 1e6
MIN_EPOCHS_PER_SECOND, MAX_EPOCHS_PER_SECOND = 1, 100_000
MAX_L1 = 10
MAX_WEIGHT_DECAY = 10  # as L1: a larger rate only collapses every weight to 0
MAX_NOISE = 1e6  # regression: std of the target noise (the bound on |x|, MAX_DOMAIN_BOUND)
MAX_DROPOUT = 0.9
MAX_FEATURES = 16
MAX_TABLE_COLUMNS = 100  # uploaded tables (app.data.tables)
MAX_COLUMN_NAME = 200
TABLE_FIELDS = ("target_column", "feature_columns", "kind")
# the engine's learning-rate schedules (network/schedules.py)
SCHEDULES: tuple[str, ...] = tuple(network.SCHEDULES)

# JSON Schema extension keyword: the noise limit that applies to classification tasks only
CLASSIFICATION_MAXIMUM = "x-classificationMaximum"
# JSON Schema extension keyword: true on the fields a running run takes (PATCH /api/runs/<id>)
LIVE = "x-live"
# JSON Schema extension keyword: the optimizers that use the field (absent: every one does)
OPTIMIZERS_USING = "x-optimizers"
# the optimizers with a momentum (the engine's SGD and RMSprop take one, as PyTorch's do)
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")

NeuronCount = Annotated[int, Field(ge=1, le=MAX_NEURONS)]
DomainBound = Annotated[float, Field(ge=-MAX_DOMAIN_BOUND, le=MAX_DOMAIN_BOUND)]
DomainPair = Annotated[list[DomainBound], Field(min_length=2, max_length=2)]

# Literal of a tuple is the Literal of its members: the choices are the registries' names.
Activation = Literal[ACTIVATIONS]  # type: ignore[valid-type]
Optimizer = Literal[OPTIMIZERS]  # type: ignore[valid-type]
Loss = Literal[LOSSES]  # type: ignore[valid-type]

# JSON has no other numbers to offer: strict types refuse "20" and true where a number belongs.
FIELD_RULES = ConfigDict(strict=True, allow_inf_nan=False)


class ScheduleParameters(BaseModel):
    """Base of the object form of ``schedule``: ``{name, ...parameters}``."""

    model_config = ConfigDict(**FIELD_RULES, extra="forbid")


class ConstantSchedule(ScheduleParameters):
    """The learning rate stays as set."""

    name: Literal["constant"]


class StepSchedule(ScheduleParameters):
    """lr · gamma^⌊epoch / step_size⌋."""

    name: Literal["step"]
    step_size: int = Field(100, ge=1, le=MAX_EPOCHS, description="Epochs between two drops.")
    gamma: float = Field(0.5, gt=0, le=1, description="Factor of each drop.")


class ExponentialSchedule(ScheduleParameters):
    """lr · gamma^epoch."""

    name: Literal["exponential"]
    gamma: float = Field(0.99, gt=0, le=1, description="Factor per epoch.")


class InverseSchedule(ScheduleParameters):
    """lr · (1 + gamma·epoch)^-power (Caffe's "inv")."""

    name: Literal["inverse"]
    gamma: float = Field(0.001, gt=0, le=MAX_LR, description="How fast the rate falls.")
    power: float = Field(0.75, gt=0, le=MAX_LR, description="Exponent of the fall.")


class CosineSchedule(ScheduleParameters):
    """Cosine from lr down to eta_min over t_max epochs (by default the run's), then constant."""

    name: Literal["cosine"]
    t_max: int | None = Field(
        None, ge=1, le=MAX_EPOCHS, description="Epochs of the descent (default: the run's epochs)."
    )
    eta_min: float = Field(0.0, ge=0, le=MAX_LR, description="The rate at the end.")


SCHEDULE_MODELS: dict[str, type[ScheduleParameters]] = {
    "constant": ConstantSchedule,
    "step": StepSchedule,
    "exponential": ExponentialSchedule,
    "inverse": InverseSchedule,
    "cosine": CosineSchedule,
}
assert set(SCHEDULE_MODELS) == set(SCHEDULES), "a schedule of the engine is not declared here"
ScheduleName = Literal[SCHEDULES]  # type: ignore[valid-type]
ScheduleObject = Annotated[
    ConstantSchedule | StepSchedule | ExponentialSchedule | InverseSchedule | CosineSchedule,
    Field(discriminator="name"),
]


class EarlyStopping(BaseModel):
    """Keras's ``EarlyStopping(monitor="val_loss", patience, restore_best_weights)``."""

    model_config = ConfigDict(**FIELD_RULES, extra="forbid")
    patience: int = Field(
        10, ge=1, le=MAX_EPOCHS,
        description="End the run once the test loss has not improved for this many epochs.",
    )  # fmt: skip
    restore_best: bool = Field(
        True, description="The run's final weights (and default export) are its best epoch's."
    )


class TrainingConfig(BaseModel):
    """The fields of a run config that every task takes (all have a default but `domain`,
    which is the task's own)."""

    model_config = ConfigDict(**FIELD_RULES, extra="forbid")

    hidden: list[NeuronCount] = Field(
        [32, 32],
        max_length=MAX_LAYERS,
        title="Hidden layers",
        description=f"Neurons per hidden layer: 0 to {MAX_LAYERS} layers of 1 to {MAX_NEURONS}.",
    )
    activation: Activation = Field(
        "tanh", title="Activation", description="The hidden layers' activation function."
    )
    optimizer: Optimizer = Field(
        "adam", title="Optimizer", description="How the weights follow their gradient."
    )
    loss: Loss = Field(
        "mse",
        title="Loss",
        description="What training minimises; regression tasks take only mse.",
    )
    lr: float = Field(
        0.01,
        gt=0,
        le=MAX_LR,
        title="Learning rate",
        description=f"Step size of the optimizer: above 0 and at most {MAX_LR}.",
        json_schema_extra={LIVE: True},
    )
    momentum: float = Field(
        0.9,
        ge=0,
        lt=1,
        title="Momentum",
        description="SGD and RMSprop: the share of the last step kept in the next (0 = none).",
        json_schema_extra={LIVE: True, OPTIMIZERS_USING: list(MOMENTUM_OPTIMIZERS)},
    )
    weight_decay: float = Field(
        0.0,
        ge=0,
        le=MAX_WEIGHT_DECAY,
        title="L2 (weight decay)",
        description=(
            "L2 penalty rate: pulls every weight towards 0 in proportion to it (0 = none, at "
            f"most {MAX_WEIGHT_DECAY})."
        ),
        json_schema_extra={LIVE: True},
    )
    l1: float = Field(
        0.0,
        ge=0,
        le=MAX_L1,
        title="L1",
        description=(
            f"L1 penalty rate: pushes every weight towards 0 by a fixed step, making some "
            f"exactly 0 (0 = none, at most {MAX_L1})."
        ),
        json_schema_extra={LIVE: True},
    )
    dropout: float = Field(
        0.0,
        ge=0,
        le=MAX_DROPOUT,
        title="Dropout",
        description=(
            f"Share of hidden units switched off at random in each training step "
            f"(0 = none, at most {MAX_DROPOUT:g})."
        ),
    )
    schedule: ScheduleName | ScheduleObject = Field(
        "constant",
        title="Learning-rate schedule",
        description=(
            "How the learning rate changes over the epochs: a name (constant, step, exponential, "
            "inverse, cosine) or {name, ...parameters}."
        ),
    )
    early_stopping: EarlyStopping | None = Field(
        None,
        title="Early stopping",
        description=(
            "{patience, restore_best}: end the run `finished` when the test loss has not "
            "improved for `patience` epochs (off, or null in the API: train every epoch)."
        ),
    )
    input_features: list[str] | None = Field(
        None,
        min_length=1,
        max_length=MAX_FEATURES,
        title="Input features",
        description=(
            "What the network sees: expressions in x (and y), e.g. x, y, x**2, x*y, sin(x); "
            "one input unit each (none, or null in the API: the raw inputs)."
        ),
    )
    slice_features: list[Annotated[int, Field(ge=0)]] | None = Field(
        None,
        min_length=2,
        max_length=2,
        title="Slice view",
        description=(
            "Tasks of more than two inputs: the two inputs (indices) the plots are drawn over, "
            "the others held at their median (not chosen, or null in the API: the task's "
            "choice); changeable live."
        ),
        json_schema_extra={LIVE: True},
    )
    batch_size: int = Field(
        32,
        ge=1,
        le=MAX_SAMPLES,
        title="Batch size",
        description="Samples per gradient step: at most the number of samples.",
        json_schema_extra={LIVE: True},
    )
    epochs: int = Field(
        500,
        ge=1,
        le=MAX_EPOCHS,
        title="Epochs",
        description="Passes over the training data.",
    )
    samples: int = Field(
        500,
        ge=MIN_SAMPLES,
        le=MAX_SAMPLES,
        title="Samples",
        description="Points drawn from the task (train and test together).",
    )
    domain: list[DomainPair] = Field(
        min_length=1,
        max_length=2,
        title="Input range",
        description="One [lo, hi] pair per input (lo < hi); by default the task's own.",
    )
    test_fraction: float = Field(
        0.3,
        gt=0,
        le=MAX_TEST_FRACTION,
        title="Test fraction",
        description="Share of the samples held out to measure the test loss.",
    )
    noise: float = Field(
        0.0,
        ge=0,
        le=MAX_NOISE,
        title="Noise (std)",
        description=(
            f"Standard deviation of the Gaussian noise on the target (regression, at most "
            f"{MAX_NOISE:g}) or on each point coordinate (classification, at most "
            f"{MAX_POINT_NOISE:g})."
        ),
        json_schema_extra={CLASSIFICATION_MAXIMUM: MAX_POINT_NOISE},
    )
    seed: int = Field(
        0,
        ge=0,
        le=MAX_SEED,
        title="Seed",
        description="Seeds the data, the split, the initial weights and the shuffling.",
    )
    epochs_per_second: Annotated[
        float, Field(ge=MIN_EPOCHS_PER_SECOND, le=MAX_EPOCHS_PER_SECOND)
    ] | Literal["auto"] | None = Field(
        None,
        title="Speed",
        description=(
            "Slow motion: epochs per second, or \"auto\" (paced by the learning: slow where "
            "the loss falls, quick over plateaus), or full speed (null in the API)."
        ),
        json_schema_extra={LIVE: True},
    )
    target_column: str | None = Field(
        None,
        max_length=MAX_COLUMN_NAME,
        title="Target column",
        description=(
            "Uploaded tables: the column to predict (not chosen, or null in the API: the "
            "suggested one, a column named target, label, class, species, y, …, else the last)."
        ),
    )
    feature_columns: list[Annotated[str, Field(max_length=MAX_COLUMN_NAME)]] | None = Field(
        None,
        min_length=1,
        max_length=MAX_TABLE_COLUMNS,
        title="Feature columns",
        description=(
            "Uploaded tables: the columns the network sees (not chosen, or null in the API: "
            "every column but the target); categories are one-hot encoded, numbers standardised."
        ),
    )
    kind: Literal["classification", "regression"] | None = Field(
        None,
        title="Kind",
        description=(
            "Uploaded tables: classification or regression (not chosen, or null in the API: by "
            "the target, categories and whole numbers of at most 20 values being classes)."
        ),
    )

    @field_validator("schedule", mode="after")
    @classmethod
    def _schedule_object(cls, value: Any) -> Any:
        """A bare name becomes its object form with the default parameters."""
        if isinstance(value, str):
            return SCHEDULE_MODELS[value](name=value)
        return value

    @model_validator(mode="after")
    def _schedule_length(self) -> TrainingConfig:
        """A cosine schedule without t_max descends over the whole run."""
        if isinstance(self.schedule, CosineSchedule) and self.schedule.t_max is None:
            self.schedule.t_max = self.epochs
        return self


class RunConfig(TrainingConfig):
    """A whole run config as ``POST /api/runs`` takes it (its JSON Schema is ``GET /api/schema``).

    `task` and `expression` are checked by `app.runs.validation.resolve_task`, not by this model.
    """

    task: str = Field(
        title="Task",
        description=(
            "A task id from /api/tasks, custom (your expression) or dataset:<id> (an upload)."
        ),
    )
    expression: str = Field(
        max_length=MAX_EXPRESSION_LENGTH,
        title="Your function",
        description="Task custom only: the target in x (a curve) or x and y (a surface).",
    )


FIELDS: tuple[str, ...] = tuple(TrainingConfig.model_fields)


def field_extra(name: str) -> dict[str, Any]:
    """The extension keywords (``x-...``) declared on field `name` of `TrainingConfig`."""
    extra = TrainingConfig.model_fields[name].json_schema_extra
    return dict(extra) if isinstance(extra, dict) else {}


# Fields a running run takes (PATCH /api/runs/<id>): those declared `LIVE`, in declaration order.
STEERABLE_FIELDS: tuple[str, ...] = tuple(name for name in FIELDS if field_extra(name).get(LIVE))


def optimizers_using(name: str) -> tuple[str, ...]:
    """The optimizers that use field `name` (`OPTIMIZERS_USING`; every one when undeclared)."""
    return tuple(field_extra(name).get(OPTIMIZERS_USING, OPTIMIZERS))


def uses_field(optimizer: str, name: str) -> bool:
    """True when a run with `optimizer` uses field `name` (e.g. momentum: sgd and rmsprop)."""
    return optimizer in optimizers_using(name)


def field_defaults() -> dict[str, Any]:
    """The declared default of every field that has one (fresh copies)."""
    return {
        name: copy.deepcopy(info.default)
        for name, info in TrainingConfig.model_fields.items()
        if not info.is_required()
    }


# ------------------------------------------------------------------ messages


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def field_limits(name: str, model: type[BaseModel] = TrainingConfig) -> dict[str, Any]:
    """The bounds declared on field `name` (of `model`): any of ``ge``, ``gt``, ``le``, ``lt``."""
    limits: dict[str, Any] = {}
    for item in model.model_fields[name].metadata:
        for kind in (Ge, Gt, Le, Lt):
            if isinstance(item, kind):
                key = kind.__name__.lower()
                limits[key] = getattr(item, key)
    return limits


def range_text(limits: dict[str, Any]) -> str:
    """The bounds in words: "from 1 to 100000", "above 0 and at most 10", "from 0 to below 1",
    "≥ 0"."""
    words = {
        "ge": "from {}" if "le" in limits or "lt" in limits else "≥ {}",
        "gt": "above {}",
        "le": "to {}" if "ge" in limits else "at most {}",
        "lt": "to below {}" if "ge" in limits else "below {}",
    }
    parts = [words[key].format(_number_text(limits[key])) for key in words if key in limits]
    return " and ".join(parts) if "gt" in limits else " ".join(parts)


def _kind_of(name: str, model: type[BaseModel] = TrainingConfig) -> tuple[str, bool]:
    """(``"a whole number"`` or ``"a number"``, whether null is allowed) for a number field."""
    annotation = model.model_fields[name].annotation
    members = typing.get_args(annotation) or (annotation,)
    noun = "a whole number" if int in members else "a number"
    return noun, type(None) in members


def is_number(value: Any) -> bool:
    """True for a finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def field_message(
    name: str, value: Any, model: type[BaseModel] = TrainingConfig, **limits: Any
) -> str | None:
    """Why `value` is not good for the number field `name` of `model` (its declared limits,
    updated by `limits`), or None when it is."""
    limits = {**field_limits(name, model), **limits}
    noun, nullable = _kind_of(name, model)
    if value is None and nullable:
        return None
    wrong_type = not is_number(value) or (noun == "a whole number" and not isinstance(value, int))
    if wrong_type:
        null = "null or " if nullable else ""
        return f"must be {null}{noun} {range_text(limits)}"
    low_ok = value >= limits.get("ge", -math.inf) and value > limits.get("gt", -math.inf)
    high_ok = value <= limits.get("le", math.inf) and value < limits.get("lt", math.inf)
    if low_ok and high_ok:
        return None
    return f"must be {range_text(limits)}, got {_number_text(value)}"


def _hidden_message(error: dict[str, Any]) -> str:
    loc = error["loc"]
    if len(loc) > 1:  # one layer: (hidden, index)
        value = error["input"]
        shown = json.dumps(value) if isinstance(value, (bool, type(None))) else repr(value)
        return f"layer {loc[1] + 1} has {shown} neurons; each layer needs 1 to {MAX_NEURONS}"
    if error["type"] == "too_long":
        return f"at most {MAX_LAYERS} hidden layers, got {len(error['input'])}"
    return "must be a list of neuron counts, e.g. [32, 32]"


SCHEDULE_HINT = (
    f"must be one of {', '.join(SCHEDULES)} or an object {{name, ...parameters}}, "
    'e.g. {"name": "step", "step_size": 100, "gamma": 0.5}'
)


def _schedule_message(value: Any) -> str:
    """Why `value` is not a schedule: its name, or its first bad parameter and the latter's
    accepted range."""
    name = value.get("name") if isinstance(value, dict) else None
    if not isinstance(name, str) or name not in SCHEDULE_MODELS:  # a list or {} is no name
        return SCHEDULE_HINT
    model = SCHEDULE_MODELS[value["name"]]
    for key, item in value.items():
        if key == "name":
            continue
        if key not in model.model_fields:
            accepted = [field for field in model.model_fields if field != "name"]
            takes = f"takes {', '.join(accepted)}" if accepted else "takes no parameters"
            return f"unknown parameter {key!r}: a {value['name']} schedule {takes}"
        if message := field_message(key, item, model):
            return f"{key} {message}"
    return SCHEDULE_HINT


def _message(name: str, error: dict[str, Any], value: Any) -> str:
    """A short message for one pydantic `error` of field `name` (whose value is `value`)."""
    if error["type"] == "extra_forbidden" and len(error["loc"]) == 1:
        return f"unknown field {name!r}"
    if error["type"] == "missing":
        return "is required"
    if name == "hidden":
        return _hidden_message(error)
    if name == "domain":
        return "must be one or two pairs [lo, hi] of finite numbers within ±1e6"
    if name == "schedule":
        return _schedule_message(value)
    if name == "early_stopping":
        return _early_stopping_message(value)
    if name == "epochs_per_second":
        return (
            f'must be null (full speed), "auto" or epochs per second from '
            f"{_number_text(MIN_EPOCHS_PER_SECOND)} to {_number_text(MAX_EPOCHS_PER_SECOND)}"
        )
    if name in TABLE_FIELDS:
        return _table_field_message(name)
    if name == "input_features":
        return (
            f"must be null (the raw inputs) or a list of 1 to {MAX_FEATURES} expressions, "
            'e.g. ["x", "y", "x**2"]'
        )
    choices = typing.get_args(TrainingConfig.model_fields[name].annotation)
    if all(isinstance(choice, str) for choice in choices) and choices:
        return f"must be one of {', '.join(choices)}"
    return field_message(name, value) or error["msg"]


EARLY_STOPPING_HINT = 'must be null or an object {patience, restore_best}, e.g. {"patience": 20}'


def _early_stopping_message(value: Any) -> str:
    """Why `value` is not an early-stopping object: its first bad key, else the hint."""
    if not isinstance(value, dict):
        return EARLY_STOPPING_HINT
    for key, item in value.items():
        if key not in EarlyStopping.model_fields:
            return f"unknown parameter {key!r}: early stopping takes patience, restore_best"
        if key == "restore_best" and not isinstance(item, bool):
            return "restore_best must be true or false"
        if key == "patience" and (message := field_message(key, item, EarlyStopping)):
            return f"patience {message}"
    return EARLY_STOPPING_HINT


def _table_field_message(name: str) -> str:
    if name == "target_column":
        return "must be null (the suggested target) or a column name"
    if name == "feature_columns":
        return (
            f"must be null (every column but the target) or a list of 1 to "
            f"{MAX_TABLE_COLUMNS} column names"
        )
    return "must be null (by the target), classification or regression"


def _errors_by_field(error: ValidationError, values: dict[str, Any]) -> dict[str, str]:
    """The first message per field of a pydantic `error` raised on `values`."""
    errors: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0])
        if name not in errors:
            errors[name] = _message(name, item, values.get(name))
    return errors


# ------------------------------------------------------------------ validation


def check_fields(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate the whole training config `values`: (the config, normalised, {}) when good,
    else ({}, a message per bad field). Unknown fields are reported as such."""
    try:
        config = TrainingConfig.model_validate(values)
    except ValidationError as error:
        return {}, _errors_by_field(error, values)
    return config.model_dump(), {}


@cache
def _field_adapter(name: str) -> TypeAdapter[Any]:
    info = TrainingConfig.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, info], config=FIELD_RULES)


def check_changes(changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate some fields on their own, by the same declarations as `check_fields`:
    (the good ones, normalised; a message per bad or unknown one)."""
    good: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in changes.items():
        if name not in TrainingConfig.model_fields:
            errors[name] = f"unknown field {name!r}"
            continue
        try:
            good[name] = _field_adapter(name).validate_python(value)
        except ValidationError as error:
            item = error.errors()[0]
            errors[name] = _message(name, {**item, "loc": (name, *item["loc"])}, value)
    return good, errors
