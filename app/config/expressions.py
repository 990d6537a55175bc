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

Two neighbours build on this compiler: `app.config.notation` (forms written on paper, ``2x`` or
``|x|``, refused with the fix spelled out) and `app.config.singularities` (`find_singularity`:
the poles and gaps of an expression on its domain).
"""

from __future__ import annotations

import ast
import math
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from app.config.notation import ALIASES, paper_notation

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
    problem = paper_notation(body, lead, inputs, FUNCTIONS, CONSTANTS)
    if problem is not None:
        raise ExpressionError(*problem)
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


def check_finite(
    expr: Expression, points: np.ndarray, bound: float | None = None
) -> np.ndarray:
    """Evaluate `expr` at each row of `points` (shape (m, len(expr.inputs))) and return (m,).

    Raises `ExpressionError` naming the first point where the value is not finite, e.g.
    ``log(x) is not finite at x = -1 (got nan)`` or ``... at x = -1, y = 0.5 (got inf)``, or,
    with `bound`, where it is larger than `bound` in size (``exp(100*x) is too large at x = 2
    (got 7.2e+86; at most 1e+12 in size)``: finite in float64 but not once the network's float32
    squares it).
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != len(expr.inputs):
        raise ValueError(f"points must have shape (m, {len(expr.inputs)}), got {points.shape}")
    values = expr(*points.T)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        index = int(bad[0])
        raise ExpressionError(
            f"{expr.text} is not finite at {_where(expr, points[index])} "
            f"(got {format_number(values[index])})"
        )
    too_big = np.flatnonzero(np.abs(values) > bound) if bound is not None else ()
    if len(too_big):
        index = int(too_big[0])
        raise ExpressionError(
            f"{expr.text} is too large at {_where(expr, points[index])} (got "
            f"{format_number(values[index])}; at most {bound:g} in size)"
        )
    return values


def _where(expr: Expression, point: np.ndarray) -> str:
    """``x = -1, y = 0.5``: `point` named by `expr`'s inputs."""
    return ", ".join(
        f"{name} = {format_number(v)}" for name, v in zip(expr.inputs, point, strict=True)
    )


def evaluate_on_domain(
    expr: Expression,
    domain: Sequence[Sequence[float]],
    points_per_axis: int | None = None,
    *,
    require_finite: bool = True,
    bound: float | None = None,
) -> np.ndarray:
    """Evaluate `expr` on an even grid over `domain` ([[lo, hi]] or [[lo, hi], [lo, hi]]).

    1-D: values at ``np.linspace(lo, hi, n)``, shape (n,), n = 200 by default. 2-D: shape (n, n)
    with ``z[row j = y_j][col i = x_i]`` (plotly's layout, meshgrid indexing "xy"), n = 50 by
    default. With `require_finite` a non-finite value (or, with `bound`, one larger than it in
    size) raises `ExpressionError` naming the point.
    """
    if len(domain) != len(expr.inputs) or len(domain) not in GRID_POINTS:
        raise ValueError(f"domain needs one [lo, hi] pair per input {expr.inputs}")
    n = points_per_axis or GRID_POINTS[len(domain)]
    axes = [np.linspace(float(lo), float(hi), n) for lo, hi in domain]
    mesh = np.meshgrid(*axes)  # indexing "xy": 2-D arrays are [y][x]
    points = np.column_stack([axis.ravel() for axis in mesh])
    if require_finite:
        values = check_finite(expr, points, bound)
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
