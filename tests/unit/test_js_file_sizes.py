"""The page's JavaScript stays in modules of one concern each: no file in static/js over 450
lines (issue 23; the vendored libraries in static/vendor are not ours and not counted)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_JS_LINES = 450


def js_files() -> list[Path]:
    return sorted((ROOT / "static" / "js").rglob("*.js"))


def test_the_page_has_javascript_to_measure():
    assert len(js_files()) > 10


def test_no_javascript_file_is_longer_than_450_lines():
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in js_files()
    }
    too_long = {name: n for name, n in lengths.items() if n > MAX_JS_LINES}
    assert not too_long, f"split these by concern (at most {MAX_JS_LINES} lines): {too_long}"
