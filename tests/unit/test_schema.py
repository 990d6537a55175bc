"""The run config declared once (app/config/schema.py): its JSON Schema, its limits as the server
enforces them, and the validation of live changes (`validate_changes`)."""

from __future__ import annotations

from typing import Any

import pytest

import network
from app.config.expressions import ExpressionError
from app.config.schema import (
    FIELDS,
    LIVE,
    OPTIMIZERS,
    OPTIMIZERS_USING,
    optimizers_using,
    uses_field,
)
from app.data.tasks import CUSTOM_ID, TASKS
from app.runs import validation
from app.runs.validation import STEERABLE_FIELDS, ConfigError, validate_changes, validate_config
from app.web.openapi import run_config_json_schema

SCHEMA = run_config_json_schema()
PROPERTIES = SCHEMA["properties"]


def number_schema(name: str) -> dict[str, Any]:
    """A field's schema, the non-null branch of a nullable one."""
    prop = PROPERTIES[name]
    branches = [branch for branch in prop.get("anyOf", []) if branch.get("type") != "null"]
    return {**prop, **branches[0]} if branches else prop


def errors_of(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        validate_config(body)
    return caught.value.errors


# --------------------------------------------------------------------------- the document


def test_the_schema_is_a_draft_2020_12_object_schema_with_only_task_required():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["type"] == "object" and SCHEMA["additionalProperties"] is False
    assert SCHEMA["required"] == ["task"]
    assert set(PROPERTIES) == {"task", "expression", *FIELDS}


@pytest.mark.parametrize(
    ("name", "keyword", "value"),
    [
        ("hidden", "maxItems", 8),
        ("lr", "exclusiveMinimum", 0),
        ("lr", "maximum", 10),
        ("momentum", "minimum", 0),
        ("momentum", "exclusiveMaximum", 1),
        ("weight_decay", "minimum", 0),
        ("batch_size", "minimum", 1),
        ("epochs", "minimum", 1),
        ("epochs", "maximum", 100_000),
        ("samples", "minimum", 10),
        ("samples", "maximum", 100_000),
        ("test_fraction", "exclusiveMinimum", 0),
        ("test_fraction", "maximum", 0.9),
        ("noise", "minimum", 0),
        ("noise", "x-classificationMaximum", 100),
        ("seed", "minimum", 0),
        ("seed", "maximum", 2**32 - 1),
        ("epochs_per_second", "minimum", 1),
        ("epochs_per_second", "maximum", 100_000),
        ("l1", "minimum", 0),
        ("l1", "maximum", 10),
        ("dropout", "minimum", 0),
        ("dropout", "maximum", 0.9),
        ("input_features", "minItems", 1),
        ("input_features", "maxItems", 16),
        ("expression", "maxLength", 200),
        ("domain", "minItems", 1),
        ("domain", "maxItems", 2),
    ],
)
def test_the_schema_carries_each_limit_the_server_enforces(name, keyword, value):
    assert number_schema(name)[keyword] == value


def test_hidden_layers_and_domain_bounds_are_limited_item_by_item():
    assert PROPERTIES["hidden"]["items"] == {"type": "integer", "minimum": 1, "maximum": 1024}
    pair = PROPERTIES["domain"]["items"]
    assert (pair["minItems"], pair["maxItems"]) == (2, 2)
    assert (pair["items"]["minimum"], pair["items"]["maximum"]) == (-1e6, 1e6)


def test_the_choices_are_the_engine_registries_names_the_app_supports():
    assert PROPERTIES["activation"]["enum"] == list(network.ACTIVATIONS)
    assert PROPERTIES["optimizer"]["enum"] == list(network.OPTIMIZERS)
    losses = PROPERTIES["loss"]["enum"]
    assert set(losses) <= set(network.LOSSES) and set(losses) == {"cross_entropy", "mse"}


def test_the_task_is_a_registry_id_custom_or_an_upload():
    enum, pattern = (branch for branch in PROPERTIES["task"]["anyOf"])
    assert enum["enum"] == [*TASKS, CUSTOM_ID]
    assert pattern["pattern"].startswith("^dataset:")


def test_every_field_has_a_description_and_the_plain_tasks_defaults():
    sin = TASKS["sin"].defaults()
    for name, prop in PROPERTIES.items():
        assert prop.get("description"), name
        if name in sin and name != "domain":
            assert prop["default"] == sin[name], name
    assert "default" not in PROPERTIES["domain"]  # the task's own


@pytest.mark.parametrize("task_id", list(TASKS))
def test_the_schemas_own_defaults_validate_for_every_task(task_id):
    defaults = {name: prop["default"] for name, prop in PROPERTIES.items() if "default" in prop}
    config = validate_config({"task": task_id, **defaults})
    normalised = {**defaults, "schedule": {"name": "constant"}}  # a name becomes its object
    assert {name: config[name] for name in defaults} == normalised


# --------------------------------------------------------------------------- each limit


def _limit_cases() -> list[tuple[str, Any, Any, dict[str, Any]]]:
    """(field, a value at the limit, one just past it, other fields it needs) per limit of a
    number field, read from the schema itself."""
    cases = []
    for name in FIELDS:
        field = number_schema(name)
        if field.get("type") not in ("integer", "number"):
            continue
        step = 1 if field["type"] == "integer" else 1e-4
        context = {"samples": 100_000} if name == "batch_size" else {}
        for keyword, inside, outside in (
            ("minimum", 0, -step),
            ("maximum", 0, step),
            ("exclusiveMinimum", step, 0),
            ("exclusiveMaximum", -step, 0),
        ):
            if keyword in field:
                bound = field[keyword]
                cases.append((name, bound + inside, bound + outside, context))
    return cases


LIMIT_CASES = _limit_cases()


def test_the_limit_cases_cover_every_bounded_number_field():
    assert {case[0] for case in LIMIT_CASES} == {
        "lr", "momentum", "weight_decay", "batch_size", "epochs", "samples", "test_fraction",
        "noise", "seed", "epochs_per_second", "l1", "dropout",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "inside", "outside", "context"),
    LIMIT_CASES,
    ids=[f"{case[0]}-{case[1]}" for case in LIMIT_CASES],
)
def test_each_limit_is_accepted_at_the_limit_and_refused_just_past_it(
    name, inside, outside, context
):
    assert validate_config({"task": "sin", **context, name: inside})[name] == inside
    assert set(errors_of({"task": "sin", **context, name: outside})) == {name}


def test_the_classification_noise_limit():
    limit = PROPERTIES["noise"]["x-classificationMaximum"]
    assert validate_config({"task": "moons", "noise": limit})["noise"] == limit
    assert set(errors_of({"task": "moons", "noise": limit + 1e-4})) == {"noise"}
    assert validate_config({"task": "sin", "noise": limit + 1})["noise"] == limit + 1


@pytest.mark.parametrize(
    ("hidden", "good"),
    [([4] * 8, True), ([4] * 9, False), ([1], True), ([0], False), ([1024], True), ([1025], False)],
)
def test_hidden_limits(hidden, good):
    if good:
        assert validate_config({"task": "sin", "hidden": hidden})["hidden"] == hidden
    else:
        assert set(errors_of({"task": "sin", "hidden": hidden})) == {"hidden"}


@pytest.mark.parametrize(
    ("domain", "good"),
    [([[-1e6, 1e6]], True), ([[-1e6 - 1, 0]], False), ([[0, 1e6 + 1]], False)],
)
def test_domain_bounds(domain, good):
    if good:
        assert validate_config({"task": "sin", "domain": domain})["domain"] == domain
    else:
        assert "±1e6" in errors_of({"task": "sin", "domain": domain})["domain"]


def test_the_learning_rate_may_be_10_but_not_more():
    assert validate_config({"task": "sin", "lr": 10})["lr"] == 10.0
    assert errors_of({"task": "sin", "lr": 10.0001}) == {
        "lr": "must be above 0 and at most 10, got 10.0001"
    }


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"epochs": 0}, "epochs", "must be from 1 to 100000, got 0"),
        ({"epochs": 2.5}, "epochs", "must be a whole number from 1 to 100000"),
        ({"momentum": 1}, "momentum", "must be from 0 to below 1, got 1"),
        ({"weight_decay": -1}, "weight_decay", "must be from 0 to 10, got -1"),
        ({"lr": True}, "lr", "must be a number above 0 and at most 10"),
        ({"epochs_per_second": "20"}, "epochs_per_second", 'must be null (full speed), "auto"'),
        ({"activation": "swish"}, "activation", f"must be one of {', '.join(network.ACTIVATIONS)}"),
        ({"colour": "red"}, "colour", "unknown field 'colour'"),
        ({"hidden": [8, 2.5]}, "hidden", "layer 2 has 2.5 neurons; each layer needs 1 to 1024"),
    ],
)
def test_pydantic_errors_read_as_short_messages(body, field, message):
    assert errors_of({"task": "sin", **body})[field].startswith(message)


def test_a_refusal_of_custom_task_is_reported_as_the_expression(monkeypatch):
    def refuse(expression, domain):
        raise ExpressionError(f"{expression.text} has a singularity at x = 0")

    monkeypatch.setattr(validation, "custom_task", refuse)
    errors = errors_of({"task": "custom", "expression": "1/x", "lr": 0})
    assert errors == {
        "expression": "1/x has a singularity at x = 0",
        "lr": "must be above 0 and at most 10, got 0",
    }


# --------------------------------------------------------------------------- validate_changes

CURRENT = validate_config({"task": "sin", "samples": 200, "optimizer": "sgd"})


def test_the_steerable_fields_are_todays():
    assert set(STEERABLE_FIELDS) == {"lr", "epochs_per_second", "l1", "weight_decay", "momentum",
                                     "batch_size", "slice_features"}  # fmt: skip


def test_the_schema_marks_the_steerable_fields_live_and_no_other():
    live = {name for name, prop in PROPERTIES.items() if prop.get(LIVE)}
    assert live == set(STEERABLE_FIELDS)
    assert all(prop.get(LIVE) is True for name, prop in PROPERTIES.items() if name in live)


def test_the_schema_says_which_optimizers_use_momentum():
    assert PROPERTIES["momentum"][OPTIMIZERS_USING] == ["sgd", "rmsprop"]
    assert set(PROPERTIES["momentum"][OPTIMIZERS_USING]) <= set(PROPERTIES["optimizer"]["enum"])
    marked = {name for name, prop in PROPERTIES.items() if OPTIMIZERS_USING in prop}
    assert marked == {"momentum"}
    assert optimizers_using("momentum") == ("sgd", "rmsprop")
    assert optimizers_using("lr") == OPTIMIZERS
    assert [uses_field(name, "momentum") for name in ("sgd", "adam", "rmsprop")] == [
        True, False, True,
    ]  # fmt: skip


@pytest.mark.parametrize("optimizer", ["adam"])
def test_a_momentum_change_is_refused_for_an_optimizer_without_momentum(optimizer):
    current = validate_config({"task": "sin", "samples": 200, "optimizer": optimizer})
    with pytest.raises(ConfigError) as caught:
        validate_changes({"momentum": 0.5, "lr": 0.1}, current)
    assert caught.value.errors == {"momentum": "adam does not use momentum (only sgd, rmsprop)"}


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop"])
def test_a_momentum_change_is_taken_by_an_optimizer_with_momentum(optimizer):
    current = validate_config({"task": "sin", "samples": 200, "optimizer": optimizer})
    assert validate_changes({"momentum": 0.5}, current) == {"momentum": 0.5}


def test_good_changes_come_back_normalised():
    changes = {"lr": 1, "momentum": 0, "weight_decay": 0.5, "batch_size": 200}
    result = validate_changes({**changes, "epochs_per_second": None}, CURRENT)
    assert result == {**changes, "epochs_per_second": None}
    assert isinstance(result["lr"], float) and isinstance(result["momentum"], float)
    assert validate_changes({"epochs_per_second": 5}, CURRENT) == {"epochs_per_second": 5.0}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("lr", 0), ("lr", 10), ("lr", 10.0001), ("lr", "fast"), ("lr", True),
        ("momentum", 0.99), ("momentum", 1), ("weight_decay", -0.1), ("weight_decay", 3),
        ("epochs_per_second", 0.5), ("epochs_per_second", 1), ("epochs_per_second", None),
        ("epochs_per_second", float("inf")), ("batch_size", 0), ("batch_size", 200),
        ("batch_size", 201), ("batch_size", 12.5), ("l1", 0), ("l1", 0.001), ("l1", -1),
        ("l1", 10.5), ("l1", "none"),
    ],
)  # fmt: skip
def test_a_change_follows_the_same_rules_as_creation(name, value):
    body = {"task": "sin", "samples": CURRENT["samples"], name: value}
    try:
        created = validate_config(body)[name]
    except ConfigError as error:
        with pytest.raises(ConfigError) as caught:
            validate_changes({name: value}, CURRENT)
        assert caught.value.errors == error.errors
    else:
        assert validate_changes({name: value}, CURRENT) == {name: created}


def test_a_batch_larger_than_the_runs_samples_is_refused_naming_them():
    with pytest.raises(ConfigError) as caught:
        validate_changes({"batch_size": 201}, CURRENT)
    assert caught.value.errors == {"batch_size": "must be from 1 to 200, got 201"}


def test_every_bad_change_is_reported_at_once():
    body = {"lr": -1, "momentum": 2, "epochs": 10, "hidden": [4], "colour": "red", "batch_size": 1}
    with pytest.raises(ConfigError) as caught:
        validate_changes(body, CURRENT)
    errors = caught.value.errors
    assert set(errors) == {"lr", "momentum", "epochs", "hidden", "colour"}
    assert "cannot change" in errors["epochs"] and "cannot change" in errors["hidden"]
    assert errors["colour"] == "unknown field 'colour'"


@pytest.mark.parametrize("body", [None, [], "lr=1", {}])
def test_a_change_body_must_be_a_non_empty_object(body):
    with pytest.raises(ConfigError) as caught:
        validate_changes(body, CURRENT)
    assert set(caught.value.errors) == {"body"}


# --------------------------------------------------------------------------- issue 11 fields


def test_l2_is_the_weight_decay_knob_and_l1_is_its_own():
    assert PROPERTIES["weight_decay"]["title"] == "L2 (weight decay)"
    assert PROPERTIES["l1"]["default"] == 0 and PROPERTIES["dropout"]["default"] == 0
    config = validate_config({"task": "sin", "l1": 0.001, "weight_decay": 0.01, "dropout": 0.5})
    assert (config["l1"], config["weight_decay"], config["dropout"]) == (0.001, 0.01, 0.5)


@pytest.mark.parametrize(
    ("schedule", "normalised"),
    [
        ("constant", {"name": "constant"}),
        ("step", {"name": "step", "step_size": 100, "gamma": 0.5}),
        ("exponential", {"name": "exponential", "gamma": 0.99}),
        ("inverse", {"name": "inverse", "gamma": 0.001, "power": 0.75}),
        ("cosine", {"name": "cosine", "t_max": 300, "eta_min": 0.0}),  # t_max: the run's epochs
        ({"name": "step", "step_size": 10}, {"name": "step", "step_size": 10, "gamma": 0.5}),
        ({"name": "cosine", "t_max": 50, "eta_min": 1e-4},
         {"name": "cosine", "t_max": 50, "eta_min": 1e-4}),
    ],
)  # fmt: skip
def test_a_schedule_is_normalised_to_the_engines_arguments(schedule, normalised):
    config = validate_config({"task": "sin", "epochs": 300, "schedule": schedule})
    assert config["schedule"] == normalised
    name, params = normalised["name"], {k: v for k, v in normalised.items() if k != "name"}
    optimizer = network.SGD(network.mlp([1, 2, 1]).parameters(), lr=0.1)
    scheduler = network.get_scheduler(name, optimizer, **params)  # the defaults suit the engine
    scheduler.step()
    assert 0 < scheduler.lr <= 0.1


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("linear", "must be one of constant, step, exponential, inverse, cosine or an object"),
        ({"name": "warp"}, "must be one of constant, step"),
        ({"gamma": 0.5}, "must be one of constant, step"),
        ({"name": "step", "gamma": 0}, "gamma must be above 0 and at most 1, got 0"),
        ({"name": "step", "step_size": 0}, "step_size must be from 1 to 100000, got 0"),
        ({"name": "exponential", "gamma": 1.5}, "gamma must be above 0 and at most 1, got 1.5"),
        ({"name": "cosine", "t_max": 2.5}, "t_max must be null or a whole number from 1 to 100000"),
        ({"name": "cosine", "eta_min": -1}, "eta_min must be from 0 to 10, got -1"),
        ({"name": "constant", "gamma": 1}, "unknown parameter 'gamma': a constant schedule takes "
                                           "no parameters"),
    ],
)  # fmt: skip
def test_a_bad_schedule_is_named_with_its_bad_parameter(schedule, message):
    assert errors_of({"task": "sin", "schedule": schedule})["schedule"].startswith(message)


def test_the_schema_offers_the_engines_schedules_by_name_and_as_objects():
    name_branch, object_branch = PROPERTIES["schedule"]["anyOf"]
    assert name_branch["enum"] == list(network.SCHEDULES)
    defs = SCHEMA["$defs"]
    for ref in object_branch["oneOf"]:
        assert ref["$ref"].removeprefix("#/$defs/") in defs
    assert defs["StepSchedule"]["properties"]["gamma"]["exclusiveMinimum"] == 0


def test_input_features_are_normalised_expressions_in_the_tasks_inputs():
    curve = validate_config({"task": "sin", "input_features": [" x ", "x**2", "sin(x)"]})
    assert curve["input_features"] == ["x", "x**2", "sin(x)"]
    playground = ["x", "y", "x**2", "y**2", "x*y", "sin(x)", "sin(y)"]
    assert validate_config({"task": "moons", "input_features": playground})[
        "input_features"
    ] == playground
    assert validate_config({"task": "saddle"})["input_features"] is None  # the raw inputs


@pytest.mark.parametrize(
    ("task", "features", "message"),
    [
        ("sin", ["x", "y"], "feature 2 (y): unknown name 'y'"),
        ("saddle", ["x", "sin(z)"], "feature 2 (sin(z)): unknown name 'z'"),
        ("saddle", ["2x"], "feature 1 (2x): write 2*x"),
        ("sin", ["log(x)"], "feature 1 (log(x)): log(x) is not finite at x = -3.14159"),
        # finite in float64, not in the network's float32 (a fresh user's run failed with nan)
        ("circles", ["exp(100*x)", "y"], "feature 1 (exp(100*x)): exp(100*x) is too large at x ="),
        ("saddle", ["x", "1e13 * y"], "feature 2 (1e13 * y): 1e13 * y is too large at"),
        ("saddle", [], "must be null (the raw inputs) or a list of 1 to 16 expressions"),
        ("saddle", ["x"] * 17, "must be null (the raw inputs) or a list of 1 to 16"),
        ("saddle", "x", "must be null (the raw inputs)"),
        ("saddle", [1], "must be null (the raw inputs)"),
    ],
)
def test_a_bad_input_feature_is_named(task, features, message):
    assert errors_of({"task": task, "input_features": features})["input_features"].startswith(
        message
    )


def test_input_features_are_refused_for_tasks_of_more_than_two_inputs():
    assert validation._feature_texts(["x"], 3, None)[1] == (
        "input features take tasks of one or two inputs (x, or x and y); this task has 3"
    )


def test_l1_is_steerable_by_the_same_rules():
    assert validate_changes({"l1": 0.5}, CURRENT) == {"l1": 0.5}
    with pytest.raises(ConfigError) as caught:
        validate_changes({"l1": 11, "dropout": 0.1}, CURRENT)
    assert caught.value.errors["l1"] == "must be from 0 to 10, got 11"
    assert "cannot change" in caught.value.errors["dropout"]
