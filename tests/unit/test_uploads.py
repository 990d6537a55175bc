"""Specification of app.data.uploads: CSV datasets for ``POST /api/datasets`` and their store."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.data.uploads import DatasetError, DatasetStore, ParsedDataset, parse_csv


def _csv(header: str, rows: list[str], newline: str = "\n") -> bytes:
    return newline.join([header, *rows, ""]).encode("utf-8")


ONE_D_ROWS = [f"{i / 10},{(i / 10) ** 2}" for i in range(-10, 11)]  # 21 rows, x in [-1, 1]
TWO_D_ROWS = [f"{i},{-2 * i},{i * 0.5}" for i in range(12)]


def _error(data: bytes, **limits) -> DatasetError:
    with pytest.raises(DatasetError) as caught:
        parse_csv(data, **limits)
    return caught.value


# --- happy paths ------------------------------------------------------------------------------


def test_one_input_regression():
    dataset = parse_csv(_csv("x,target", ONE_D_ROWS))
    assert (dataset.kind, dataset.inputs, dataset.n_rows) == ("regression", 1, 21)
    assert dataset.X.shape == (21, 1) and dataset.X.dtype == np.float64
    assert dataset.Y.shape == (21, 1) and dataset.Y.dtype == np.float64
    np.testing.assert_allclose(dataset.Y[:, 0], dataset.X[:, 0] ** 2)
    assert dataset.labels is None and dataset.classes == []
    assert dataset.domain == [[-1.0, 1.0]]


def test_two_input_regression_in_any_column_order():
    dataset = parse_csv(_csv("target,y,x", [f"{i * 0.5},{-2 * i},{i}" for i in range(12)]))
    assert (dataset.kind, dataset.inputs) == ("regression", 2)
    np.testing.assert_array_equal(dataset.X[3], [3.0, -6.0])  # columns are x, y
    assert dataset.Y[3, 0] == 1.5
    assert dataset.domain == [[0.0, 11.0], [-22.0, 0.0]]


def test_classification_with_string_labels_in_sorted_order():
    labels = ["dog", "cat", "emu"] * 4
    rows = [f"{i},{i % 3},{label}" for i, label in enumerate(labels)]
    dataset = parse_csv(_csv("x,y,label", rows))
    assert (dataset.kind, dataset.inputs, dataset.n_rows) == ("classification", 2, 12)
    assert dataset.classes == ["cat", "dog", "emu"]
    assert dataset.labels.dtype == np.int64
    np.testing.assert_array_equal(dataset.labels[:3], [1, 0, 2])
    assert dataset.Y is None


def test_integer_labels_sort_numerically_and_share_a_class_when_equal():
    labels = ["10", "2", "-1", "02", "+10", "2"] * 2
    rows = [f"{i},{i},{label}" for i, label in enumerate(labels)]
    dataset = parse_csv(_csv("x,y,label", rows))
    assert dataset.classes == ["-1", "2", "10"]
    np.testing.assert_array_equal(dataset.labels[:6], [2, 1, 0, 1, 2, 1])


def test_utf8_bom_crlf_whitespace_and_blank_lines_are_fine():
    body = "\ufeff X , Target \r\n\r\n" + "\r\n".join(f" {i} ,\t{i * 2} " for i in range(10))
    dataset = parse_csv((body + "\r\n\r\n").encode("utf-8"))
    assert dataset.n_rows == 10
    assert dataset.X[9, 0] == 9.0 and dataset.Y[9, 0] == 18.0


def test_quoted_fields_and_scientific_notation_are_read():
    rows = [f'"{i}e-1","{i}"' for i in range(10)]
    dataset = parse_csv(_csv("x,target", rows))
    assert dataset.X[5, 0] == pytest.approx(0.5)


def test_non_ascii_string_labels_are_fine_in_utf8():
    rows = [f"{i},{i},{'café' if i % 2 else 'thé'}" for i in range(10)]
    assert parse_csv(_csv("x,y,label", rows)).classes == ["café", "thé"]


def test_constant_column_gets_a_widened_domain():
    dataset = parse_csv(_csv("x,y,target", [f"3,{i},{i}" for i in range(10)]))
    lo, hi = dataset.domain[0]
    assert lo < 3.0 < hi
    assert dataset.domain[1] == [0.0, 9.0]


def test_arrays_are_read_only_so_runs_cannot_change_a_stored_dataset():
    dataset = parse_csv(_csv("x,target", ONE_D_ROWS))
    with pytest.raises(ValueError):
        dataset.X[0, 0] = 5.0
    classes = parse_csv(_csv("x,y,label", [f"{i},{i},{i % 2}" for i in range(10)]))
    with pytest.raises(ValueError):
        classes.labels[0] = 1


def test_summary_and_preview_are_plain_json_values():
    dataset = parse_csv(_csv("x,y,label", [f"{i},{-i},{'ab'[i % 2]}" for i in range(30)]))
    assert dataset.summary() == {
        "kind": "classification",
        "inputs": 2,
        "n_rows": 30,
        "classes": ["a", "b"],
        "domain": [[0.0, 29.0], [-29.0, 0.0]],
    }
    preview = dataset.preview(limit=4)
    assert set(preview) == {"x", "y", "label"}
    assert preview["x"] == [0.0, 9.0, 19.0, 29.0] and preview["label"] == [0, 1, 1, 1]
    regression = parse_csv(_csv("x,target", ONE_D_ROWS)).preview()
    assert set(regression) == {"x", "target"} and len(regression["x"]) == 21


def test_limits_can_be_reached_exactly():
    data = _csv("x,target", ONE_D_ROWS)
    assert parse_csv(data, max_bytes=len(data), max_rows=21).n_rows == 21


# --- malformed files: each names the line and the problem -----------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\n\r\n  \n", "the file is empty"),
        ("\ufeff".encode(), "the file is empty"),
        (b"x,target\n", "the file has a header but no data rows"),
        (b"x,target\n\n\n", "the file has a header but no data rows"),
        (_csv("x,target", ONE_D_ROWS[:9]), "only 9 data rows (at least 10 are needed)"),
        (_csv("x,target", ONE_D_ROWS[:1]), "only 1 data row (at least 10 are needed)"),
    ],
)
def test_whole_file_problems(data, message):
    error = _error(data)
    assert str(error) == message and error.line is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_csv("x", ONE_D_ROWS), "line 1: missing column 'target' (regression) or 'label'"),
        (_csv("target,y", ONE_D_ROWS), "line 1: missing column 'x'"),
        (_csv("x,label", ONE_D_ROWS), "line 1: missing column 'y': classification needs"),
        # other names make a table (app/data/tables.py, issue 16); a single column cannot be one
        (_csv("x,y", ONE_D_ROWS), "line 1: missing column 'target' (regression) or 'label'"),
        (_csv("Targte", ONE_D_ROWS), "line 1: unknown column 'Targte': expected x,target"),
        (_csv("x,y,target,label", ONE_D_ROWS), "line 1: use either 'target'"),
        (_csv("x,X", ONE_D_ROWS), "line 1: column 'x' appears more than once"),
        (_csv("x,,target", ONE_D_ROWS), "line 1: column 2 has no name"),
        (_csv("0.5,1", ONE_D_ROWS), "line 1: the first line must be a header"),
    ],
)
def test_header_problems(data, message):
    error = _error(data)
    assert str(error).startswith(message), str(error)
    assert error.line == 1


def _with_bad_row(row: str, header: str = "x,target") -> bytes:
    rows = list(ONE_D_ROWS) if header == "x,target" else [f"{i},{i},a{i % 2}" for i in range(12)]
    rows[5] = row  # line 7: the header is line 1
    return _csv(header, rows)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("0.1,abc", "line 7: column 'target' is not a number: 'abc'"),
        ("one,2", "line 7: column 'x' is not a number: 'one'"),
        ("0.1,", "line 7: column 'target' is empty"),
        ("0.1,nan", "line 7: column 'target' is not a finite number: 'nan'"),
        ("0.1,-inf", "line 7: column 'target' is not a finite number: '-inf'"),
        ("1e999,1", "line 7: column 'x' is not a finite number: '1e999'"),
        ("2e6,1", "line 7: column 'x' is out of range: '2e6'"),
        ("0.1,1e13", "line 7: column 'target' is out of range: '1e13'"),
        ("0.1", "line 7: expected 2 fields, found 1"),
        ("0.1,2,3", "line 7: expected 2 fields, found 3"),
        ('0.1,"2"x', "line 7: malformed CSV"),
        ("0.1," + "9" * 30, "line 7: column 'target' is out of range: '99999999999999999999…'"),
    ],
)
def test_bad_value_names_line_and_column(row, message):
    error = _error(_with_bad_row(row))
    assert str(error).startswith(message), str(error)
    assert error.line == 7


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("1,2,", "line 7: column 'label' is empty"),
        ("1,2," + "z" * 51, "line 7: column 'label' is too long"),
        ("1,abc,a", "line 7: column 'y' is not a number: 'abc'"),
    ],
)
def test_bad_label_row_names_line(row, message):
    error = _error(_with_bad_row(row, header="x,y,label"))
    assert str(error).startswith(message), str(error)


def test_line_numbers_count_blank_lines():
    data = b"x,target\n\n\n" + b"\n".join(row.encode() for row in ONE_D_ROWS[:4]) + b"\n1,oops\n"
    assert str(_error(data)).startswith("line 8: column 'target' is not a number: 'oops'")


def test_too_big_is_refused_before_parsing():
    data = b"x,target\n" + b"0,0\n" * 2_000_000  # 8 MB
    error = _error(data)
    assert str(error) == "the file is too big: 7.6 MB (at most 5.0 MB)"
    assert "at most 1.0 KB" in str(_error(_csv("x,target", ONE_D_ROWS * 10), max_bytes=1024))


def test_too_many_rows_names_the_first_extra_line():
    error = _error(_csv("x,target", ONE_D_ROWS), max_rows=20)
    assert str(error) == "line 22: too many rows (at most 20 data rows)"


def test_default_row_limit_is_100_000():
    data = b"x,target\n" + b"1,2\n" * 100_001
    assert str(_error(data)) == "line 100002: too many rows (at most 100,000 data rows)"


def test_non_utf8_bytes_name_the_line_and_column():
    data = _csv("x,y,label", [f"{i},{i},a{i % 2}" for i in range(10)]).replace(
        b"3,3,a1", "3,3,caf\u00e9".encode("latin-1")
    )
    error = _error(data)
    assert str(error).startswith("line 5: not valid UTF-8 (byte 0xe9 at column 8)")
    assert error.line == 5


def test_utf16_files_are_named_as_such():
    data = "x,target\n1,2\n".encode("utf-16")
    assert str(_error(data)) == "line 1: the file is UTF-16 encoded: save it as UTF-8"


def test_binary_data_is_refused():
    assert "NUL" in str(_error(b"x,target\n1,2\x00\n"))
    assert "not valid UTF-8" in str(_error(bytes(range(256)) * 4))


def test_single_class_is_refused():
    error = _error(_csv("x,y,label", [f"{i},{i},same" for i in range(12)]))
    assert str(error) == "only one class ('same'): classification needs 2 to 10 classes"


def test_eleven_classes_are_refused_at_the_first_extra_label():
    rows = [f"{i},{i},c{i}" for i in range(11)]
    error = _error(_csv("x,y,label", rows))
    assert str(error).startswith("line 12: more than 10 classes (label 'c10'")


def test_ten_classes_are_fine():
    rows = [f"{i},{i},{i % 10}" for i in range(20)]
    assert parse_csv(_csv("x,y,label", rows)).classes == [str(k) for k in range(10)]


def test_upload_that_is_not_bytes_is_refused():
    with pytest.raises(DatasetError):
        parse_csv("x,target\n1,2")  # type: ignore[arg-type]


def test_error_is_a_value_error_with_the_bare_message():
    error = _error(_with_bad_row("0.1,abc"))
    assert isinstance(error, ValueError)
    assert error.message == "column 'target' is not a number: 'abc'"


# --- the store --------------------------------------------------------------------------------


def _dataset(n: int = 10) -> ParsedDataset:
    return parse_csv(_csv("x,target", [f"{i},{i}" for i in range(n)]))


def test_store_gives_url_safe_ids_and_returns_the_dataset():
    store = DatasetStore()
    dataset = _dataset()
    dataset_id = store.add(dataset)
    assert len(dataset_id) >= 10
    assert all(c.isalnum() or c in "-_" for c in dataset_id)
    assert store.get(dataset_id) is dataset
    assert dataset_id in store and len(store) == 1


def test_store_answers_none_for_unknown_ids():
    store = DatasetStore()
    store.add(_dataset())
    assert store.get("nope") is None
    assert store.get(None) is None
    assert store.get(["list"]) is None


def test_store_evicts_the_least_recently_used_beyond_its_cap():
    store = DatasetStore(max_datasets=3)
    first, second, third = (store.add(_dataset()) for _ in range(3))
    assert store.get(first) is not None  # now the most recently used
    fourth = store.add(_dataset())
    assert len(store) == 3
    assert store.get(second) is None
    assert all(store.get(i) is not None for i in (first, third, fourth))


def test_store_ids_are_unique():
    store = DatasetStore(max_datasets=1000)
    dataset = _dataset()
    assert len({store.add(dataset) for _ in range(500)}) == 500


def test_store_is_safe_to_share_between_threads():
    store = DatasetStore(max_datasets=50)
    dataset = _dataset()
    ids: list[str] = []
    errors: list[BaseException] = []
    ids_lock = threading.Lock()

    def worker():
        try:
            for _ in range(200):
                new_id = store.add(dataset)
                with ids_lock:
                    ids.append(new_id)
                store.get(new_id)
                len(store)
        except BaseException as error:  # noqa: BLE001 - surfaced in the assertion below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(ids)) == 1600
    assert len(store) == 50
    assert sum(store.get(i) is not None for i in ids) == 50


def test_store_cap_must_be_positive():
    with pytest.raises(ValueError):
        DatasetStore(max_datasets=0)


def test_the_store_keeps_at_most_max_bytes_of_arrays_in_memory():
    rows = "".join(f"{i},{i % 3}\n" for i in range(1000))
    dataset = parse_csv(f"x,target\n{rows}".encode())
    size = dataset.X.nbytes + dataset.Y.nbytes
    store = DatasetStore(max_datasets=100, max_bytes=3 * size)
    ids = [store.add(dataset) for _ in range(5)]
    assert [dataset_id in store for dataset_id in ids] == [False, False, True, True, True]
    alone = DatasetStore(max_bytes=1)  # the newest is kept however large
    assert alone.add(dataset) in alone
