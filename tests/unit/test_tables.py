"""Tables with named columns (app/data/tables.py) and the per-app mnist task (--mnist-dir)."""

from __future__ import annotations

import numpy as np
import pytest
from mnist_files import synthetic_mnist

from app import create_app
from app.__main__ import app_config, parse_args
from app.data.tables import ChoiceError
from app.data.tasks import TASKS, mnist_files_present
from app.data.uploads import DatasetError, parse_csv


def _table(text: str):
    return parse_csv(text.encode()).table


ROWS = "".join(f"{i},{i % 4 * 0.5},{'a' if i % 3 else 'b'},{i % 2}\n" for i in range(30))


def test_numbers_and_categories_are_typed_and_counted():
    table = _table("n,m,c,out\n" + ROWS)
    assert [(c.name, c.type, c.distinct) for c in table.columns] == [
        ("n", "number", 30), ("m", "number", 4), ("c", "category", 2), ("out", "number", 2),
    ]  # fmt: skip
    assert table.suggested_target() == "out"


@pytest.mark.parametrize("name", ["Target", "label", "Species", "class", "y"])
def test_a_target_named_so_is_suggested_wherever_it_is(name):
    assert _table(f"{name},n,m,c\n" + ROWS).suggested_target() == name


def test_categories_are_one_hot_and_missing_numbers_take_the_median():
    text = "n,c,out\n" + "".join(
        f"{'' if i == 0 else i},{'NA' if i == 1 else 'ab'[i % 2]},{i % 2}\n" for i in range(11)
    )
    choice = _table(text).choose()
    assert choice.input_names == ("n", "c=a", "c=b")
    assert choice.encoded()[0, 0] == np.median(np.arange(1, 11))
    np.testing.assert_array_equal(choice.encoded()[1, 1:], [0, 0])  # a missing category: all zeros
    np.testing.assert_array_equal(choice.encoded()[2, 1:], [1, 0])
    assert choice.kind == "classification" and choice.classes == ("0", "1")


def test_a_table_is_held_as_codes_and_one_hot_only_when_a_run_asks():
    """Issue 24, point 3: parsing keeps category columns as codes; the one-hot inputs are built
    by `features` (the training data path), equal to the expansion, never kept."""
    from app.data.uploads import _array_bytes

    rng = np.random.default_rng(3)
    codes = rng.integers(0, 40, (2000, 8))
    codes[5, 2] = -1  # a missing cell
    lines = ["c0,c1,c2,c3,c4,c5,c6,c7,n,target"]
    lines += [",".join([*("NA" if v < 0 else f"v{v:02d}" for v in row), str(i % 7), str(i % 3)])
              for i, row in enumerate(codes)]  # fmt: skip
    source = ("\n".join(lines) + "\n").encode()
    dataset = parse_csv(source)
    assert dataset.X is None and dataset.inputs == 8 * 40 + 1
    assert _array_bytes(dataset) < 2 * len(source)  # codes: no (2000, 321) float64 matrix
    X = dataset.features()
    assert X.shape == (2000, 321) and X.dtype == np.float64
    expected = np.zeros((2000, 8, 40))
    rows, columns = np.nonzero(codes >= 0)
    expected[rows, columns, codes[rows, columns]] = 1.0
    np.testing.assert_array_equal(X[:, :320], expected.reshape(2000, 320))
    np.testing.assert_array_equal(X[:, 320], np.arange(2000) % 7)
    np.testing.assert_array_equal(dataset.features([320, 3]), X[:, [320, 3]])
    spans = [[0.0, 1.0]] * 320 + [[0.0, 6.0]]
    assert dataset.domain == spans  # as the span of each encoded column, without encoding
    assert dataset.features() is not X  # built on each call, never kept


def test_a_continuous_target_is_regression_and_cannot_be_classes():
    table = _table("n,m,c,out\n" + ROWS)
    assert table.choose(target="m").kind == "regression"  # 0, 0.5, 1, 1.5: not whole numbers
    assert table.choose(target="n").kind == "regression"  # 30 whole numbers: more than 20
    with pytest.raises(ChoiceError) as caught:
        table.choose(target="n", kind="classification")
    assert caught.value.field == "kind"


def test_half_numbers_are_regression():
    rows = "".join(f"{i},{i * 0.37:.2f}\n" for i in range(20))
    assert parse_csv(("a,b\n" + rows).encode()).kind == "regression"


def test_the_old_layouts_have_no_table():
    rows = "".join(f"{i},{i * 2}\n" for i in range(20))
    dataset = parse_csv(("x,target\n" + rows).encode())
    assert dataset.table is None and "columns" not in dataset.summary()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a,b\n" + "".join(f"{i},{i % 2}\n" for i in range(5)) + "x,1\n" + "1,0\n" * 10,
            "line 7: column 'a' holds numbers, but not here: 'x'",
        ),
        ("a,b,c\n" + "".join(f"{i},,{i % 2}\n" for i in range(12)), "line 1: column 'b' is empty"),
        (
            "a,b\n" + "".join(f"{i},same\n" for i in range(12)),
            "line 1: column 'b' has one value ('same') on every row",
        ),
        (
            "a,b\n" + "".join(f"{i},k{i}\n" for i in range(25)),
            "line 1: column 'b' has 25 different values: a classification target takes 2 to 20",
        ),
    ],
)
def test_bad_tables_name_line_and_column(text, message):
    with pytest.raises(DatasetError) as caught:
        parse_csv(text.encode())
    assert str(caught.value).startswith(message), str(caught.value)


# --------------------------------------------------------------------------- mnist


def test_mnist_is_a_task_of_that_app_only(tmp_path):
    folder = synthetic_mnist(tmp_path)
    assert mnist_files_present(folder)
    with_mnist = create_app({"TESTING": True, "MNIST_DIR": str(folder), "DATABASE_URL": "none"})
    plain = create_app({"TESTING": True, "DATABASE_URL": "none"})
    tasks = {task["id"]: task for task in with_mnist.test_client().get("/api/tasks").get_json()}
    mnist = tasks["mnist"]
    assert (mnist["inputs"], mnist["image_shape"], mnist["outputs"]) == (784, [28, 28], 10)
    assert mnist["defaults"]["hidden"] == [50, 50]
    assert "mnist" not in TASKS
    assert "mnist" not in [task["id"] for task in plain.test_client().get("/api/tasks").get_json()]
    response = plain.test_client().post("/api/runs", json={"task": "mnist"})
    assert (
        response.status_code == 400
        and "unknown task 'mnist'" in response.get_json()["errors"]["task"]
    )


def test_a_folder_without_the_files_adds_no_task(tmp_path):
    app = create_app({"TESTING": True, "MNIST_DIR": str(tmp_path), "DATABASE_URL": "none"})
    assert app.extensions["tasks"] == {}
    with pytest.raises(SystemExit):
        parse_args(["--mnist-dir", str(tmp_path)])


def test_the_command_line_passes_the_folder(tmp_path):
    folder = synthetic_mnist(tmp_path)
    assert app_config(parse_args(["--mnist-dir", str(folder)]))["MNIST_DIR"] == str(folder)


def test_a_table_of_one_data_row_says_row_not_rows():
    with pytest.raises(DatasetError) as caught:
        parse_csv(b"area,rooms,city,price\n121,4,Berlin,409782\n")
    assert str(caught.value) == "only 1 data row (at least 10 are needed)"
