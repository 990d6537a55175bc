"""Run the dashboard's ES modules in node (no browser): `run_js(body)` evaluates `body` (the body
of an async function that may ``await import('/static/js/...')`` by path from the project root and
returns something JSON-encodable) with small stand-ins for the browser globals the modules touch
at load or draw time (`window.matchMedia`, `getComputedStyle`, `document`, `window.Plotly`, whose
`react` records what was drawn in `globalThis.drawn`). Skips when node is missing, unless
``REQUIRE_NODE=1``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from app.runs.control import TERMINAL

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
globalThis.window = globalThis;
window.matchMedia = () => ({ matches: false, addEventListener() {} });
globalThis.getComputedStyle = () => ({ getPropertyValue: () => "" });
globalThis.performance = globalThis.performance ?? { now: () => Date.now() };
const element = () => ({ hidden: false, dataset: {}, style: {}, cells: [], textContent: "",
  append() {}, remove() {}, addEventListener() {}, querySelector: () => null,
  querySelectorAll: () => [] });
globalThis.document = { documentElement: element(), querySelectorAll: () => [],
  getElementById: () => element(), createElement: element,
  body: { ...element(), dataset: { terminalStatuses: "TERMINAL_STATUSES" } },
  dispatchEvent() {} };
globalThis.CustomEvent = class { constructor(type) { this.type = type; } };
globalThis.drawn = [];
window.Plotly = {
  react(el, data, layout) { el.data = data; el.layout = layout; drawn.push({ el, data, layout });
                            return Promise.resolve(el); },
  extendTraces() { return Promise.resolve(); }, relayout() { return Promise.resolve(); },
  restyle() { return Promise.resolve(); },
};
globalThis.element = element;
const importModule = (path) => import(new URL("." + path, "file://" + ROOT + "/").href);
""".replace("TERMINAL_STATUSES", " ".join(sorted(TERMINAL)))  # as the server writes <body>


def run_js(body: str) -> Any:
    """The JSON result of `body` run as an async function in node (see the module docstring)."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("REQUIRE_NODE") == "1":
            pytest.fail("node is required (REQUIRE_NODE=1) but not installed")
        pytest.skip("node is not installed")
    script = (
        f"const ROOT = {json.dumps(str(ROOT))};\n{PRELUDE}\n"
        f"const result = await (async () => {{\n{body}\n}})();\n"
        "process.stdout.write(JSON.stringify(result));\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "script.mjs"
        path.write_text(script, encoding="utf-8")
        done = subprocess.run(
            [node, str(path)], capture_output=True, text=True, timeout=120, cwd=ROOT
        )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
