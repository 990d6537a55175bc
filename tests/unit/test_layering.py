"""The layout of app/ CI enforces (docs/architecture.md, "Layering"): packages of at most 10
modules, no import cycle between modules (imports under ``TYPE_CHECKING`` count), at most 10
imports made inside functions in all of app/, and dependencies that point one way.

The checker works on a folder of sources (`import_graph`), so it is tested on small synthetic
packages as well as on app/ itself.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_PACKAGE_MODULES = 10
MAX_FUNCTION_IMPORTS = 10

# The layers of app/, lowest first: each may import the ones before it, never one after it. The
# front door (app.web, and the app factory app/__init__.py) uses the others and nothing below
# imports it; data never imports training or runs; and so on down (docs/architecture.md).
ORDER = [
    "app.settings",  # what every process needs: ROOT, the database URL, BLAS threads
    "app.outages",  # a database out of reach: StorageUnavailable, which errors are outages
    "app.config",  # the run config declared once, the expression language
    "app.data",  # tasks, uploads, tables, MNIST, previews, the JSON numbers
    "app.training",  # one network's training: session, looks inside, diagnosis, forked child
    "app.runs",  # a run: validation, record, control, loop, broadcast, manager
    "app.storage",  # the database: runs, history, checkpoints, uploads, exports
    "app.transports",  # scaled mode: Redis control and relay, workers, the local cluster
    "app.backprop",  # one forward and backward pass with every number (its blueprint)
    "app.replay",  # any run at any stored epoch (views from the film, its blueprint)
    "app.sweeps",  # many runs launched as one (its scheduler, store and blueprint)
    "app.web",  # the front door: routes, sockets, security, wire, OpenAPI
    "app",  # the app factory
]
LAYERS: dict[str, set[str]] = {layer: set(ORDER[:k]) for k, layer in enumerate(ORDER)}
LAYERS["app.worker"] = LAYERS["app.cluster"] = {"app.transports"}  # `python -m` entries
LAYERS["app.serve"] = set(ORDER)  # serving the app: gunicorn or Werkzeug, the graceful end
LAYERS["app.__main__"] = set(ORDER) | {"app.serve"}  # the command line
# the installed command: the web server's, the worker's and the cluster's command lines
LAYERS["app.cli"] = set(ORDER) | {"app.serve", "app.__main__", "app.worker", "app.cluster"}


@dataclass
class Graph:
    """Imports between the modules of one top-level package (module names dotted)."""

    modules: set[str] = field(default_factory=set)
    packages: dict[str, set[str]] = field(default_factory=dict)  # package -> its modules
    edges: dict[str, set[str]] = field(default_factory=dict)  # module-level imports
    function_imports: list[str] = field(default_factory=list)  # "module:line name"


def _module_name(base: Path, path: Path) -> str:
    parts = list(path.relative_to(base.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _targets(module: str, is_package: bool, node: ast.AST, known: set[str]) -> set[str]:
    """The modules of `known` an import statement loads (a package's __init__ included)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        source = _resolve(module, is_package, node)
        # a submodule when the name is one (`from app.data import tasks`), else the module
        names = [f"{source}.{alias.name}" for alias in node.names]
    found = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def _function_level(tree: ast.Module) -> set[int]:
    """ids of the import nodes that sit inside a function."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for child in ast.walk(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    inside.add(id(child))
    return inside


def import_graph(base: Path) -> Graph:
    """The import graph of the package at folder `base` (every .py file under it)."""
    graph = Graph()
    files = {}
    for path in sorted(base.rglob("*.py")):
        name = _module_name(base, path)
        files[name] = path
        graph.modules.add(name)
        if path.name != "__init__.py":
            package = name.rpartition(".")[0]
            graph.packages.setdefault(package, set()).add(name)
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        inside = _function_level(tree)
        is_package = path.name == "__init__.py"
        edges = graph.edges.setdefault(name, set())
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if id(node) in inside:
                graph.function_imports.append(f"{name}:{node.lineno}")
                continue
            edges |= _targets(name, is_package, node, graph.modules) - {name}
    # importing a.b.c runs a/__init__.py and a/b/__init__.py first: not an edge of ours
    # (package __init__ files of app/ are empty but the factory's, which nothing imports).
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph.modules):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str, layers: dict[str, set[str]]) -> str | None:
    """The longest name of `layers` that is `module` or a package holding it."""
    best = None
    for layer in layers:
        if (module == layer or module.startswith(layer + ".")) and (
            best is None or len(layer) > len(best)
        ):
            best = layer
    return best


def wrong_way(graph: Graph, layers: dict[str, set[str]]) -> list[str]:
    """Imports between layers that `layers` does not allow ("a.b -> c.d")."""
    wrong = []
    for source in sorted(graph.edges):
        mine = layer_of(source, layers)
        for target in sorted(graph.edges[source]):
            theirs = layer_of(target, layers)
            if mine is None or theirs is None:
                wrong.append(f"{source} -> {target} (no layer)")
            elif theirs != mine and theirs not in layers[mine]:
                wrong.append(f"{source} -> {target}")
    return wrong


def crowded_packages(graph: Graph, limit: int = MAX_PACKAGE_MODULES) -> list[str]:
    return [
        f"{package} ({len(modules)} modules)"
        for package, modules in sorted(graph.packages.items())
        if len(modules) > limit
    ]


APP = import_graph(ROOT / "app")


def test_no_package_of_app_holds_more_than_10_modules():
    assert crowded_packages(APP) == []


def test_app_has_no_import_cycle():
    assert cycles(APP) == []


def test_app_makes_at_most_10_imports_inside_functions():
    assert len(APP.function_imports) <= MAX_FUNCTION_IMPORTS, APP.function_imports


def test_app_dependencies_point_one_way():
    assert wrong_way(APP, LAYERS) == []


# -- the checker itself, on synthetic packages ------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path / "pkg"


def test_checker_finds_a_cycle_through_a_type_checking_import(tmp_path):
    base = _package(tmp_path, {
        "__init__.py": "",
        "low/__init__.py": "",
        "low/a.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..high.b import B\n"
        ),
        "high/__init__.py": "",
        "high/b.py": "from pkg.low import a\n",
    })  # fmt: skip
    graph = import_graph(base)
    assert graph.edges["pkg.low.a"] == {"pkg.high.b"}
    assert graph.edges["pkg.high.b"] == {"pkg.low.a"}
    assert cycles(graph) == [["pkg.high.b", "pkg.low.a"]]


def test_checker_counts_imports_inside_functions_and_not_as_edges(tmp_path):
    base = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "def f():\n    import json\n    from . import b\n    return b\n",
        "b.py": "from .a import f\n",
    })  # fmt: skip
    graph = import_graph(base)
    assert sorted(graph.function_imports) == ["pkg.a:2", "pkg.a:3"]
    assert cycles(graph) == []


def test_checker_finds_wrong_way_imports_and_crowded_packages(tmp_path):
    modules = {f"low/m{i}.py": "" for i in range(11)}
    base = _package(tmp_path, {
        "__init__.py": "",
        "low/__init__.py": "",
        "high/__init__.py": "",
        "high/h.py": "from ..low import m0\n",
        "low/m1.py": "import pkg.high.h\n",
        **{name: text for name, text in modules.items() if name != "low/m1.py"},
    })  # fmt: skip
    graph = import_graph(base)
    layers = {"pkg.low": set(), "pkg.high": {"pkg.low"}, "pkg": {"pkg.low", "pkg.high"}}
    assert wrong_way(graph, layers) == ["pkg.low.m1 -> pkg.high.h"]
    assert crowded_packages(graph) == ["pkg.low (11 modules)"]
    assert crowded_packages(graph, limit=11) == []


@pytest.mark.parametrize(
    ("module", "layer"),
    [("app.web.api", "app.web"), ("app", "app"), ("app.worker", "app.worker"), ("x", None)],
)
def test_checker_places_modules_in_the_most_specific_layer(module, layer):
    assert layer_of(module, LAYERS) == layer
