"""Field reports, round three (issue 25): data misread and layer statistics that lie.

Each fault is one member of a kind; these tests try several members of each kind.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.data.uploads import DatasetError, parse_csv
from app.runs.validation import validate_run
from app.training.session import TrainingSession

# --- 1. precision before standardising ---------------------------------------------------------

OFFSET = 999000.0


def _table_csv(header: str, columns: tuple[np.ndarray, ...], formats: tuple[str, ...]) -> bytes:
    rows = zip(*columns, strict=True)
    lines = [header] + [",".join(f.format(v) for f, v in zip(formats, row, strict=True))
                        for row in rows]  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def _offset_uploads() -> dict[str, bytes]:
    """Uploads whose inputs (and, once, targets) span 0.2 near 999000."""
    steps = np.arange(400) * 0.0005
    x = OFFSET + steps
    wave = np.sin(30 * steps)
    y = OFFSET + np.cos(40 * steps) * 0.1
    return {
        "x,target": _table_csv("x,target", (x, wave), ("{:.4f}", "{:.6f}")),
        "x,y,target": _table_csv("x,y,target", (x, y, wave),
                                 ("{:.4f}", "{:.6f}", "{:.6f}")),  # fmt: skip
        "named table": _table_csv("pressure,temperature,yield", (x, y, wave),
                                  ("{:.4f}", "{:.6f}", "{:.6f}")),  # fmt: skip
        "target far from 0": _table_csv("x,target", (steps, OFFSET + wave * 0.1),
                                        ("{:.4f}", "{:.6f}")),  # fmt: skip
    }


def _distinct(values: np.ndarray) -> int:
    return len(np.unique(np.asarray(values, dtype=np.float32)))


@pytest.mark.parametrize("name", list(_offset_uploads()))
def test_an_upload_far_from_zero_is_standardised_before_it_becomes_float32(name):
    from app.data.uploads import DatasetStore

    store = DatasetStore()
    dataset_id = store.add(parse_csv(_offset_uploads()[name]))
    config, task = validate_run({"task": f"dataset:{dataset_id}", "hidden": [4]}, store)
    session = TrainingSession(task, config)
    rows = len(session.data.x_test)
    inputs = session.test_inputs
    for column in range(inputs.shape[1]):  # every distinct value still distinct in float32
        raw = np.unique(session.data.x_test[:, column]).size
        assert _distinct(inputs[:, column]) == raw, (name, column)
    targets = session.y_scaler.transform(session.data.y_test)
    assert _distinct(targets) > 0.9 * rows  # the targets are almost all different
    assert _distinct(session.grid_inputs[:, 0]) == len(session.data.grid_axes[0])
    assert _distinct(session.probe.inputs[:, 0]) == len(session.probe.axes[0])


@pytest.mark.parametrize(
    ("expression", "domain"),
    [
        ("sin(30*(x - 999000))", [[OFFSET, OFFSET + 0.2]]),
        ("sin(30*(x + 999000))", [[-OFFSET - 0.2, -OFFSET]]),
        ("x*y", [[OFFSET, OFFSET + 0.1], [-OFFSET - 0.1, -OFFSET]]),
    ],
)
def test_a_custom_domain_far_from_zero_keeps_every_sample_and_grid_point(expression, domain):
    config, task = validate_run({"task": "custom", "expression": expression, "domain": domain,
                                 "hidden": [4], "samples": 400})  # fmt: skip
    session = TrainingSession(task, config)
    for column in range(len(domain)):
        assert _distinct(session.test_inputs[:, column]) == len(session.data.x_test)
        assert _distinct(session.grid_inputs[:, column]) == len(session.data.grid_axes[column])


def test_the_offset_costs_no_test_r2():
    """The issue's example: the same wave with and without the offset trains alike."""
    from app.data.uploads import DatasetStore

    store = DatasetStore()
    steps = np.arange(400) * 0.0005
    scores = []
    for offset in (0.0, OFFSET):
        data = _table_csv("x,target", (offset + steps, np.sin(30 * steps)),
                          ("{:.4f}", "{:.6f}"))  # fmt: skip
        dataset_id = store.add(parse_csv(data))
        config, task = validate_run({"task": f"dataset:{dataset_id}", "hidden": [16, 16],
                                     "activation": "tanh", "optimizer": "adam", "lr": 0.01,
                                     "epochs": 150, "seed": 1}, store)  # fmt: skip
        session = TrainingSession(task, config)
        record = [session.advance() for _ in range(150)][-1]
        scores.append(session.record(record)["test_r2"])
    assert scores[0] > 0.95
    assert scores[1] == pytest.approx(scores[0], abs=0.01)


def test_uploaded_rows_stay_float64_until_the_model_casts():
    dataset = parse_csv(_offset_uploads()["x,target"])
    with pytest.raises(ValueError):
        dataset.X[0, 0] = 1.0  # read-only: many runs share it
    assert dataset.X.dtype == np.float64 and dataset.Y.dtype == np.float64
    assert isinstance(DatasetError("x"), ValueError)


# --- 2. a pandas export, as written by pandas ----------------------------------------------------


def _frame(header: str, rows: list[tuple], sep: str = ",") -> bytes:
    """A CSV as pandas' ``df.to_csv`` writes it (index first, unnamed)."""
    return (header + "\n" + "\n".join(sep.join(str(cell) for cell in row) for row in rows)
            + "\n").encode()  # fmt: skip


WAVE = [(k / 19, round(1 + (k / 19) ** 2, 6)) for k in range(20)]


@pytest.mark.parametrize(
    ("text", "kind", "names"),
    [
        (_frame(",x,target", [(k, *row) for k, row in enumerate(WAVE)]), "regression", None),
        (_frame(",x,target", [(k + 5, *row) for k, row in enumerate(WAVE[5:])]), "regression",
         None),  # a filtered frame: its index starts at 5
        (_frame(",x,target", [(k * 3, *row) for k, row in enumerate(WAVE)][::-1]), "regression",
         None),  # sorted the other way, every third row: still unique whole numbers
        (_frame(",x,y,label", [(k, x, t, k % 2) for k, (x, t) in enumerate(WAVE)]),
         "classification", None),
        (_frame(";x;target", [(k, str(x).replace(".", ","), str(t).replace(".", ","))
                              for k, (x, t) in enumerate(WAVE)], ";"), "regression", None),
        (_frame(",age,colour,label", [(k, 20 + k, "rgb"[k % 3], "pq"[k % 2]) for k in range(20)]),
         "classification", ["age", "colour", "label"]),
    ],
)
def test_a_pandas_index_is_dropped_and_said_so(text, kind, names):
    dataset = parse_csv(text)
    assert dataset.kind == kind
    assert dataset.n_rows == len(text.splitlines()) - 1
    assert dataset.notes and "index" in dataset.notes[0]
    assert "index" in " ".join(dataset.summary()["notes"])
    if names is None:
        assert dataset.table is None  # the fixed layout, without the index as an input
        assert dataset.inputs == (2 if kind == "classification" else 1)
        assert dataset.X[:, 0].max() <= 1.0  # x, not the index
    else:
        assert dataset.table.names == names
        assert all(len(row) == len(names) for row in dataset.table.head)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_frame(",x,target", [(f"r{k}", *row) for k, row in enumerate(WAVE)]),
         "line 2: column 1 has no name and is no index ('r0' is not a whole number"),
        (_frame(",x,target", [(k % 4, *row) for k, row in enumerate(WAVE)]),
         "line 6: column 1 has no name and is no index ('0' is a repeated number"),
        (_frame(",x,target", [(k + 0.5, *row) for k, row in enumerate(WAVE)]),
         "is not a whole number"),
        (_frame(",,x,target", [(k % 2, k, *row) for k, row in enumerate(WAVE)]),
         "line 1: columns 1, 2 have no name: pandas writes the index"),
        (_frame("x,,target", [(x, 1, t) for x, t in WAVE]),
         "line 1: column 2 has no name: a column written without its name"),
        (_frame("x,target,", [(x, t, "") for x, t in WAVE]),
         "line 1: column 3 has no name: the header ends with a separator"),
        (_frame("a,,b,c", [(k, k, k, k % 2) for k in range(20)]), "column 2 has no name"),
    ],
)
def test_other_unnamed_columns_are_refused_with_the_cause_and_the_fix(text, message):
    with pytest.raises(DatasetError) as refused:
        parse_csv(text)
    assert message in str(refused.value)
    assert "index=False" in str(refused.value)


def test_an_upload_is_named_by_its_file():
    from app.data.uploads import upload_name

    assert upload_name("C:\\Users\\me\\iris.csv") == "iris.csv"
    assert upload_name("/tmp/data/wine.csv") == "wine.csv"
    assert upload_name("a\x00b\n.csv") == "ab.csv"
    assert upload_name("") is None and upload_name(None) is None
    assert len(upload_name("x" * 500 + ".csv")) == 80


def test_the_file_name_and_notes_survive_a_restart():
    import dataclasses

    from app.data.tasks import dataset_task
    from app.storage.store import decode_dataset, encode_dataset

    source = _frame(",x,target", [(k, *row) for k, row in enumerate(WAVE)])
    dataset = dataclasses.replace(parse_csv(source), source=source, name="wave.csv")
    back = decode_dataset(encode_dataset(dataset))
    assert back.name == "wave.csv" and back.notes == dataset.notes
    assert dataset_task("abc", back).title == "wave.csv (20 rows)"


# --- 4. input features that ignore an input of the target --------------------------------------


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({"task": "custom", "expression": "sin(x)*cos(y)", "input_features": ["x"]}, "y"),
        ({"task": "saddle", "input_features": ["x", "x**2", "sin(x)"]}, "y"),
        ({"task": "moons", "input_features": ["y", "y**2"]}, "x"),
        ({"task": "circles", "input_features": ["x**2"]}, "y"),
    ],
)
def test_features_that_ignore_an_input_are_refused_naming_it(body, missing):
    from app.runs.validation import ConfigError

    with pytest.raises(ConfigError) as refused:
        validate_run(body)
    message = refused.value.errors["input_features"]
    assert message.startswith(f"no feature uses {missing}") and f"add {missing}" in message


@pytest.mark.parametrize(
    "body",
    [
        {"task": "custom", "expression": "sin(x)*cos(y)", "input_features": ["x", "cos(y)"]},
        {"task": "saddle", "input_features": ["x*y"]},  # one feature of both inputs
        {"task": "sin", "input_features": ["x**2", "sin(x)"]},
        {"task": "moons", "input_features": None},
        {"task": "custom", "expression": "x**2", "input_features": ["x"]},
    ],
)
def test_features_that_see_every_input_are_accepted(body):
    validate_run(body)


# --- 8. histograms of non-finite values; 9. exact zeros counted --------------------------------


@pytest.mark.parametrize(
    ("values", "nonfinite"),
    [
        (np.full((2, 32), np.nan), 64),
        (np.full((2, 32), np.inf), 64),
        (np.concatenate([np.full((2, 6), np.nan), np.full((2, 26), 0.5)], axis=1), 12),
        (np.concatenate([np.full((2, 3), -np.inf), np.linspace(-1, 1, 58).reshape(2, 29)], 1), 6),
        (np.linspace(-1, 1, 64).reshape(2, 32), 0),
    ],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the forward pass of NaN weights
def test_non_finite_weights_are_counted_apart_never_binned(values, nonfinite):
    from app.runs.payloads import inside_json

    inside = _probe_with(values.astype(np.float32))
    stats = inside.layers[0]
    edges, counts = stats.weights  # still a pair
    assert stats.weights.nonfinite == nonfinite
    assert counts.sum() == values.size - nonfinite  # no NaN as "one weight at 0"
    assert np.all(np.isfinite(edges)) and edges[-1] > edges[0]
    wire = inside_json(inside)["layers"][0]["weights"]
    assert wire["nonfinite"] == nonfinite and sum(wire["counts"]) == values.size - nonfinite


def _probe_with(weights: np.ndarray):
    import network as nn
    from app.training.inside import InsideProbe

    model = nn.mlp([2, weights.shape[1], 1], activation="tanh", seed=0)
    model.linear_layers()[0].weight.data[...] = weights
    return InsideProbe([[-1.0, 1.0], [-1.0, 1.0]], lambda points: points).probe(model)


def test_exact_zeros_are_counted_and_survive_the_relay():
    from app.runs.payloads import inside_json
    from app.transports.relay import decode_inside

    weights = np.linspace(-1, 1, 64).reshape(2, 32).astype(np.float32)
    weights[:, :10] = 0.0
    inside = _probe_with(weights)
    assert inside.layers[0].weights.zeros == 20
    wire = inside_json(inside)
    assert wire["layers"][0]["weights"]["zeros"] == 20
    again = inside_json(decode_inside(wire))  # a scaled web process relays it
    assert again["layers"][0]["weights"] == wire["layers"][0]["weights"]


def test_the_counts_cross_a_process_boundary():
    import pickle

    weights = np.full((2, 8), np.nan, dtype=np.float32)
    weights[0, :3] = 0.0
    stats = pickle.loads(pickle.dumps(_probe_with(weights))).layers[0]  # as a forked run sends it
    assert (stats.weights.nonfinite, stats.weights.zeros) == (13, 3)
    edges, counts = stats.weights
    assert counts.sum() == 3


# --- 11. a projection of the test set for tasks of more than two inputs --------------------------


@pytest.mark.parametrize(("rows", "inputs"), [(300, 3), (1500, 64), (2000, 200), (400, 784)])
def test_the_projection_is_the_first_two_principal_components(rows, inputs):
    from app.data.features import projection

    rng = np.random.default_rng(inputs)
    mixing = rng.normal(size=(inputs, inputs)) * np.linspace(3, 0.1, inputs)[:, None]
    X = rng.normal(size=(rows, inputs)) @ mixing + 1e5  # far from 0 too
    found = projection(X, X[:50])
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    values, vectors = np.linalg.eigh(Z.T @ Z)
    top = vectors[:, ::-1][:, :2]
    expected = Z[:50] @ top
    for k in range(2):  # the same axes up to their sign
        got = np.array(found["xy"[k]])
        assert abs(np.corrcoef(got, expected[:, k])[0, 1]) > 0.999, k
    assert found["explained"][0] == pytest.approx(values[-1] / values.sum(), rel=1e-3)
    assert found["axes"][0].startswith("PC1 (") and "% of the variance" in found["axes"][1]


def test_the_digits_snapshot_data_carries_the_projection_of_its_shown_test_points():
    from app.runs.payloads import RunPayloads

    config, task = validate_run({"task": "digits", "hidden": [8]})
    session = TrainingSession(task, config)
    data = RunPayloads(task, session.data, session.sizes).data_json()
    assert len(data["projection"]["x"]) == len(data["test"]["x"]) == len(data["test"]["label"])
    moons = validate_run({"task": "moons"})
    two = RunPayloads(moons[1], TrainingSession(moons[1], moons[0]).data, [2, 3, 2]).data_json()
    assert "projection" not in two  # two inputs: the decision regions show everything


def test_the_torch_export_standardises_far_from_zero_inputs_in_float64(tmp_path):
    import importlib.util

    torch = pytest.importorskip("torch")
    from app.storage.export import torch_script

    config, task = validate_run({"task": "custom", "expression": "sin(30*(x - 999000))",
                                 "domain": [[OFFSET, OFFSET + 0.2]], "hidden": [16],
                                 "samples": 400, "epochs": 30})  # fmt: skip
    session = TrainingSession(task, config)
    for _ in range(30):
        session.advance()
    (tmp_path / "exported.py").write_text(torch_script(session.checkpoint(), "r", task))
    spec = importlib.util.spec_from_file_location("exported_far", tmp_path / "exported.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    grid = session.data.grid_x  # float64, as a user's raw inputs would be
    with torch.no_grad():
        predicted = module.model(torch.from_numpy(grid)).numpy().ravel()
    np.testing.assert_allclose(predicted, session.view().prediction, atol=1e-4, rtol=0)
    assert len(np.unique(predicted)) > 0.9 * len(grid)  # not a few steps: the digits kept
