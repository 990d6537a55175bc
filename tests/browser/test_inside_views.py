"""Look inside the network while it learns (issue 12, the page): every shown neuron drawn as its
own map in the network panel and redrawn as the run trains, a click or Enter enlarging one beside
the fit, the neurons reachable by keyboard, and the Layers panel's histograms and gradient norms.

Runs are given a pace (epochs_per_second) and many epochs, so they are still training while the
page is looked at; each test stops its run. Same fixtures and rules as test_dashboard.py: a
console error, an uncaught exception or a request to another host fails the test.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import open_dashboard, wait_status

pytestmark = pytest.mark.browser

INSIDE = "window.studio.network.inside"
# Every thumbnail's pixels, by its data-neuron: what the page drew, not what it was sent.
PIXELS = """() => Object.fromEntries([...document.querySelectorAll('#network-view [data-neuron]')]
  .map(el => [el.dataset.neuron, el.querySelector('canvas').toDataURL()]))"""


@pytest.fixture
def server_config() -> dict[str, Any]:
    """The live server's config (a test parametrizes it to switch the look inside off)."""
    return {}


@pytest.fixture
def live_server(make_live_server: Any, server_config: dict[str, Any]) -> Any:
    return make_live_server(server_config)


def see(page: Any, selector: str) -> None:
    """Scroll `selector` into sight: a card out of sight is not drawn (issue 27) until seen."""
    page.locator(selector).scroll_into_view_if_needed()


def train_watchably(page: Any, path: str, rate: int = 40, *, opened: bool = False) -> None:
    """Open `path` (unless `opened`) and start a long run at `rate` epochs/s; wait until the page
    has its maps."""
    if not opened:
        open_dashboard(page, f"{path}&epochs=100000&epochs_per_second={rate}", full_speed=False)
    page.click("#train")
    wait_status(page, "running")
    see(page, "#network-view")
    page.wait_for_function(
        f"{INSIDE} && document.querySelector('#network-view [data-neuron]:not(.blank)')"
    )


def stop(page: Any) -> None:
    page.click("#stop")
    wait_status(page, "stopped", "finished")


def expected_ids(page: Any) -> list[str]:
    """data-neuron ids the latest inside asks for: hidden layers 1…L, then the outputs."""
    return page.evaluate(
        f"""() => {{ const inside = {INSIDE};
          const hidden = inside.indices.flatMap((ix, l) => ix.map(i => `${{l + 1}}:${{i}}`));
          const last = inside.indices.length + 1;
          return [...hidden, ...inside.output.map((_, k) => `${{last}}:${{k}}`)]; }}"""
    )


def wait_until_drawn_as_sent(page: Any) -> list[str]:
    """Wait until the thumbnails are those of the latest inside (one per shown neuron)."""
    page.wait_for_function(
        f"""() => {{ const inside = {INSIDE};
          const ids = [...document.querySelectorAll('#network-view [data-neuron]')]
            .map(e => e.dataset.neuron);
          const want = inside.indices.flat().length + inside.output.length;
          return ids.length === want
            && !document.querySelector('#network-view [data-neuron].blank'); }}"""
    )
    ids = page.eval_on_selector_all(
        "#network-view [data-neuron]", "els => els.map(e => e.dataset.neuron)"
    )
    return ids


@pytest.mark.parametrize(
    ("path", "hidden", "outputs", "map_width"),
    [
        ("/fit/sin?hidden=6,5", [6, 5], 1, None),  # 1-D: curves
        ("/fit/saddle?hidden=8,8", [8, 8], 1, 20),  # 2-D: 20 × 20 maps
        ("/fit/moons?hidden=8,4", [8, 4], 2, 20),  # two logits
    ],
)
def test_every_shown_neuron_is_drawn_and_redrawn_as_the_run_trains(
    page: Any, path: str, hidden: list[int], outputs: int, map_width: int | None
) -> None:
    train_watchably(page, path)
    ids = wait_until_drawn_as_sent(page)
    assert sorted(ids) == sorted(expected_ids(page))
    assert len(ids) == sum(hidden) + outputs
    assert page.locator("#network-view [data-neuron][data-kind='output']").count() == outputs
    assert page.locator("#network-view [data-neuron][role='button']").count() == len(ids)
    if map_width:  # one canvas pixel per grid point, drawn with putImageData
        widths = page.eval_on_selector_all(
            "#network-view [data-neuron] canvas", "els => [...new Set(els.map(c => c.width))]"
        )
        assert widths == [map_width]
    # Nothing drawn blank, and the pixels change as the network learns.
    before = page.evaluate(PIXELS)
    blank = page.evaluate(
        "() => { const c = document.createElement('canvas');"
        " const t = document.querySelector('#network-view [data-neuron] canvas');"
        " c.width = t.width; c.height = t.height; return c.toDataURL(); }"
    )
    assert blank not in before.values()
    page.wait_for_function(
        f"before => {{ const now = ({PIXELS})();"
        " return Object.keys(before)"
        "   .filter(k => now[k] !== undefined && now[k] !== before[k]).length"
        " >= Object.keys(before).length / 2; }",
        arg=before,
    )
    # Hover names the neuron, its bias and mean activation.
    first = page.locator("#network-view [data-neuron][data-kind='hidden']").first
    first.hover()
    tip = page.locator("#network-view .net-tip")
    tip.wait_for(state="visible")  # the hover lands between two animation frames of a busy page
    text = tip.inner_text()
    assert "hidden 1 · neuron" in text and "bias" in text and "mean activation" in text
    stop(page)


def test_hovering_an_edge_shows_its_weight(page: Any) -> None:
    train_watchably(page, "/fit/saddle?hidden=3", rate=20)
    wait_until_drawn_as_sent(page)
    page.click("#pause")  # the weights hold still while we read one
    wait_status(page, "paused")
    # Midway along the edge from input x to the first hidden neuron (no thumbnail there).
    x, y = page.evaluate(
        """() => { const s = window.studio.network.segments[0];
          const r = document.getElementById('network-view').getBoundingClientRect();
          return [r.left + (s[0] + s[2]) / 2, r.top + (s[1] + s[3]) / 2]; }"""
    )
    page.mouse.move(x, y)
    tip = page.locator("#network-view .net-tip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    weight = page.evaluate("window.studio.network.weights[0][0][0]")
    assert text.startswith("weight ") and "x → hidden 1 · neuron 0" in text
    shown = float(text.split()[1].replace("−", "-"))
    assert shown == pytest.approx(weight, rel=0.01, abs=1e-3)
    stop(page)


def test_clicking_a_neuron_enlarges_it_beside_the_fit_and_it_follows_the_run(page: Any) -> None:
    train_watchably(page, "/fit/saddle?hidden=8,8")
    wait_until_drawn_as_sent(page)
    enlarged = page.locator("[data-neuron-enlarged]")
    assert enlarged.count() == 0
    neuron = page.locator("#network-view [data-neuron]").nth(2)
    neuron_id = neuron.get_attribute("data-neuron")
    neuron.click()
    enlarged.wait_for(state="visible")
    assert enlarged.get_attribute("data-neuron-enlarged") == neuron_id
    assert neuron.get_attribute("aria-pressed") == "true"
    layer, index = neuron_id.split(":")
    assert page.inner_text("#neuron-enlarged .enlarged-title") == f"hidden {layer} · neuron {index}"
    assert "bias" in page.inner_text("#neuron-enlarged")
    # Beside the fit: in the fit card, right of the fit's plots, bigger than the thumbnail.
    fit = page.locator("#fit-view").bounding_box()
    box = enlarged.bounding_box()
    assert box["x"] >= fit["x"] + fit["width"] - 1
    canvas = page.locator("#neuron-enlarged canvas").bounding_box()
    assert canvas["width"] > 3 * neuron.bounding_box()["width"]
    image = page.evaluate("document.querySelector('#neuron-enlarged canvas').toDataURL()")
    page.wait_for_function(
        "before => document.querySelector('#neuron-enlarged canvas').toDataURL() !== before",
        arg=image,
    )  # live
    # Another neuron replaces it; the close button hides it.
    other = page.locator("#network-view [data-neuron][data-kind='output']").first
    other.click()
    page.wait_for_function(
        "id => document.querySelector('[data-neuron-enlarged]').dataset.neuronEnlarged === id",
        arg=other.get_attribute("data-neuron"),
    )
    assert page.inner_text("#neuron-enlarged .enlarged-title") == "output 0"
    page.click("#neuron-enlarged .enlarged-close")
    assert page.locator("[data-neuron-enlarged]").count() == 0
    assert not page.is_visible("#neuron-enlarged")
    stop(page)


def test_the_keyboard_reaches_the_neurons_and_enter_enlarges_one(page: Any) -> None:
    train_watchably(page, "/fit/sin?hidden=6,6")
    wait_until_drawn_as_sent(page)
    page.focus("#smoothing")  # before the network panel (the loss chart's mode bar between)
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('[data-neuron]')"):
            break
    focused = page.evaluate("document.activeElement.dataset.neuron")
    assert focused == page.get_attribute("#network-view [data-neuron]", "data-neuron")
    tip = page.locator("#network-view .net-tip")
    tip.wait_for(state="visible")
    assert "bias" in tip.inner_text()  # focus shows what hover shows
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert label.startswith("hidden 1 · neuron") and "mean activation" in label
    page.keyboard.press("ArrowDown")
    second = page.evaluate("document.activeElement.dataset.neuron")
    assert second != focused and second.startswith("1:")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.neuron").startswith("2:")
    page.keyboard.press("Enter")
    enlarged = page.locator("[data-neuron-enlarged]")
    enlarged.wait_for(state="visible")
    assert enlarged.get_attribute("data-neuron-enlarged") == page.evaluate(
        "document.activeElement.dataset.neuron"
    )
    assert page.get_attribute("#status", "data-status") == "running"  # Enter is not a shortcut
    page.keyboard.press("Escape")
    assert page.locator("[data-neuron-enlarged]").count() == 0
    # One Tab stop for all the neurons: the next Tab leaves the panel.
    page.keyboard.press("Tab")
    assert not page.evaluate("document.activeElement.matches('[data-neuron]')")
    stop(page)


def test_a_256_wide_layer_shows_its_16_most_active_neurons(page: Any) -> None:
    train_watchably(page, "/fit/saddle?hidden=256", rate=20)
    wait_until_drawn_as_sent(page)
    stop(page)  # no look inside comes after: what is drawn settles on the last one sent
    page.wait_for_function(
        f"""() => {{ const drawn = [...document.querySelectorAll('#network-view [data-neuron]')]
              .map(e => e.dataset.neuron).filter(i => i.startsWith('1:'))
              .map(i => Number(i.split(':')[1])).sort((a, b) => a - b);
          return JSON.stringify(drawn) === JSON.stringify({INSIDE}.indices[0]); }}"""
    )
    ids = wait_until_drawn_as_sent(page)
    hidden = [i for i in ids if i.startswith("1:")]
    assert len(hidden) == 16
    assert max(int(i.split(":")[1]) for i in hidden) < 256
    assert "16 of 256" in page.inner_text("#network-view .net-labels")


def test_the_layers_panel_fills_with_histograms_and_gradient_norms(page: Any) -> None:
    open_dashboard(page, "/fit/sin?hidden=8,8&epochs=100000&epochs_per_second=60", full_speed=False)
    see(page, "#layers-view")
    assert "appear here" in page.inner_text("#layers-view .layers-empty")  # before a run
    train_watchably(page, "", opened=True)
    heatmaps = "#layers-view .hist-map"
    page.wait_for_function(
        f"() => {{ const maps = [...document.querySelectorAll('{heatmaps}')];"
        " return maps.length === 6 && maps.every(c => Number(c.dataset.columns) >= 5); }"
    )  # 3 Linear layers × (weights, gradients), several looks in
    painted = page.evaluate(
        f"""() => [...document.querySelectorAll('{heatmaps}')].map(c => {{
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n += 1; return n; }})"""
    )
    assert all(count > 0 for count in painted)
    titles = page.eval_on_selector_all(
        "#layers-view .layer-block-title", "els => els.map(e => e.firstChild.textContent)"
    )
    assert titles[:3] == ["hidden 1", "hidden 2", "output"]
    assert "saturated" in page.inner_text("#layers-view .layer-block >> nth=0")  # tanh
    chart = "document.getElementById('grad-norm-chart')"
    page.wait_for_function(
        f"{chart}.data && {chart}.data.length === 3"
        f" && {chart}.data.every(t => t.y.filter(v => v > 0).length >= 3)"
    )
    assert page.evaluate(f"{chart}.layout.yaxis.type") == "log"
    stop(page)


def test_the_gradient_norm_chart_is_redrawn_at_most_once_a_second(page: Any) -> None:
    # Each redraw of it is a whole Plotly redraw; the heatmaps beside it follow every look.
    train_watchably(page, "/fit/sin?hidden=8,8", rate=200)
    see(page, "#layers-view")
    chart = "document.getElementById('grad-norm-chart')"
    page.wait_for_function(f"{chart}?.data?.length === 3")
    counted = page.evaluate(
        f"""() => new Promise((done) => {{
          const chart = {chart};
          const start = window.studio.stats.views.layers.updates;
          let redraws = 0;
          chart.on('plotly_afterplot', () => {{ redraws += 1; }});
          setTimeout(() => done({{ redraws,
            panel: window.studio.stats.views.layers.updates - start }}), 3000);
        }})"""
    )
    assert 1 <= counted["redraws"] <= 4  # 3 s: at most once a second (and a late first one)
    assert counted["panel"] > counted["redraws"]  # the heatmaps are drawn more often
    stop(page)


def test_relu_layers_report_their_dead_units(page: Any) -> None:
    train_watchably(page, "/fit/sin?hidden=8&activation=relu", rate=60)
    see(page, "#layers-view")
    page.wait_for_function(
        "document.querySelector('#layers-view .layer-share')?.textContent.includes('dead units')"
    )
    stop(page)


@pytest.mark.parametrize("width", [1024, 390])
def test_the_panels_fit_the_width_while_a_run_trains(page: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    train_watchably(page, "/fit/moons?hidden=25,50,25")
    wait_until_drawn_as_sent(page)
    page.locator("#network-view [data-neuron]").first.click()
    page.locator("[data-neuron-enlarged]").wait_for(state="visible")
    see(page, "#layers-view")
    page.wait_for_function("document.querySelector('#layers-view .hist-map')")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    view = page.locator("#network-view").bounding_box()
    for index in range(page.locator("#network-view [data-neuron]").count()):
        box = page.locator("#network-view [data-neuron]").nth(index).bounding_box()
        assert view["x"] - 1 <= box["x"] <= view["x"] + view["width"] - box["width"] + 1
        assert view["y"] - 1 <= box["y"] <= view["y"] + view["height"] - box["height"] + 1
    stop(page)


@pytest.mark.parametrize("server_config", [{"INSIDE_INTERVAL": 0}])
def test_without_a_look_inside_the_page_draws_the_weights(page: Any) -> None:
    open_dashboard(page, "/fit/sin?hidden=6&epochs=100000&epochs_per_second=40", full_speed=False)
    page.click("#train")
    wait_status(page, "running")
    page.wait_for_function(
        "document.querySelector('#network-note').textContent.startsWith('live weights')"
        " && window.studio.network.edges.painted?.dashed > 0"
    )
    assert page.evaluate(INSIDE) is None
    assert page.locator("#network-view [data-neuron]").count() == 6 + 1  # drawn, no maps
    assert page.locator("#network-view [data-neuron].blank").count() == 6 + 1
    see(page, "#layers-view")
    page.locator("#layers-view .layers-empty").wait_for(state="visible")
    stop(page)
