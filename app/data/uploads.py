"""User datasets uploaded as CSV: strict parsing with line-numbered errors, and an in-memory store.

Accepted layouts (header required; names case-insensitive, surrounding whitespace ignored, any
column order), the three fixed ones:

* ``x,target``     1-D regression
* ``x,y,target``   2-D regression
* ``x,y,label``    classification; labels are whole numbers or strings, 2 to `MAX_CLASSES` of
  them, mapped to class indices 0..k-1 in sorted order (numeric order when every label is a
  number). Numeric labels are compared by value (``1``, ``1.0``, ``+1``, ``1e0`` are class
  ``1``); a label that is a number but not a whole one (``0.5``) is refused: the column looks
  continuous and should be named ``target``.

and any other header of at least two named columns: a table (`app.data.tables`: numbers and
categories, the target and features chosen per run, up to 100 columns and 20 classes).

The delimiter is the one the header uses: comma, semicolon or tab (Excel's ``sep=;`` first line
is honoured and skipped); in semicolon files numbers may use decimal commas (``1,5``). The
header's width is checked first (`MAX_COLUMNS`) and every step is linear in the file's length.
The file must be UTF-8 (a byte-order mark is fine); line endings may be LF or CRLF; blank lines
are skipped. Every problem raises `DatasetError` whose message starts with the line it is on,
e.g. ``line 7: column 'target' is not a number: 'abc'``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import secrets
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from app.config.wording import counted
from app.data.csv_rows import (
    _NUMERIC,
    DELIMITERS,
    MAX_INPUT,
    MAX_TARGET,
    DatasetError,
    _decimal,
    _Dialect,
    _field_count_hint,
    _next_row,
    _shown,
)
from app.data.tables import ChoiceError, read_table

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 100_000
MIN_ROWS = 10  # fewer cannot be split into a training and a test set worth the name
MAX_CLASSES = 10
MAX_LABEL_LENGTH = 50

LAYOUTS = {
    frozenset({"x", "target"}): ("regression", ("x",)),
    frozenset({"x", "y", "target"}): ("regression", ("x", "y")),
    frozenset({"x", "y", "label"}): ("classification", ("x", "y")),
}
KNOWN_COLUMNS = ("x", "y", "target", "label")
EXPECTED = "x,target or x,y,target (regression) or x,y,label (classification)"

MAX_COLUMNS = 100  # header width, checked before the file is parsed

#: Delimiters recognised from the header, and their names for messages.

_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")
_SEP_LINE = re.compile(r"\s*sep=(.)\s*", re.IGNORECASE)  # Excel's first line: sep=;


@dataclass(frozen=True)
class ParsedDataset:
    """A checked dataset. Arrays are read-only, so one stored dataset can feed many runs.

    Regression: ``Y`` is float64 (n, 1), ``labels`` None, ``classes`` empty. Classification:
    ``labels`` is int64 (n,) of indices into ``classes`` (the label strings in class order),
    ``Y`` None. ``X`` is float64 (n, inputs) (None for a table: see `features`, the one way to
    read the inputs); ``domain`` is [[lo, hi], ...] per input from the data, widened to a
    non-empty interval when all values are equal.

    A table with named columns (`app.data.tables.Table`, in `table`) holds the data of a choice
    of target and features (`choice`; the table's default one: what a run without
    ``target_column`` trains on) as column codes: its one-hot inputs are built by `features`
    when a run needs them, never kept (a 1 MB CSV of category columns is tens of MB one-hot).
    """

    kind: str
    inputs: int
    X: np.ndarray | None
    Y: np.ndarray | None
    labels: np.ndarray | None
    classes: list[str] = field(default_factory=list)
    domain: list[list[float]] = field(default_factory=list)
    n_rows: int = 0
    table: Any = None  # app.data.tables.Table of an upload with named columns, else None
    source: bytes | None = field(default=None, repr=False)  # the CSV as uploaded (it is stored)
    name: str | None = None  # the uploaded file's name, how the pages list the data set
    creator: str | None = None  # who uploaded it, with owners (app/web/owners.py); else None
    notes: tuple[str, ...] = ()  # what reading the file changed, e.g. a pandas index dropped
    choice: Any = None  # app.data.tables.Choice of a table (X is None), else None

    def features(self, inputs: Any = None) -> np.ndarray:
        """The network inputs, float64 (n_rows, inputs), or only the columns `inputs` (indices).
        A table's are built on each call from its codes (`tables.Choice.encoded`); else they
        are `X` itself or a copy of its columns (`X` is read-only, shared by every run)."""
        if self.choice is not None:
            return self.choice.encoded(inputs)
        return self.X if inputs is None else self.X[:, list(inputs)]

    def summary(self) -> dict[str, Any]:
        """JSON-ready description (what ``POST /api/datasets`` can answer with, plus an id).

        Tables add ``columns`` ([{name, type, distinct, missing, target_kind}]),
        ``target_column`` (the suggested target) and ``head`` (the first rows as written).
        ``name`` is the file's name (when known), ``notes`` what reading changed (when anything
        did, e.g. "column 1 has no name and holds 0, 1, 2, …: read as the index pandas writes
        … and dropped").
        """
        answer = {
            "kind": self.kind,
            "inputs": self.inputs,
            "n_rows": self.n_rows,
            "classes": list(self.classes),
            "domain": [list(pair) for pair in self.domain],
        }
        if self.table is not None:
            answer.update(self.table.to_json())
        if self.name:
            answer["name"] = self.name
        if self.notes:
            answer["notes"] = list(self.notes)
        return answer

    def preview(self, limit: int = 1000) -> dict[str, list]:
        """At most `limit` rows, spread evenly over the file, as plain lists for a plot.

        Keys: ``x`` (and ``y`` in 2-D) plus ``target`` (regression) or ``label`` (class index).
        """
        rows = np.unique(np.linspace(0, self.n_rows - 1, min(limit, self.n_rows)).astype(int))
        X = self.features(range(min(self.inputs, 2)))
        result: dict[str, list] = {"x": X[rows, 0].tolist()}
        if self.inputs == 2:
            result["y"] = X[rows, 1].tolist()
        if self.kind == "regression":
            result["target"] = self.Y[rows, 0].tolist()
        else:
            result["label"] = self.labels[rows].tolist()
        return result


def parse_csv(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    min_rows: int = MIN_ROWS,
    max_columns: int = MAX_COLUMNS,
) -> ParsedDataset:
    """Parse an uploaded CSV file into a `ParsedDataset`, or raise `DatasetError`.

    The size, then the header's width are checked before anything else reads the file, and
    every step is linear in the file's length (a 1,000,000-column header is refused at once).
    The delimiter (comma, semicolon or tab) is the one the header uses; Excel's ``sep=;`` first
    line is honoured and skipped; semicolon files may write decimal commas (``1,5``).
    """
    text = _checked_text(data, max_bytes)
    dialect = _dialect(text, max_columns)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter, strict=True)
    try:
        if dialect.skip_first:
            next(reader)
        header_line, header = _next_row(reader)
        if header is None:
            raise DatasetError("the file is empty")
        _check_unnamed(header, header_line)
        if not header[0].strip():  # a pandas index: read without it, checked at the end
            reader, header = _IndexColumn(reader, header_line), header[1:]
        dataset = _read_data(reader, header, header_line, dialect, max_rows, min_rows)
    except csv.Error as error:
        raise DatasetError(f"malformed CSV: {error}", reader.line_num or 1) from None
    if isinstance(reader, _IndexColumn):
        dataset = replace(dataset, notes=(*dataset.notes, reader.checked()))
    return dataset


def _read_data(reader: Any, header: list[str], header_line: int, dialect: _Dialect,
               max_rows: int, min_rows: int) -> ParsedDataset:  # fmt: skip
    """The rows after `header`: a fixed layout (`LAYOUTS`) or a table (`app.data.tables`)."""
    layout = _read_header(header, header_line, dialect)
    if layout is None:  # named columns: a table
        return table_dataset(read_table(reader, header, header_line, dialect, max_rows, min_rows))
    rows = _read_rows(reader, layout, dialect, max_rows)
    return _dataset(layout, rows, min_rows)


INDEX_FIX = "write the file with df.to_csv(path, index=False), or name the column"


def _check_unnamed(header: list[str], line: int) -> None:
    """Refuse unnamed columns but a first one (maybe a pandas index, checked by its values),
    naming the likely cause and the fix."""
    names = [cell.strip() for cell in header]
    if not any(names):
        return  # no header at all: `_read_header` says so
    unnamed = [position for position, name in enumerate(names, start=1) if not name]
    leading = next((k for k, position in enumerate(unnamed) if position != k + 1), len(unnamed))
    if unnamed in ([], [1]):
        return
    if leading >= 2 and leading == len(unnamed):
        listed = ", ".join(str(position) for position in unnamed)
        raise DatasetError(
            f"columns {listed} have no name: pandas writes the index of a data frame (of "
            f"several levels) as unnamed first columns; {INDEX_FIX}s",
            line,
        )
    position = unnamed[leading] if leading < len(unnamed) else unnamed[0]
    if position == len(names):
        raise DatasetError(
            f"column {position} has no name: the header ends with a separator (remove it, or "
            "name the column; pandas writes no unnamed column with df.to_csv(path, index=False))",
            line,
        )
    raise DatasetError(
        f"column {position} has no name: a column written without its name, as pandas writes "
        f"its index; {INDEX_FIX}",
        line,
    )


class _IndexColumn:
    """A csv reader without its first field (a pandas index), whose values it keeps to check
    (`checked`): unique whole numbers, as pandas writes ``0, 1, 2, …`` or a filtered index."""

    def __init__(self, reader: Any, header_line: int) -> None:
        self.reader = reader
        self.header_line = header_line
        self.values: list[tuple[int, str]] = []  # (line, cell)

    @property
    def line_num(self) -> int:
        return self.reader.line_num

    def __iter__(self) -> _IndexColumn:
        return self

    def __next__(self) -> list[str]:
        row = next(self.reader)
        if not any(cell.strip() for cell in row):
            return row  # a blank line, skipped by `_next_row`
        self.values.append((self.reader.line_num, row[0].strip()))
        return row[1:]

    def checked(self) -> str:
        """The note saying the column was dropped, or `DatasetError` when it is no index."""
        seen: set[int] = set()
        for line, cell in self.values:
            whole = _NUMERIC.fullmatch(cell) and float(cell).is_integer()
            if not whole or int(float(cell)) in seen:
                what = "a repeated number" if whole else "not a whole number"
                raise DatasetError(
                    f"column 1 has no name and is no index ({_shown(cell)} is {what}; an index "
                    f"holds different whole numbers such as 0, 1, 2, …): {INDEX_FIX}",
                    line,
                )
            seen.add(int(float(cell)))
        first = ", ".join(cell for _line, cell in self.values[:3])
        return (
            f"column 1 has no name and holds {first}, …: read as the index pandas writes "
            "(df.to_csv without index=False) and dropped"
        )


def table_dataset(table: Any, choice: Any = None) -> ParsedDataset:
    """The `ParsedDataset` of a table's `choice` (`app.data.tables.Choice`; default: the table's
    default choice, whose problems are the upload's: `DatasetError` naming line and column)."""
    if choice is None:
        try:
            choice = table.choose()
        except ChoiceError as error:
            raise DatasetError(error.message, error.line or table.header_line) from None
    for array in (choice.Y, choice.labels):
        if array is not None:
            array.setflags(write=False)
    return ParsedDataset(
        kind=choice.kind,
        inputs=choice.width,
        X=None,  # built where a run trains (`ParsedDataset.features`): a table keeps codes
        Y=choice.Y,
        labels=choice.labels,
        classes=list(choice.classes),
        domain=choice.domain(),
        n_rows=choice.n_rows,
        table=table,
        choice=choice,
    )


@dataclass(frozen=True)
class _Layout:
    """The header read: regression or classification, input names and column positions."""

    kind: str
    input_names: tuple[str, ...]
    positions: dict[str, int]
    width: int

    @property
    def output_name(self) -> str:
        return "target" if self.kind == "regression" else "label"


@dataclass
class _Rows:
    """The data rows read so far: inputs, outputs (numbers or first-seen label ids), labels."""

    inputs: list[list[float]] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)
    label_ids: dict[str, int] = field(default_factory=dict)


def _checked_text(data: Any, max_bytes: int) -> str:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DatasetError("the upload must be a file")
    data = bytes(data)
    if len(data) > max_bytes:
        raise DatasetError(f"the file is too big: {too_big(len(data), max_bytes)}")
    text = _decode(data)
    if not text.strip():
        raise DatasetError("the file is empty")
    return text


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) from the start of `text`, found one at a time (linear overall)."""
    start, number = 0, 1
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        yield number, text[start:end].rstrip("\r")
        start, number = end + 1, number + 1


def _dialect(text: str, max_columns: int) -> _Dialect:
    """The delimiter from the header (or Excel's ``sep=`` line); the header's width limit."""
    lines = _lines(text)
    number, line = next(lines)
    sep = _SEP_LINE.fullmatch(line)
    forced = None
    if sep:
        forced = sep.group(1)
        if forced not in DELIMITERS:
            raise DatasetError(
                f"unsupported separator {forced!r} in 'sep=': use a comma, semicolon or tab", number
            )
    header_number, header = number, line
    if sep or not header.strip():
        header_number, header = next(((n, text) for n, text in lines if text.strip()), (number, ""))
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    delimiter = forced or max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    width = counts[delimiter] + 1
    if width > max_columns:
        raise DatasetError(f"too many columns: {width:,} (at most {max_columns:,})", header_number)
    return _Dialect(delimiter, delimiter == ";", bool(sep))


def _read_rows(reader: Any, layout: _Layout, dialect: _Dialect, max_rows: int) -> _Rows:
    rows = _Rows()
    while True:
        line, row = _next_row(reader)
        if row is None:
            return rows
        if len(row) != layout.width:
            raise DatasetError(
                f"expected {layout.width} fields, found {len(row)}"
                + _field_count_hint(row, layout.width, dialect),
                line,
            )
        if len(rows.inputs) == max_rows:
            raise DatasetError(f"too many rows (at most {max_rows:,} data rows)", line)
        rows.inputs.append([
            _number(row[layout.positions[name]], name, line, MAX_INPUT, dialect)
            for name in layout.input_names
        ])  # fmt: skip
        raw_output = row[layout.positions[layout.output_name]]
        if layout.kind == "regression":
            rows.outputs.append(_number(raw_output, "target", line, MAX_TARGET, dialect))
        else:
            rows.outputs.append(_label(raw_output, line, rows.label_ids, dialect))


def _dataset(layout: _Layout, rows: _Rows, min_rows: int) -> ParsedDataset:
    if not rows.inputs:
        raise DatasetError("the file has a header but no data rows")
    if len(rows.inputs) < min_rows:
        found = counted(len(rows.inputs), "data row")
        raise DatasetError(f"only {found} (at least {min_rows} are needed)")
    n_inputs = len(layout.input_names)
    X = np.array(rows.inputs, dtype=np.float64).reshape(len(rows.inputs), n_inputs)
    domain = [_span(X[:, column]) for column in range(n_inputs)]
    Y, labels, classes = None, None, []
    if layout.kind == "regression":
        Y = np.array(rows.outputs, dtype=np.float64).reshape(-1, 1)
    else:
        if len(rows.label_ids) < 2:
            raise DatasetError(
                f"only one class ({next(iter(rows.label_ids))!r}): "
                f"classification needs 2 to {MAX_CLASSES} classes"
            )
        classes, index = _class_order(rows.label_ids)
        labels = index[np.array(rows.outputs, dtype=np.int64)]
    for array in (X, Y, labels):
        if array is not None:
            array.setflags(write=False)
    return ParsedDataset(
        kind=layout.kind,
        inputs=n_inputs,
        X=X,
        Y=Y,
        labels=labels,
        classes=classes,
        domain=domain,
        n_rows=len(rows.inputs),
    )


class DatasetStore:
    """In-memory, thread-safe home of uploaded datasets, keyed by random URL-safe ids.

    Holds at most `max_datasets`; adding one more evicts the least recently used (added or
    fetched), so a dataset in use by runs stays while abandoned uploads go. With `persist`
    (an object with ``save(id, dataset)`` and ``load(id)``, e.g. `storage.StoredDatasets`)
    every upload is also stored, and one not in memory is read back from there.
    """

    def __init__(
        self, max_datasets: int = 32, persist: Any = None, max_bytes: int | None = None
    ) -> None:
        if max_datasets < 1:
            raise ValueError("max_datasets must be at least 1")
        self.max_datasets = max_datasets
        self.max_bytes = max_bytes  # arrays held in memory in all (the newest is always kept)
        self._datasets: OrderedDict[str, ParsedDataset] = OrderedDict()
        self._lock = threading.Lock()
        self.persist = persist

    def add(self, dataset: ParsedDataset) -> str:
        """Store `dataset` and return its new id (11 characters of ``[A-Za-z0-9_-]``)."""
        with self._lock:
            dataset_id = secrets.token_urlsafe(8)
            while dataset_id in self._datasets:  # 2**64 ids: practically never loops
                dataset_id = secrets.token_urlsafe(8)
            self._datasets[dataset_id] = dataset
            self._evict()
        if self.persist is not None:
            try:
                self.persist.save(dataset_id, dataset)
            except Exception:  # not stored: not kept either (the upload answers an error)
                with self._lock:
                    self._datasets.pop(dataset_id, None)
                raise
        return dataset_id

    def get(self, dataset_id: Any) -> ParsedDataset | None:
        """The dataset with this id, or None (unknown, evicted or not a string)."""
        if not isinstance(dataset_id, str):
            return None
        with self._lock:
            dataset = self._datasets.get(dataset_id)
            if dataset is not None:
                self._datasets.move_to_end(dataset_id)
                return dataset
        if self.persist is None or len(dataset_id) > 64:
            return None
        dataset = self.persist.load(dataset_id)
        if dataset is not None:
            with self._lock:
                self._datasets[dataset_id] = dataset
                self._evict()
        return dataset

    def _evict(self) -> None:
        """Forget the least recently used datasets past `max_datasets` or `max_bytes` (with the
        lock held; stored ones are read back when asked for again)."""
        while len(self._datasets) > self.max_datasets:
            self._datasets.popitem(last=False)
        if self.max_bytes is None:
            return
        held = sum(_array_bytes(dataset) for dataset in self._datasets.values())
        while held > self.max_bytes and len(self._datasets) > 1:
            _id, gone = self._datasets.popitem(last=False)
            held -= _array_bytes(gone)

    def remove(self, dataset_id: str) -> bool:
        """Forget the dataset with this id, stored and in memory; False when it was unknown.
        Storage first: when it cannot be written (an error), nothing is forgotten."""
        known = self.persist.delete(dataset_id) if self.persist is not None else False
        with self._lock:
            return self._datasets.pop(dataset_id, None) is not None or known

    def listing(self) -> list[dict[str, Any]]:
        """``[{id, bytes, name, creator}]`` of the uploads kept (stored ones when persisted, with
        ``created``; else those in memory), oldest first; ``bytes`` is what each takes in
        storage, ``name`` the uploaded file's (None when unknown), ``creator`` its owner (None:
        none)."""
        if self.persist is not None:
            return self.persist.sizes()
        with self._lock:
            return [{"id": dataset_id, "bytes": len(dataset.source or b""), "name": dataset.name,
                     "creator": dataset.creator}
                    for dataset_id, dataset in self._datasets.items()]  # fmt: skip

    def creator(self, dataset_id: str) -> str | None:
        """Who uploaded the dataset with this id (None: nobody in particular, or unknown): read
        from storage when persisted (shared by every web process), else from memory."""
        if self.persist is not None:
            return self.persist.creator(dataset_id)
        with self._lock:
            dataset = self._datasets.get(dataset_id)
        return None if dataset is None else dataset.creator

    def __contains__(self, dataset_id: object) -> bool:
        with self._lock:
            return dataset_id in self._datasets

    def __len__(self) -> int:
        with self._lock:
            return len(self._datasets)


MAX_NAME_LENGTH = 80


def upload_name(filename: str | None) -> str | None:
    """The name an upload is listed by: the file's own name (no folders, no control
    characters, at most `MAX_NAME_LENGTH` characters), None when there is none."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(char for char in name if char.isprintable()).strip()
    if len(name) > MAX_NAME_LENGTH:
        name = name[: MAX_NAME_LENGTH - 1] + "…"
    return name or None


def _array_bytes(dataset: ParsedDataset) -> int:
    """Bytes of a dataset's arrays and source (what keeping it in memory costs, about)."""
    arrays = [dataset.X, dataset.Y, dataset.labels]
    if dataset.table is not None:
        arrays.append(dataset.table.lines)
        for column in dataset.table.columns:
            arrays += [column.numbers, column.codes]
    held = sum(array.nbytes for array in arrays if array is not None)
    return held + len(dataset.source or b"")


def too_big(n_bytes: int, max_bytes: int = MAX_BYTES) -> str:
    """ "7.6 MB (at most 5.0 MB)", in bytes when both round to the same text."""
    size, limit = _size(n_bytes), _size(max_bytes)
    if size == limit:
        size, limit = f"{n_bytes:,} bytes", f"{max_bytes:,} bytes"
    return f"{size} (at most {limit})"


def _size(n_bytes: int) -> str:
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / (1024 * 1024):.1f} MB"
    if n_bytes >= 1024:
        return f"{n_bytes / 1024:.1f} KB"
    return f"{n_bytes} bytes"


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DatasetError("the file is UTF-16 encoded: save it as UTF-8", 1)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        byte = data[error.start]
        raise DatasetError(
            f"not valid UTF-8 (byte 0x{byte:02x} at column {column}): save the file as UTF-8",
            line,
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise DatasetError("contains a NUL character: is this a binary file?", line)
    return text


def _read_header(header: list[str], line: int, dialect: _Dialect) -> _Layout | None:
    """The fixed layout of a header of only x, y, target and label columns, or None for a table
    (another name in a header of two or more columns)."""
    names = [cell.strip().lower() for cell in header]
    if all(_is_number(name) for name in names if name):
        shown = ", ".join(_shown(cell.strip()) for cell in header[:5])
        raise DatasetError(
            f"the first line must be a header such as 'x,target' or 'x,y,label', got {shown}", line
        )
    for position, name in enumerate(names, start=1):
        if not name:
            raise DatasetError(f"column {position} has no name", line)
    counts = Counter(names)
    duplicates = sorted(name for name, count in counts.items() if count > 1)
    if duplicates:
        raise DatasetError(f"column {_shown(duplicates[0])} appears more than once", line)
    unknown = [cell.strip() for cell, name in zip(header, names, strict=True)
               if name not in KNOWN_COLUMNS]  # fmt: skip
    if unknown and len(names) > 1:
        return None
    if unknown:
        raise DatasetError(_unknown_columns(unknown, dialect), line)
    present = set(names)
    if "target" in present and "label" in present:
        raise DatasetError(
            "use either 'target' (regression) or 'label' (classification), not both", line
        )
    if "x" not in present:
        raise DatasetError(f"missing column 'x': expected {EXPECTED}", line)
    if "target" not in present and "label" not in present:
        raise DatasetError("missing column 'target' (regression) or 'label' (classification)", line)
    if "label" in present and "y" not in present:
        raise DatasetError("missing column 'y': classification needs x, y and label", line)
    kind, input_names = LAYOUTS[frozenset(present)]
    positions = {name: index for index, name in enumerate(names)}
    return _Layout(kind, input_names, positions, len(header))


def _unknown_columns(unknown: list[str], dialect: _Dialect) -> str:
    """``unknown column 'x|target': expected ...``, at most 5 names, with the likely cause."""
    listed = ", ".join(_shown(name) for name in unknown[:5])
    if len(unknown) > 5:
        listed += f" and {len(unknown) - 5:,} more"
    plural = "column" if len(unknown) == 1 else "columns"
    message = f"unknown {plural} {listed}: expected {EXPECTED}"
    separator = next((char for char in "|:/ " if any(char in name for name in unknown)), None)
    if separator is not None and len(unknown) == 1:
        shown = "a space" if separator == " " else repr(separator)
        message += f" (the columns seem to be separated by {shown}: use a comma, semicolon or tab)"
    elif dialect.delimiter != "," and any("," in name for name in unknown):
        message += " (the header mixes commas with another separator: use one)"
    return message


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(cell: str, column: str, line: int, bound: float, dialect: _Dialect) -> float:
    text = cell.strip()
    if not text:
        raise DatasetError(f"column {column!r} is empty", line)
    try:
        value = float(_decimal(text, dialect))
    except ValueError:
        raise DatasetError(
            f"column {column!r} is not a number: {_shown(text)}" + _number_hint(text, dialect),
            line,
        ) from None
    if not np.isfinite(value):
        raise DatasetError(f"column {column!r} is not a finite number: {_shown(text)}", line)
    if abs(value) > bound:
        raise DatasetError(
            f"column {column!r} is out of range: {_shown(text)} (at most {bound:g} in size)",
            line,
        )
    return value


def _number_hint(text: str, dialect: _Dialect) -> str:
    """The likely cause of a cell that is not a number, when one is recognisable."""
    if dialect.decimal_comma and "," in text and "." in text:
        return " (write numbers without thousands separators, e.g. 1234,5)"
    if not dialect.decimal_comma and _DECIMAL_COMMA.fullmatch(text):
        return " (a decimal comma: write 1.5, or separate the columns with ';')"
    for delimiter, name in DELIMITERS.items():
        if delimiter != dialect.delimiter and delimiter in text:
            return f" (the rows seem to be separated by {name}s, the header by " \
                   f"{DELIMITERS[dialect.delimiter]}s)"  # fmt: skip
    return ""


def _label(cell: str, line: int, label_ids: dict[str, int], dialect: _Dialect) -> int:
    """The label's first-seen id (class order is fixed after reading all rows).

    Numeric labels are compared by value: ``1``, ``1.0``, ``+1``, ``1e0`` and ``01`` are one
    class, named ``1``. A number that is not whole means the column holds measurements: refused.
    """
    text = cell.strip()
    if not text:
        raise DatasetError("column 'label' is empty", line)
    if len(text) > MAX_LABEL_LENGTH:
        raise DatasetError(
            f"column 'label' is too long: {_shown(text)} (at most {MAX_LABEL_LENGTH} characters)",
            line,
        )
    number = _decimal(text, dialect)
    if _NUMERIC.fullmatch(number):
        value = float(number)
        if not value.is_integer():
            raise DatasetError(
                f"column 'label' looks continuous: {_shown(text)} is not a whole number (name "
                "the column 'target' to fit it as a regression)",
                line,
            )
        text = str(int(value))
    if text not in label_ids:
        if len(label_ids) == MAX_CLASSES:
            hint = ""
            if all(_INTEGER.fullmatch(name) for name in (*label_ids, text)):
                hint = "; if the labels are measurements, name the column 'target' to fit them"
            raise DatasetError(
                f"more than {MAX_CLASSES} classes (label {_shown(text)} would be number "
                f"{MAX_CLASSES + 1}){hint}",
                line,
            )
        label_ids[text] = len(label_ids)
    return label_ids[text]


def _class_order(label_ids: dict[str, int]) -> tuple[list[str], np.ndarray]:
    """Sorted class names, and a map from first-seen id to class index."""
    names = list(label_ids)
    if all(_INTEGER.fullmatch(name) for name in names):
        classes = sorted(names, key=int)
    else:
        classes = sorted(names)
    index = np.empty(len(names), dtype=np.int64)
    for class_index, name in enumerate(classes):
        index[label_ids[name]] = class_index
    return classes, index


def _span(values: np.ndarray) -> list[float]:
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:  # one distinct value: give plots and grids a non-empty interval
        lo, hi = lo - 0.5, hi + 0.5
        if hi > MAX_INPUT:
            lo, hi = MAX_INPUT - 1.0, MAX_INPUT
        elif lo < -MAX_INPUT:
            lo, hi = -MAX_INPUT, -MAX_INPUT + 1.0
    return [lo, hi]
