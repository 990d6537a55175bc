"""The Backprop view's arithmetic (static/js/backprop_math.js) in node: every activation's
derivative against central differences and the engine's own, numbers written as the view writes
them."""

from __future__ import annotations

import numpy as np
import pytest
from js_modules import run_js

import network as nn

POINTS = [-2.5, -0.7, -0.01, 0.3, 1.9]


def test_every_activation_and_its_derivative_match_the_engine():
    found = run_js(
        f"""const {{ ACTIVATIONS }} = await importModule('/static/js/backprop_math.js');
        const points = {POINTS};
        return Object.fromEntries(Object.entries(ACTIVATIONS).map(([name, [f, df]]) =>
          [name, [points.map(f), points.map(df)]]));"""
    )
    assert set(found) == set(nn.ACTIVATIONS)
    z = np.array([POINTS], np.float64)
    for name, (values, slopes) in found.items():
        layer = nn.get_activation(name)
        expected = np.asarray(layer.forward(z.copy()), np.float64)[0]
        assert values == pytest.approx(expected, rel=1e-9, abs=1e-12), name
        h = 1e-6
        numeric = (np.asarray(layer.forward(z + h)) - np.asarray(layer.forward(z - h)))[0] / (2 * h)
        assert slopes == pytest.approx(numeric, rel=1e-5, abs=1e-7), name


def test_numbers_are_written_with_three_digits_and_a_real_minus():
    written = run_js(
        """const { num, factor } = await importModule('/static/js/backprop_math.js');
        return [num(-0.31), factor(0.72), num(-0.2232), num(0.000123), num(null), num(12345.6),
                num(-0.000123), num(123456)];"""
    )
    assert written == ["−0.31", "(0.72)", "−0.223", "1.23e−4", "—", "12300", "−1.23e−4",
                       "1.23e+5"]


def test_a_value_before_and_after_a_small_step_shows_the_change():
    """Each side gets the digits that tell them apart: 0.1234 → 0.1237 was '0.123 → 0.124'
    at best and '0.123 → 0.123' for a step under 5e-4 (a fresh user read it as no update)."""
    written = run_js(
        """const { change } = await importModule('/static/js/backprop_math.js');
        return [change(0.1234, 0.1237), change(0.52, 0.5200012), change(-1.5, -2.5),
                change(0.3, 0.3), change(0, 0.001), change(123.0, 123.0000001)];"""
    )
    assert written[0] == "0.1234 → 0.1237"
    assert written[1] == "0.5200000 → 0.5200012" or written[1] == "0.52 → 0.5200012"
    before, after = written[1].split(" → ")
    assert before != after and float(after) == pytest.approx(0.5200012)
    assert written[2] == "−1.5 → −2.5"
    assert written[3] == "0.3 → 0.3"  # no change: three digits
    assert written[4] == "0 → 0.001"
    first, second = written[5].split(" → ")
    assert first != second and float(second) == pytest.approx(123.0000001, abs=1e-9)


def test_step_is_offered_on_a_paused_run_of_ones_own_at_its_live_weights_only():
    offers = run_js(
        """const { stepOffer } = await importModule('/static/js/backprop_step.js');
        return [stepOffer('paused'), stepOffer('paused', true, true), stepOffer('paused', false),
                stepOffer('running'), stepOffer('finished', true, true), stepOffer(null)];"""
    )
    assert offers[0]["enabled"] is True
    assert not offers[1].get("enabled") and "press Live first" in offers[1]["reason"]
    assert not offers[2].get("enabled") and "Someone else's" in offers[2]["reason"]
    assert offers[3]["enabled"] is True and offers[3]["label"] == "Pause and step"
    assert not offers[4].get("enabled") and "has ended (finished)" in offers[4]["reason"]
    assert not offers[5].get("enabled")
