"""How messages count things: "1 data row", "2 data rows" (one home for the plural)."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and `noun` in the number it takes: ``counted(1, "data row")`` is "1 data row",
    ``counted(3, "data row")`` "3 data rows"; `plural` for nouns that do not just add an s."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
