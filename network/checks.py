"""Argument checks, one home for the whole engine.

Each check returns the value converted (``int``, ``float``, ``np.dtype``) or raises ``TypeError``
(wrong type) / ``ValueError`` (wrong value) with a message that starts with the argument's name
and says what it accepts, e.g. ``lr must be > 0, got -1.0``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["integer", "real", "float_dtype", "one_of"]


def integer(value: object, name: str, low: int = 1) -> int:
    """``value`` as an ``int`` of at least ``low`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    return int(value)


def real(
    value: object,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite ``float`` within ``[low, high]`` (bounds optional; ``low_open`` /
    ``high_open`` exclude them). The message names the interval, e.g. ``p must be in [0, 1)``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        raise ValueError(
            f"{name} must be {_interval(low, high, low_open, high_open)}, got {value!r}"
        )
    return number


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if high is None:
        return f"{'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"{'<' if high_open else '<='} {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def float_dtype(dtype: object, name: str = "dtype") -> np.dtype:
    """``np.dtype(dtype)`` if it is float32 or float64, else ValueError."""
    try:
        resolved = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        resolved = None
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{name} must be float32 or float64, got {dtype!r}")
    return resolved


def one_of(value: object, name: str, options: dict):
    """``options[value.lower()]`` for a name among ``options``, else ValueError listing them."""
    key = value.lower() if isinstance(value, str) else None
    if key not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}, got {value!r}")
    return options[key]
