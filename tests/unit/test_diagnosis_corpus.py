"""The diagnosis measured on a corpus of real runs, labelled by what happened.

Each run trains a small net through the app's own `TrainingSession` (built-in tasks and
uploaded tables), then the findings are compared with the label: no warning at all on a healthy
run (the default run of every built-in task among them), the right kind first on an unhealthy
one. Precision and recall of the warnings are printed (``pytest -s``).
"""

from __future__ import annotations

import numpy as np
import pytest

import network as nn
from app.data.tasks import TASKS
from app.data.uploads import DatasetStore, parse_csv
from app.runs.validation import validate_run
from app.training.diagnosis import Signals, findings
from app.training.session import TrainingSession

pytestmark = pytest.mark.timeout(900)  # ~20 s of training alone; a busy machine takes longer
WANTED = ("train_loss", "test_loss", "train_acc", "test_acc", "lr", "update_ratio")
OVERFIT = {"hidden": [128, 128], "epochs": 400, "lr": 0.01}


def _table(rows: int, noise: float, seed: int) -> str:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(rows, 3))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] + noise * rng.normal(size=rows)
    rows_text = [f"{a:.5f},{b:.5f},{c:.5f},{t:.5f}" for (a, b, c), t in zip(x, y, strict=True)]
    lines = ["a,b,c,target", *rows_text]
    return "\n".join(lines) + "\n"


def _labelled_table(rows: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 2))
    label = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    lines = ["u,v,label"] + [f"{u:.5f},{v:.5f},{c}" for (u, v), c in zip(x, label, strict=True)]
    return "\n".join(lines) + "\n"


TABLES = {
    "smooth": _table(400, 0.05, 1),
    "noisy40": _table(40, 0.8, 2),
    "labels": _labelled_table(400, 3),
}

CORPUS: list[tuple[str, str, dict]] = [
    # every built-in task's default run (the 2-D surfaces on 500 points instead of 2,000)
    *[("healthy", task, {"task": task, **({"samples": 500} if TASKS[task].inputs == 2 and
                                          TASKS[task].kind == "regression" else {})})
      for task in TASKS],
    ("healthy", "table", {"table": "smooth", "epochs": 200}),
    ("healthy", "table", {"table": "labels", "epochs": 100}),
    ("too_slow", "saddle lr 1e-6", {"task": "saddle", "lr": 1e-6, "epochs": 100}),
    ("too_slow", "sin lr 1e-6", {"task": "sin", "lr": 1e-6, "epochs": 100}),
    ("too_slow", "moons lr 1e-6", {"task": "moons", "lr": 1e-6, "epochs": 50}),
    ("too_slow", "xor lr 1e-6", {"task": "xor", "lr": 1e-6, "epochs": 50}),
    ("too_slow", "sin sgd 1e-5", {"task": "sin", "optimizer": "sgd", "lr": 1e-5, "epochs": 100}),
    # a fresh user's: the loss halves (the straight-line part of sin) then flattens, Adam's steps
    # at 1e-4 of the weights — it used to finish with no word
    ("too_slow", "sin adam 1e-5", {"task": "sin", "lr": 1e-5, "epochs": 200}),
    ("healthy", "sin adam 3e-4 noisy", {"task": "sin", "lr": 3e-4, "noise": 0.5, "epochs": 200}),
    ("stuck", "square linear", {"task": "square", "activation": "identity", "epochs": 100}),
    ("stuck", "bowl linear", {"task": "bowl", "activation": "identity", "epochs": 60}),
    ("stuck", "xor linear", {"task": "xor", "activation": "identity", "epochs": 50}),
    ("stuck", "circles linear", {"task": "circles", "activation": "identity", "epochs": 50}),
    ("diverging", "moons sgd lr 5", {"task": "moons", "optimizer": "sgd", "lr": 5, "epochs": 40}),
    ("diverging", "xor sgd lr 10", {"task": "xor", "optimizer": "sgd", "lr": 10, "epochs": 40}),
    ("overfitting", "sin 30 noisy", {"task": "sin", "samples": 30, "noise": 0.5, **OVERFIT}),
    ("overfitting", "sincos 40", {"task": "sincos", "samples": 40, "noise": 0.5, **OVERFIT}),
    ("overfitting", "moons 40", {"task": "moons", "samples": 40, "noise": 0.4, **OVERFIT}),
    ("overfitting", "xor 40", {"task": "xor", "samples": 40, "noise": 0.5, **OVERFIT}),
    ("overfitting", "circles 40", {"task": "circles", "samples": 40, "noise": 0.3, **OVERFIT}),
    ("overfitting", "digits 100", {"task": "digits", "samples": 100, "hidden": [128],
                                   "epochs": 200}),  # fmt: skip
    ("overfitting", "table 40 noisy", {"table": "noisy40", **OVERFIT}),
    ("dead_units", "circles relu", {"task": "circles", "activation": "relu", "lr": 0.1}),
    ("dead_units", "moons relu", {"task": "moons", "activation": "relu", "lr": 0.05,
                                  "epochs": 60}),  # fmt: skip
]


def run_to_the_end(body: dict, store: DatasetStore) -> Signals:
    """Train `body` through a `TrainingSession` to its last epoch; the diagnosis's signals."""
    body = dict(body)
    if "table" in body:
        body["task"] = "dataset:" + store.add(parse_csv(TABLES[body.pop("table")].encode()))
    config, task = validate_run(body, store, work_budget=None)
    session = TrainingSession(task, config)
    records = []
    while session.epoch < config["epochs"]:
        record = session.advance()
        if record is not None:
            records.append(session.record(record))
    columns = {name: np.array([r[name] for r in records], dtype=np.float64)
               for name in WANTED if name in records[0]}  # fmt: skip
    classes = len(task.classes) if task.kind == "classification" else 0
    return Signals(columns, config["epochs"], classes, session.dead_units(), config["loss"],
                   config["optimizer"])


@pytest.fixture(scope="module")
def verdicts() -> list[tuple[str, str, list]]:
    store = DatasetStore()
    with np.errstate(over="ignore", invalid="ignore"):
        return [(label, name, findings(run_to_the_end(body, store)))
                for label, name, body in CORPUS]  # fmt: skip


def test_the_corpus_has_thirty_runs_of_every_label():
    labels = {label for label, _, _ in CORPUS}
    assert len(CORPUS) >= 30
    assert labels == {"healthy", "too_slow", "stuck", "diverging", "overfitting", "dead_units"}


def test_healthy_runs_get_no_warning(verdicts):
    for label, name, found in verdicts:
        if label in ("healthy", "dead_units"):
            assert [f.sentence for f in found if f.severity == "warning"] == [], name


def test_unhealthy_runs_get_the_right_kind_first(verdicts):
    for label, name, found in verdicts:
        if label in ("healthy", "dead_units"):
            continue
        warnings = [f.kind for f in found if f.severity == "warning"]
        assert warnings and warnings[0] == label, (name, [f.sentence for f in found])


def test_dead_units_on_a_run_that_learned_are_an_observation(verdicts):
    for label, name, found in verdicts:
        if label == "dead_units":
            assert any(f.kind == "dead_units" and "dead" in f.sentence for f in found), name


def test_precision_and_recall_of_the_warnings(verdicts, capsys):
    unhealthy = [(label, found) for label, _, found in verdicts
                 if label not in ("healthy", "dead_units")]  # fmt: skip
    warned = [(label, found) for label, _, found in verdicts
              if any(f.severity == "warning" for f in found)]  # fmt: skip
    right = [1 for label, found in warned if found[0].kind == label]
    precision = len(right) / max(1, len(warned))
    recall = len(right) / len(unhealthy)
    with capsys.disabled():
        print(f"\ndiagnosis corpus: {len(verdicts)} runs, warning precision {precision:.2f}, "
              f"recall {recall:.2f}")  # fmt: skip
    assert precision == 1.0 and recall == 1.0


def test_a_diverging_run_through_the_engine_is_not_left_unsaid():
    # non-finite losses end the run as `diverged` (its own status): nothing to add then
    assert issubclass(nn.DivergenceError, Exception)
