"""Any JSON value in any config field is a ConfigError naming fields, never another exception
(schemathesis found `{"schedule": {"name": {}}}` crashing with an unhashable dict)."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.config.schema import TrainingConfig
from app.runs.validation import STEERABLE_FIELDS, ConfigError, validate_changes, validate_run

# keys that mean something somewhere in the config (schedule parameters among them)
KEYS = st.sampled_from(["name", "gamma", "step_size", "power", "t_max", "eta_min"]) | st.text(
    max_size=6
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(["step", "cosine", "x", "sin(x)"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)
FIELDS = sorted(TrainingConfig.model_fields)
TASKS = ["sin", "saddle", "moons", "digits", "custom"]


@settings(max_examples=300, deadline=None)
@given(task=st.sampled_from(TASKS), field=st.sampled_from(FIELDS), value=json_values)
def test_any_json_value_in_a_field_is_a_config_error_or_accepted(task, field, value):
    body = {"task": task, field: value}
    if task == "custom":
        body["expression"] = "x"
    try:
        validate_run(body)
    except ConfigError as error:
        assert error.errors and all(isinstance(m, str) for m in error.errors.values())


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from(list(STEERABLE_FIELDS) + ["hidden", "bogus"]), value=json_values)
def test_any_json_value_in_a_live_change_is_a_config_error_or_accepted(field, value):
    current, _task = validate_run({"task": "sin"})
    try:
        validate_changes({field: value}, current)
    except ConfigError as error:
        assert error.errors


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(KEYS, json_values, max_size=3))
@example(value={"name": {}})
@example(value={"name": ["step"]})
def test_any_schedule_object_is_a_config_error_or_accepted(value):
    try:
        validate_run({"task": "sin", "schedule": value})
    except ConfigError as error:
        assert set(error.errors) == {"schedule"}
