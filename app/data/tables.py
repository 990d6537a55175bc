"""Uploaded tables with named columns (issue 16): any header, numbers and categories, a target
chosen per run.

A CSV whose header is not one of the three fixed layouts of `app.data.uploads` (``x,target``,
``x,y,target``, ``x,y,label``) is read as a `Table`: up to `MAX_TABLE_COLUMNS` columns of any
names, each a ``number`` column (every present cell a number) or a ``category`` column (text, at
most `MAX_CATEGORIES` distinct values). A cell that is empty or ``NA``, ``N/A``, ``NaN``,
``null``, ``None``, ``?`` is missing. A run picks its target and features (`Table.choose`):

* the target: a category, or a number column; classification for a category or for whole
  numbers of at most `MAX_TABLE_CLASSES` distinct values (2 to 20 classes), regression otherwise
  (``kind`` overrides where it makes sense); every row needs a target value;
* the features (default: every other column): numbers as they are (a missing cell takes the
  column's median; the session standardises every input), categories one-hot encoded, one
  network input per category named ``column=value`` (a missing cell: all zeros).

Problems are `DatasetError`s (upload) or `ChoiceError`s (a run's choice) naming the line and the
column, e.g. ``line 57: column 'age' holds numbers, but not here: 'abc' ...``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.config.wording import counted
from app.data.csv_rows import (
    _NUMERIC,
    MAX_INPUT,
    MAX_TARGET,
    DatasetError,
    _decimal,
    _Dialect,
    _field_count_hint,
    _next_row,
    _shown,
)

MAX_TABLE_COLUMNS = 100
MAX_CATEGORIES = 50  # distinct values of a category column
MAX_TABLE_CLASSES = 20
MIN_CLASSES = 2
HEAD_ROWS = 10  # rows of the file shown as written in the preview table
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
# Column names suggested as the target, best first (else the last column).
TARGET_NAMES = (
    "target", "label", "class", "species", "y", "outcome", "survived", "output", "response",
)  # fmt: skip
KINDS = ("classification", "regression")
CHOICE_FIELDS = ("target_column", "feature_columns", "kind")


class ChoiceError(ValueError):
    """A run's choice of target and features that does not fit the table: `field` is the run
    config field to blame (``target_column``, ``feature_columns`` or ``kind``)."""

    def __init__(self, field: str, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.field = field
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Column:
    """One column: `numbers` (float64, NaN where missing) for a number column, `codes` (int8
    indices into `categories`, at most `MAX_CATEGORIES`; -1 where missing) for a category
    column."""

    name: str
    type: str  # "number" | "category"
    numbers: np.ndarray | None
    codes: np.ndarray | None
    categories: tuple[str, ...]
    missing: int

    @property
    def distinct(self) -> int:
        """Distinct present values."""
        if self.codes is not None:
            return len(self.categories)
        return len(np.unique(self.numbers[~np.isnan(self.numbers)]))

    def whole_numbers(self) -> bool:
        """A number column whose present values are all whole numbers."""
        present = self.numbers[~np.isnan(self.numbers)]
        return bool(np.all(present == np.round(present)))

    def target_kind(self) -> str | None:
        """The kind of a run with this column as its target, or None when it cannot be one."""
        distinct = self.distinct
        if distinct < MIN_CLASSES:
            return None
        if self.codes is not None:
            return "classification" if distinct <= MAX_TABLE_CLASSES else None
        if self.whole_numbers() and distinct <= MAX_TABLE_CLASSES:
            return "classification"
        return "regression"

    def to_json(self) -> dict[str, Any]:
        """``{name, type, distinct, missing, target_kind}``."""
        return {
            "name": self.name,
            "type": self.type,
            "distinct": self.distinct,
            "missing": self.missing,
            "target_kind": self.target_kind(),
        }


@dataclass(frozen=True)
class Choice:
    """A run's target and features: regression `Y` (n, 1), classification `labels` (n,) int64
    into `classes`; its network inputs `input_names`, built by `encoded` only when asked (a
    category column's one-hot inputs are never kept: the table holds its codes)."""

    target: str
    features: tuple[str, ...]
    kind: str
    Y: np.ndarray | None
    labels: np.ndarray | None
    classes: tuple[str, ...]
    input_names: tuple[str, ...]
    numeric_inputs: tuple[int, ...]  # the inputs that are number features (not one-hot)
    parts: tuple[tuple[Column, float], ...] = ()  # each feature with its fill (numbers: median)
    n_rows: int = 0

    def config(self) -> dict[str, Any]:
        """The run config fields of this choice."""
        return {
            "target_column": self.target,
            "feature_columns": list(self.features),
            "kind": self.kind,
        }

    @property
    def width(self) -> int:
        """The number of network inputs."""
        return len(self.input_names)

    def _inputs(self) -> Iterator[tuple[int, Column, float, int]]:
        """(input index, its column, the column's fill, the category code or -1 for numbers)."""
        index = 0
        for column, fill in self.parts:
            codes = range(len(column.categories)) if column.codes is not None else (-1,)
            for code in codes:
                yield index, column, fill, code
                index += 1

    def encoded(self, inputs: Sequence[int] | None = None) -> np.ndarray:
        """The network inputs, (n_rows, width) float64, or only the columns `inputs` (indices
        into `input_names`), built on each call: numbers as they are (a missing cell: the
        median), categories one-hot (a missing cell: all zeros)."""
        wanted = list(range(self.width)) if inputs is None else [int(i) for i in inputs]
        out = np.zeros((self.n_rows, len(wanted)))
        place = {index: position for position, index in enumerate(wanted)}
        for index, column, fill, code in self._inputs():
            if index not in place:
                continue
            if code < 0:
                values = out[:, place[index]]
                values[:] = column.numbers
                values[np.isnan(values)] = fill
            else:
                np.equal(column.codes, code, out=out[:, place[index]], casting="unsafe")
        return out

    def domain(self) -> list[list[float]]:
        """[lo, hi] per input (as `uploads._span` of its encoded column), without encoding."""
        from app.data.uploads import _span

        spans = []
        for _index, column, fill, code in self._inputs():
            if code < 0:
                values = np.where(np.isnan(column.numbers), fill, column.numbers)
            else:  # 1 where the category is, 0 elsewhere (a missing cell is elsewhere too)
                everywhere = bool(np.all(column.codes == code))
                values = np.array([1.0] if everywhere else [0.0, 1.0])
            spans.append(_span(values))
        return spans


@dataclass(frozen=True)
class Table:
    """A checked table: its columns, the file line of every row and the first rows as written."""

    columns: tuple[Column, ...]
    lines: np.ndarray
    head: tuple[tuple[str, ...], ...]
    header_line: int = 1

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    def column(self, name: str) -> Column | None:
        """The column of this name (exact, else ignoring case and surrounding spaces)."""
        for column in self.columns:
            if column.name == name:
                return column
        wanted = name.strip().lower()
        return next((c for c in self.columns if c.name.lower() == wanted), None)

    def suggested_target(self) -> str:
        """A column named like a target (`TARGET_NAMES`), else the last column."""
        by_name = {column.name.lower(): column.name for column in self.columns}
        found = next((by_name[name] for name in TARGET_NAMES if name in by_name), None)
        return found or self.columns[-1].name

    def to_json(self) -> dict[str, Any]:
        """``{columns: [{name, type, distinct, missing, target_kind}], target_column, head}``:
        what an upload answers besides its summary (`head`: the first rows as written)."""
        return {
            "columns": [column.to_json() for column in self.columns],
            "target_column": self.suggested_target(),
            "head": [list(row) for row in self.head],
        }

    def choose(
        self, target: str | None = None, features: list[str] | None = None, kind: str | None = None
    ) -> Choice:
        """The encoded data of a run with this target (default `suggested_target`), these
        features (default every other column) and kind (default by the target); raises
        `ChoiceError` naming the field, the column and, where there is one, the line."""
        target_column = self._named(target, "target_column") if target else None
        if target_column is None:
            target_column = self.column(self.suggested_target())
        feature_columns = self._features(features, target_column)
        kind, Y, labels, classes = self._target(target_column, kind)
        parts, names, numeric = self._inputs_of(feature_columns)
        return Choice(
            target=target_column.name,
            features=tuple(column.name for column in feature_columns),
            kind=kind,
            Y=Y,
            labels=labels,
            classes=classes,
            input_names=names,
            numeric_inputs=numeric,
            parts=parts,
            n_rows=self.n_rows,
        )

    def _listing(self) -> str:
        names = [repr(name) for name in self.names[:8]]
        more = f" and {len(self.names) - 8} more" if len(self.names) > 8 else ""
        return ", ".join(names) + more

    def _named(self, name: str, field: str) -> Column:
        column = self.column(name)
        if column is None:
            raise ChoiceError(field, f"unknown column {name!r} (the columns: {self._listing()})")
        return column

    def _features(self, features: list[str] | None, target: Column) -> list[Column]:
        if features is None:
            chosen = [column for column in self.columns if column is not target]
        else:
            chosen = [self._named(name, "feature_columns") for name in features]
        if not chosen:
            raise ChoiceError("feature_columns", "needs at least one column besides the target")
        names = [column.name for column in chosen]
        if target.name in names:
            raise ChoiceError(
                "feature_columns",
                f"{target.name!r} is the target column: it cannot be a feature too",
            )
        repeated = next((name for name in names if names.count(name) > 1), None)
        if repeated is not None:
            raise ChoiceError("feature_columns", f"column {repeated!r} is named twice")
        return chosen

    def _target(
        self, column: Column, kind: str | None
    ) -> tuple[str, np.ndarray | None, np.ndarray | None, tuple[str, ...]]:
        """(kind, Y, labels, classes) of a target column, or `ChoiceError`."""
        self._check_target_values(column)
        natural = column.target_kind()
        if natural is None:  # a category column of too many values
            raise ChoiceError(
                "target_column",
                f"column {column.name!r} has {column.distinct} different values: a "
                f"classification target takes {MIN_CLASSES} to {MAX_TABLE_CLASSES} classes",
                self.header_line,
            )
        kind = kind or natural
        if kind == "regression" and column.codes is not None:
            raise ChoiceError(
                "kind",
                f"column {column.name!r} holds text ({', '.join(column.categories[:3])}, …): "
                "it can only be a classification target",
            )
        if kind == "classification" and natural == "regression":
            what = (
                "numbers that are not whole"
                if not column.whole_numbers()
                else (f"{column.distinct} different whole numbers")
            )
            raise ChoiceError(
                "kind",
                f"column {column.name!r} holds {what}: classification takes {MIN_CLASSES} to "
                f"{MAX_TABLE_CLASSES} classes (categories or whole numbers); fit it as regression",
            )
        if kind == "regression":
            return kind, column.numbers.reshape(-1, 1).copy(), None, ()
        if column.codes is not None:
            return kind, None, column.codes.astype(np.int64), column.categories
        values, labels = np.unique(column.numbers, return_inverse=True)
        classes = tuple(str(int(value)) for value in values)
        return kind, None, labels.astype(np.int64), classes

    def _check_target_values(self, column: Column) -> None:
        if column.missing:
            missing = np.isnan(column.numbers) if column.codes is None else column.codes < 0
            row = int(np.argmax(missing))
            others = f" (and {column.missing - 1} more rows)" if column.missing > 1 else ""
            raise ChoiceError(
                "target_column",
                f"column {column.name!r} has no value here{others}: the target needs a value on "
                "every row (fill them in, or choose another target)",
                int(self.lines[row]),
            )
        if column.distinct < MIN_CLASSES:
            value = column.categories[0] if column.codes is not None else column.numbers[0]
            raise ChoiceError(
                "target_column",
                f"column {column.name!r} has one value ({_shown(str(value))}) on every row: "
                "a target needs at least two different values",
                self.header_line,
            )

    def _inputs_of(
        self, columns: list[Column]
    ) -> tuple[tuple[tuple[Column, float], ...], tuple[str, ...], tuple[int, ...]]:
        """((column, fill) per feature, input names, number inputs) of `columns` (one input per
        number column, one per category of a category column); a number too large for an
        input is a `ChoiceError`. The inputs themselves are built by `Choice.encoded`."""
        parts, names, numeric = [], [], []
        for column in columns:
            if column.codes is None:
                values = column.numbers
                big = np.flatnonzero(np.abs(np.nan_to_num(values)) > MAX_INPUT)
                if big.size:
                    raise ChoiceError(
                        "feature_columns",
                        f"column {column.name!r} is too large for an input: "
                        f"{values[big[0]]:g} (at most {MAX_INPUT:g} in size; rescale it or "
                        "leave it out)",
                        int(self.lines[big[0]]),
                    )
                parts.append((column, float(np.nanmedian(values))))
                numeric.append(len(names))
                names.append(column.name)
            else:
                parts.append((column, 0.0))
                names.extend(f"{column.name}={value}" for value in column.categories)
        return tuple(parts), tuple(names), tuple(numeric)


# ------------------------------------------------------------------ reading


def read_table(reader: Any, header: list[str], header_line: int, dialect: _Dialect,
               max_rows: int, min_rows: int) -> Table:  # fmt: skip
    """Read the rows after `header` from a `csv.reader` into a checked `Table`."""
    names = [cell.strip() for cell in header]
    if len(names) > MAX_TABLE_COLUMNS:
        raise DatasetError(
            f"too many columns: {len(names):,} (at most {MAX_TABLE_COLUMNS})", header_line
        )
    if len(names) < 2:
        raise DatasetError(
            "a table needs at least two columns: a feature and a target", header_line
        )
    cells: list[list[str]] = []
    lines: list[int] = []
    while True:
        line, row = _next_row(reader)
        if row is None:
            break
        if len(row) != len(names):
            raise DatasetError(
                f"expected {len(names)} fields, found {len(row)}"
                + _field_count_hint(row, len(names), dialect),
                line,
            )
        if len(cells) == max_rows:
            raise DatasetError(f"too many rows (at most {max_rows:,} data rows)", line)
        cells.append([cell.strip() for cell in row])
        lines.append(line)
    if not cells:
        raise DatasetError("the file has a header but no data rows")
    if len(cells) < min_rows:
        rows = counted(len(cells), "data row")
        raise DatasetError(f"only {rows} (at least {min_rows} are needed)")
    columns = tuple(
        _column(name, [row[index] for row in cells], lines, header_line, dialect)
        for index, name in enumerate(names)
    )
    head = tuple(tuple(row) for row in cells[:HEAD_ROWS])
    return Table(columns, np.array(lines, dtype=np.int64), head, header_line)


def _column(name: str, cells: list[str], lines: list[int], header_line: int,
            dialect: _Dialect) -> Column:  # fmt: skip
    """One column's type and values (see the module docstring), or `DatasetError`."""
    missing = np.array([cell.lower() in MISSING for cell in cells])
    if missing.all():
        raise DatasetError(
            f"column {name!r} is empty: no row has a value (leave the column out)", header_line
        )
    numbers = np.full(len(cells), np.nan)
    text_rows = []
    for row in np.flatnonzero(~missing):
        number = _decimal(cells[row], dialect)
        if _NUMERIC.fullmatch(number):
            numbers[row] = float(number)
        else:
            text_rows.append(int(row))
    present = int(np.count_nonzero(~missing))
    if not text_rows:
        too_big = np.flatnonzero(np.abs(np.nan_to_num(numbers)) > MAX_TARGET)
        if too_big.size:
            row = int(too_big[0])
            raise DatasetError(
                f"column {name!r} is out of range: {_shown(cells[row])} (at most "
                f"{MAX_TARGET:g} in size)",
                lines[row],
            )
        return Column(name, "number", numbers, None, (), int(missing.sum()))
    if len(text_rows) * 2 < present:  # mostly numbers: the others are mistakes
        row = text_rows[0]
        raise DatasetError(
            f"column {name!r} holds numbers, but not here: {_shown(cells[row])} (fix the cell, "
            "or leave it empty for a missing value)",
            lines[row],
        )
    return _category(name, cells, missing, lines)


def _category(name: str, cells: list[str], missing: np.ndarray, lines: list[int]) -> Column:
    first_seen: dict[str, int] = {}
    for row in np.flatnonzero(~missing):
        value = cells[row]
        if value not in first_seen:
            if len(first_seen) == MAX_CATEGORIES:
                raise DatasetError(
                    f"column {name!r} has more than {MAX_CATEGORIES} different values "
                    f"({_shown(value)} is number {MAX_CATEGORIES + 1}): too many for a category; "
                    "leave the column out (names and ids do not generalise)",
                    lines[row],
                )
            first_seen[value] = len(first_seen)
    categories = tuple(sorted(first_seen))
    index = {value: code for code, value in enumerate(categories)}
    codes = np.array([-1 if gone else index[cell] for cell, gone in zip(cells, missing,
                                                                          strict=True)],
                     dtype=np.int8)  # fmt: skip
    return Column(name, "category", None, codes, categories, int(missing.sum()))
