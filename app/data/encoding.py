"""Numbers to plain JSON: rounded to ~6 significant digits, non-finite as ``null``, numpy to lists.

`json` would write ``NaN``/``Infinity`` (which browsers' ``JSON.parse`` rejects) and cannot
serialise numpy types at all, so everything sent over the wire goes through here.
"""

from __future__ import annotations

import base64
import math
import zlib
from typing import Any

import numpy as np

SIGNIFICANT_DIGITS = 6
_MAX_EXPONENT = 300
_POWERS = np.array([float(10**k) for k in range(_MAX_EXPONENT + 1)])  # correctly rounded 10**k


def _rounded(array: np.ndarray, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """(the float64 `array` rounded to `digits` significant digits, its finite mask)."""
    finite = np.isfinite(array)
    safe = np.where(finite & (array != 0), np.abs(array), 1.0)
    exponent = (digits - 1) - np.floor(np.log10(safe)).astype(np.int64)
    # np.clip's wrapper costs ~3x these two on the small arrays of a frame
    np.minimum(exponent, _MAX_EXPONENT, out=exponent)
    np.maximum(exponent, -_MAX_EXPONENT, out=exponent)
    scale = _POWERS[np.abs(exponent)]
    scaled = np.where(finite, array, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = np.where(
            exponent >= 0, np.round(scaled * scale) / scale, np.round(scaled / scale) * scale
        )
    return rounded, finite


def _lists(rounded: np.ndarray, finite: np.ndarray) -> list:
    """Nested lists of `rounded`, None where not `finite`."""
    if finite.all():
        return rounded.tolist()
    with_nulls = rounded.astype(object)
    with_nulls[~finite] = None
    return with_nulls.tolist()


def round_array(values: Any, digits: int = SIGNIFICANT_DIGITS) -> list:
    """Round an array to `digits` significant digits; return nested lists with None for NaN/±inf.

    Vectorised: values are scaled by a power of ten, rounded and scaled back by *division* (or by
    multiplication for negative exponents), so results are the doubles nearest to short decimals
    and ``json`` prints them short ("0.123457", not "0.12345699965953827").
    """
    return _lists(*_rounded(np.asarray(values, dtype=np.float64), digits))


def round_arrays(arrays: list[Any], digits: int = SIGNIFICANT_DIGITS) -> list[list]:
    """`round_array` of each array, in one pass over all of them (many small arrays cost one
    numpy pipeline instead of one each)."""
    parts = [np.asarray(array, dtype=np.float64) for array in arrays]
    if not parts:
        return []
    rounded, finite = _rounded(np.concatenate([part.ravel() for part in parts]), digits)
    out, start = [], 0
    for part in parts:
        stop = start + part.size
        out.append(_lists(rounded[start:stop].reshape(part.shape),
                          finite[start:stop].reshape(part.shape)))  # fmt: skip
        start = stop
    return out


def round_float(value: Any, digits: int = SIGNIFICANT_DIGITS) -> float | None:
    """One number rounded like `round_array`; None for NaN/±inf/None."""
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def points_json(X: np.ndarray, Y: np.ndarray, classification: bool) -> dict[str, list]:
    """Data points: ``{x, y}`` (1-D regression), ``{x, y, z}`` (2-D) or ``{x, y, label}``.

    `X` is (n, inputs) and `Y` the targets (n, 1) or the integer labels (n,).
    """
    if classification:
        return {
            "x": round_array(X[:, 0]),
            "y": round_array(X[:, 1]),
            "label": np.asarray(Y).astype(np.int64).ravel().tolist(),
        }
    names = ("x", "y") if X.shape[1] == 1 else ("x", "y", "z")
    columns = [X[:, k] for k in range(X.shape[1])] + [np.asarray(Y).reshape(len(X), -1)[:, 0]]
    return {name: round_array(column) for name, column in zip(names, columns, strict=True)}


def grid_values_json(axes: list[list], values: np.ndarray) -> dict[str, Any]:
    """Values on a grid as ``{x, y}`` (1-D, `values` (n,)) or ``{x, y, z}`` (2-D, (ny, nx))."""
    if len(axes) == 1:
        return {"x": axes[0], "y": round_array(values)}
    return {"x": axes[0], "y": axes[1], "z": round_array(values)}


# ------------------------------------------------------------------ a run's history
#
# A run's history is float32 columns of equal length (one value per epoch). It travels in two
# forms, both made here: as JSON lists (`history_json`: rounded for the wire, or exact for the
# exports) and packed (`pack_history`: the columns' float32 bytes, zlib-compressed, exact with
# NaN and ±inf; the store's chunks as they are, the relay's messages as base64 text).


def shortest_texts(column: np.ndarray) -> list[str]:
    """Each value as the shortest decimal that reads back as the same float32 ("0.001", not
    "0.00100000005"); "" for NaN and ±inf."""
    return [str(value) if math.isfinite(value) else "" for value in column.astype(np.float32)]


def column_json(column: np.ndarray, exact: bool = False) -> list:
    """One history column as a JSON list: whole numbers as they are; floats rounded for the
    wire (`round_array`), or `exact` as their shortest float32 decimal; non-finite as null."""
    if column.dtype.kind in "iu":
        return column.tolist()
    if exact:
        return [float(text) if text else None for text in shortest_texts(column)]
    return round_array(column)


def history_json(columns: dict[str, np.ndarray], start: int = 0,
                 epochs: Any = None) -> dict[str, list]:  # fmt: skip
    """History columns of epochs ``start+1 ..`` (or of the given `epochs`, e.g. a thinned
    snapshot's) as the wire sends them: ``{epoch: [...], train_loss: [...], ...}``."""
    if epochs is None:
        length = len(next(iter(columns.values()))) if columns else 0
        epochs = range(start + 1, start + length + 1)
    chunk: dict[str, list] = {"epoch": [int(epoch) for epoch in epochs]}
    floats = [name for name, values in columns.items() if values.dtype.kind not in "iu"]
    rounded = dict(zip(floats, round_arrays([columns[name] for name in floats]), strict=True))
    chunk.update({name: rounded.get(name) or column_json(values)
                  for name, values in columns.items()})  # fmt: skip
    return chunk


def pack_history(columns: dict[str, np.ndarray], names: list[str]) -> bytes:
    """Columns (float32, equal lengths) in `names` order, concatenated and zlib-compressed."""
    packed = np.concatenate([np.asarray(columns[name], dtype="<f4") for name in names])
    return zlib.compress(packed.tobytes(), 1)


def unpack_history(blob: bytes, names: list[str]) -> dict[str, np.ndarray]:
    """The inverse of `pack_history` (float32 columns, read-only views of one buffer)."""
    packed = np.frombuffer(zlib.decompress(blob), dtype="<f4")
    length = len(packed) // len(names) if names else 0
    return {name: packed[i * length : (i + 1) * length] for i, name in enumerate(names)}


def history_text(columns: dict[str, np.ndarray], names: list[str]) -> str:
    """`pack_history` as base64 text (JSON-safe: the relay's messages)."""
    return base64.b64encode(pack_history(columns, names)).decode("ascii")


def history_from_text(text: str, names: list[str]) -> dict[str, np.ndarray]:
    """The inverse of `history_text`."""
    return unpack_history(base64.b64decode(text), names)
