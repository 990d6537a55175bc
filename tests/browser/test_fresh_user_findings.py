"""A fresh user's findings on the dashboard and the runs page (issue 24's round), in a real
browser: Space never starts a run by accident; a finished run opened by link draws every
neuron tile (also one read back from storage); the runs table shows every export link at
1400 px; the uploads list names files; the network panel names a table's inputs."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from browser_helpers import ended_run, get_json, open_dashboard, wait_status

pytestmark = pytest.mark.browser

TILES = "#network-view [data-neuron]"
# Whether every neuron tile has drawn content: not marked blank, and its canvas differs from an
# empty canvas of its size.
ALL_TILES_DRAWN = f"""() => {{
  const tiles = [...document.querySelectorAll('{TILES}')];
  if (!tiles.length) return false;
  return tiles.every((tile) => {{
    const canvas = tile.querySelector('canvas');
    if (tile.classList.contains('blank') || !canvas || !canvas.width) return false;
    const empty = document.createElement('canvas');
    empty.width = canvas.width; empty.height = canvas.height;
    return canvas.toDataURL() !== empty.toDataURL();
  }});
}}"""


def test_space_on_a_finished_run_starts_nothing(page: Any, live_server: Any) -> None:
    open_dashboard(page, "/fit/sin")
    page.fill("#epochs", "5")
    page.click("#train")  # focus is on Train now
    page.wait_for_function("window.studio?.state.runId")
    run_id = page.evaluate("window.studio.state.runId")
    wait_status(page, "finished")
    assert page.evaluate("document.activeElement.id") != "train"  # not left on Train
    page.evaluate("""() => { window.trainClicks = 0;
      document.getElementById('train').addEventListener('click', () => window.trainClicks++); }""")
    page.keyboard.press("Space")
    page.focus("#train")  # even on the focused Train button
    page.keyboard.press("Space")
    assert page.evaluate("window.trainClicks") == 0
    assert page.evaluate("window.studio.state.runId") == run_id
    assert [run["id"] for run in get_json(live_server, "/api/runs")] == [run_id]
    page.keyboard.press("Enter")  # a deliberate start still works
    page.wait_for_function("id => window.studio.state.runId !== id", arg=run_id)


@pytest.mark.parametrize(
    ("task", "hidden", "evicted"),
    [("sin", [6, 5], True), ("saddle", [32, 32], True), ("moons", [8, 4], True),
     ("moons", [8, 4], False)],
)  # fmt: skip
def test_a_finished_run_opened_by_link_draws_every_neuron_tile(
    page: Any, live_server: Any, task: str, hidden: list[int], evicted: bool
) -> None:
    """"Sometimes blank": a run no longer in memory (only the newest ended runs are) is read
    back from storage, and its view had no look inside."""
    run = ended_run(live_server, {"task": task, "hidden": hidden, "epochs": 30})
    assert run["status"] == "finished"
    if evicted:  # as an older ended run: read back from storage on demand
        live_server.app.extensions["runs"].registry.remove(run["id"])
    page.goto(f"/fit/{task}?run={run['id']}")
    wait_status(page, "finished")
    page.wait_for_function(ALL_TILES_DRAWN, timeout=20_000)
    shown = sum(min(size, 16) for size in hidden) + (2 if task == "moons" else 1)
    assert page.locator(TILES).count() == shown


def test_the_runs_table_shows_every_export_link_without_scrolling(
    page: Any, live_server: Any
) -> None:
    """At 1400 px a run of eight wide layers pushed the Export column out of view (its layers
    did not wrap)."""
    wide = {"task": "moons", "hidden": [1000] * 8, "activation": "leaky_relu",
            "optimizer": "rmsprop", "epochs": 2, "samples": 50}  # fmt: skip
    for config in (wide, {"task": "sin", "epochs": 5, "samples": 200}):
        ended_run(live_server, config)  # listed whatever its end
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto("/runs")
    page.wait_for_function("document.querySelectorAll('tr[data-run-id]').length === 2")
    fits = page.evaluate(
        """() => { const wrap = document.querySelector('.runs-table-wrap');
          const right = wrap.getBoundingClientRect().right;
          const links = [...document.querySelectorAll('td.exports a, td button')];
          return { overflow: wrap.scrollWidth - wrap.clientWidth, links: links.length,
                   outside: links.filter(a => a.getBoundingClientRect().right > right)
                                 .map(a => a.textContent) }; }"""
    )
    assert fits["links"] == 2 * 5 and fits["outside"] == [] and fits["overflow"] <= 0, fits
    layers = page.locator("tr[data-run-id] td.run-layers").first.inner_text()
    assert layers.replace("\n", "") in ("1000,1000,1000,1000,1000,1000,1000,1000", "32,32")


def test_the_uploads_list_names_each_upload_by_its_file(page: Any, live_server: Any) -> None:
    """The runs page listed uploads by their ids."""
    csv = "x,target\n" + "".join(f"{i},{i * 2}\n" for i in range(20))
    answer = requests.post(f"{live_server.url}/api/datasets",
                           files={"file": ("my line.csv", csv)}, timeout=30)  # fmt: skip
    dataset_id = answer.json()["id"]
    listed = get_json(live_server, "/api/datasets")["datasets"]
    assert [(entry["id"], entry["name"]) for entry in listed] == [(dataset_id, "my line.csv")]
    page.goto("/runs")
    row = page.locator(f'#uploads-body tr[data-id="{dataset_id}"]')
    row.wait_for(timeout=20_000)
    assert row.locator("td").first.inner_text() == "my line.csv"
    assert dataset_id not in row.inner_text()
    assert row.locator("button.delete-upload").get_attribute("aria-label").endswith("my line.csv")


def test_the_network_panel_names_a_tables_inputs_by_its_columns(
    page: Any, live_server: Any
) -> None:
    """The network panel labelled an upload's inputs x1..xn."""
    colours = ("red", "green", "blue")
    csv = "age,colour,target\n" + "".join(
        f"{20 + i % 30},{colours[i % 3]},{(i % 30) * 0.5 + i % 3}\n" for i in range(60))
    answer = requests.post(f"{live_server.url}/api/datasets",
                           files={"file": ("people.csv", csv)}, timeout=30)  # fmt: skip
    task = answer.json()["task"]["id"]
    expected = ["age", "colour=blue", "colour=green", "colour=red"]
    assert answer.json()["task"]["input_names"] == expected
    run = ended_run(live_server, {"task": task, "epochs": 5})
    page.goto(f"/fit/{task}?run={run['id']}")
    wait_status(page, "finished")
    page.wait_for_function("document.querySelectorAll('.net-input-name').length === 4")
    names = page.eval_on_selector_all(".net-input-name", "els => els.map(e => e.textContent)")
    assert names == expected
