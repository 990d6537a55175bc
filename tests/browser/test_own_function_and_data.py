"""Your own function, your own data, previews before training and the speed control, in a real
browser.

Same fixtures and rules as test_dashboard.py: a console error, an uncaught exception or a request
to another host fails the test (the browser logs a refused request itself, so tests that expect
a 400 allow exactly that message).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import get_json, open_dashboard, wait_status

pytestmark = pytest.mark.browser

TARGET_CURVE = "document.getElementById('fit-data').data[2]"  # the target's trace, 1-D view
PREDICTION = "document.getElementById('fit-prediction').data[0]"
POINTS = "document.getElementById('fit-points')"


def wait_target_curve(page: Any, formula_js: str) -> None:
    """Until the 1-D preview's target trace holds 200 points equal to `formula_js` (in x)."""
    page.wait_for_function(
        f"""() => {{
          const gd = document.getElementById('fit-data');
          if (!gd || !gd.data || !gd.data[2] || gd.data[2].x.length !== 200) return false;
          const t = gd.data[2];
          const close = (a, b) => Math.abs(a - b) <= 1e-4 * (1 + Math.abs(a));
          return t.x.every((x, i) => close(t.y[i], {formula_js}));
        }}"""
    )


def write_csv(path: Path, header: str, rows: list[tuple[Any, ...]]) -> Path:
    path.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


# ---------------------------------------------------------------- your function


def test_your_function_previews_then_trains_and_fits(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin")
    page.select_option("#task", "custom")
    page.wait_for_function("location.pathname === '/fit/custom'")
    assert page.is_visible("#expression")
    page.fill("#expression", "sin(5*x)*x")
    wait_target_curve(page, "Math.sin(5 * x) * x")
    # A point checked by hand as well: x = -3 + 6 * 37 / 199.
    x, y = page.evaluate(f"[{TARGET_CURVE}.x[37], {TARGET_CURVE}.y[37]]")
    assert x == pytest.approx(-3 + 6 * 37 / 199, abs=1e-5)
    assert y == pytest.approx(math.sin(5 * x) * x, abs=1e-4)
    assert page.is_visible(".fit-card .empty-state.as-badge")  # "preview · press Train"
    assert "expression=sin(5*x)*x" in page.url
    assert get_json(live_server, "/api/runs") == []  # a preview starts nothing

    page.fill("#lr", "0.005")
    page.fill("#epochs", "1000")
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId && window.studio?.state.haveSnapshot")
    run_id = page.evaluate("window.studio.state.runId")
    wait_status(page, "finished", timeout=60_000)
    run = get_json(live_server, f"/api/runs/{run_id}")
    assert run["config"]["task"] == "custom" and run["config"]["expression"] == "sin(5*x)*x"
    assert run["test_loss"] < 0.05

    page.wait_for_function(f"{PREDICTION}.y.length === 200")
    page.wait_for_function("!window.studio?.fitView.busy")
    xs, predicted = page.evaluate(f"[Array.from({PREDICTION}.x), Array.from({PREDICTION}.y)]")
    for i in (20, 60, 100, 140, 180):
        assert predicted[i] == pytest.approx(math.sin(5 * xs[i]) * xs[i], abs=0.35), xs[i]
    assert page.is_hidden(".fit-card .empty-state")


def test_a_bad_expression_shows_its_error_and_starts_no_run(
    page: Any, live_server: Any, problems: Any
) -> None:
    problems.allow_console(r"status of 400")  # the browser logs the refused preview itself
    open_dashboard(page, "/fit/custom?expression=x**2")
    wait_target_curve(page, "x ** 2")
    assert page.is_enabled("#train")

    page.fill("#expression", "sin(5*x)*q")
    error = page.locator("#error-expression")
    error.wait_for(state="visible")
    assert "unknown name 'q'" in error.inner_text()
    assert page.get_attribute("#expression", "aria-invalid") == "true"
    assert page.is_disabled("#train")
    assert page.get_attribute("#train", "aria-disabled") == "true"  # says so to a screen reader
    page.press("#expression", "Enter")  # no way around the disabled button
    page.wait_for_timeout(300)
    assert get_json(live_server, "/api/runs") == []
    assert page.evaluate("window.studio.state.runId") is None

    page.fill("#expression", "log(x)")  # parses, but is not finite on [-3, 3]
    page.wait_for_function(
        "document.getElementById('error-expression').textContent.includes('not finite')"
    )
    assert page.is_disabled("#train")

    page.fill("#expression", "cos(x)")  # fixed: message gone, Train back
    error.wait_for(state="hidden")
    wait_target_curve(page, "Math.cos(x)")
    assert page.is_enabled("#train")
    assert get_json(live_server, "/api/runs") == []


def test_your_surface_round_trips_through_the_url(page: Any) -> None:
    open_dashboard(page, "/fit/custom?expression=x")
    assert page.locator("#domain-inputs input").count() == 2
    page.fill("#expression", "abs(x) - y**2")  # uses y: a surface over x and y
    page.wait_for_function("document.querySelectorAll('#domain-inputs input').length === 4")
    page.fill("#domain-1-lo", "-2")
    page.fill("#domain-1-hi", "1")
    page.wait_for_function("location.search.includes('domain=-3,3,-2,1')")
    assert "expression=abs(x)" in page.url

    page.reload()
    page.wait_for_function("window.studio && window.studio?.state.task !== null")
    assert page.input_value("#expression") == "abs(x) - y**2"
    assert page.input_value("#domain-1-lo") == "-2" and page.input_value("#domain-1-hi") == "1"
    page.wait_for_function(
        "(() => { const gd = document.getElementById('fit-target');"
        " return gd.data && gd.data.length === 1 && gd.data[0].type === 'surface'; })()"
    )
    target = page.evaluate(
        "(() => { const t = document.getElementById('fit-target').data[0];"
        " return {x: t.x, y: t.y, z: t.z}; })()"
    )
    assert len(target["x"]) == 50 and target["y"][0] == -2 and target["y"][-1] == 1
    for j, i in ((0, 0), (10, 30), (49, 25)):
        x, y = target["x"][i], target["y"][j]
        assert target["z"][j][i] == pytest.approx(abs(x) - y**2, abs=1e-4)


# ---------------------------------------------------------------- your data


def test_uploading_labelled_points_previews_them_by_class_and_trains(
    page: Any, live_server: Any, tmp_path: Path
) -> None:
    rows = []
    for i in range(240):  # two clusters, labels by name
        angle = 2 * math.pi * i / 240
        label = "left" if i % 2 else "right"
        centre = -2 if label == "left" else 2
        rows.append(
            (round(centre + 0.6 * math.cos(angle), 4), round(0.6 * math.sin(angle), 4), label)
        )
    csv = write_csv(tmp_path / "two.csv", "x,y,label", rows)

    open_dashboard(page, "/fit/sin")
    page.set_input_files("#upload", str(csv))
    page.wait_for_function("location.pathname.startsWith('/fit/dataset:')")
    dataset_id = page.evaluate("location.pathname.split(':')[1]")
    assert "240 rows" in page.inner_text("#upload-status")
    page.wait_for_function(
        f"(() => {{ const gd = {POINTS}; return gd && gd.data"
        " && gd.data.slice(0, 2).every(t => t.x.length === 120); })()"
    )
    names = page.evaluate(f"{POINTS}.data.slice(0, 2).map(t => t.name)")
    assert names == ["class left", "class right"]
    assert page.input_value("#task") == f"dataset:{dataset_id}"
    assert page.is_disabled("#samples") and page.input_value("#samples") == "240"

    page.fill("#epochs", "30")
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId && window.studio?.state.haveSnapshot")
    run_id = page.evaluate("window.studio.state.runId")
    wait_status(page, "finished")
    run = get_json(live_server, f"/api/runs/{run_id}")
    assert run["config"]["task"] == f"dataset:{dataset_id}"
    assert run["test_acc"] >= 0.95
    assert f"/fit/dataset:{dataset_id}" in page.url

    # The link reopens the upload (while the server keeps it).
    page.goto(f"/fit/dataset:{dataset_id}")
    page.wait_for_function(
        f"(() => {{ const gd = {POINTS}; return gd && gd.data"
        " && gd.data.slice(0, 2).every(t => t.x.length === 120); })()"
    )


def test_uploading_a_curve_previews_its_points_and_trains(
    page: Any, live_server: Any, tmp_path: Path
) -> None:
    rows = [(round(-1 + 2 * i / 99, 4), round((-1 + 2 * i / 99) ** 3, 5)) for i in range(100)]
    csv = write_csv(tmp_path / "cube.csv", "x,target", rows)
    open_dashboard(page, "/fit/saddle")
    page.set_input_files("#upload", str(csv))
    page.wait_for_function("location.pathname.startsWith('/fit/dataset:')")
    page.wait_for_function(
        "(() => { const gd = document.getElementById('fit-data');"
        " return gd && gd.data && gd.data[0].x.length === 100; })()"
    )
    assert page.evaluate("document.getElementById('fit-data').data[0].y[99]") == 1
    page.fill("#epochs", "50")
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId && window.studio?.state.haveSnapshot")
    wait_status(page, "finished")
    page.wait_for_function(f"{PREDICTION}.y.length === 200")


def test_a_malformed_csv_shows_the_line_numbered_error(
    page: Any, live_server: Any, problems: Any, tmp_path: Path
) -> None:
    problems.allow_console(r"status of 400")  # the browser logs the refused upload itself
    csv = write_csv(tmp_path / "bad.csv", "x,target", [(0, 1), (1, 2), (2, "zz")])
    open_dashboard(page, "/fit/sin")
    page.set_input_files("#upload", str(csv))
    error = page.locator("#error-file")
    error.wait_for(state="visible")
    text = error.inner_text()
    assert "bad.csv" in text and "line 4" in text and "zz" in text
    assert page.input_value("#task") == "sin"  # nothing else changed
    assert get_json(live_server, "/api/runs") == []


def test_an_unknown_dataset_link_gives_the_friendly_404(page: Any, problems: Any) -> None:
    problems.allow_console(r"status of 404")
    response = page.goto("/fit/dataset:nosuchdata")
    assert response.status == 404
    assert "nosuchdata" in page.inner_text("#notfound-message")


# ---------------------------------------------------------------- previews and speed


def test_every_task_shows_a_preview_before_training(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin")
    wait_target_curve(page, "Math.sin(x)")
    page.fill("#domain-0-hi", "6")  # the preview follows the range
    page.wait_for_function(f"{TARGET_CURVE}.x[199] === 6")
    wait_target_curve(page, "Math.sin(x)")

    page.select_option("#task", "moons")
    page.wait_for_function(
        f"(() => {{ const gd = {POINTS}; return gd && gd.data && gd.data.length"
        " && gd.data[0].x.length > 100 && gd.data[1].x.length > 100; })()"
    )
    before = page.evaluate(f"Array.from({POINTS}.data[0].x)")
    page.fill("#noise", "0.05")  # new noise, new points
    page.wait_for_function(
        f"before => {POINTS}.data[0].x.some((v, i) => v !== before[i])", arg=before
    )

    page.select_option("#task", "saddle")
    page.wait_for_function(
        "(() => { const gd = document.getElementById('fit-target');"
        " return gd.data && gd.data[0] && gd.data[0].z && gd.data[0].z.length === 50; })()"
    )
    z = page.evaluate("document.getElementById('fit-target').data[0].z")
    assert z[0][0] == pytest.approx(0) and z[25][0] == pytest.approx(1 - (1 / 49) ** 2, abs=1e-4)
    assert get_json(live_server, "/api/runs") == []


def test_the_speed_control_slows_a_run_and_is_sent_to_the_server(
    page: Any, live_server: Any
) -> None:
    open_dashboard(page, "/fit/sin")
    page.select_option("#epochs_per_second", "20")
    page.wait_for_function("location.search.includes('epochs_per_second=20')")
    page.fill("#epochs", "100000")
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId && window.studio?.state.haveSnapshot")
    run_id = page.evaluate("window.studio.state.runId")
    wait_status(page, "running")
    page.wait_for_function("Number(document.getElementById('status').dataset.epoch) >= 5")
    run = get_json(live_server, f"/api/runs/{run_id}")
    assert run["config"]["epochs_per_second"] == 20
    # ~20 epochs per second of the server's own training time (full speed: hundreds)
    assert 5 <= run["epoch"] <= 20 * run["elapsed"] + 3, run
    page.click("#stop")
    wait_status(page, "stopped")

    page.reload()  # the link keeps the speed
    page.wait_for_function("window.studio && window.studio?.state.task !== null")
    assert page.input_value("#epochs_per_second") == "20"
