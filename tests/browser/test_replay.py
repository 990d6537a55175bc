"""Replay on the dashboard (issue 28), in Chromium: the time slider under the loss chart moves
every view (fit, network and neuron maps, layers card, test-set card) to a stored epoch with a
marker on the loss and accuracy charts; the arrow keys step; Play reaches the last epoch; a
running run can be scrubbed back and returned to live; the URL carries the epoch and a link with
&epoch= opens there; Download video gives a WebM Chromium plays; axe-core finds no violation.

Same fixtures and rules as the other browser tests: a console error, an uncaught exception or a
request to another host fails the test.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import ended_run, get_json, open_dashboard, wait_status
from test_accessibility import violations

pytestmark = pytest.mark.browser

# the fit's prediction as drawn: its Plotly trace named network (curve, surface) or the
# decision regions' canvas
FIT = """() => { const trace = [...document.querySelectorAll('#fit-view .js-plotly-plot')]
  .flatMap(gd => gd.data || [])
  .filter(t => t.name === 'network')
  .find(t => (t.type === 'scatter' ? t.y : t.z).length > 1);
  if (trace) return JSON.stringify(trace.type === 'scatter' ? trace.y : trace.z);
  const regions = document.querySelector('#fit-regions canvas');
  return regions && regions.width > 1 ? regions.toDataURL() : null; }"""
NEURONS = """() => [...document.querySelectorAll('#network-view [data-neuron] canvas')]
  .map(c => c.toDataURL()).join()"""
LAYERS = """() => [...document.querySelectorAll('#layers-view canvas')]
  .map(c => c.toDataURL()).join()"""
CONFUSION = "() => document.querySelector('#confusion-part').textContent"
SLIDER = "#replay-epoch"


def open_ended(page: Any, server: Any, config: dict[str, Any], query: str = "") -> dict:
    status = ended_run(server, config)
    assert status["status"] == "finished"
    open_dashboard(page, f"/fit/{config['task']}?run={status['id']}{query}")
    wait_status(page, "finished")
    page.wait_for_selector("#replay:not([hidden])")
    return status


def shown_epoch(page: Any, epoch: int) -> None:
    """Wait until every view says it shows `epoch` (the network's caption, the markers)."""
    page.locator("#network-view").scroll_into_view_if_needed()  # drawn only in sight (issue 27)
    page.wait_for_function(
        """epoch => document.querySelector('#network-note').textContent
             .includes(`epoch ${epoch} (replay)`)
           && [...document.querySelectorAll('[data-replay-marker="loss-chart"]')]
                .every(m => m.dataset.epoch === String(epoch) && !m.hidden)""",
        arg=epoch,
    )


VIEWS = (("fit", "#fit-view", FIT), ("neurons", "#network-view", NEURONS),
         ("layers", "#layers-view", LAYERS))


def drawn(page: Any, selector: str, js: str, differs_from: str | None = None) -> str:
    """What a view drew, once it is in sight (a view out of sight is not drawn, issue 27) and
    has drawn something (other than `differs_from`)."""
    page.locator(selector).scroll_into_view_if_needed()
    condition = f"({js})()" + (f" !== {differs_from!r}" if differs_from is not None else "")
    drew = f"(() => {{ const v = ({js})(); return v && v.length > 0 && {condition}; }})()"
    page.wait_for_function(drew)
    return page.evaluate(js)


def test_scrubbing_moves_every_view_to_the_epoch(page, live_server):
    open_ended(page, live_server, {"task": "moons", "samples": 300, "epochs": 60})
    before = {name: drawn(page, where, js) for name, where, js in VIEWS}
    slider = page.locator(SLIDER)
    assert slider.get_attribute("aria-valuetext") == "epoch 60 of 60"
    page.focus(SLIDER)
    page.keyboard.press("Home")
    shown_epoch(page, 1)
    assert slider.get_attribute("aria-valuetext") == "epoch 1 of 60"
    for name, where, js in VIEWS:
        drawn(page, where, js, differs_from=before[name])
    accuracy_marker = page.locator('[data-replay-marker="accuracy-chart"]')
    assert accuracy_marker.get_attribute("data-epoch") == "1"
    accuracy_marker.scroll_into_view_if_needed()
    assert accuracy_marker.is_visible()
    assert "epoch=1" in page.url
    # the arrow keys step through the stored epochs
    page.focus(SLIDER)
    page.keyboard.press("ArrowRight")
    shown_epoch(page, 2)
    page.keyboard.press("End")
    shown_epoch(page, 60)
    page.locator("#fit-view").scroll_into_view_if_needed()
    page.wait_for_function(f"({FIT})() === {before['fit']!r}")


def test_scrubbing_moves_the_curve(page, live_server):
    open_ended(page, live_server, {"task": "sin", "samples": 200, "epochs": 100})
    page.wait_for_function(f"({FIT})() !== null")
    last = page.evaluate(FIT)
    page.focus(SLIDER)
    page.keyboard.press("Home")
    shown_epoch(page, 1)
    page.wait_for_function(f"({FIT})() !== {last!r}")  # the trace named network moved


def test_scrubbing_moves_the_test_set_card(page, live_server):
    open_ended(page, live_server, {"task": "digits", "epochs": 15})
    page.wait_for_selector("#confusion-part:not([hidden])")
    before = page.evaluate(CONFUSION)
    page.focus(SLIDER)
    page.keyboard.press("Home")
    shown_epoch(page, 1)
    page.wait_for_function(f"({CONFUSION})() !== {before!r}")


def test_the_slider_is_labelled_epoch(page, live_server):
    open_ended(page, live_server, {"task": "sin", "samples": 200, "epochs": 500})
    slider = page.get_by_label("Epoch", exact=True)
    assert slider.get_attribute("type") == "range"
    assert slider.get_attribute("aria-valuetext") == "epoch 500 of 500"
    assert int(slider.get_attribute("max")) + 1 <= 150


def test_a_link_with_epoch_opens_the_run_there(page, live_server):
    status = ended_run(live_server, {"task": "sin", "samples": 200, "epochs": 300})
    open_dashboard(page, f"/fit/sin?run={status['id']}&epoch=7")
    shown_epoch(page, 7)
    assert page.locator(SLIDER).get_attribute("aria-valuetext") == "epoch 7 of 300"
    assert "epoch=7" in page.url


def test_play_replays_the_run_to_its_last_epoch(page, live_server):
    open_ended(page, live_server, {"task": "sin", "samples": 200, "epochs": 40})
    page.select_option("#replay-fps", "30")
    page.evaluate(  # note every epoch the views show
        """() => { const replay = window.studio.replay, show = replay.show.bind(replay);
                   window.shown = []; replay.show = view => { window.shown.push(view.epoch);
                   show(view); }; }"""
    )
    page.click("#replay-play")
    page.wait_for_function("document.querySelector('#replay').dataset.playing === 'true'")
    page.wait_for_function("!document.querySelector('#replay').dataset.playing", timeout=30_000)
    shown_epoch(page, 40)
    shown = page.evaluate("window.shown")
    assert shown[0] == 1 and shown[-1] == 40 and shown == sorted(shown)  # first to last
    assert page.locator(SLIDER).get_attribute("aria-valuetext") == "epoch 40 of 40"


def test_play_defaults_to_about_ten_seconds_for_the_run(page, live_server):
    open_ended(page, live_server, {"task": "sin", "samples": 200, "epochs": 500})
    frames = int(page.locator(SLIDER).get_attribute("max")) + 1
    fps = int(page.locator("#replay-fps").input_value())
    assert 2 <= fps <= 30 and 6 <= frames / fps <= 15


def test_a_running_run_can_be_scrubbed_back_and_returned_to_live(page, live_server):
    open_dashboard(page, "/fit/sin?epochs=100000&epochs_per_second=40", full_speed=False)
    page.click("#train")
    wait_status(page, "running")
    page.wait_for_function(
        "document.querySelector('#replay-epoch').max >= 12", timeout=30_000
    )
    page.focus(SLIDER)
    page.keyboard.press("Home")
    shown_epoch(page, 1)
    live = page.locator("#replay-live")
    assert live.is_visible()
    # frames keep coming but the views stay at epoch 1 while held
    page.wait_for_function("window.studio.replay.liveView.epoch > 40", timeout=30_000)
    assert "epoch 1 (replay)" in page.locator("#network-note").text_content()
    live.click()
    page.wait_for_function(
        "document.querySelector('#network-note').textContent.startsWith('live weights')"
    )
    assert not live.is_visible() and "epoch=" not in page.url
    page.click("#stop")
    wait_status(page, "stopped")


def test_a_finished_run_opened_by_link_shows_its_layers_over_time(page, live_server):
    """A fresh user's finding: the layers card of a finished run opened by link showed one
    look (its last). It shows every stored epoch's weights, and the last look's gradients."""
    status = open_ended(page, live_server, {"task": "sin", "hidden": [6, 5], "epochs": 60})
    epochs = get_json(live_server, f"/api/runs/{status['id']}/frames")["epochs"]
    page.wait_for_selector(f"#replay[data-looks='{len(epochs)}']", state="attached")
    page.locator("#layers-view").scroll_into_view_if_needed()  # drawn only in sight
    page.wait_for_function(
        """count => { const maps = [...document.querySelectorAll('#layers-view canvas')];
             return maps.length === 6 && maps.every(c => +c.dataset.columns === count); }""",
        arg=len(epochs),
    )
    assert page.evaluate("window.studio.layers.history.map(e => e.epoch)") == epochs
    first = page.locator("#layers-view .hist-x").first.inner_text().split()
    assert first[0] == "1" and first[-1] == "60"


MARKER = "document.querySelector('[data-replay-marker=\"loss-chart\"]')"


def test_after_live_the_marker_follows_the_run_to_its_end(page, live_server):
    """A fresh user's finding: after Live, the marker stayed at the epoch Live was pressed at
    while the run went on and ended."""
    open_dashboard(page, "/fit/sin?epochs=100000&epochs_per_second=40", full_speed=False)
    page.click("#train")
    wait_status(page, "running")
    page.wait_for_function("document.querySelector('#replay-epoch').max >= 12", timeout=30_000)
    page.focus(SLIDER)
    page.keyboard.press("Home")
    shown_epoch(page, 1)
    page.click("#replay-live")
    pressed = page.evaluate(f"+{MARKER}.dataset.epoch")
    page.wait_for_function(  # live: the marker moves on with the frames
        f"epoch => +{MARKER}.dataset.epoch > epoch + 20", arg=pressed, timeout=30_000
    )
    page.click("#stop")
    wait_status(page, "stopped")
    status = page.evaluate("window.studio.state.runId")
    last = live_server.app.extensions["runs"].get(status).epoch
    page.wait_for_function(
        f"epoch => {MARKER}.dataset.epoch === String(epoch) && !{MARKER}.hidden", arg=last
    )
    assert page.text_content("#replay-epoch-value") == f"epoch {last} of 100000"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_replay_controls_have_no_axe_violation(page, live_server, scheme):
    page.emulate_media(color_scheme=scheme)
    open_ended(page, live_server, {"task": "sin", "samples": 200, "epochs": 50})
    page.focus(SLIDER)
    page.keyboard.press("Home")
    shown_epoch(page, 1)
    assert violations(page) == []


def test_download_video_gives_a_webm_chromium_plays(page, live_server, tmp_path):
    open_ended(page, live_server, {"task": "moons", "samples": 300, "epochs": 40})
    page.select_option("#replay-fps", "30")
    with page.expect_download(timeout=60_000) as caught:
        page.click("#replay-video")
    download = caught.value
    assert download.suggested_filename.endswith(".webm")
    saved = tmp_path / "replay.webm"
    download.save_as(saved)
    data = saved.read_bytes()
    assert len(data) > 1000 and data[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM file
    loaded = page.evaluate(
        """() => new Promise((resolve) => {
             const video = document.createElement('video');
             video.muted = true;
             video.onloadeddata = () => resolve({width: video.videoWidth,
               height: video.videoHeight, duration: video.duration});
             video.onerror = () => resolve({error: String(video.error && video.error.code)});
             video.src = URL.createObjectURL(window.studio.replay.lastVideo);
           })"""
    )
    # the duration is written in (MediaRecorder leaves it out: Infinity, no seeking); the
    # recording lasts as many frames as epochs recorded at 30 frames a second
    duration = loaded.pop("duration")
    assert loaded == {"width": 640, "height": 400}
    frames = len(page.evaluate("window.studio.replay.epochs"))
    assert duration is not None and frames / 30 * 0.9 <= duration <= frames / 30 + 2, duration
    seeked = page.evaluate(
        """() => new Promise((resolve) => {
             const video = document.createElement('video');
             video.muted = true;
             video.onloadedmetadata = () => { video.currentTime = video.duration / 2; };
             video.onseeked = () => resolve(video.currentTime);
             video.src = URL.createObjectURL(window.studio.replay.lastVideo);
           })"""
    )
    assert seeked == pytest.approx(duration / 2, abs=0.1)  # a player can seek in it


def test_play_keeps_to_the_clock_when_drawing_an_epoch_is_slow(page, live_server):
    # a fresh user on a busy machine: at 15 fps, after 12 s Play had reached epoch 66 of 200;
    # like a video it now skips stored epochs to keep its time (virtual time: each draw 300 ms)
    open_ended(page, live_server, {"task": "sin", "samples": 200, "epochs": 40})
    page.select_option("#replay-fps", "10")
    page.evaluate(
        """() => { const replay = window.studio.replay, show = replay.show.bind(replay);
                   let now = 0; window.shown = [];
                   replay.now = () => now;
                   replay.sleep = async (ms) => { now += ms; };
                   replay.show = view => { now += 300; window.shown.push(view.epoch);
                                           show(view); }; }"""
    )
    page.click("#replay-play")
    page.wait_for_function("document.querySelector('#replay').dataset.playing === 'true'")
    page.wait_for_function("!document.querySelector('#replay').dataset.playing", timeout=30_000)
    shown = page.evaluate("window.shown")
    assert shown[0] == 1 and shown[-1] == 40 and shown == sorted(shown)
    assert len(shown) <= 16, shown  # ~4 s of film at 300 ms a draw: about every third epoch


def test_at_a_stored_epoch_the_layers_card_says_it_has_no_gradients(page, live_server):
    """A fresh user's finding: at a replayed epoch every layer read '‖∇‖ 0.00' (a rebuilt
    session's untouched gradient buffers), as if the gradients had vanished."""
    open_ended(page, live_server, {"task": "moons", "hidden": [4], "epochs": 20}, "&epoch=5")
    shown_epoch(page, 5)
    page.locator("#layers-view").scroll_into_view_if_needed()  # drawn only in sight
    page.wait_for_function(
        "() => document.querySelector('#layers-view').innerText"
        ".includes('no gradients at a stored epoch')"
    )
    assert "‖∇‖ 0" not in page.inner_text("#layers-view")
