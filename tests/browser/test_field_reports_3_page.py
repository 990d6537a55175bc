"""Field reports, round three (issue 25), in the page: number fields, runs table, markers, views."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from browser_helpers import get_json, open_dashboard
from conftest import VIEWPORT

pytestmark = pytest.mark.browser


@pytest.fixture(params=["en-US", "de-DE"])
def localised_page(request, browser: Any, live_server: Any) -> Iterator[Any]:
    """A page in a browser of this locale (de-DE writes decimal commas)."""
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url,
                                  locale=request.param)  # fmt: skip
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(20_000)
    yield page
    context.close()
    assert not errors


def _type(page: Any, selector: str, text: str) -> None:
    page.fill(selector, "")
    page.click(selector)
    page.keyboard.type(text)


# --- 3. a decimal comma in a number field --------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "typed", "expected"),
    [("lr", "0,001", 0.001), ("lr", "0,05", 0.05), ("weight_decay", "0,0001", 0.0001),
     ("lr", "1e-3", 0.001), ("momentum", ",5", 0.5)],
)
def test_a_decimal_comma_is_read_as_a_decimal_point(localised_page, live_server, field, typed,
                                                    expected):  # fmt: skip
    page = localised_page
    open_dashboard(page, "/fit/sin?epochs=3&optimizer=sgd")
    _type(page, f"#{field}", typed)
    assert page.input_value(f"#{field}") == typed  # the field keeps what was typed
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId")
    run = get_json(live_server, f"/api/runs/{page.evaluate('window.studio.state.runId')}")
    assert run["config"][field] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [("epochs", "1,000", "two ways"), ("lr", "1.000,5", "one decimal mark"),
     ("lr", "0,0,1", "one decimal mark"), ("samples", "2,000", "two ways")],
)
def test_a_number_read_two_ways_is_refused_at_its_field(localised_page, field, typed, message):
    page = localised_page
    open_dashboard(page, "/fit/sin?epochs=3")
    _type(page, f"#{field}", typed)
    page.click("#train")
    page.wait_for_function(f"document.getElementById('error-{field}').textContent !== ''")
    assert message in page.inner_text(f"#error-{field}")
    assert page.evaluate("window.studio.state.runId") is None  # no run with another number


def test_the_domain_and_layer_fields_read_a_decimal_comma_too(localised_page, live_server):
    page = localised_page
    open_dashboard(page, "/fit/sin?epochs=3")
    _type(page, "#domain-0-lo", "-1,5")
    _type(page, "#domain-0-hi", "2,25")
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId")
    run = get_json(live_server, f"/api/runs/{page.evaluate('window.studio.state.runId')}")
    assert run["config"]["domain"] == [[-1.5, 2.25]]


def test_number_reading_rules(page):
    open_dashboard(page, "/fit/sin")
    read = page.evaluate(
        """async () => {
          const { parseDecimal } = await import('/static/js/number_input.js');
          const texts = ['0,001', '-0,5', '1,5e-3', '12', '.5', '0.001', ' 3 ', '1,000', '12,500',
                         '0,500', '1.000,5', '1,2,3', "1'000", 'abc', '', '1e400'];
          return texts.map((text) => { const r = parseDecimal(text);
                                       return [text, r.value, r.problem]; });
        }"""
    )
    got = {text: (value, problem) for text, value, problem in read}
    for text, number in [("0,001", 0.001), ("-0,5", -0.5), ("1,5e-3", 0.0015), ("12", 12),
                         (".5", 0.5), ("0.001", 0.001), (" 3 ", 3), ("0,500", 0.5)]:
        assert got[text] == (pytest.approx(number), ""), text
    for text in ("1,000", "12,500", "1.000,5", "1,2,3", "1'000"):
        assert math.isnan(got[text][0]) and got[text][1], text  # refused, with the reason
    assert math.isnan(got["abc"][0]) and got["abc"][1] == "" and got[""][1] == ""


# --- 4. input features follow the task's inputs ------------------------------------------------


def _ticked(page: Any) -> list[str]:
    return page.evaluate(
        "[...document.querySelectorAll('#feature-toggles input:checked')].map(b => b.value)"
    )


def test_a_one_input_function_made_two_input_ticks_both_inputs(page, live_server):
    open_dashboard(page, "/fit/custom?expression=sin(5*x)*x")
    assert _ticked(page) == ["x"]
    page.fill("#expression", "sin(x)*cos(y)")
    page.wait_for_function("window.studio.state.task.inputs === 2")
    assert _ticked(page) == ["x", "y"]
    assert page.evaluate("window.studio.form.read().config.input_features") is None
    page.fill("#expression", "x**3")  # and back: y goes
    page.wait_for_function("window.studio.state.task.inputs === 1")
    assert _ticked(page) == ["x"]


def test_chosen_features_are_kept_and_the_new_input_added(page):
    open_dashboard(page, "/fit/custom?expression=x**3")
    page.locator("#feature-toggles label", has_text="x²").click()
    page.fill("#expression", "x*y")
    page.wait_for_function("window.studio.state.task.inputs === 2")
    assert _ticked(page) == ["x", "y", "x**2"]
    page.locator("#feature-toggles label", has_text="xy").click()
    page.fill("#expression", "sin(x)")
    page.wait_for_function("window.studio.state.task.inputs === 1")
    assert _ticked(page) == ["x", "x**2"]  # x*y used the lost input


def test_a_run_that_would_not_see_an_input_is_refused_on_the_page(page, problems):
    problems.allow_console("status of 400")  # the server's refusal is the point
    open_dashboard(page, "/fit/saddle?epochs=3")
    page.locator("#feature-toggles label", has_text="y").first.click()  # y off: x alone
    assert _ticked(page) == ["x"]
    page.click("#train")
    error = page.locator("#error-input_features")
    error.wait_for(state="visible")
    page.wait_for_function("document.getElementById('error-input_features').textContent !== ''")
    assert "no feature uses y" in error.inner_text()
    assert page.evaluate("window.studio.state.runId") is None


# --- 8 and 9. the layers card counts non-finite values and exact zeros ---------------------------


@pytest.mark.parametrize(
    ("weights", "grads", "expected", "absent"),
    [
        ({"nonfinite": 12, "zeros": 0, "counts": [52] + [0] * 19},
         {"nonfinite": 0, "zeros": 0, "counts": [64] + [0] * 19},
         ["12 of 64 weights are not finite"], ["exactly 0"]),
        ({"nonfinite": 64, "zeros": 0, "counts": [0] * 20},
         {"nonfinite": 64, "zeros": 0, "counts": [0] * 20},
         ["64 of 64 weights are not finite", "64 of 64 gradients are not finite"], []),
        ({"nonfinite": 0, "zeros": 30, "counts": [6, 30] + [0] * 18},
         {"nonfinite": 0, "zeros": 0, "counts": [36] + [0] * 19},
         ["30 of 36 weights are exactly 0"], ["not finite"]),
    ],
)  # fmt: skip
def test_the_layers_card_says_what_the_histograms_cannot(page, weights, grads, expected, absent):
    open_dashboard(page, "/fit/sin")
    text = page.evaluate(
        """async ([weights, grads]) => {
          const { LayersView } = await import('/static/js/layers_view.js');
          const box = document.createElement('div');
          document.body.append(box);
          const view = new LayersView(box, null);
          view.setSizes([2, 32, 1]);
          const edges = Array.from({ length: 21 }, (_, i) => -1 + i / 10);
          const layer = { weights: { edges, ...weights }, grads: { edges, ...grads },
                          grad_norm: null, dead: null, saturated: 0.5 };
          view.add({ layers: [layer, layer] }, 7);
          view.render();
          return box.querySelector('.layer-share').textContent;
        }""",
        [weights, grads],
    )
    for words in expected:
        assert words in text
    for words in absent:
        assert words not in text


# --- 12. the runs table fits 1440 px and never scrolls sideways at 390 px ------------------------


def _finished(server: Any, *configs: dict) -> list[str]:
    import requests

    ids = []
    for config in configs:
        answer = requests.post(f"{server.url}/api/runs", json={"samples": 200, "epochs": 20,
                                                               **config}, timeout=10)  # fmt: skip
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    for run_id in ids:
        for _ in range(2000):
            if get_json(server, f"/api/runs/{run_id}")["status"] in ("finished", "diverged"):
                break
            requests.get(f"{server.url}/api/tasks", timeout=10)  # a short wait, no sleep
    return ids


@pytest.mark.parametrize("width", [1440, 390])
def test_the_runs_table_fits_with_export_and_delete_visible(page, live_server, width):
    import requests

    rows = "\n".join(f"{k},{20 + k},{(k * 7) % 13},{'abc'[k % 3]},{'pq'[k % 2]}" for k in range(60))
    upload = requests.post(f"{live_server.url}/api/datasets", timeout=10, files={
        "file": ("a long file name of measurements.csv", f",age,size,colour,label\n{rows}\n")})
    dataset = upload.json()["id"]
    _finished(live_server, {"task": "moons", "hidden": [25, 50, 25], "lr": 0.001234},
              {"task": "custom", "expression": "sin(5*x)*x"},
              {"task": f"dataset:{dataset}", "hidden": [8, 8, 8, 8]})  # fmt: skip
    requests.patch(f"{live_server.url}/api/runs/{get_json(live_server, '/api/runs')[0]['id']}/meta",
                   json={"name": "a run with a long name", "notes": "notes that say a lot " * 3},
                   timeout=10)  # fmt: skip
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/runs")
    page.wait_for_function("document.querySelectorAll('tr[data-run-id]').length === 3")
    page.wait_for_function(
        "[...document.querySelectorAll('td.run-task')].some(td => td.textContent.includes('.csv'))"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    wrap = page.locator(".runs-table-wrap")
    assert page.evaluate("e => e.scrollWidth <= e.clientWidth + 1", wrap.element_handle())
    box = wrap.bounding_box()
    for selector in ("a[data-export='npz']", "a[data-export='torch']", "button.delete-run"):
        target = page.locator(f"tr[data-run-id] {selector}").first.bounding_box()
        inside = target["x"] + target["width"] <= box["x"] + box["width"] + 1
        assert target["x"] >= box["x"] - 1 and inside
        assert target["width"] > 0
        centre = [target["x"] + target["width"] / 2, target["y"] + target["height"] / 2]
        hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.outerHTML ?? ''", centre)
        assert hit.startswith(("<a", "<button")) and selector.split("[")[0].split(".")[-1] in hit
    assert "a long file name of measurements.csv" in page.inner_text("#runs-body")


def test_an_npz_link_that_cannot_export_says_why(page, live_server, problems):
    problems.allow_console("status of 400")  # the server's answer is the point
    featured, plain = _finished(live_server, {"task": "sin", "input_features": ["x", "x**2"]},
                                {"task": "sin"})  # fmt: skip
    page.goto("/runs")
    page.wait_for_function("document.querySelectorAll('tr[data-run-id]').length === 2")
    for kind in ("npz", "torch"):
        page.click(f'tr[data-run-id="{featured}"] a[data-export="{kind}"]')
        note = page.locator(f'tr[data-run-id="{featured}"] .export-note')
        note.wait_for(state="visible")
        assert "input features" in note.inner_text() and "json" in note.inner_text()
    with page.expect_download() as download:
        page.click(f'tr[data-run-id="{plain}"] a[data-export="npz"]')
    assert download.value.suggested_filename == f"run-{plain}-model.npz"
    assert page.locator(f'tr[data-run-id="{plain}"] .export-note').count() == 0


# --- 11. tasks of more than two inputs: what teaches comes first --------------------------------


def _projection_traces(page: Any) -> list[dict]:
    return page.evaluate(
        """() => (document.getElementById('projection-view').data || []).map(t => ({
            name: t.name, n: t.x.length, colour: t.marker.color, symbol: t.marker.symbol ?? null,
            cls: t.meta ? t.meta.predictedClass : null }))"""
    )


def test_digits_opens_on_its_test_images_confusion_and_projection(page, live_server):
    open_dashboard(page, "/fit/digits?epochs=15&hidden=32")
    # the test images and the confusion matrix above the slice view, as drawn
    assert page.locator("#insight-card").bounding_box()["y"] < page.locator(
        ".fit-card").bounding_box()["y"]
    page.click("#train")
    page.wait_for_function(
        "(document.getElementById('projection-view').data || []).some(t => t.meta &&"
        " t.meta.predictedClass >= 0)", timeout=60_000)  # fmt: skip
    page.wait_for_function("window.studio.state.status === 'finished'", timeout=60_000)
    page.wait_for_function(
        "(document.getElementById('projection-view').data || []).filter(t => t.meta &&"
        " t.meta.predictedClass >= 0).length >= 8", timeout=30_000)  # fmt: skip
    traces = [t for t in _projection_traces(page) if t["cls"] is not None and t["cls"] >= 0]
    pairs = {(t["colour"], t["symbol"]) for t in traces}
    assert len({t["colour"] for t in traces}) == len(traces)  # every class its own colour
    assert len({t["symbol"] for t in traces}) == len(traces)  # and its own shape
    assert len(pairs) == len(traces)
    assert "PC1" in page.inner_text("#projection-caption")
    assert page.locator("#images-part").is_visible()
    assert page.locator("#confusion-part").is_visible()


def test_ten_classes_have_ten_markers_and_colours(page):
    open_dashboard(page, "/fit/digits")
    got = page.evaluate(
        """async () => {
          const { CLASS_SYMBOLS } = await import('/static/js/decision_colours.js');
          const { palette } = await import('/static/js/theme.js');
          return { symbols: CLASS_SYMBOLS.slice(0, 10), colours: palette().classes.slice(0, 10) };
        }"""
    )
    assert len(set(got["symbols"])) == 10 and len(set(got["colours"])) == 10


def test_a_table_of_many_inputs_shows_its_test_set_projected(page, live_server, tmp_path):
    rng = np.random.default_rng(2)
    lines = ["radius,texture,area,smoothness,diagnosis"]
    for k in range(300):
        label = k % 2
        values = rng.normal(label * 1.5, 1.0, 4)
        lines.append(",".join(f"{v:.3f}" for v in values) + f",{'BM'[label]}")
    path = tmp_path / "cancer.csv"
    path.write_text("\n".join(lines) + "\n")
    open_dashboard(page, "/fit/sin")
    page.set_input_files("#upload", str(path))
    page.wait_for_function("location.pathname.startsWith('/fit/dataset:')")
    page.fill("#epochs", "30")
    page.click("#train")
    page.wait_for_function("window.studio.state.status === 'finished'", timeout=60_000)
    page.wait_for_function(
        "(document.getElementById('projection-view').data || []).filter(t => t.meta &&"
        " t.meta.predictedClass >= 0).length === 2", timeout=30_000)  # fmt: skip
    traces = [t for t in _projection_traces(page) if t["cls"] is not None and t["cls"] >= 0]
    assert sum(t["n"] for t in traces) == 90  # every shown test point (30 % of 300)
    assert {t["name"] for t in traces} == {"predicted B", "predicted M"}
    box_insight = page.locator("#insight-card").bounding_box()
    box_fit = page.locator(".fit-card").bounding_box()
    assert box_insight["y"] < box_fit["y"]


# --- 10. axis and label faults ----------------------------------------------------------------


def test_histogram_value_labels_are_not_clipped(page):
    open_dashboard(page, "/fit/sin")
    clipped = page.evaluate(
        """async () => {
          const { LayersView } = await import('/static/js/layers_view.js');
          const box = document.createElement('div');
          box.style.width = '900px';
          document.body.append(box);
          const view = new LayersView(box, null);
          view.setSizes([2, 32, 1]);
          const edges = Array.from({ length: 21 }, (_, i) => -1.23456e-5 - 45678.9 * i);
          const counts = Array.from({ length: 20 }, () => 3);
          const layer = { weights: { edges: edges.reverse(), counts, nonfinite: 0, zeros: 0 },
                          grads: { edges, counts, nonfinite: 0, zeros: 0 }, grad_norm: 1e-7 };
          view.add({ layers: [layer, layer] }, 1);
          view.add({ layers: [layer, layer] }, 2);
          view.render();
          const left = box.getBoundingClientRect().left;
          return [...box.querySelectorAll('.hist-y')].map((e) => [e.textContent,
            e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().left < left]);
        }"""
    )
    assert clipped and all(text and not cut for text, cut in clipped), clipped


NET_LABELS = """() => [...document.querySelectorAll('#network-view .net-label')].map(l => {
  const r = l.getBoundingClientRect();
  const parts = [...l.children].map(c => [c.textContent, c.scrollWidth <= c.clientWidth + 1]);
  return { left: r.left, right: r.right, parts };
})"""


@pytest.mark.parametrize(
    ("path", "width"),
    [("/fit/moons?hidden=30,25", 1280), ("/fit/moons?hidden=30,25,300,16", 1280),
     ("/fit/sin?hidden=64,64,64,64,64,64", 1024), ("/fit/moons?hidden=300,25,30", 390)],
)
def test_network_card_labels_never_collide_or_cut(page, path, width):
    page.set_viewport_size({"width": width, "height": 900})
    open_dashboard(page, path)
    # (a card out of sight is drawn once seen: on a phone the network card is further down)
    page.locator("#network-view").scroll_into_view_if_needed()
    page.wait_for_function("document.querySelectorAll('#network-view .net-label').length >= 3")
    labels = page.evaluate(NET_LABELS)
    for a, b in zip(labels, labels[1:], strict=False):
        assert a["right"] <= b["left"] + 0.5, (a, b)  # side by side, never over each other
    for label in labels:
        assert all(whole for _text, whole in label["parts"]), label  # no text cut short
    counts = [label["parts"][1][0] for label in labels]
    assert any(" of " in count or "/" in count for count in counts)  # wide layers say how many


def test_a_small_net_is_drawn_large_one_column_per_layer(page):
    open_dashboard(page, "/fit/sin?hidden=4,4")
    page.wait_for_function("document.querySelectorAll('#network-view .neuron').length === 9")
    sizes = page.evaluate(
        "[...document.querySelectorAll('#network-view .neuron')].map(n => "
        "[n.getBoundingClientRect().width, Math.round(n.getBoundingClientRect().left)])"
    )
    assert min(width for width, _left in sizes) >= 48  # was 40 px at most
    assert len({left for _width, left in sizes}) == 3  # one column per layer
    page.locator("#network-view [data-neuron]").first.click()
    enlarged = page.locator("[data-neuron-enlarged] canvas")
    enlarged.wait_for(state="visible")
    assert enlarged.bounding_box()["width"] >= 200  # a readable size (was 168 px)


def test_long_input_names_are_not_cut(page, live_server):
    import requests

    header = "sepal length,sepal width,species"
    rows = "\n".join(
        f"{5 + k % 3 * 0.5:.1f},{3 + k % 5 * 0.1:.1f},{'ab'[k % 2]}" for k in range(60)
    )
    answer = requests.post(f"{live_server.url}/api/datasets", timeout=10,
                           files={"file": ("iris.csv", f"{header}\n{rows}\n")})  # fmt: skip
    open_dashboard(page, f"/fit/dataset:{answer.json()['id']}")
    page.click("#train")
    page.wait_for_function(
        "[...document.querySelectorAll('#network-view .net-input-name')].map(n => n.textContent)"
        ".join(',') === 'sepal length,sepal width'"
    )
    names = page.evaluate(
        "[...document.querySelectorAll('#network-view .net-input-name')].map(n => "
        "[n.textContent, n.scrollWidth <= n.clientWidth + 1, n.getBoundingClientRect().left])"
    )
    box = page.locator("#network-view").bounding_box()
    assert all(whole and left >= box["x"] - 1 for _text, whole, left in names), names
    assert page.evaluate("document.querySelector('#task').selectedOptions[0].textContent")\
        .startswith("iris.csv")  # the dashboard lists the upload by its file name


def test_the_time_axis_of_a_seed_group_is_explained_in_the_caption(page, live_server):
    ids = _finished(live_server, *({"task": "moons", "hidden": [4], "seed": seed}
                                   for seed in (1, 2, 3)))  # fmt: skip
    page.goto("/runs")
    page.wait_for_function("document.querySelectorAll('tr[data-run-id]').length === 3")
    for run_id in ids:
        page.check(f'tr[data-run-id="{run_id}"] input.select-run')
    page.wait_for_function(
        "(document.getElementById('overlay-loss').data || [])"
        ".some(t => t.meta && t.meta.runs === 3)"
    )  # one group: the derived domains differ by seed, the configs do not
    note = page.locator("#overlay-loss").locator("xpath=..").locator(".axis-note")
    assert not note.is_visible()
    page.check("input[name=x-axis][value=seconds]")
    note.wait_for(state="visible")
    assert "mean seconds per epoch" in note.inner_text()
    xs = page.evaluate(
        "document.getElementById('overlay-loss').data.filter(t => t.meta && t.meta.runs === 3"
        " && !t.meta.kind)[0].x"
    )
    assert all(b >= a for a, b in zip(xs, xs[1:], strict=False))


def test_a_live_decimal_comma_steers_and_an_ambiguous_one_is_refused(page, live_server):
    open_dashboard(page, "/fit/sin?epochs_per_second=40&epochs=100000", full_speed=False)
    page.click("#train")
    page.wait_for_function("window.studio?.state.runId && window.studio?.state.haveSnapshot")
    run_id = page.evaluate("window.studio.state.runId")
    _type(page, "#lr", "0,002")
    page.wait_for_function(
        "() => (document.getElementById('loss-chart').data[4].y || []).includes(0.002)"
    )
    assert get_json(live_server, f"/api/runs/{run_id}")["config"]["lr"] == 0.002
    _type(page, "#lr", "1,000")
    page.wait_for_function("document.getElementById('error-lr').textContent.includes('two ways')")
    assert get_json(live_server, f"/api/runs/{run_id}")["config"]["lr"] == 0.002  # unchanged
    page.click("#stop")
