"""The form takes its choices and limits from GET /api/schema: the DOM matches the served schema,
and follows a different schema when the server serves one."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from browser_helpers import get_json, open_dashboard

pytestmark = pytest.mark.browser

NUMBER_INPUTS = ("lr", "momentum", "weight_decay", "batch_size", "epochs", "samples", "noise",
                 "test_fraction", "seed")  # fmt: skip


def form_state(page: Any) -> dict[str, Any]:
    """What the form offers: choices of the selects, min/max/step of the inputs, layer limits."""
    return page.evaluate(
        """(numbers) => {
          const $ = (s) => document.querySelector(s);
          const options = (id) => [...$(`#${id}`).options].map((o) => o.value);
          const limits = {};
          for (const id of numbers) {
            const input = $(`#${id}`);
            limits[id] = { min: input.min, max: input.max, step: input.step };
          }
          const layer = $('#hidden-layers input.layer-size');
          return {
            activation: options('activation'), optimizer: options('optimizer'),
            loss: options('loss'), limits,
            layer: { min: layer.min, max: layer.max },
            expressionMaxLength: $('#expression').maxLength,
          };
        }""",
        list(NUMBER_INPUTS),
    )


def expected_limits(schema: dict[str, Any], name: str) -> dict[str, Any]:
    prop = schema["properties"][name]
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    return {"min": low, "max": high, "step": "1" if prop["type"] == "integer" else "any"}


def read_limits(limits: dict[str, str]) -> dict[str, Any]:
    """An input's min/max attributes as numbers (None when absent), its step as written."""
    return {"min": float(limits["min"]) if limits["min"] else None,
            "max": float(limits["max"]) if limits["max"] else None,
            "step": limits["step"]}  # fmt: skip


def layer_count(page: Any) -> int:
    return page.locator("#hidden-layers input.layer-size").count()


def test_the_forms_choices_and_limits_are_the_served_schemas(page: Any, live_server: Any) -> None:
    schema = get_json(live_server, "/api/schema")
    open_dashboard(page, "/fit/sin")
    state = form_state(page)
    for name in ("activation", "optimizer", "loss"):
        assert state[name] == schema["properties"][name]["enum"], name
    for name in NUMBER_INPUTS:
        assert read_limits(state["limits"][name]) == expected_limits(schema, name), name
    assert state["limits"]["lr"]["max"] == "10"
    items = schema["properties"]["hidden"]["items"]
    assert state["layer"] == {"min": str(items["minimum"]), "max": str(items["maximum"])}
    assert state["expressionMaxLength"] == schema["properties"]["expression"]["maxLength"]
    for _ in range(schema["properties"]["hidden"]["maxItems"] + 2):
        if page.is_disabled("#add-layer"):
            break
        page.click("#add-layer")
    assert layer_count(page) == schema["properties"]["hidden"]["maxItems"]
    assert page.is_disabled("#add-layer")


def test_the_form_follows_whatever_schema_the_server_serves(page: Any, live_server: Any) -> None:
    schema = copy.deepcopy(get_json(live_server, "/api/schema"))
    properties = schema["properties"]
    properties["activation"]["enum"] = ["relu", "tanh"]
    properties["lr"]["maximum"] = 0.5
    properties["epochs"]["maximum"] = 777
    properties["hidden"]["maxItems"] = 3
    properties["hidden"]["items"]["maximum"] = 64
    page.route(
        "**/api/schema",
        lambda route: route.fulfill(content_type="application/json", body=json.dumps(schema)),
    )
    open_dashboard(page, "/fit/sin")
    state = form_state(page)
    assert state["activation"] == ["relu", "tanh"]
    assert state["limits"]["lr"]["max"] == "0.5" and state["limits"]["epochs"]["max"] == "777"
    assert state["layer"]["max"] == "64"
    page.click("#add-layer")  # sin starts with 2 layers: a third is the last allowed
    assert layer_count(page) == 3 and page.is_disabled("#add-layer")

    page.fill("#lr", "0.6")
    page.fill("#epochs", "778")
    page.fill("#hidden-0", "65")
    page.click("#train")
    page.locator("#error-lr").wait_for(state="visible")
    assert "at most 0.5" in page.locator("#error-lr").inner_text()
    assert "1 to 777" in page.locator("#error-epochs").inner_text()
    assert "1 to 64" in page.locator("#error-hidden").inner_text()
    assert get_json(live_server, "/api/runs") == []


def test_a_learning_rate_of_10_passes_the_form_and_more_is_flagged(
    page: Any, live_server: Any
) -> None:
    open_dashboard(page, "/fit/sin")
    page.fill("#lr", "10.5")
    page.click("#train")
    page.locator("#error-lr").wait_for(state="visible")
    assert "above 0 and at most 10" in page.locator("#error-lr").inner_text()
    assert get_json(live_server, "/api/runs") == []

    page.fill("#lr", "10")
    page.fill("#epochs", "1")
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId !== null")
    assert [run["config"]["lr"] for run in get_json(live_server, "/api/runs")] == [10]


# ------------------------------------------------------- fields, live tags, hidden fields, URL
# The page builds these from the schema's fields and its x-live / x-optimizers keywords.

LIVE = "x-live"
OPTIMIZERS_USING = "x-optimizers"
PAGE_ONLY = {"file"}  # the upload picker makes a task: no field of the config
DERIVED = {"kind"}  # an upload's kind follows the target column picked: no control of its own


def number_fields(schema: dict[str, Any]) -> list[str]:
    """The schema's number fields that cannot be null (typed in an input of the form)."""
    return [
        name
        for name, prop in schema["properties"].items()
        if prop.get("type") in ("number", "integer")
    ]


def offered_fields(page: Any) -> set[str]:
    return set(
        page.evaluate(
            "() => [...document.querySelectorAll('[data-field]')].map((e) => e.dataset.field)"
        )
    )


def tags(page: Any) -> dict[str, str]:
    """{field: its tag's text} of every tagged field."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.tag[data-tag]')]
             .map((tag) => [tag.dataset.tag, tag.textContent]))"""
    )


def test_the_page_offers_every_field_of_the_schema_and_no_other(
    page: Any, live_server: Any
) -> None:
    schema = get_json(live_server, "/api/schema")
    open_dashboard(page, "/fit/sin")
    assert offered_fields(page) - PAGE_ONLY == set(schema["properties"]) - DERIVED
    inputs = page.evaluate(
        """() => [...document.querySelectorAll('#config-form input[data-number]')]
             .filter((input) => !input.classList.contains('layer-size')
                                && input.dataset.field !== 'domain')
             .map((input) => input.id)"""
    )
    assert sorted(inputs) == sorted(number_fields(schema))
    page.select_option("#optimizer", "sgd")
    read = page.evaluate("() => window.studio.form.read().config")
    assert set(number_fields(schema)) <= set(read)


def test_the_form_shows_a_field_only_for_the_optimizers_that_use_it(
    page: Any, live_server: Any
) -> None:
    schema = get_json(live_server, "/api/schema")
    properties = schema["properties"]
    assert properties["momentum"][OPTIMIZERS_USING] == ["sgd", "rmsprop"]
    open_dashboard(page, "/fit/sin")
    shown = {}
    for optimizer in properties["optimizer"]["enum"]:
        page.select_option("#optimizer", optimizer)
        for name, prop in properties.items():
            if OPTIMIZERS_USING in prop:
                uses = optimizer in prop[OPTIMIZERS_USING]
                assert page.is_visible(f'[data-field="{name}"]') == uses, (optimizer, name)
                read = page.evaluate("() => window.studio.form.read().config")
                assert (name in read) == uses and (f"{name}=" in page.url) == uses
        shown[optimizer] = page.is_visible('[data-field="momentum"]')
    assert shown == {"adam": False, "sgd": True, "rmsprop": True}


def test_the_live_tags_are_the_schemas_live_fields(page: Any, live_server: Any) -> None:
    schema = get_json(live_server, "/api/schema")
    live = {name for name, prop in schema["properties"].items() if prop.get(LIVE)}
    open_dashboard(page, "/fit/sin")
    tagged = tags(page)
    assert set(number_fields(schema)) <= set(tagged)
    assert {name for name, text in tagged.items() if text == "live"} == live & set(tagged)
    assert {name for name, text in tagged.items() if text == "next run"} == set(tagged) - live
    assert {"lr", "momentum", "batch_size", "l1", "weight_decay", "epochs_per_second"} <= live


def test_the_tags_and_hidden_fields_follow_whatever_schema_the_server_serves(
    page: Any, live_server: Any
) -> None:
    schema = copy.deepcopy(get_json(live_server, "/api/schema"))
    properties = schema["properties"]
    properties["epochs"][LIVE] = True
    del properties["lr"][LIVE]
    properties["momentum"][OPTIMIZERS_USING] = ["sgd"]
    page.route(
        "**/api/schema",
        lambda route: route.fulfill(content_type="application/json", body=json.dumps(schema)),
    )
    open_dashboard(page, "/fit/sin")
    tagged = tags(page)
    assert tagged["epochs"] == "live" and tagged["lr"] == "next run"
    assert page.evaluate("document.querySelector('[data-field=epochs]').matches('.steerable')")
    page.select_option("#optimizer", "rmsprop")
    assert not page.is_visible('[data-field="momentum"]')
    page.select_option("#optimizer", "sgd")
    assert page.is_visible('[data-field="momentum"]')


def typed_value(prop: dict[str, Any]) -> str:
    """A value within the field's limits, other than its default."""
    low = prop.get("minimum", prop.get("exclusiveMinimum", 0))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    if prop["type"] == "integer":
        return str(low + 3)
    return str(low + (high - low) / 8 if high is not None else low + 0.125)


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_the_url_parameters_round_trip_every_field_the_form_offers(
    page: Any, live_server: Any
) -> None:
    schema = get_json(live_server, "/api/schema")
    properties = schema["properties"]
    open_dashboard(page, "/fit/moons", full_speed=False)
    page.select_option("#optimizer", "rmsprop")
    page.select_option("#activation", "relu")
    page.select_option("#loss", "mse")
    page.select_option("#schedule", "cosine")
    page.select_option("#epochs_per_second", "200")
    page.fill("#hidden-0", "5")
    page.fill("#domain-0-lo", "-1.5")
    page.check('#feature-toggles input[value="x*y"]')
    typed = {name: typed_value(properties[name]) for name in number_fields(schema)}
    assert typed["momentum"] != str(properties["momentum"]["default"])
    for name, value in typed.items():
        page.fill(f"#{name}", value)
    page.wait_for_function("seed => location.search.includes(`seed=${seed}`)", arg=typed["seed"])
    before = page.evaluate("() => window.studio.form.rawConfig()")
    query = query_of(page.url)
    assert set(query) == set(before)  # every field the form offers, and no other
    assert set(query) <= set(properties) and {"momentum", "loss", "domain"} <= set(query)
    assert {name: query[name] for name in typed} == typed

    page.goto(page.url)
    page.wait_for_function("window.studio && window.studio?.state.task !== null")
    assert page.evaluate("() => window.studio.form.rawConfig()") == before
    assert query_of(page.url) == query
