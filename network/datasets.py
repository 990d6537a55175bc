"""Toy data sets for regression and classification, plus an MNIST reader.

Everything here depends only on numpy and the standard library, so it can be used (and tested)
without the rest of the engine.

Conventions shared by every generator:

- ``seed`` feeds ``np.random.default_rng(seed)``: the same seed gives identical arrays, different
  seeds give different arrays (at least a different order).
- Inputs ``X`` are ``float32`` by default (``dtype=`` accepts any float dtype); class labels are
  ``int64`` with shape ``(n,)``.
- Classification generators split ``n_samples`` over the classes as evenly as possible (counts
  differ by at most one) and return the points in shuffled order.
- ``noise`` is the standard deviation of Gaussian noise: added to the targets by
  :func:`sample_function`, to the 2-D coordinates by the classification generators.
- Bad arguments raise ``ValueError`` (bad value) or ``TypeError`` (bad type) whose message starts
  with the argument's name.
"""

from __future__ import annotations

import gzip
import inspect
import math
import numbers
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from . import checks

__all__ = [
    "sample_function",
    "train_test_split",
    "grid",
    "make_moons",
    "make_circles",
    "make_xor",
    "make_spiral",
    "make_blobs",
    "blob_centers",
    "Standardizer",
    "load_mnist",
]

Domain = Sequence[Sequence[float]]


# --------------------------------------------------------------------------- argument checks


def _check_dtype(dtype: object) -> np.dtype:
    try:
        checked = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be a numpy float dtype, got {dtype!r}") from error
    if checked.kind != "f":
        raise TypeError(f"dtype must be a numpy float dtype, got {checked}")
    return checked


def _check_domain(domain: object) -> list[tuple[float, float]]:
    """Normalise ``domain`` to a list of ``(lo, hi)`` float pairs, one per input.

    A bare pair of numbers ``(lo, hi)`` is accepted as a 1-D domain.
    """
    if isinstance(domain, (str, bytes)) or not isinstance(domain, Sequence | np.ndarray):
        raise TypeError(f"domain must be a sequence of (lo, hi) pairs, got {domain!r}")
    pairs = list(domain)
    if len(pairs) == 2 and all(isinstance(v, numbers.Real) for v in pairs):
        pairs = [pairs]  # a bare (lo, hi) pair: one input
    if not pairs:
        raise ValueError("domain must have at least one (lo, hi) pair")
    checked = []
    for axis, pair in enumerate(pairs):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence | np.ndarray):
            raise TypeError(f"domain[{axis}] must be a (lo, hi) pair, got {pair!r}")
        if len(pair) != 2:
            raise ValueError(f"domain[{axis}] must be a (lo, hi) pair, got {pair!r}")
        lo = checks.real(pair[0], f"domain[{axis}] lo")
        hi = checks.real(pair[1], f"domain[{axis}] hi")
        if not lo < hi:
            raise ValueError(f"domain[{axis}] must have lo < hi, got ({lo}, {hi})")
        checked.append((lo, hi))
    return checked


def _positional_arity(fn: Callable) -> tuple[int, float] | None:
    """(required, maximum) number of positional arguments of ``fn``, or None if unknown."""
    if isinstance(fn, np.ufunc):  # its signature also lists `out` as positional
        return fn.nin, fn.nin
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    required, maximum = 0, 0.0
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            maximum = math.inf
        elif parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            maximum += 1
            if parameter.default is parameter.empty:
                required += 1
    return required, maximum


def _balanced_counts(n_samples: int, n_classes: int) -> list[int]:
    """Split ``n_samples`` into ``n_classes`` counts that differ by at most one."""
    base, extra = divmod(n_samples, n_classes)
    return [base + (1 if k < extra else 0) for k in range(n_classes)]


def _finish(
    rng: np.random.Generator,
    points: np.ndarray,
    labels: np.ndarray,
    noise: float,
    dtype: np.dtype,
) -> tuple[np.ndarray, np.ndarray]:
    """Add coordinate noise, shuffle, and cast: the common tail of every classifier data set."""
    if noise > 0:
        points = points + rng.normal(0.0, noise, size=points.shape)
    order = rng.permutation(len(points))
    return points[order].astype(dtype), labels[order].astype(np.int64)


# --------------------------------------------------------------------------- regression


def sample_function(
    fn: Callable[..., np.ndarray],
    domain: Domain,
    n_samples: int,
    noise: float = 0.0,
    seed: int | None = 0,
    dtype: object = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``y = fn(x_1, ..., x_d) + eps`` at points drawn uniformly from a box.

    Each input ``x_i`` is drawn from ``U(lo_i, hi_i)`` with ``domain = [(lo_1, hi_1), ...]``
    (one pair per argument of ``fn``; a bare ``(lo, hi)`` means one input), and
    ``eps ~ N(0, noise^2)``. ``fn`` receives ``d`` float64 arrays of shape ``(n,)`` and returns
    one value per point (or a scalar, broadcast). Returns ``X`` of shape ``(n, d)`` and ``Y`` of
    shape ``(n, 1)``, both of ``dtype``.

    >>> X, Y = sample_function(np.sin, [(-np.pi, np.pi)], 500, noise=0.1, seed=1)
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    pairs = _check_domain(domain)
    n_samples = checks.integer(n_samples, "n_samples")
    noise = checks.real(noise, "noise", 0.0)
    dtype = _check_dtype(dtype)
    arity = _positional_arity(fn)
    if arity is not None and not arity[0] <= len(pairs) <= arity[1]:
        expected = arity[0] if arity[0] == arity[1] else f"{arity[0]}..{arity[1]}"
        raise ValueError(
            f"domain has {len(pairs)} (lo, hi) pair(s) but fn takes {expected} input(s)"
        )

    rng = np.random.default_rng(seed)
    lows = np.array([lo for lo, _ in pairs])
    highs = np.array([hi for _, hi in pairs])
    X = rng.uniform(lows, highs, size=(n_samples, len(pairs)))
    with np.errstate(all="ignore"):  # non-finite results are reported below, as a ValueError
        values = np.asarray(fn(*X.T), dtype=np.float64)
    if values.ndim == 0 or values.shape in ((n_samples,), (n_samples, 1)):
        values = np.broadcast_to(values.reshape(-1), (n_samples,))
    else:
        raise ValueError(
            f"fn must return one value per sample, got shape {values.shape} for {n_samples} samples"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("fn returned non-finite values on this domain")
    Y = values.reshape(n_samples, 1)
    if noise > 0:
        Y = Y + rng.normal(0.0, noise, size=Y.shape)
    return X.astype(dtype), Y.astype(dtype)


def train_test_split(
    X: np.ndarray,
    Y: np.ndarray,
    test_fraction: float = 0.3,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Randomly split rows into disjoint train and test sets.

    ``n_test = round(n * test_fraction)``, clamped so each side keeps at least one row;
    ``n_train = n - n_test``. Rows are chosen by a permutation from ``default_rng(seed)`` (both
    parts come out in that shuffled order). ``X`` and ``Y`` must have the same number of rows.
    Returns ``(X_train, Y_train, X_test, Y_test)``.
    """
    X = np.asarray(X)
    Y = np.asarray(Y)
    if X.ndim == 0:
        raise ValueError("X must have at least one dimension (one row per sample)")
    if Y.ndim == 0 or len(Y) != len(X):
        raise ValueError(f"Y must have as many rows as X ({len(X)}), got shape {Y.shape}")
    if len(X) < 2:
        raise ValueError(f"X must have at least 2 rows to split, got {len(X)}")
    test_fraction = checks.real(
        test_fraction, "test_fraction", 0.0, 1.0, low_open=True, high_open=True
    )

    n = len(X)
    n_test = min(max(round(n * test_fraction), 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    test_rows, train_rows = order[:n_test], order[n_test:]
    return X[train_rows], Y[train_rows], X[test_rows], Y[test_rows]


def grid(
    domain: Domain,
    points_per_axis: int | Sequence[int],
    dtype: object = np.float32,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Regular grid over a box, for plotting a model's prediction.

    ``axes[i] = linspace(lo_i, hi_i, points_per_axis)`` (float64, endpoints included;
    ``points_per_axis`` may also be one count per axis). ``X`` (``dtype``) holds every grid point,
    one per row, built as ``np.meshgrid(*axes, indexing="xy")`` raveled: in 2-D, with
    ``xs, ys = axes``, the first coordinate varies fastest, so ``f(X).reshape(len(ys), len(xs))``
    is ``z[row j = ys[j]][col i = xs[i]]`` (plotly's heatmap layout). In 1-D, ``X`` is
    ``axes[0][:, None]``.
    """
    pairs = _check_domain(domain)
    dtype = _check_dtype(dtype)
    if isinstance(points_per_axis, Sequence) and not isinstance(points_per_axis, (str, bytes)):
        counts = list(points_per_axis)
        if len(counts) != len(pairs):
            raise ValueError(
                f"points_per_axis has {len(counts)} counts but domain has {len(pairs)} axes"
            )
    else:
        counts = [points_per_axis] * len(pairs)
    counts = [checks.integer(c, "points_per_axis", 2) for c in counts]

    axes = [np.linspace(lo, hi, count) for (lo, hi), count in zip(pairs, counts, strict=True)]
    meshes = np.meshgrid(*axes, indexing="xy")
    X = np.column_stack([mesh.ravel() for mesh in meshes]).astype(dtype)
    return axes, X


# --------------------------------------------------------------------------- classification


def make_moons(
    n_samples: int = 2000,
    noise: float = 0.2,
    seed: int | None = 0,
    *,
    dtype: object = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as ``sklearn.datasets.make_moons``).

    Class 0: ``(cos t, sin t)``, class 1: ``(1 - cos t, 0.5 - sin t)``, with ``t`` evenly spaced
    on ``[0, pi]`` (``n // 2`` points for class 0, the rest for class 1), plus ``N(0, noise^2)``
    on each coordinate. Both arcs have radius 1 (centres ``(0, 0)`` and ``(1, 0.5)``).
    """
    n_samples = checks.integer(n_samples, "n_samples")
    noise = checks.real(noise, "noise", 0.0)
    dtype = _check_dtype(dtype)
    rng = np.random.default_rng(seed)

    n_outer, n_inner = n_samples // 2, n_samples - n_samples // 2
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n_inner)
    points = np.concatenate(
        [
            np.column_stack([np.cos(t_outer), np.sin(t_outer)]),
            np.column_stack([1.0 - np.cos(t_inner), 0.5 - np.sin(t_inner)]),
        ]
    )
    labels = np.repeat([0, 1], [n_outer, n_inner])
    return _finish(rng, points, labels, noise, dtype)


def make_circles(
    n_samples: int = 1000,
    noise: float = 0.05,
    factor: float = 0.5,
    seed: int | None = 0,
    *,
    dtype: object = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle inside a large one (as ``sklearn.datasets.make_circles``).

    Class 0: ``(cos t, sin t)`` (radius 1), class 1: ``factor * (cos t, sin t)``, with ``t``
    evenly spaced on ``[0, 2 pi)`` (``n // 2`` points for class 0, the rest for class 1), plus
    ``N(0, noise^2)`` on each coordinate. ``0 < factor < 1``.
    """
    n_samples = checks.integer(n_samples, "n_samples")
    noise = checks.real(noise, "noise", 0.0)
    factor = checks.real(factor, "factor", 0.0, 1.0, low_open=True, high_open=True)
    dtype = _check_dtype(dtype)
    rng = np.random.default_rng(seed)

    n_outer, n_inner = n_samples // 2, n_samples - n_samples // 2
    t_outer = np.linspace(0.0, 2.0 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2.0 * np.pi, n_inner, endpoint=False)
    points = np.concatenate(
        [
            np.column_stack([np.cos(t_outer), np.sin(t_outer)]),
            factor * np.column_stack([np.cos(t_inner), np.sin(t_inner)]),
        ]
    )
    labels = np.repeat([0, 1], [n_outer, n_inner])
    return _finish(rng, points, labels, noise, dtype)


# Points of make_xor keep this distance from the axes (before noise) so the classes do not touch.
_XOR_MARGIN = 0.05


def make_xor(
    n_samples: int = 1000,
    noise: float = 0.1,
    seed: int | None = 0,
    *,
    dtype: object = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """The XOR pattern: uniform points in the four quadrants of ``[-1, 1]^2``.

    ``label = (x > 0) xor (y > 0)``, i.e. 0 where ``x * y > 0`` (quadrants I and III) and 1 where
    ``x * y < 0`` (II and IV). Before noise, ``0.05 <= |x|, |y| <= 1``; then ``N(0, noise^2)`` is
    added to each coordinate. Each class is split evenly between its two quadrants.
    """
    n_samples = checks.integer(n_samples, "n_samples")
    noise = checks.real(noise, "noise", 0.0)
    dtype = _check_dtype(dtype)
    rng = np.random.default_rng(seed)

    # (sign x, sign y) per quadrant, two quadrants per class.
    quadrant_signs = {0: [(1.0, 1.0), (-1.0, -1.0)], 1: [(-1.0, 1.0), (1.0, -1.0)]}
    blocks, labels = [], []
    for label, class_count in enumerate(_balanced_counts(n_samples, 2)):
        for signs, count in zip(
            quadrant_signs[label], _balanced_counts(class_count, 2), strict=True
        ):
            magnitudes = rng.uniform(_XOR_MARGIN, 1.0, size=(count, 2))
            blocks.append(magnitudes * np.array(signs))
            labels.append(np.full(count, label))
    return _finish(rng, np.concatenate(blocks), np.concatenate(labels), noise, dtype)


# Turns each spiral arm makes from the centre to radius 1.
SPIRAL_TURNS = 1.5


def make_spiral(
    n_samples: int = 1000,
    noise: float = 0.1,
    arms: int = 2,
    seed: int | None = 0,
    *,
    dtype: object = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one class per arm.

    Arm ``k`` of ``arms`` (``arms >= 2``) holds the points
    ``r * (cos a, sin a)`` with ``a = 2 pi k / arms + 2 pi * 1.5 * r`` and ``r`` evenly spaced on
    ``[0, 1]``, so each arm winds 1.5 turns out to radius 1; then ``N(0, noise^2)`` is added to
    each coordinate.
    """
    n_samples = checks.integer(n_samples, "n_samples")
    noise = checks.real(noise, "noise", 0.0)
    arms = checks.integer(arms, "arms", 2)
    dtype = _check_dtype(dtype)
    rng = np.random.default_rng(seed)

    blocks, labels = [], []
    for arm, count in enumerate(_balanced_counts(n_samples, arms)):
        radius = np.linspace(0.0, 1.0, count)
        angle = 2.0 * np.pi * arm / arms + 2.0 * np.pi * SPIRAL_TURNS * radius
        blocks.append(radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]))
        labels.append(np.full(count, arm))
    return _finish(rng, np.concatenate(blocks), np.concatenate(labels), noise, dtype)


# Distance between neighbouring blob centres: six standard deviations at the default noise 1.0.
BLOB_SPACING = 6.0


def blob_centers(centers: int = 3) -> np.ndarray:
    """The fixed centres used by :func:`make_blobs`, shape ``(centers, 2)``, float64.

    Centre ``k`` sits at ``R * (cos(pi/2 + 2 pi k / c), sin(pi/2 + 2 pi k / c))`` on a circle of
    radius ``R = 3 / sin(pi / c)``, so neighbouring centres are exactly 6 apart for every ``c``.
    """
    centers = checks.integer(centers, "centers", 2)
    radius = BLOB_SPACING / 2.0 / np.sin(np.pi / centers)
    angle = np.pi / 2.0 + 2.0 * np.pi * np.arange(centers) / centers
    return radius * np.column_stack([np.cos(angle), np.sin(angle)])


def make_blobs(
    n_samples: int = 1000,
    centers: int = 3,
    noise: float = 1.0,
    seed: int | None = 0,
    *,
    dtype: object = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs, one class per blob.

    Class ``k`` is drawn from ``N(c_k, noise^2 I)`` where ``c_k = blob_centers(centers)[k]``:
    the centres sit evenly on a circle, neighbours 6 apart (well separated at ``noise = 1``).
    ``centers >= 2``.
    """
    n_samples = checks.integer(n_samples, "n_samples")
    centres = blob_centers(centers)
    noise = checks.real(noise, "noise", 0.0)
    dtype = _check_dtype(dtype)
    rng = np.random.default_rng(seed)

    counts = _balanced_counts(n_samples, len(centres))
    points = np.repeat(centres, counts, axis=0)
    labels = np.repeat(np.arange(len(centres)), counts)
    return _finish(rng, points, labels, noise, dtype)


# --------------------------------------------------------------------------- scaling


CONSTANT_ULPS = 8  # a column spread over at most this many units in the last place is constant


class Standardizer:
    """Per-column z-score: ``transform(A) = (A - mean) / std``.

    ``mean`` and ``std`` are computed per column by :meth:`fit` (in float64). A column that is
    constant up to rounding gets ``std = 1`` and its midpoint as ``mean``, so it maps to 0
    instead of noise blown up to ±1e15 or NaN. Constant means a spread (``std`` or
    ``max - min``) of at most ``CONSTANT_ULPS`` units in the last place of the column's
    magnitude (``max |A|``) in the input's own precision (``np.finfo(A.dtype).eps``; float64 for
    integers): a float64 column of 0.7 (std 2.2e-16 from the rounded mean) and a float32 column
    equal up to float32 rounding are both constant. ``transform`` and
    ``inverse_transform`` (``A * std + mean``) return floating arrays of the input's dtype
    (integer input gives float64). Works on 2-D ``(n, columns)`` and 1-D ``(n,)`` arrays.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, A: np.ndarray) -> Standardizer:
        """Learn per-column ``mean`` and ``std`` from ``A``; returns ``self``."""
        values = np.asarray(A, dtype=np.float64)
        if values.ndim not in (1, 2) or len(values) == 0:
            raise ValueError(f"A must be a non-empty 1-D or 2-D array, got shape {values.shape}")
        mean = values.mean(axis=0)
        std = values.std(axis=0)
        source = np.asarray(A).dtype
        eps = np.finfo(source if source.kind == "f" else np.float64).eps
        low, high = values.min(axis=0), values.max(axis=0)
        noise = CONSTANT_ULPS * float(eps) * np.maximum(np.abs(low), np.abs(high))
        # max - min is exact where the float64 mean is not (its rounding alone gives std > 0)
        constant = (std <= noise) | (high - low <= noise) | ~(std > 0)
        self.mean = np.where(constant, low + (high - low) / 2, mean)  # a constant maps to 0
        self.std = np.where(constant, 1.0, std)
        return self

    def _checked(self, A: np.ndarray) -> tuple[np.ndarray, np.dtype]:
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardizer is not fitted: call fit(A) first")
        A = np.asarray(A)
        if A.shape[1:] != self.mean.shape:
            raise ValueError(
                f"A must have shape (n, {', '.join(map(str, self.mean.shape))}) like the fitted"
                f" data, got {A.shape}"
            )
        dtype = A.dtype if A.dtype.kind == "f" else np.dtype(np.float64)
        return A, dtype

    def transform(self, A: np.ndarray) -> np.ndarray:
        """``(A - mean) / std``, in ``A``'s float dtype."""
        A, dtype = self._checked(A)
        return ((A - self.mean.astype(dtype)) / self.std.astype(dtype)).astype(dtype, copy=False)

    def inverse_transform(self, A: np.ndarray) -> np.ndarray:
        """``A * std + mean``: undoes :meth:`transform`, in ``A``'s float dtype."""
        A, dtype = self._checked(A)
        return (A * self.std.astype(dtype) + self.mean.astype(dtype)).astype(dtype, copy=False)

    def fit_transform(self, A: np.ndarray) -> np.ndarray:
        """``fit(A)`` then ``transform(A)``."""
        return self.fit(A).transform(A)


# --------------------------------------------------------------------------- MNIST

_IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (n, rows, cols)
_IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (n,)


def _find_idx_file(folder: Path, kind: str, what: str) -> Path:
    """``<kind>-<what>`` raw or gzipped; also the ``<kind>-images.idx3-ubyte`` spelling."""
    name = f"{kind}-{what}"
    dotted = name.replace("-idx", ".idx")
    candidates = [name, name + ".gz", dotted, dotted + ".gz"]
    for candidate in candidates:
        if (folder / candidate).is_file():
            return folder / candidate
    raise FileNotFoundError(
        f"MNIST file not found: looked for {folder / name} (or {name}.gz) in {folder}"
    )


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes: big-endian magic, ``ndim`` uint32 sizes, then data."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as stream:
                raw = stream.read()
        else:
            raw = path.read_bytes()
    except (EOFError, gzip.BadGzipFile) as error:
        raise ValueError(f"{path}: corrupt gzip data ({error})") from error
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(
            f"{path}: truncated IDX file ({len(raw)} bytes, the header needs {header_size})"
        )
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise ValueError(f"{path}: bad IDX magic number 0x{found:08x}, expected 0x{magic:08x}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(shape)
    available = len(raw) - header_size
    if available != expected:
        problem = "truncated" if available < expected else "has trailing bytes"
        raise ValueError(
            f"{path}: {problem}: header says {shape} = {expected} bytes of data, found {available}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def load_mnist(
    path: str | os.PathLike,
    kind: str = "train",
    *,
    dtype: object = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Read MNIST (or any IDX data in its layout) from the folder ``path``.

    Looks for ``<kind>-images-idx3-ubyte`` and ``<kind>-labels-idx1-ubyte``, raw or with ``.gz``
    (``kind`` is ``"train"`` or ``"t10k"``). Returns ``images`` of shape ``(n, rows * cols)``
    (``(n, 784)`` for MNIST) scaled to ``[0, 1]`` as ``pixel / 255`` in ``dtype``, and ``labels``
    of shape ``(n,)``, int64. Raises ``FileNotFoundError`` naming a missing file and
    ``ValueError`` for a bad magic number, a truncated file or mismatched counts.
    """
    if kind not in ("train", "t10k"):
        raise ValueError(f"kind must be 'train' or 't10k', got {kind!r}")
    dtype = _check_dtype(dtype)
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"MNIST folder not found: {folder}")

    images_path = _find_idx_file(folder, kind, "images-idx3-ubyte")
    labels_path = _find_idx_file(folder, kind, "labels-idx1-ubyte")
    images = _read_idx(images_path, _IDX_IMAGES_MAGIC, 3)
    labels = _read_idx(labels_path, _IDX_LABELS_MAGIC, 1)
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} holds {len(images)} images but {labels_path} {len(labels)} labels"
        )
    flat = images.reshape(len(images), -1).astype(dtype)
    flat /= dtype.type(255)
    return flat, labels.astype(np.int64)
