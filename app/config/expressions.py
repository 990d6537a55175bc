"""Safe user expressions: ``sin(3*x) * exp(-x**2)`` typed into the dashboard becomes a target.

The text is parsed with :mod:`ast` and every node is checked against a whitelist, then turned into
a tree of small closures over numpy functions. Nothing is ever passed to ``eval``/``compile``, so
an expression cannot reach builtins, attributes or the file system. Hanging is ruled out too:

* the text is at most `MAX_LENGTH` characters and plain printable ASCII (no look-alikes such as a
  Cyrillic ``х``; Python itself would NFKC-normalise ``ｓｉｎ`` into ``sin``), both checked before
  parsing, and its bracket nesting is checked on the raw text before the parser recurses into it;
* the tree has at most `MAX_NODES` values and operations and is at most `MAX_DEPTH` levels deep;
* every number becomes a numpy float64 at compile time, so there is no Python integer arithmetic
  (``9**9**9`` is never computed exactly), and evaluation runs under ``np.errstate(all="ignore")``
  (overflow gives ``inf``, ``0/0`` gives ``nan``; `check_finite` reports those with the point);
* a power whose exponent is a constant larger than `MAX_EXPONENT` in absolute value is refused, a
  guard that catches ``9**9**9`` and ``x**10**10`` with a readable message.

Grammar: numbers, the input variables (``x``, or ``x`` and ``y``), the constants ``pi`` and ``e``,
unary ``+ - not``, binary ``+ - * / ** %``, comparisons ``< <= > >= == !=`` (chains such as
``0 < x < 1`` included), ``and``/``or``, parentheses and calls of the functions in `FUNCTIONS`.
Comparisons and ``and``/``or``/``not`` work element-wise and give 1.0 (true) or 0.0 (false), so
``where(x > 0 and y > 0, 1, 0)`` and ``(x > 0) - (x < 0)`` both work.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

MAX_LENGTH = 200  # characters of expression text
MAX_NESTING = 20  # brackets open at once, checked on the raw text before parsing
MAX_DEPTH = 50  # levels of the syntax tree
MAX_NODES = 120  # values and operations in the syntax tree
MAX_LITERAL = 1e100  # largest number that may be written
MAX_EXPONENT = 100.0  # largest constant exponent of **, in absolute value

GRID_POINTS = {1: 200, 2: 50}  # points per axis of the grid runs and previews are drawn on

#: Callable names -> (numpy function, number of arguments).
FUNCTIONS: dict[str, tuple[Callable[..., Any], int]] = {
    "sin": (np.sin, 1),
    "cos": (np.cos, 1),
    "tan": (np.tan, 1),
    "exp": (np.exp, 1),
    "log": (np.log, 1),
    "sqrt": (np.sqrt, 1),
    "abs": (np.abs, 1),
    "tanh": (np.tanh, 1),
    "arctan": (np.arctan, 1),
    "sinh": (np.sinh, 1),
    "cosh": (np.cosh, 1),
    "floor": (np.floor, 1),
    "sign": (np.sign, 1),
    "minimum": (np.minimum, 2),
    "maximum": (np.maximum, 2),
    "where": (lambda cond, a, b: np.where(cond != 0, a, b), 3),
}

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.Pow: np.power,
    ast.Mod: np.mod,
}

_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}

# Why a construct is refused, in words a user understands.
_REFUSED_NODES: dict[type, str] = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "indexing is not allowed",
    ast.Slice: "slices are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.IfExp: "'a if c else b' is not allowed (use where(c, a, b))",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.Set: "sets are not allowed",
    ast.Dict: "dictionaries are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.Starred: "starred arguments are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}

_REFUSED_OPERATORS: dict[type, str] = {
    ast.FloorDiv: "'//' is not allowed (use floor(a / b))",
    ast.MatMult: "'@' is not allowed",
    ast.BitXor: "'^' is not allowed (use ** for powers)",
    ast.BitAnd: "'&' is not allowed (use 'and')",
    ast.BitOr: "'|' is not allowed (use 'or')",
    ast.LShift: "'<<' is not allowed",
    ast.RShift: "'>>' is not allowed",
    ast.Invert: "'~' is not allowed (use 'not')",
    ast.Is: "'is' is not allowed (use ==)",
    ast.IsNot: "'is not' is not allowed (use !=)",
    ast.In: "'in' is not allowed",
    ast.NotIn: "'not in' is not allowed",
}

# Characters people paste from formulas, and what they meant.
_LOOKALIKES = {
    "х": "x", "у": "y", "е": "e", "о": "o", "а": "a", "с": "c", "р": "p", "і": "i",
    "−": "-", "–": "-", "×": "*", "·": "*", "÷": "/", "π": "pi", "²": "**2", "³": "**3",
}  # fmt: skip


class ExpressionError(ValueError):
    """An expression that is not allowed or cannot be used; ``str(error)`` is for the user.

    `column` is the 1-based column of the problem in the text as given, or None when the problem
    is not at one place (too long, not finite somewhere on the domain, ...).
    """

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


class Expression:
    """A checked expression, callable on float arrays.

    `text` is the expression (outer whitespace stripped), `inputs` the variable names it may use in
    order (positional arguments of a call bind to them: ``expr(x)`` or ``expr(x, y)``, so an
    Expression can stand in for a task's target function), `variables` the names it does use.
    """

    __slots__ = ("text", "inputs", "variables", "_evaluate")

    def __init__(
        self,
        text: str,
        inputs: tuple[str, ...],
        variables: tuple[str, ...],
        evaluate: Callable[[dict[str, np.ndarray]], Any],
    ) -> None:
        self.text = text
        self.inputs = inputs
        self.variables = variables
        self._evaluate = evaluate

    def __call__(self, *args: Any, **arrays: Any) -> np.ndarray:
        """Evaluate on arrays (positional in `inputs` order, or by name) in float64.

        The result is a new float64 array of the broadcast shape of all given arrays; a constant
        expression is broadcast to that shape too. Non-finite values are returned as they are.
        """
        if len(args) > len(self.inputs):
            raise TypeError(f"expected at most {len(self.inputs)} positional arrays")
        values = dict(zip(self.inputs, args, strict=False))
        for name, value in arrays.items():
            if name not in self.inputs or name in values:
                raise TypeError(f"unexpected or repeated variable {name!r}")
            values[name] = value
        missing = [name for name in self.variables if name not in values]
        if missing:
            raise TypeError(f"missing value for variable(s) {', '.join(missing)}")
        env = {name: np.asarray(value, dtype=np.float64) for name, value in values.items()}
        shape = np.broadcast_shapes(*(value.shape for value in env.values()))
        with np.errstate(all="ignore"):
            result = self._evaluate(env)
        return np.array(np.broadcast_to(np.asarray(result, dtype=np.float64), shape))

    def __repr__(self) -> str:
        return f"Expression({self.text!r}, inputs={self.inputs!r})"


def compile_expression(text: str, variables: tuple[str, ...] = ("x",)) -> Expression:
    """Check `text` and turn it into an `Expression` over the given variable names.

    Raises `ExpressionError` with a message naming the problem (and its column where there is
    one) for anything outside the grammar described in the module docstring.
    """
    inputs = tuple(variables)
    if len(set(inputs)) != len(inputs) or not all(
        isinstance(name, str) and name.isidentifier() and name not in FUNCTIONS
        and name not in CONSTANTS for name in inputs
    ):  # fmt: skip
        raise ValueError(f"bad variable names {variables!r}")
    if not isinstance(text, str):
        raise ExpressionError("the expression must be text")
    if len(text) > MAX_LENGTH:  # before anything else looks at a possibly huge string
        raise ExpressionError(
            f"the expression is too long: {len(text)} characters (at most {MAX_LENGTH})"
        )
    lead = len(text) - len(text.lstrip())
    body = text.strip()
    if not body:
        raise ExpressionError("the expression is empty")
    _check_characters(body, lead)
    _check_nesting(body, lead)
    _check_paper_notation(body, lead, inputs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "\d"; refused below anyway
            tree = ast.parse(body, mode="eval")
    except SyntaxError as error:
        column = lead + error.offset if error.offset else None
        where = f" (column {column})" if column else ""
        raise ExpressionError(f"invalid expression: {error.msg}{where}", column) from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise ExpressionError(f"invalid expression: {error}") from None
    nodes = sum(isinstance(node, ast.expr) for node in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ExpressionError(
            f"the expression is too complex: {nodes} values and operations (at most {MAX_NODES})"
        )
    compiler = _Compiler(body, lead, inputs)
    evaluate = compiler.compile(tree.body, depth=1)
    used = tuple(name for name in inputs if name in compiler.used)
    return Expression(body, inputs, used, evaluate)


def check_finite(expr: Expression, points: np.ndarray) -> np.ndarray:
    """Evaluate `expr` at each row of `points` (shape (m, len(expr.inputs))) and return (m,).

    Raises `ExpressionError` naming the first point where the value is not finite, e.g.
    ``log(x) is not finite at x = -1 (got nan)`` or ``... at x = -1, y = 0.5 (got inf)``.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != len(expr.inputs):
        raise ValueError(f"points must have shape (m, {len(expr.inputs)}), got {points.shape}")
    values = expr(*points.T)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        index = int(bad[0])
        coordinates = zip(expr.inputs, points[index], strict=True)
        where = ", ".join(f"{name} = {format_number(v)}" for name, v in coordinates)
        raise ExpressionError(
            f"{expr.text} is not finite at {where} (got {format_number(values[index])})"
        )
    return values


def evaluate_on_domain(
    expr: Expression,
    domain: Sequence[Sequence[float]],
    points_per_axis: int | None = None,
    *,
    require_finite: bool = True,
) -> np.ndarray:
    """Evaluate `expr` on an even grid over `domain` ([[lo, hi]] or [[lo, hi], [lo, hi]]).

    1-D: values at ``np.linspace(lo, hi, n)``, shape (n,), n = 200 by default. 2-D: shape (n, n)
    with ``z[row j = y_j][col i = x_i]`` (plotly's layout, meshgrid indexing "xy"), n = 50 by
    default. With `require_finite` a non-finite value raises `ExpressionError` naming the point.
    """
    if len(domain) != len(expr.inputs) or len(domain) not in GRID_POINTS:
        raise ValueError(f"domain needs one [lo, hi] pair per input {expr.inputs}")
    n = points_per_axis or GRID_POINTS[len(domain)]
    axes = [np.linspace(float(lo), float(hi), n) for lo, hi in domain]
    mesh = np.meshgrid(*axes)  # indexing "xy": 2-D arrays are [y][x]
    points = np.column_stack([axis.ravel() for axis in mesh])
    if require_finite:
        values = check_finite(expr, points)
    else:
        values = expr(*points.T)
    return values.reshape(mesh[0].shape)


def format_number(value: float) -> str:
    """A compact rendering for messages: -1, 0.5, 3.14159, 1e-07, nan, inf."""
    value = float(value)
    if value == 0:
        return "0"  # not "-0"
    return f"{value:.6g}"


def _check_characters(body: str, lead: int) -> None:
    for index, char in enumerate(body):
        if " " <= char <= "~":
            continue
        column = lead + index + 1
        name = unicodedata.name(char, "control character")
        hint = _LOOKALIKES.get(char) or unicodedata.normalize("NFKC", char)
        advice = (
            f"did you mean {hint!r}?"
            if hint.isascii() and hint.isprintable() and hint.strip()
            else "use plain ASCII letters, digits and operators"
        )
        raise ExpressionError(
            f"character {char!r} (U+{ord(char):04X} {name}) at column {column} is not allowed: "
            f"{advice}",
            column,
        )


def _check_nesting(body: str, lead: int) -> None:
    depth = 0
    for index, char in enumerate(body):
        if char in "([{":
            depth += 1
            if depth > MAX_NESTING:
                column = lead + index + 1
                raise ExpressionError(
                    f"too many nested brackets at column {column} (at most {MAX_NESTING})",
                    column,
                )
        elif char in ")]}":
            depth -= 1


# --------------------------------------------------------------------------- paper notation

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


class _Token:
    __slots__ = ("kind", "text", "start")

    def __init__(self, kind: str, text: str, start: int) -> None:
        self.kind = kind
        self.text = text
        self.start = start

    def is_value(self) -> bool:
        """A number or a name that is not a keyword (``and``, ``if``, ``True``, ...)."""
        return self.kind == "number" or (self.kind == "name" and not keyword.iskeyword(self.text))


def _check_paper_notation(body: str, lead: int, inputs: tuple[str, ...]) -> None:
    """Refuse forms written on paper with the fix spelled out, at the column where it goes.

    ``2x``, ``2(x+1)``, ``(x+1)(x-1)``, ``(x+1)x``, ``x y`` (a missing ``*``); ``sin x`` and
    ``sinx`` (a function without brackets); ``|x|`` (absolute value); ``xy`` (two variables run
    together). Called before ``ast.parse``, whose messages would name Python's rules instead.
    """
    tokens = [
        _Token(match.lastgroup or "op", match.group(), match.start())
        for match in _TOKEN.finditer(body)
    ]
    solid = [token for token in tokens if token.kind != "space"]
    _check_bars(body, lead, solid)
    for before, token in zip(solid, solid[1:], strict=False):
        spaced = token.start > before.start + len(before.text)
        advice = _juxtaposition(body, solid, before, token, spaced)
        if advice:
            column = lead + token.start + 1
            raise ExpressionError(f"{advice} (column {column})", column)
    for token in solid:
        advice = _run_together(token, inputs)
        if advice:
            column = lead + token.start + 1
            raise ExpressionError(f"{advice} (column {column})", column)


def _juxtaposition(
    body: str, solid: list[_Token], before: _Token, token: _Token, spaced: bool
) -> str | None:
    """The fix for two values side by side (``2x``, ``)(``, ``sin x``, ``x y``), or None."""
    opens = token.text == "(" and token.kind == "op"
    if before.kind == "number" and (token.is_value() or opens):
        left = before.text
    elif before.text == ")" and before.kind == "op" and (token.is_value() or opens):
        left = _operand_before(body, solid, solid.index(before))
    elif before.kind == "name" and before.text in FUNCTIONS and spaced and token.is_value():
        argument = _operand_after(body, solid, solid.index(token))
        return f"{before.text} needs brackets: write {before.text}({argument})"
    elif before.is_value() and before.text not in FUNCTIONS and spaced and token.is_value():
        left = before.text
    else:
        return None
    if before.kind == "number" and token.kind == "number":
        return None  # "2 3": a typo for 23 or 2.3, not a product
    right = _operand_after(body, solid, solid.index(token))
    return f"write {_shorten(left)}*{_shorten(right)} to multiply"


def _run_together(token: _Token, inputs: tuple[str, ...]) -> str | None:
    """The fix for a name that is a function or variables written without operators, or None."""
    name = token.text
    known = (*inputs, *CONSTANTS)
    if token.kind != "name" or name in known or name in FUNCTIONS or keyword.iskeyword(name):
        return None
    for function in sorted(FUNCTIONS, key=len, reverse=True):
        rest = name[len(function) :]
        if name.startswith(function) and rest and _split_names(rest.lstrip("_"), known):
            argument = "*".join(_split_names(rest.lstrip("_"), known) or [rest])
            return f"{function} needs brackets: write {function}({argument})"
    parts = _split_names(name, known)
    if parts and len(parts) > 1:
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


def _check_bars(body: str, lead: int, solid: list[_Token]) -> None:
    """``|x - 1|`` is an absolute value on paper (and ``|`` is not allowed here at all)."""
    bars = [token.start for token in solid if token.kind == "op" and token.text == "|"]
    if len(bars) >= 2:
        first, second = bars[0], bars[1]
        inner = body[first + 1 : second].strip() or "..."
        column = lead + first + 1
        raise ExpressionError(
            f"|{_shorten(inner)}| is not understood: use abs({_shorten(inner)}) (column {column})",
            column,
        )


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


def _operand_before(body: str, solid: list[_Token], index: int) -> str:
    """The text of the bracketed value (or call) that ends with the ``)`` at token `index`."""
    depth = 0
    start = 0
    for position in range(index, -1, -1):
        depth += {")": 1, "(": -1}.get(solid[position].text, 0)
        if depth == 0:
            start = position
            break
    if start > 0 and solid[start - 1].kind == "name" and solid[start - 1].text in FUNCTIONS:
        start -= 1
    end = solid[index]
    return body[solid[start].start : end.start + 1]


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Compiler:
    """Turns a checked syntax tree into closures ``env -> value`` (env maps variable -> array)."""

    def __init__(self, body: str, lead: int, inputs: tuple[str, ...]) -> None:
        self.body = body
        self.lead = lead
        self.inputs = inputs
        self.used: set[str] = set()

    def fail(self, message: str, node: ast.AST) -> ExpressionError:
        offset = getattr(node, "col_offset", None)
        if offset is None:
            return ExpressionError(message)
        column = self.lead + offset + 1
        return ExpressionError(f"{message} (column {column})", column)

    def source(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.body, node) or type(node).__name__

    def compile(self, node: ast.AST, depth: int) -> Callable[[dict[str, np.ndarray]], Any]:
        if depth > MAX_DEPTH:
            raise self.fail(f"the expression is nested too deeply (at most {MAX_DEPTH})", node)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, depth)
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth)
        if isinstance(node, ast.Compare):
            return self.compare(node, depth)
        if isinstance(node, ast.BoolOp):
            return self.boolean(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        message = _REFUSED_NODES.get(type(node), f"{type(node).__name__} is not allowed")
        if isinstance(node, ast.Attribute):
            message = f"attribute access ('.{node.attr}') is not allowed"
        raise self.fail(message, node)

    def constant(self, node: ast.Constant) -> Callable[[dict[str, np.ndarray]], Any]:
        value = node.value
        if isinstance(value, (str, bytes)):
            raise self.fail("text is not allowed, only numbers", node)
        if type(value) not in (int, float):  # bool, None, complex, Ellipsis
            raise self.fail(f"{self.source(node)} is not allowed, only real numbers", node)
        if not abs(value) <= MAX_LITERAL:  # int vs float compares exactly; catches inf too
            raise self.fail(f"the number {self.source(node)} is too large", node)
        number = np.float64(value)
        return lambda env: number

    def name(self, node: ast.Name) -> Callable[[dict[str, np.ndarray]], Any]:
        name = node.id
        if name in self.inputs:
            self.used.add(name)
            return lambda env: env[name]
        if name in CONSTANTS:
            number = np.float64(CONSTANTS[name])
            return lambda env: number
        if name in FUNCTIONS:
            raise self.fail(f"{name} is a function: call it like {name}(x)", node)
        allowed = ", ".join((*self.inputs, *CONSTANTS))
        case = " (names are case-sensitive)" if name.lower() in self.inputs else ""
        raise self.fail(f"unknown name {name!r}{case}: use {allowed} or a function", node)

    def unary(self, node: ast.UnaryOp, depth: int) -> Callable[[dict[str, np.ndarray]], Any]:
        if type(node.op) in _REFUSED_OPERATORS:
            raise self.fail(_REFUSED_OPERATORS[type(node.op)], node)
        operand = self.compile(node.operand, depth + 1)
        if isinstance(node.op, ast.USub):
            return lambda env: np.negative(operand(env))
        if isinstance(node.op, ast.Not):
            return lambda env: np.equal(operand(env), 0).astype(np.float64)
        return operand  # UAdd

    def binary(self, node: ast.BinOp, depth: int) -> Callable[[dict[str, np.ndarray]], Any]:
        if type(node.op) not in _BINARY:
            message = _REFUSED_OPERATORS.get(type(node.op), "this operator is not allowed")
            raise self.fail(message, node)
        function = _BINARY[type(node.op)]
        left = self.compile(node.left, depth + 1)
        right = self.compile(node.right, depth + 1)
        if isinstance(node.op, ast.Pow):
            self.check_exponent(node.right, right)
        return lambda env: function(left(env), right(env))

    def check_exponent(self, node: ast.expr, exponent: Callable[..., Any]) -> None:
        """Refuse a constant exponent above MAX_EXPONENT (computed in float64, so it is quick)."""
        if any(isinstance(sub, ast.Name) and sub.id in self.inputs for sub in ast.walk(node)):
            return  # depends on the data; float64 overflow just gives inf
        with np.errstate(all="ignore"):
            value = float(exponent({}))
        if not abs(value) <= MAX_EXPONENT:
            shown = self.source(node)
            if shown != format_number(value):
                shown += f" = {format_number(value)}"
            raise self.fail(
                f"the exponent {shown} is too large (at most {MAX_EXPONENT:g} in absolute value)",
                node,
            )

    def compare(self, node: ast.Compare, depth: int) -> Callable[[dict[str, np.ndarray]], Any]:
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise self.fail(_REFUSED_OPERATORS.get(type(op), "comparison not allowed"), node)
        operands = [self.compile(sub, depth + 1) for sub in (node.left, *node.comparators)]
        functions = [_COMPARE[type(op)] for op in node.ops]

        def evaluate(env: dict[str, np.ndarray]) -> Any:
            values = [operand(env) for operand in operands]
            result = functions[0](values[0], values[1])
            for function, a, b in zip(functions[1:], values[1:-1], values[2:], strict=True):
                result = np.logical_and(result, function(a, b))  # a < b < c: a < b and b < c
            return np.asarray(result, dtype=np.float64)

        return evaluate

    def boolean(self, node: ast.BoolOp, depth: int) -> Callable[[dict[str, np.ndarray]], Any]:
        operands = [self.compile(sub, depth + 1) for sub in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or

        def evaluate(env: dict[str, np.ndarray]) -> Any:
            result = np.not_equal(operands[0](env), 0)
            for operand in operands[1:]:
                result = combine(result, np.not_equal(operand(env), 0))
            return np.asarray(result, dtype=np.float64)

        return evaluate

    def call(self, node: ast.Call, depth: int) -> Callable[[dict[str, np.ndarray]], Any]:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise self.fail(f"attribute access ('.{node.func.attr}') is not allowed", node)
            raise self.fail("only the listed functions can be called", node)
        name = node.func.id
        if name not in FUNCTIONS:
            if name in self.inputs or name in CONSTANTS:
                raise self.fail(f"{name} is not a function (write {name}*(...) to multiply)", node)
            if name in ALIASES:
                alias = ALIASES[name]
                fix = f"{alias}(...)" if alias in FUNCTIONS else f"{alias} for powers"
                raise self.fail(f"unknown function {name!r}: write {fix}", node)
            listed = ", ".join(FUNCTIONS)
            raise self.fail(f"unknown function {name!r}: use one of {listed}", node)
        if node.keywords:
            raise self.fail(f"keyword arguments are not allowed in {name}()", node)
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise self.fail(f"starred arguments are not allowed in {name}()", node)
        function, arity = FUNCTIONS[name]
        if len(node.args) != arity:
            plural = "argument" if arity == 1 else "arguments"
            raise self.fail(f"{name}() takes {arity} {plural} ({len(node.args)} given)", node)
        args = [self.compile(arg, depth + 1) for arg in node.args]
        if arity == 1:
            (arg,) = args
            return lambda env: function(arg(env))
        return lambda env: function(*(arg(env) for arg in args))


# --------------------------------------------------------------------------- singularities

FINE_POINTS = {1: 20001, 2: 301}  # find_singularity's search grid, per axis
NEAR_ZERO = 1e-10  # |operand| below this share of its typical size counts as 0 (a pole)
MAX_CANDIDATES = 64  # points per hazard refined and checked
UNBOUNDED = 1e6  # |f| this many times its grid maximum, a hair from a pole: unbounded there
_SNAP_DIGITS = (1, 2, 3, 4, 6, 9, 12)  # decimals (relative to the domain's size) tried in turn


class _Hazard:
    """An operation that is not finite where its operand `quantity` is 0 or negative.

    `kind`: ``zero`` (a pole: 1/q, q % ..., tan via cos of its argument, q**-n),
    ``negative`` (nan where q < 0: sqrt, fractional powers) or ``nonpositive`` (q <= 0: log,
    negative fractional powers). `singular(env, side)` is the operation's value at the point
    itself, approached from the side where q has sign `side` (None: evaluate as it is).
    """

    __slots__ = ("kind", "index", "source", "quantity", "singular", "what")

    def __init__(self, kind: str, index: int, source: str, quantity: Callable[..., Any],
                 singular: Callable[..., Any] | None, what: str) -> None:  # fmt: skip
        self.kind = kind
        self.index = index
        self.source = source
        self.quantity = quantity
        self.singular = singular
        self.what = what


def find_singularity(expression: Expression, domain: Sequence[Sequence[float]]) -> None:
    """Raise `ExpressionError` naming a point of `domain` where `expression` is not finite.

    First the evaluation grid (`GRID_POINTS`) is checked as `check_finite` does. Then every
    operation that can fail is found in the expression itself — each denominator (``/``, ``%``,
    negative powers), ``log`` (argument <= 0), ``sqrt`` and fractional powers (argument < 0) and
    ``tan`` (poles where the cosine of its argument is 0) — and its operand is searched over
    `domain` on a fine grid (`FINE_POINTS`): exact zeros, sign changes refined by bisection and
    local minima of |operand| refined by a compass search, so a pole between sample points is
    found too. A point counts when the whole expression is not finite there, or would be with
    the operation at its limit (so ``where(x == 0, 1, sin(x)/x)`` and ``exp(-1/x**2)`` pass), or
    grows without bound next to it. Places are rounded to short numbers where the operand stays
    0 there: ``1/x is not finite at x = 0 (division by zero)``.
    """
    if len(domain) != len(expression.inputs) or len(domain) not in FINE_POINTS:
        raise ValueError(f"domain needs one [lo, hi] pair per input {expression.inputs}")
    box = np.array([[float(lo), float(hi)] for lo, hi in domain])
    grid_values = evaluate_on_domain(expression, box.tolist())
    scale = float(np.max(np.abs(grid_values), initial=0.0))
    tree = ast.parse(expression.text, mode="eval")
    for hazard in _hazards(tree, expression):
        points, verdicts = _examine(expression, tree, hazard, box, scale)
        hit = np.flatnonzero(verdicts)
        if hit.size:
            _report(expression, hazard, points[hit[0]], verdicts[hit[0]])


def _hazards(tree: ast.Expression, expression: Expression) -> list[_Hazard]:
    """The operations of `tree` that can be singular, in reading order."""
    compiler = _Compiler(expression.text, 0, expression.inputs)

    def part(node: ast.AST) -> Callable[..., Any]:
        return compiler.compile(node, depth=1)

    found: list[_Hazard] = []
    for index, node in enumerate(ast.walk(tree)):
        source = compiler.source(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Mod)):
            left = part(node.left)
            singular = (lambda env, side, left=left: np.divide(left(env), side * 0.0)) \
                if isinstance(node.op, ast.Div) else (lambda env, side: np.nan)  # fmt: skip
            found.append(_Hazard("zero", index, source, part(node.right), singular,
                                 "division by zero"))  # fmt: skip
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            hazard = _power_hazard(node, index, source, part, expression.inputs)
            if hazard is not None:
                found.append(hazard)
        elif isinstance(node, ast.Call) and node.func.id in ("log", "sqrt", "tan"):
            argument = part(node.args[0])
            if node.func.id == "log":
                found.append(_Hazard("nonpositive", index, source, argument,
                                     lambda env, side: -np.inf, "log of 0 or less"))  # fmt: skip
            elif node.func.id == "sqrt":
                found.append(_Hazard("negative", index, source, argument, None,
                                     "square root of a negative number"))  # fmt: skip
            else:
                found.append(_Hazard("zero", index, source,
                                     lambda env, argument=argument: np.cos(argument(env)),
                                     lambda env, side: side * np.inf, "a pole of tan"))  # fmt: skip
    return found


def _power_hazard(node: ast.BinOp, index: int, source: str, part: Callable[..., Any],
                  inputs: tuple[str, ...]) -> _Hazard | None:  # fmt: skip
    """``a**b``: a pole where a = 0 (b < 0), nan where a < 0 (b fractional or variable)."""
    base = part(node.left)
    if any(isinstance(sub, ast.Name) and sub.id in inputs for sub in ast.walk(node.right)):
        return _Hazard("negative", index, source, base, None,
                       "a negative number to a fractional power")  # fmt: skip
    with np.errstate(all="ignore"):
        exponent = float(part(node.right)({}))
    whole = math.isfinite(exponent) and exponent == round(exponent)
    if exponent < 0:
        return _Hazard("zero" if whole else "nonpositive", index, source, base,
                       lambda env, side: np.power(side * 0.0, exponent),
                       "0 to a negative power")  # fmt: skip
    if not whole:
        return _Hazard("negative", index, source, base, None,
                       "a negative number to a fractional power")  # fmt: skip
    return None


def _examine(expression: Expression, tree: ast.Expression, hazard: _Hazard, box: np.ndarray,
             scale: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Candidate points of `hazard` on the box and a verdict for each.

    Verdicts: 0 fine, 1 not finite there, 2 unbounded next to it (a pole masked by where()).
    """

    def operand(points: np.ndarray) -> np.ndarray:
        env = dict(zip(expression.inputs, points.T, strict=True))
        with np.errstate(all="ignore"):
            values = hazard.quantity(env)
        return np.broadcast_to(np.asarray(values, np.float64), points.shape[:1])

    grid = _fine_grid(box)
    values = operand(grid)
    finite = np.abs(values[np.isfinite(values)])
    tolerance = NEAR_ZERO * (float(np.median(finite)) if finite.size else 0.0)
    points = _candidates(operand, grid, values, box, hazard.kind, tolerance)
    if not len(points):
        return points, np.zeros(0, dtype=np.int8)
    points = _snap(operand, points, box, hazard.kind, tolerance)
    return points, _verdicts(expression, tree, hazard, operand, points, box, scale, tolerance)


def _fine_grid(box: np.ndarray) -> np.ndarray:
    axes = [np.linspace(lo, hi, FINE_POINTS[len(box)]) for lo, hi in box]
    return np.column_stack([axis.ravel() for axis in np.meshgrid(*axes, indexing="ij")])


def _violates(values: np.ndarray, kind: str, tolerance: float) -> np.ndarray:
    if kind == "zero":
        return np.abs(values) <= tolerance
    if kind == "negative":
        return values < 0
    return values <= tolerance


def _candidates(operand: Callable[[np.ndarray], np.ndarray], grid: np.ndarray,
                values: np.ndarray, box: np.ndarray, kind: str,
                tolerance: float) -> np.ndarray:  # fmt: skip
    """Exact zeros, refined sign changes, refined local minima and violating grid points."""
    shape = (FINE_POINTS[len(box)],) * len(box)
    found = [grid[values == 0]]
    starts, ends = _sign_changes(values.reshape(shape), grid.reshape(*shape, len(box)))
    if len(starts):
        roots = _bisect(operand, starts, ends)
        found.append(roots[_violates(operand(roots), kind, tolerance)])
    size = np.abs(values) if kind == "zero" else values
    minima = _local_minima(size.reshape(shape))
    if minima.size:
        steps = (box[:, 1] - box[:, 0]) / (FINE_POINTS[len(box)] - 1)
        refined = _compass(operand, grid[minima], steps, box, absolute=kind == "zero")
        found.append(refined[_violates(operand(refined), kind, tolerance)])
    bad = np.flatnonzero(_violates(values, kind, tolerance))
    found.append(grid[bad[:: max(1, len(bad) // MAX_CANDIDATES)]])
    points = np.concatenate(found)
    return points[: MAX_CANDIDATES * 4]


def _sign_changes(values: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Neighbouring grid points (along each axis) where the operand changes sign."""
    starts, ends = [], []
    signs = np.sign(np.where(np.isfinite(values), values, 0.0))
    for axis in range(values.ndim):
        lower = [slice(None)] * values.ndim
        upper = [slice(None)] * values.ndim
        lower[axis], upper[axis] = slice(None, -1), slice(1, None)
        change = signs[tuple(lower)] * signs[tuple(upper)] < 0
        starts.append(grid[tuple(lower)][change])
        ends.append(grid[tuple(upper)][change])
    starts_all, ends_all = np.concatenate(starts), np.concatenate(ends)
    keep = np.linspace(0, len(starts_all) - 1, min(len(starts_all), MAX_CANDIDATES)).astype(int)
    return starts_all[keep], ends_all[keep]


def _bisect(operand: Callable[[np.ndarray], np.ndarray], starts: np.ndarray,
            ends: np.ndarray) -> np.ndarray:  # fmt: skip
    """Points where the operand changes sign between `starts` and `ends`, to float precision."""
    low, high = starts.copy(), ends.copy()
    low_sign = np.sign(operand(low))
    for _ in range(64):
        middle = (low + high) / 2
        values = operand(middle)
        exact = values == 0
        same = (np.sign(values) == low_sign) & ~exact
        low = np.where(same[:, None], middle, low)
        high = np.where(same[:, None] | exact[:, None], high, middle)
        high = np.where(exact[:, None], middle, high)
        low = np.where(exact[:, None], middle, low)
    return np.where(np.abs(operand(low))[:, None] <= np.abs(operand(high))[:, None], low, high)


def _local_minima(values: np.ndarray) -> np.ndarray:
    """Flat indices of the (at most MAX_CANDIDATES smallest) grid points not above a neighbour."""
    padded = np.pad(np.where(np.isfinite(values), values, np.inf), 1, constant_values=np.inf)
    centre = padded[(slice(1, -1),) * values.ndim]
    minimum = np.isfinite(centre)
    for axis in range(values.ndim):
        for shift in (-1, 1):
            minimum &= centre <= np.roll(padded, shift, axis=axis)[(slice(1, -1),) * values.ndim]
    indices = np.flatnonzero(minimum)
    order = np.argsort(values.ravel()[indices], kind="stable")
    return indices[order[:MAX_CANDIDATES]]


def _compass(operand: Callable[[np.ndarray], np.ndarray], points: np.ndarray,
             steps: np.ndarray, box: np.ndarray, absolute: bool) -> np.ndarray:  # fmt: skip
    """Refine local minima of the operand (or of its size) by a compass search in the box."""

    def cost(candidates: np.ndarray) -> np.ndarray:
        values = operand(candidates)
        values = np.abs(values) if absolute else values
        return np.where(np.isfinite(values), values, np.inf)

    best, best_cost = points.copy(), cost(points)
    step = np.tile(steps, (len(points), 1))
    floor = 1e-17 * np.maximum(np.abs(box).max(axis=1), 1.0)
    for _ in range(400):
        if np.all(step <= floor):
            break
        improved = np.zeros(len(points), dtype=bool)
        for axis in range(box.shape[0]):
            for sign in (-1.0, 1.0):
                trial = best.copy()
                trial[:, axis] = np.clip(trial[:, axis] + sign * step[:, axis], *box[axis])
                trial_cost = cost(trial)
                better = trial_cost < best_cost
                best = np.where(better[:, None], trial, best)
                best_cost = np.where(better, trial_cost, best_cost)
                improved |= better
        step = np.where(improved[:, None], step, step / 2)
    return best


def _snap(operand: Callable[[np.ndarray], np.ndarray], points: np.ndarray, box: np.ndarray,
          kind: str, tolerance: float) -> np.ndarray:  # fmt: skip
    """Round each point to the fewest decimals at which the hazard still holds (0.3, not
    0.30000000000000004): the reported place reads well and exact zeros are met exactly."""
    magnitude = math.floor(math.log10(max(float(np.max(box[:, 1] - box[:, 0])), 1e-300)))
    snapped = points.copy()
    settled = np.zeros(len(points), dtype=bool)
    for digits in _SNAP_DIGITS:
        trial = np.round(points, digits - magnitude)
        inside = np.all((trial >= box[:, 0]) & (trial <= box[:, 1]), axis=1)
        holds = inside & _violates(operand(trial), kind, tolerance) & ~settled
        snapped[holds] = trial[holds]
        settled |= holds
    return snapped


def _verdicts(expression: Expression, tree: ast.Expression, hazard: _Hazard,
              operand: Callable[[np.ndarray], np.ndarray], points: np.ndarray, box: np.ndarray,
              scale: float, tolerance: float) -> np.ndarray:  # fmt: skip
    """0 fine, 1 not finite at the point, 2 unbounded right next to it, per point."""
    verdicts = np.where(np.isfinite(expression(*points.T)), 0, 1).astype(np.int8)
    near = _violates(operand(points), hazard.kind, tolerance) & (verdicts == 0)
    if hazard.singular is None or not near.any():
        return verdicts
    width = box[:, 1] - box[:, 0]
    offsets = [sign * 1e-7 * width[axis] * np.eye(len(box))[axis]
               for axis in range(len(box)) for sign in (-1.0, 1.0)]  # fmt: skip
    sides = np.stack([np.sign(operand(points + offset)) for offset in offsets])
    limited = _with_limit(expression, tree, hazard)
    flat = (sides == 0).all(axis=0)  # the operand is 0 all around: take the + side
    for side in (-1.0, 1.0):
        approached = near & (np.any(sides == side, axis=0) | (flat & (side > 0)))
        env = dict(zip(expression.inputs, points.T, strict=True))
        with np.errstate(all="ignore"):
            env["_limit"] = np.broadcast_to(hazard.singular(env, side), points.shape[:1])
            values = np.broadcast_to(limited(env), points.shape[:1])
        verdicts[approached & ~np.isfinite(values)] = 1
    if hazard.kind == "zero":
        tiny = [offset * 1e-5 for offset in offsets]  # 1e-12 of the domain's width
        beside = np.stack([np.abs(expression(*(points + offset).T)) for offset in tiny])
        unbounded = ~np.isfinite(beside) | (beside > UNBOUNDED * max(scale, 1.0))
        verdicts[near & (verdicts == 0) & unbounded.any(axis=0)] = 2
    return verdicts


def _with_limit(expression: Expression, tree: ast.Expression,
                hazard: _Hazard) -> Callable[..., Any]:  # fmt: skip
    """The expression with the hazard's operation replaced by the variable ``_limit``."""
    copy = ast.parse(expression.text, mode="eval")
    target = list(ast.walk(copy))[hazard.index]

    class Replace(ast.NodeTransformer):
        def visit(self, node: ast.AST) -> ast.AST:
            if node is target:
                return ast.copy_location(ast.Name(id="_limit", ctx=ast.Load()), node)
            return self.generic_visit(node)

    replaced = Replace().visit(copy)
    compiler = _Compiler(expression.text, 0, (*expression.inputs, "_limit"))
    return compiler.compile(replaced.body, depth=1)


def _report(expression: Expression, hazard: _Hazard, point: np.ndarray, verdict: int) -> None:
    where = ", ".join(
        f"{name} = {format_number(value)}"
        for name, value in zip(expression.inputs, point, strict=True)
    )
    what = hazard.what
    if what == "log of 0 or less":
        env = dict(zip(expression.inputs, point, strict=True))
        with np.errstate(all="ignore"):
            below = float(hazard.quantity(env)) < 0
        what = "log of a negative number" if below else "log of 0"
    if hazard.source != expression.text:
        what += f" in {_shorten(hazard.source)}"
    if verdict == 2:
        raise ExpressionError(f"{expression.text} is unbounded near {where} ({what})")
    raise ExpressionError(f"{expression.text} is not finite at {where} ({what})")
