"""Size limits CI enforces on the code (ruff enforces cyclomatic complexity ≤ 12 alongside)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_FUNCTION_LINES = 70
MAX_CLASS_LINES = 250


def _nodes(folder: str, kinds: tuple[type, ...]) -> list[tuple[str, ast.AST]]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [
            (f"{path.relative_to(ROOT)}:{node.lineno} {node.name}", node)
            for node in ast.walk(tree)
            if isinstance(node, kinds)
        ]
    return found


def _length(node: ast.AST) -> int:
    return node.end_lineno - node.lineno + 1


def test_no_function_is_longer_than_70_lines():
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    too_long = [
        f"{where} ({_length(node)} lines)"
        for folder in ("app", "network")
        for where, node in _nodes(folder, functions)
        if _length(node) > MAX_FUNCTION_LINES
    ]
    assert not too_long


def test_no_class_in_app_is_longer_than_250_lines():
    too_long = [
        f"{where} ({_length(node)} lines)"
        for where, node in _nodes("app", (ast.ClassDef,))
        if _length(node) > MAX_CLASS_LINES
    ]
    assert not too_long


def test_ruff_enforces_complexity_12_without_exceptions():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lint = config["tool"]["ruff"]["lint"]
    assert "C90" in lint["select"] and lint["mccabe"]["max-complexity"] == 12
    noqa = [
        str(path.relative_to(ROOT))
        for folder in ("app", "network")
        for path in (ROOT / folder).rglob("*.py")
        if "noqa: C901" in path.read_text(encoding="utf-8")
    ]
    assert not noqa
