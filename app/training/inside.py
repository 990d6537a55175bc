"""A look inside the network: what every hidden neuron computes over the input space (as in
TensorFlow Playground), and per-layer weight and gradient statistics (as in TensorBoard).

`InsideProbe` is built once per training session with its map grid (`MAP_POINTS` per axis over
the task's domain, raw inputs) and `probe(model)` returns an `Inside` (numpy arrays, never
mutated). Costs one forward pass over the map grid (100 points in 1-D, 20 × 20 in 2-D) and a
histogram per weight matrix and gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import network as nn
from app.training.diagnosis import UnitHealth
from network import datasets

MAP_POINTS = {1: 100, 2: 20}  # per axis of the neuron maps
NEURONS_SHOWN = 16  # per hidden layer: all of them up to 16, else the 16 most active
HISTOGRAM_BINS = 20
RELU_LIKE = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU)
SATURATING = (nn.Tanh, nn.Sigmoid)
SATURATED_SHARE = 0.9  # a unit saturated on at least this share of the map points counts


class Histogram(tuple):
    """``(edges, counts)`` of the finite values of an array (it unpacks as that pair), with
    `nonfinite` (how many values are NaN or ±inf, counted apart: never in `counts`) and
    `zeros` (how many are exactly 0, as L1's proximal step leaves unused weights)."""

    nonfinite: int
    zeros: int

    def __new__(
        cls, edges: np.ndarray, counts: np.ndarray, nonfinite: int = 0, zeros: int = 0
    ) -> Histogram:
        histogram = super().__new__(cls, (edges, counts))
        histogram.nonfinite, histogram.zeros = int(nonfinite), int(zeros)
        return histogram

    def __getnewargs__(self) -> tuple:  # pickled (a training process sends it): all four
        return (self[0], self[1], self.nonfinite, self.zeros)

    def to_json(self, edges: list) -> dict[str, object]:
        """``{edges, counts, nonfinite, zeros}``, with `edges` already rounded for the wire."""
        return {"edges": edges, "counts": np.asarray(self[1]).tolist(),
                "nonfinite": self.nonfinite, "zeros": self.zeros}  # fmt: skip

    @classmethod
    def from_json(cls, encoded: dict) -> Histogram:
        """The inverse of `to_json` (a relayed look inside)."""
        return cls(np.asarray(encoded["edges"], dtype=np.float64),
                   np.asarray(encoded["counts"], dtype=np.int64),
                   encoded.get("nonfinite", 0), encoded.get("zeros", 0))  # fmt: skip


@dataclass(frozen=True)
class LayerStats:
    """One Linear layer: histograms ``(edges, counts)`` of its weights and their gradients (the
    last mini-batch; `Histogram`s, with the non-finite values and the exact zeros counted
    apart), the gradient norm of all its parameters, and for the hidden activation after it the
    share of dead (ReLU-like) or saturated (tanh, sigmoid) units, else None."""

    weights: Histogram
    grads: Histogram
    grad_norm: float
    dead: float | None
    saturated: float | None


@dataclass(frozen=True)
class Inside:
    """Maps on the grid `axes` (1-D: (n,) per neuron; 2-D: (n, n), rows = y) of the shown
    neurons of each hidden layer (`neurons[l]` (shown, *map shape)), their `indices[l]`,
    `bias[l]` and mean activation `mean[l]`, the output neurons' maps `output` (outputs, *map
    shape), the weights between shown neurons (`weights[l]`: (shown in, shown out), the first
    from the network's inputs) and per-Linear-layer `layers` statistics."""

    axes: list[np.ndarray]
    neurons: list[np.ndarray]
    indices: list[np.ndarray]
    bias: list[np.ndarray]
    mean: list[np.ndarray]
    output: np.ndarray
    weights: list[np.ndarray]
    layers: list[LayerStats]


def _histogram(values: np.ndarray) -> Histogram:
    """The `Histogram` of `values`: its finite values in `HISTOGRAM_BINS` bins, the others
    counted apart (`nonfinite`; none finite: every count 0 over [-1, 1]). All values equal (e.g.
    zero gradients before the first step) get a narrow range around them, not numpy's ±0.5."""
    mask = np.isfinite(values)
    finite = values[mask].astype(np.float64)
    nonfinite = int(mask.size - finite.size)
    zeros = int(np.count_nonzero(finite == 0))
    if finite.size == 0:
        edges = np.linspace(-1.0, 1.0, HISTOGRAM_BINS + 1)
        return Histogram(edges, np.zeros(HISTOGRAM_BINS, dtype=np.int64), nonfinite, zeros)
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo <= 1e-12 * max(1.0, abs(lo)):
        half = max(abs(lo) * 1e-3, 1e-12)
        lo, hi = lo - half, hi + half
    # np.histogram's bins, by bincount (~8x faster on these sizes): bin k holds
    # edges[k] <= x < edges[k+1], the last bin also x == hi
    edges = np.linspace(lo, hi, HISTOGRAM_BINS + 1)
    index = ((finite - lo) * (HISTOGRAM_BINS / (hi - lo))).astype(np.int64)
    np.clip(index, 0, HISTOGRAM_BINS - 1, out=index)
    index[finite < edges[index]] -= 1  # rounding at an edge: numpy's own correction
    index[(finite >= edges[index + 1]) & (index != HISTOGRAM_BINS - 1)] += 1
    counts = np.bincount(index, minlength=HISTOGRAM_BINS)
    return Histogram(edges, counts, nonfinite, zeros)


def _most_active(activations: np.ndarray) -> np.ndarray:
    """Indices (ascending) of at most NEURONS_SHOWN units with the largest mean |activation|."""
    width = activations.shape[1]
    if width <= NEURONS_SHOWN:
        return np.arange(width)
    strength = np.abs(activations).mean(axis=0)
    return np.sort(np.argsort(-strength, kind="stable")[:NEURONS_SHOWN])


def unit_states(layer: nn.Layer, out: np.ndarray) -> tuple[str, np.ndarray] | None:
    """Per unit of a hidden activation layer over the rows of `out` (rows, units): ``("dead",
    mask)`` for ReLU-like units (a unit never active: output ≤ 0 on every row) or
    ``("saturated", mask)`` for tanh and sigmoid (output within 0.01 of its limits on at least
    `SATURATED_SHARE` of the rows); None for other layers."""
    if isinstance(layer, RELU_LIKE):
        return "dead", out.max(axis=0) <= 0
    if isinstance(layer, nn.Tanh):
        saturated = np.abs(out) > 0.99
    elif isinstance(layer, nn.Sigmoid):
        saturated = (out < 0.01) | (out > 0.99)
    else:
        return None
    return "saturated", saturated.mean(axis=0) >= SATURATED_SHARE


def _unit_shares(layer: nn.Layer, out: np.ndarray) -> tuple[float | None, float | None]:
    """(dead share, saturated share) of a hidden activation's units over the map points."""
    states = unit_states(layer, out)
    if states is None:
        return None, None
    state, mask = states
    share = float(np.mean(mask))
    return (share, None) if state == "dead" else (None, share)


class HealthProbe:
    """What the diagnosis (`app.training.diagnosis`) reads of a model while it trains: the
    update-to-weight ratio of each epoch and the dead or saturated hidden units on `rows`
    (network inputs, at most ~1000 training rows) of the hidden `activation`."""

    def __init__(self, model: nn.Sequential, rows: np.ndarray, activation: str) -> None:
        self.model, self.rows, self.activation = model, rows, activation
        # each Linear layer's weights at the last call, and scratch for the change: allocated
        # once, so the per-epoch ratio costs a few vector operations and no copy of the model
        self._before = [layer.weight.data.copy() for layer in model.linear_layers()]
        self._change = [np.empty_like(weights) for weights in self._before]

    def update_ratio(self) -> float:
        """‖Δw‖ / ‖w‖ of the weights since the last call (or since the start): call once per
        epoch. About 1e-3 is healthy; below 1e-3 on a loss far from its best, too slow."""
        layers = self.model.linear_layers()
        change = norm = 0.0
        for layer, before, delta in zip(layers, self._before, self._change, strict=True):
            np.subtract(layer.weight.data, before, out=delta)
            flat, old = delta.ravel(), before.ravel()
            with np.errstate(over="ignore"):
                squares = float(np.dot(flat, flat)), float(np.dot(old, old))
            if not all(map(math.isfinite, squares)):  # huge weights overflow float32
                squares = float(np.dot(flat.astype(np.float64), flat)), float(
                    np.dot(old.astype(np.float64), old))  # fmt: skip
            change, norm = change + squares[0], norm + squares[1]
            np.copyto(before, layer.weight.data)
        return math.sqrt(change) / max(math.sqrt(norm), 1e-12)

    def units(self) -> list[UnitHealth]:
        """Per hidden activation layer: how many units are dead or saturated on the rows."""
        outputs = self.model.activations(self.rows)
        found, hidden = [], 0
        for layer, out in zip(self.model, outputs, strict=True):
            hidden += isinstance(layer, nn.Linear)  # the activation after the k-th Linear
            states = unit_states(layer, out)
            if states is not None:
                state, mask = states
                count = int(np.count_nonzero(mask))
                found.append(UnitHealth(hidden, self.activation, state, count, out.shape[1]))
        return found


class InsideProbe:
    """Computes `Inside` for a model over a task's domain (see the module docstring).

    `to_inputs` maps raw points (m, task inputs) to the network's inputs (features, scaled).
    """

    def __init__(self, domain: list[list[float]], to_inputs: Callable[[np.ndarray], np.ndarray]):
        axes, points = datasets.grid(
            [tuple(pair) for pair in domain], MAP_POINTS[len(domain)], dtype=np.float64
        )
        self.axes = axes
        self.shape = tuple(len(axis) for axis in reversed(axes))
        self.inputs = to_inputs(points)  # float64: standardised before the model casts

    def probe(self, model: nn.Sequential) -> Inside:
        """The maps and statistics of `model` now."""
        outputs = model.activations(self.inputs)
        linears = model.linear_layers()
        hidden = [
            (layer, out)
            for layer, out in zip(model, outputs, strict=True)
            if isinstance(layer, nn.Activation)
        ]
        indices = [_most_active(out) for _layer, out in hidden]
        shown_out = [out[:, shown] for (_layer, out), shown in zip(hidden, indices, strict=True)]
        shown_in = [np.arange(linears[0].weight.data.shape[0]), *indices]
        weights = [
            linear.weight.data[np.ix_(rows, cols)].copy()
            for linear, rows, cols in zip(linears, shown_in, [*indices, None], strict=True)
            if cols is not None
        ]
        weights.append(linears[-1].weight.data[shown_in[-1]].copy())
        return Inside(
            axes=self.axes,
            neurons=[self._maps(out) for out in shown_out],
            indices=indices,
            bias=[linears[k].bias.data[shown].copy() for k, shown in enumerate(indices)],
            mean=[out.mean(axis=0) for out in shown_out],
            output=self._maps(outputs[-1]),
            weights=weights,
            layers=self._layer_stats(linears, hidden),
        )

    def _maps(self, columns: np.ndarray) -> np.ndarray:
        """(points, units) -> (units, *map shape)."""
        return columns.T.reshape((columns.shape[1], *self.shape))

    @staticmethod
    def _layer_stats(linears: list[nn.Linear], hidden: list) -> list[LayerStats]:
        stats = []
        for k, linear in enumerate(linears):
            dead, saturated = _unit_shares(*hidden[k]) if k < len(hidden) else (None, None)
            grads = [linear.weight.grad, linear.bias.grad]
            norm = float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads)))
            stats.append(
                LayerStats(
                    weights=_histogram(linear.weight.data),
                    grads=_histogram(linear.weight.grad),
                    grad_norm=norm,
                    dead=dead,
                    saturated=saturated,
                )
            )
        return stats
