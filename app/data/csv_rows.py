"""The pieces of CSV reading that both the fixed layouts (`app.data.uploads`) and the tables
(`app.data.tables`) use: the bounds on numbers, the file's dialect, its rows, and
`DatasetError`, whose message names the line of the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_INPUT = 1e6  # |x|, |y| bound; the same bound run configs put on a domain
MAX_TARGET = 1e12  # |target| bound; beyond this squared errors overflow float32
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
_NUMERIC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DIGITS = re.compile(r"[+-]?\d*")


class DatasetError(ValueError):
    """A CSV file that cannot be used; ``str(error)`` is for the user and names the line.

    `line` is the 1-based line number of the problem, or None when it concerns the whole file.
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.message = message
        self.line = line


@dataclass(frozen=True)
class _Dialect:
    """How a file is written: its delimiter, decimal mark and whether line 1 is ``sep=``."""

    delimiter: str
    decimal_comma: bool
    skip_first: bool


def _next_row(reader: Any) -> tuple[int, list[str] | None]:
    """The next non-blank row and its line number, or (line, None) at the end."""
    for row in reader:
        if any(cell.strip() for cell in row):
            return reader.line_num, row
    return reader.line_num, None


def _field_count_hint(row: list[str], width: int, dialect: _Dialect) -> str:
    """Why a row may have the wrong number of fields, when there is a likely cause."""
    if (
        dialect.delimiter == ","
        and len(row) > width
        and all(_DIGITS.fullmatch(cell.strip()) for cell in row)
    ):
        return " (decimal commas in a comma-separated file? write 1.5, or separate with ';')"
    others = [
        name
        for delimiter, name in DELIMITERS.items()
        if delimiter != dialect.delimiter and any(delimiter in cell for cell in row)
    ]
    if others and len(row) < width:
        return (
            f" (this line seems to be separated by {others[0]}s, the header by "
            f"{DELIMITERS[dialect.delimiter]}s)"
        )
    return ""


def _shown(value: str) -> str:
    return repr(value if len(value) <= 20 else value[:20] + "…")


def _decimal(text: str, dialect: _Dialect) -> str:
    """`text` with a decimal comma made a point, in files whose delimiter is ';'."""
    if dialect.decimal_comma and text.count(",") == 1 and "." not in text:
        return text.replace(",", ".")
    return text
