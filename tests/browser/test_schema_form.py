"""The form takes its choices and limits from GET /api/schema: the DOM matches the served schema,
and follows a different schema when the server serves one."""

from __future__ import annotations

import copy
import json
from typing import Any

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


def expected_limits(schema: dict[str, Any], name: str) -> dict[str, str]:
    prop = schema["properties"][name]
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    return {
        "min": "" if low is None else str(low),
        "max": "" if high is None else str(high),
        "step": "1" if prop["type"] == "integer" else "any",
    }


def layer_count(page: Any) -> int:
    return page.locator("#hidden-layers input.layer-size").count()


def test_the_forms_choices_and_limits_are_the_served_schemas(page: Any, live_server: Any) -> None:
    schema = get_json(live_server, "/api/schema")
    open_dashboard(page, "/fit/sin")
    state = form_state(page)
    for name in ("activation", "optimizer", "loss"):
        assert state[name] == schema["properties"][name]["enum"], name
    for name in NUMBER_INPUTS:
        assert state["limits"][name] == expected_limits(schema, name), name
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
