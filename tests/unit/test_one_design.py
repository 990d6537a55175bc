"""One design for a run in both modes (issue 22): no app class extends another app class of the
run machinery, and nothing but a run control (a class named ``...Control``) writes a control's
state or reads its private members."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
SUFFIXES = ("Run", "RunManager", "Broadcaster", "Payloads", "Store", "Recorder")


def _modules() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), str(path)) for path in sorted(APP.rglob("*.py"))}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def test_no_app_class_extends_a_run_manager_broadcaster_payloads_store_or_recorder():
    modules = _modules()
    ours = {node.name for tree in modules.values() for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)}  # fmt: skip
    found = [
        f"{path.name}: {node.name}({_name(base)})"
        for path, tree in modules.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        for base in node.bases
        if _name(base) in ours and _name(base).endswith(SUFFIXES)
    ]
    assert not found


def _is_control(node: ast.expr) -> bool:
    """`control` or `<anything>.control`."""
    return _name(node) == "control"


def test_only_a_run_control_writes_its_state_or_reads_its_private_members():
    found = []
    for path, tree in _modules().items():
        controls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) and node.name.endswith("Control")
        ]
        inside = {id(n) for control in controls for n in ast.walk(control)}
        for node in ast.walk(tree):
            if id(node) in inside:
                continue
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for target in targets:
                for item in ast.walk(target):
                    if isinstance(item, ast.Attribute) and _is_control(item.value):
                        found.append(f"{path.name}:{item.lineno} writes control.{item.attr}")
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and _is_control(node.value)):  # fmt: skip
                found.append(f"{path.name}:{node.lineno} reads control.{node.attr}")
    assert not found
