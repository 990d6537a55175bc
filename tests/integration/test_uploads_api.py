"""CSV uploads (`POST /api/datasets`) and `dataset:<id>` runs against a real server (issue 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from server_helpers import Watcher, finite_everywhere, start_run

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
needs_templates = pytest.mark.skipif(
    not (TEMPLATES / "index.html").exists() or not (TEMPLATES / "404.html").exists(),
    reason="dashboard templates not written yet",
)


def upload(server: Any, data: bytes, name: str = "data.csv") -> requests.Response:
    return requests.post(f"{server.url}/api/datasets", files={"file": (name, data)}, timeout=30)


def uploaded(server: Any, data: bytes) -> dict[str, Any]:
    response = upload(server, data)
    assert response.status_code == 201, response.text
    return response.json()


def csv_bytes(header: str, rows: np.ndarray) -> bytes:
    lines = [header] + [
        ",".join(f"{value:.6g}" if isinstance(value, float) else str(value) for value in row)
        for row in rows.tolist()
    ]
    return ("\n".join(lines) + "\n").encode()


def one_d_csv() -> bytes:
    xs = np.linspace(-1, 1, 200)
    return csv_bytes("x,target", np.column_stack([xs, xs**2]))


def two_d_csv() -> bytes:
    rng = np.random.default_rng(0)
    points = rng.uniform(-1, 1, (400, 2))
    return csv_bytes("x,y,target", np.column_stack([points, points[:, 0] - points[:, 1]]))


def classification_csv() -> bytes:
    rng = np.random.default_rng(1)
    rows = []
    for index in range(300):
        name = "left" if index % 2 else "right"
        centre = -2.0 if name == "left" else 2.0
        rows.append(f"{centre + rng.normal(0, 0.5):.5f},{rng.normal(0, 1):.5f},{name}")
    return ("x,y,label\n" + "\n".join(rows) + "\n").encode()


def watch_to_done(client: Watcher, run_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    client.watch(run_id)
    done = client.wait_done(run_id, timeout=60)
    return client.of("snapshot", run_id)[0], done


# --------------------------------------------------------------------------- happy paths


def test_a_1d_regression_upload_is_summarised_and_trains(server, client):
    summary = uploaded(server, one_d_csv())
    assert summary["id"] and summary["kind"] == "regression"
    assert (summary["inputs"], summary["n_rows"], summary["classes"]) == (1, 200, [])
    assert summary["domain"] == [[-1.0, 1.0]]
    assert set(summary["preview"]) == {"x", "target"} and len(summary["preview"]["x"]) == 200
    np.testing.assert_allclose(
        summary["preview"]["target"], np.array(summary["preview"]["x"]) ** 2, atol=1e-5
    )
    fetched = requests.get(f"{server.url}/api/datasets/{summary['id']}", timeout=10)
    assert fetched.status_code == 200 and fetched.json() == summary

    run = requests.post(
        f"{server.url}/api/runs",
        json={"task": f"dataset:{summary['id']}", "epochs": 150, "samples": 7, "noise": 1.0},
        timeout=10,
    )
    assert run.status_code == 201, run.text
    config = run.json()["config"]
    assert config["samples"] == 200 and config["noise"] == 0 and config["domain"] == [[-1, 1]]
    snapshot, done = watch_to_done(client, run.json()["id"])
    assert done["status"] == "finished" and done["epoch"] == 150
    assert snapshot["task"]["id"] == f"dataset:{summary['id']}"
    assert snapshot["task"]["kind"] == "regression" and snapshot["task"]["inputs"] == 1
    assert len(snapshot["data"]["train"]["x"]) == 140 and len(snapshot["data"]["test"]["x"]) == 60
    assert set(snapshot["target"]) == {"x"} and len(snapshot["target"]["x"]) == 200  # no function
    history = client.history(run.json()["id"])
    assert history["test_loss"][-1] < 0.1 * history["test_loss"][0]
    last = client.latest(run.json()["id"])
    assert len(last["prediction"]["y"]) == 200


def test_a_2d_regression_upload_trains_on_a_surface(server, client):
    summary = uploaded(server, two_d_csv())
    assert (summary["kind"], summary["inputs"], summary["n_rows"]) == ("regression", 2, 400)
    assert set(summary["preview"]) == {"x", "y", "target"}
    run_id = start_run(server, task=f"dataset:{summary['id']}", epochs=30)
    snapshot, done = watch_to_done(client, run_id)
    assert done["status"] == "finished"
    assert set(snapshot["target"]) == {"x", "y"}
    assert set(snapshot["data"]["train"]) == {"x", "y", "z"}
    last = client.latest(run_id)
    assert np.array(last["prediction"]["z"]).shape == (50, 50)
    assert all(finite_everywhere(data) for _, data in client.events)


def test_a_classification_upload_trains_like_a_builtin_classifier(server, client):
    summary = uploaded(server, classification_csv())
    assert (summary["kind"], summary["inputs"], summary["n_rows"]) == ("classification", 2, 300)
    assert summary["classes"] == ["left", "right"]
    assert set(summary["preview"]) == {"x", "y", "label"}
    assert set(summary["preview"]["label"]) == {0, 1}
    assert summary["task"]["classes"] == ["left", "right"]
    assert summary["task"]["defaults"]["loss"] == "cross_entropy"

    run_id = start_run(server, task=f"dataset:{summary['id']}", epochs=60)
    snapshot, done = watch_to_done(client, run_id)
    assert done["status"] == "finished" and done["test_acc"] >= 0.95
    assert snapshot["task"]["classes"] == ["left", "right"]
    assert snapshot["network"]["sizes"][-1] == 2
    assert set(snapshot["data"]["test"]) == {"x", "y", "label"}
    (x_lo, x_hi), _ = snapshot["config"]["domain"]
    assert x_lo < min(summary["preview"]["x"]) and max(summary["preview"]["x"]) < x_hi
    last = client.latest(run_id)
    assert set(last["prediction"]) == {"x", "y", "z", "confidence"}
    assert last["misclassified"] is not None and len(last["test_predicted"]) == 90


def test_a_dataset_preview_shows_its_points(server):
    summary = uploaded(server, classification_csv())
    response = requests.post(
        f"{server.url}/api/preview", json={"task": f"dataset:{summary['id']}"}, timeout=10
    )
    assert response.status_code == 200
    assert response.json()["data"] == summary["preview"]
    assert response.json()["task"]["id"] == f"dataset:{summary['id']}"


@needs_templates
def test_the_page_of_an_uploaded_dataset_renders(server):
    summary = uploaded(server, one_d_csv())
    response = requests.get(f"{server.url}/fit/dataset:{summary['id']}", timeout=10)
    assert response.status_code == 200 and "text/html" in response.headers["Content-Type"]


@needs_templates
def test_the_custom_page_renders(server):
    response = requests.get(
        f"{server.url}/fit/custom", params={"expression": "sin(5*x)*x"}, timeout=10
    )
    assert response.status_code == 200


# --------------------------------------------------------------------------- unknown ids


def test_an_unknown_dataset_is_a_400_on_run_creation_and_a_404_on_get(server):
    response = requests.post(f"{server.url}/api/runs", json={"task": "dataset:nope"}, timeout=10)
    assert response.status_code == 400
    assert "unknown dataset 'nope'" in response.json()["errors"]["task"]
    assert requests.get(f"{server.url}/api/datasets/nope", timeout=10).status_code == 404


@needs_templates
def test_the_page_of_an_unknown_dataset_is_a_friendly_404(server):
    response = requests.get(f"{server.url}/fit/dataset:nope", timeout=10)
    assert response.status_code == 404 and "Unknown dataset" in response.text


# --------------------------------------------------------------------------- malformed files

MALFORMED = {
    "missing column": (b"value\n1\n", "line 1: unknown column 'value'"),
    "missing target": (b"x,y\n1,2\n", "line 1: missing column 'target'"),
    "text in a number column": (
        b"x,target\n" + b"1,2\n" * 5 + b"3,abc\n" + b"1,2\n" * 10,
        "line 7: column 'target' is not a number: 'abc'",
    ),
    "empty": (b"", "the file is empty"),
    "only blank lines": (b"\n\n  \n", "the file is empty"),
    "header only": (b"x,target\n", "no data rows"),
    "wrong encoding (latin-1)": (
        b"x,y,label\n" + b"1,2,a\n" * 12 + "3,4,caf\u00e9\n".encode("latin-1"),
        "line 14: not valid UTF-8",
    ),
    "wrong encoding (UTF-16)": ("x,target\n1,2\n".encode("utf-16"), "UTF-16"),
    "ragged row": (b"x,target\n1,2\n3\n", "line 3: expected 2 fields, found 1"),
}


@pytest.mark.parametrize(("data", "message"), list(MALFORMED.values()), ids=list(MALFORMED))
def test_each_malformed_file_is_a_400_naming_line_and_problem(server, data, message):
    response = upload(server, data)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"file"} and message in errors["file"], errors


def test_a_body_over_5_mb_is_refused_as_too_big(server):
    data = b"x,target\n" + b"0.5,1.5\n" * (6 * 1024 * 1024 // 8)
    response = upload(server, data)
    assert response.status_code == 400
    assert response.json()["errors"]["file"].startswith("the file is too big: 6.0 MB")


def test_a_file_just_over_5_mb_in_a_body_under_the_limit_is_too_big_too(server):
    data = b"x,target\n" + b"1,2\n" * (5 * 1024 * 1024 // 4)
    response = upload(server, data)
    assert response.status_code == 400
    assert "too big" in response.json()["errors"]["file"]


def test_an_upload_without_a_file_field_is_a_400(server):
    response = requests.post(f"{server.url}/api/datasets", data={"other": "x"}, timeout=10)
    assert response.status_code == 400 and "file" in response.json()["errors"]


def test_other_huge_bodies_are_a_413(server):
    body = b'{"task": "sin", "pad": "' + b" " * (6 * 1024 * 1024) + b'"}'
    response = requests.post(
        f"{server.url}/api/runs",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413


# --------------------------------------------------------------------------- field reports


def test_a_german_excel_file_uploads_and_trains(server, client):
    rows = "".join(f"{i / 10:.1f};{(i / 10) ** 2:.2f}\n".replace(".", ",") for i in range(-20, 21))
    summary = uploaded(server, ("sep=;\nx;target\n" + rows).encode())
    assert summary["kind"] == "regression" and summary["n_rows"] == 41
    assert summary["domain"] == [[-2.0, 2.0]]
    assert summary["preview"]["target"][0] == pytest.approx(4.0)
    run_id = start_run(server, task=f"dataset:{summary['id']}", epochs=5)
    _snapshot, done = watch_to_done(client, run_id)
    assert done["status"] == "finished"


def test_labels_written_as_1_and_1_0_are_one_class(server):
    spellings = ["0", "0.0", "1", "1.0", "1.00"]
    rows = "".join(f"{i},{i % 3},{spellings[i % 5]}\n" for i in range(40))
    summary = uploaded(server, ("x,y,label\n" + rows).encode())
    assert summary["classes"] == ["0", "1"]
    assert summary["task"]["outputs"] == 2


def test_continuous_labels_are_a_400_suggesting_target(server):
    rows = "".join(f"{i},{i},{i * 0.37:.2f}\n" for i in range(20))
    response = upload(server, ("x,y,label\n" + rows).encode())
    assert response.status_code == 400
    message = response.json()["errors"]["file"]
    assert message.startswith("line 3: column 'label' looks continuous") and "'target'" in message


@pytest.mark.parametrize("width", [60_000, 1_000_000])
def test_a_wide_header_is_a_400_naming_the_limit(server, width):
    data = (",".join("c" for _ in range(width)) + "\n1,2\n").encode()
    response = upload(server, data)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "file": f"line 1: too many columns: {width:,} (at most 100)"
    }


# --- issue 25: a pandas export, as written by pandas ------------------------------------------


def pandas_csv(header: str, rows: list[str]) -> bytes:
    """As ``df.to_csv(path)`` writes a frame: the index first, in a column without a name."""
    return (header + "\n" + "\n".join(f"{k},{row}" for k, row in enumerate(rows)) + "\n").encode()


def test_a_pandas_index_is_dropped_and_the_answer_and_preview_say_so(live_server):
    rows = [f"{20 + k},{'rgb'[k % 3]},{'pq'[k % 2]}" for k in range(40)]
    answer = upload(live_server, pandas_csv(",age,colour,label", rows), name="people.csv")
    assert answer.status_code == 201, answer.text
    summary = answer.json()
    assert [column["name"] for column in summary["columns"]] == ["age", "colour", "label"]
    assert summary["name"] == "people.csv" and "index" in summary["notes"][0]
    assert summary["task"]["title"].startswith("people.csv")
    preview = requests.post(f"{live_server.url}/api/preview", json={"task": summary["task"]["id"]},
                            timeout=30).json()  # fmt: skip
    assert "index" in preview["table"]["notes"][0] and "index" in preview["notes"][0]
    again = requests.get(f"{live_server.url}/api/datasets/{summary['id']}", timeout=30).json()
    assert again["name"] == "people.csv"
    fixed = upload(live_server, pandas_csv(",x,target", [f"{k / 20},{k * k}" for k in range(20)]))
    assert fixed.status_code == 201 and fixed.json()["inputs"] == 1
    assert "index" in fixed.json()["notes"][0]


@pytest.mark.parametrize(
    ("header", "first", "message"),
    [
        (",x,target", lambda k: f"id{k}", "column 1 has no name and is no index"),
        (",,x,target", lambda k: f"{k % 2},{k}", "columns 1, 2 have no name"),
        ("x,,target", lambda k: f"{k}", "column 2 has no name"),
    ],
)
def test_other_unnamed_columns_are_a_400_with_the_fix(live_server, header, first, message):
    text = (header + "\n" + "\n".join(f"{first(k)},{k / 20},{k}" for k in range(20))).encode()
    answer = upload(live_server, text)
    assert answer.status_code == 400
    error = answer.json()["errors"]["file"]
    assert message in error and "index=False" in error


def test_a_run_whose_features_ignore_an_input_is_a_400(live_server):
    body = {"task": "custom", "expression": "sin(x)*cos(y)", "input_features": ["x"]}
    answer = requests.post(f"{live_server.url}/api/runs", json=body, timeout=30)
    assert answer.status_code == 400
    assert "no feature uses y" in answer.json()["errors"]["input_features"]
    body["input_features"] = ["x", "y"]
    assert requests.post(f"{live_server.url}/api/runs", json=body, timeout=30).status_code == 201
