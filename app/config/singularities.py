"""The search for a custom expression's singularities on its domain (`find_singularity`): the
poles, gaps and unbounded places of ``1/x``, ``log(x)``, ``sqrt(x)``, ``tan(x)`` and the like,
found in the expression itself and searched for on a fine grid, so that a task or a feature is
refused with the point named (``1/x is not finite at x = 0 (division by zero)``).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from app.config.expressions import (
    Expression,
    ExpressionError,
    _Compiler,
    evaluate_on_domain,
    format_number,
)
from app.config.notation import shorten

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
        what += f" in {shorten(hazard.source)}"
    if verdict == 2:
        raise ExpressionError(f"{expression.text} is unbounded near {where} ({what})")
    raise ExpressionError(f"{expression.text} is not finite at {where} ({what})")
