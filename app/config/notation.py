"""Hints for paper notation in an expression: ``2x``, ``sin x``, ``|x|``, ``xy`` are refused by
`app.config.expressions.compile_expression` with the fix spelled out (``write 2*x to
multiply``), at the column where it goes, before Python's parser answers in its own words.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection

# Tokens of the raw text, enough to spot what people write on paper before Python's parser
# answers in its own words ("invalid decimal literal"). Strings are matched so nothing inside
# them is mistaken for notation; prefixes such as b'' come before names for the same reason.
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<string>[rRbBuUfF]{0,2}(?:'[^']*'?|"[^"]*"?))
    |(?P<number>(?:0[xXoObB][0-9a-fA-F_]+
        |(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)[jJ]?)
    |(?P<name>[A-Za-z_]\w*)
    |(?P<op>.)""",
    re.VERBOSE | re.DOTALL,
)

#: Function names of other notations, and what to write here instead.
ALIASES = {
    "ln": "log", "atan": "arctan", "arctg": "arctan", "tg": "tan", "fabs": "abs",
    "min": "minimum", "max": "maximum", "sgn": "sign", "exp10": "10**", "pow": "**",
}  # fmt: skip


class _Names:
    __slots__ = ("functions", "constants")

    def __init__(self, functions: tuple[str, ...], constants: tuple[str, ...]) -> None:
        self.functions = functions
        self.constants = constants


class _Token:
    __slots__ = ("kind", "text", "start")

    def __init__(self, kind: str, text: str, start: int) -> None:
        self.kind = kind
        self.text = text
        self.start = start

    def is_value(self) -> bool:
        """A number or a name that is not a keyword (``and``, ``if``, ``True``, ...)."""
        return self.kind == "number" or (self.kind == "name" and not keyword.iskeyword(self.text))


def paper_notation(body: str, lead: int, inputs: tuple[str, ...], functions: Collection[str],
                   constants: Collection[str]) -> tuple[str, int] | None:  # fmt: skip
    """A form written on paper in `body` (the expression's text after `lead` spaces, in the
    variables `inputs`, with these `functions` and `constants`): the message with the fix
    spelled out and the 1-based column where it goes, or None.

    ``2x``, ``2(x+1)``, ``(x+1)(x-1)``, ``(x+1)x``, ``x y`` (a missing ``*``); ``sin x`` and
    ``sinx`` (a function without brackets); ``|x|`` (absolute value); ``xy`` (two variables run
    together). Checked before ``ast.parse``, whose messages would name Python's rules instead.
    """
    names = _Names(tuple(functions), tuple(constants))
    tokens = [
        _Token(match.lastgroup or "op", match.group(), match.start())
        for match in _TOKEN.finditer(body)
    ]
    solid = [token for token in tokens if token.kind != "space"]
    bars = _bars(body, lead, solid)
    if bars is not None:
        return bars
    for before, token in zip(solid, solid[1:], strict=False):
        spaced = token.start > before.start + len(before.text)
        advice = _juxtaposition(body, solid, before, token, spaced, names)
        if advice:
            column = lead + token.start + 1
            return f"{advice} (column {column})", column
    for token in solid:
        advice = _run_together(token, inputs, names)
        if advice:
            column = lead + token.start + 1
            return f"{advice} (column {column})", column
    return None


def _juxtaposition(
    body: str, solid: list[_Token], before: _Token, token: _Token, spaced: bool, names: _Names
) -> str | None:
    """The fix for two values side by side (``2x``, ``)(``, ``sin x``, ``x y``), or None."""
    opens = token.text == "(" and token.kind == "op"
    if before.kind == "number" and (token.is_value() or opens):
        left = before.text
    elif before.text == ")" and before.kind == "op" and (token.is_value() or opens):
        left = _operand_before(body, solid, solid.index(before), names)
    elif before.kind == "name" and before.text in names.functions and spaced and token.is_value():
        argument = _operand_after(body, solid, solid.index(token))
        return f"{before.text} needs brackets: write {before.text}({argument})"
    elif before.is_value() and before.text not in names.functions and spaced and token.is_value():
        left = before.text
    else:
        return None
    if before.kind == "number" and token.kind == "number":
        return None  # "2 3": a typo for 23 or 2.3, not a product
    right = _operand_after(body, solid, solid.index(token))
    return f"write {shorten(left)}*{shorten(right)} to multiply"


SPELLED_OUT = 6  # a name of more run-together factors than this is not written out in full


def _run_together(token: _Token, inputs: tuple[str, ...], names: _Names) -> str | None:
    """The fix for a name that is a function or variables written without operators, or None."""
    name = token.text
    known = (*inputs, *names.constants)
    functions = names.functions
    if token.kind != "name" or name in known or name in functions or keyword.iskeyword(name):
        return None
    for function in sorted(functions, key=len, reverse=True):
        rest = name[len(function) :]
        if name.startswith(function) and rest and _split_names(rest.lstrip("_"), known):
            argument = "*".join(_split_names(rest.lstrip("_"), known) or [rest])
            return f"{function} needs brackets: write {function}({argument})"
    parts = _split_names(name, known)
    if parts and len(parts) > 1:
        if len(parts) > SPELLED_OUT:  # a long run of factors: say how, not all of it
            return (f"unknown name {name[:12]!r}… ({len(parts)} names run together): put * "
                    "between the factors, or use ** for a power, e.g. x**3")  # fmt: skip
        return f"unknown name {name!r}: write {'*'.join(parts)} to multiply"
    return None


def _split_names(text: str, known: tuple[str, ...]) -> list[str] | None:
    """`text` as a run of known names with an optional leading number (``2x`` -> [2, x])."""
    parts: list[str] = []
    number = re.match(r"\d+(?:\.\d*)?", text)
    if number:
        parts.append(number.group())
        text = text[number.end() :]
    while text:
        match = next((name for name in sorted(known, key=len, reverse=True)
                      if text.startswith(name)), None)  # fmt: skip
        if match is None:
            return None
        parts.append(match)
        text = text[len(match) :]
    return parts or None


def _bars(body: str, lead: int, solid: list[_Token]) -> tuple[str, int] | None:
    """``|x - 1|`` is an absolute value on paper (and ``|`` is not allowed here at all)."""
    bars = [token.start for token in solid if token.kind == "op" and token.text == "|"]
    if len(bars) < 2:
        return None
    first, second = bars[0], bars[1]
    inner = shorten(body[first + 1 : second].strip() or "...")
    column = lead + first + 1
    return f"|{inner}| is not understood: use abs({inner}) (column {column})", column


def _operand_after(body: str, solid: list[_Token], index: int) -> str:
    """The text of the value that starts at token `index`: a number, name, call or bracket."""
    token = solid[index]
    end = index
    if token.kind == "name" and index + 1 < len(solid) and solid[index + 1].text == "(":
        end = index + 1
    if solid[end].text == "(":
        depth = 0
        for position in range(end, len(solid)):
            depth += {"(": 1, ")": -1}.get(solid[position].text, 0)
            if depth == 0:
                end = position
                break
        else:
            end = len(solid) - 1
    last = solid[end]
    return body[token.start : last.start + len(last.text)]


def _operand_before(body: str, solid: list[_Token], index: int, names: _Names) -> str:
    """The text of the bracketed value (or call) that ends with the ``)`` at token `index`."""
    depth = 0
    start = 0
    for position in range(index, -1, -1):
        depth += {")": 1, "(": -1}.get(solid[position].text, 0)
        if depth == 0:
            start = position
            break
    if start > 0 and solid[start - 1].kind == "name" and solid[start - 1].text in names.functions:
        start -= 1
    end = solid[index]
    return body[solid[start].start : end.start + 1]


def shorten(text: str, limit: int = 40) -> str:
    """`text`, cut to `limit` characters with an ellipsis (for messages)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
