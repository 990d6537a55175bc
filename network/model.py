"""`Sequential` (a stack of layers) and `mlp` (build one from layer sizes)."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence

import numpy as np

from .activations import ACTIVATIONS, get_activation
from .init import INITIALIZERS, Initializer, as_rng
from .layers import Dropout, Layer, Linear, float_dtype
from .parameter import Parameter

__all__ = ["Sequential", "mlp"]

_PREDICT_CHUNK = 8192


class Sequential:
    """Layers applied one after another: ``y = f_L(... f_2(f_1(x)))``; backward runs in reverse.

    All parameters live in one flat data buffer and one flat gradient buffer (each
    ``Parameter.data``/``.grad`` is a view), so optimizers update the whole model with a few vector
    operations. Inputs of another dtype are cast once to the model dtype (float32 by default).

    ``model(x)`` / ``forward(x)`` return an array the caller owns; ``predict(x)`` evaluates in
    evaluation mode (dropout off) without changing the model's mode.
    """

    def __init__(self, *layers: Layer) -> None:
        for layer in layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"layers must be Layer objects, got {type(layer).__name__}")
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError("layers must be distinct objects (a layer keeps per-call state)")
        self.layers: list[Layer] = list(layers)
        self.training = True
        # A layer may overwrite its input in place if that input is an internal buffer whose
        # producer does not need it for its own backward.
        inplace = [i > 0 and not layers[i - 1].needs_output for i in range(len(layers))]
        # bound methods, so the hot loops do no attribute lookups
        self._forward_plan = [
            (layer.forward, flag) for layer, flag in zip(layers, inplace, strict=True)
        ]
        self._backward_plan = [layer.backward for layer in reversed(layers[1:])]
        params = self.parameters()
        self._grads_zeroed = False
        self._flatten(params[0].data.dtype if params else np.dtype(np.float32))

    # -- structure -------------------------------------------------------------------------

    def parameters(self) -> list[Parameter]:
        """All parameters, in layer order (weight, then bias)."""
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """``("<layer index>.<name>", parameter)`` pairs, e.g. ``"0.weight"``."""
        return [
            (f"{i}.{p.name}", p) for i, layer in enumerate(self.layers) for p in layer.parameters()
        ]

    def linear_layers(self) -> list[Linear]:
        """The :class:`Linear` layers, in order."""
        return [layer for layer in self.layers if isinstance(layer, Linear)]

    def layer_sizes(self) -> list[int]:
        """Widths from input to output, e.g. ``[1, 32, 32, 1]``."""
        linears = self.linear_layers()
        if not linears:
            return []
        return [linears[0].in_features] + [layer.out_features for layer in linears]

    @property
    def in_features(self) -> int | None:
        """Input width (None when the model has no Linear layer)."""
        linears = self.linear_layers()
        return linears[0].in_features if linears else None

    @property
    def dtype(self) -> np.dtype:
        """The dtype of every parameter, buffer and output."""
        return self._dtype

    def num_parameters(self) -> int:
        """Number of trainable scalars."""
        return int(self._flat_data.size)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = ",\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)" if inner else "Sequential()"

    # -- dtype and the flat buffers ----------------------------------------------------------------

    def _flatten(self, dtype: np.dtype) -> None:
        """(Re)build the flat buffers in ``dtype`` and point every parameter into them."""
        params = self.parameters()
        total = sum(p.size for p in params)
        flat_data = np.empty(total, dtype)
        flat_grad = np.zeros(total, dtype)
        offset = 0
        for p in params:
            size, shape = p.size, p.shape
            view = flat_data[offset : offset + size].reshape(shape)
            view[...] = p.data
            p.data = view
            p.grad = flat_grad[offset : offset + size].reshape(shape)
            offset += size
        self._flat_data, self._flat_grad, self._dtype = flat_data, flat_grad, np.dtype(dtype)
        for layer in self.layers:
            layer._clear_buffers()

    def __deepcopy__(self, memo: dict) -> Sequential:
        clone = Sequential.__new__(Sequential)
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            setattr(clone, key, copy.deepcopy(value, memo))
        clone._flatten(clone._dtype)  # deepcopy does not keep the parameters as buffer views
        return clone

    def to(self, dtype: object) -> Sequential:
        """Convert every parameter to ``dtype`` (float32 or float64) in place; returns ``self``.

        Create optimizers after this call (they hold the old buffers).
        """
        dtype = float_dtype(dtype)
        if dtype != self._dtype:
            self._flatten(dtype)
        return self

    # -- modes -------------------------------------------------------------------------------

    def train(self, mode: bool = True) -> Sequential:
        """Training mode (dropout on); ``train(False)`` is :meth:`eval`. Returns ``self``."""
        self.training = bool(mode)
        for layer in self.layers:
            layer.training = self.training
        return self

    def eval(self) -> Sequential:
        """Evaluation mode (dropout off). Returns ``self``."""
        return self.train(False)

    # -- forward / backward ----------------------------------------------------------------

    def _check_input(self, x: np.ndarray) -> np.ndarray:
        """``x`` as a 2-D array in the model dtype (cast once), or ValueError."""
        x = np.asarray(x)
        if x.dtype != self._dtype:
            if x.dtype.kind not in "fiub":
                raise TypeError(f"x must be a numeric array, got dtype {x.dtype}")
            x = x.astype(self._dtype)
        width = self.in_features
        if x.ndim != 2 or (width is not None and x.shape[1] != width):
            raise ValueError(
                f"x must have shape (batch, {width if width is not None else 'features'}), "
                f"got {x.shape}"
            )
        return x

    def _forward(self, x: np.ndarray) -> np.ndarray:
        """Forward on an already checked input; returns an internal buffer."""
        for forward, inplace in self._forward_plan:
            x = forward(x, inplace)
        return x

    def _backward(self, grad: np.ndarray, input_grad: bool, accumulate: bool) -> np.ndarray | None:
        """Backward from an internal (overwritable) gradient buffer."""
        for backward in self._backward_plan:
            grad = backward(grad, True, True, accumulate)
        if not self.layers:
            return grad if input_grad else None
        return self.layers[0].backward(grad, input_grad, True, accumulate)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Outputs for inputs ``x`` of shape (batch, in_features): a new array the caller owns."""
        out = self._forward(self._check_input(x))
        return np.array(out, copy=True)

    __call__ = forward

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs in evaluation mode (dropout off), in chunks; the model's mode is unchanged."""
        x = self._check_input(x)
        was_training = self.training
        self.eval()
        try:
            if len(x) <= _PREDICT_CHUNK:
                return np.array(self._forward(x), copy=True)
            first = self._forward(x[:_PREDICT_CHUNK])
            out = np.empty((len(x),) + first.shape[1:], first.dtype)
            out[:_PREDICT_CHUNK] = first
            for i in range(_PREDICT_CHUNK, len(x), _PREDICT_CHUNK):
                out[i : i + _PREDICT_CHUNK] = self._forward(x[i : i + _PREDICT_CHUNK])
            return out
        finally:
            self.train(was_training)

    def activations(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for inputs ``x`` (batch, in_features), in evaluation mode.

        Returns a list of ``len(self)`` new arrays, ``out[i]`` the output of ``self[i]`` with
        shape (batch, width of that layer); so for ``mlp(...)`` the hidden units' activations
        are the outputs of the activation layers and ``out[-1]`` equals ``predict(x)``. The
        model's mode is unchanged. Costs one forward pass plus a copy per layer.
        """
        x = self._check_input(x)
        was_training = self.training
        self.eval()
        outputs = []
        try:
            for forward, inplace in self._forward_plan:
                x = forward(x, inplace)
                outputs.append(np.array(x, copy=True))  # before an in-place layer reuses it
        finally:
            self.train(was_training)
        return outputs

    def backward(self, grad: np.ndarray, input_grad: bool = False) -> np.ndarray | None:
        """Back-propagate dL/d(output) ``grad`` for the last forward call.

        Adds to every ``p.grad`` (as in PyTorch; call :meth:`zero_grad` between steps). With
        ``input_grad=True`` also returns dL/dx (it costs one more GEMM), else None.
        """
        grad = np.array(grad, dtype=self._dtype, copy=True)  # ours to overwrite
        accumulate = not self._grads_zeroed
        self._grads_zeroed = False
        dx = self._backward(grad, input_grad, accumulate)
        return None if dx is None else np.array(dx, copy=True)

    def zero_grad(self) -> None:
        """Set every gradient to zero."""
        self._flat_grad.fill(0)
        self._grads_zeroed = True  # the next backward may write gradients instead of adding

    # -- state ---------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters, keyed ``"<layer index>.weight"`` / ``".bias"``."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy values from ``state`` (as :meth:`state_dict` returns) into the parameters."""
        named = dict(self.named_parameters())
        missing, unexpected = set(named) - set(state), set(state) - set(named)
        if missing or unexpected:
            raise ValueError(
                f"state keys do not match the model: missing {sorted(missing)}, "
                f"unexpected {sorted(unexpected)}"
            )
        for name, p in named.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"state[{name!r}] has shape {value.shape}, expected {p.shape}")
            p.data[...] = value

    def config(self) -> list[dict]:
        """The architecture: ``[{"type": class name, **layer.config()}, ...]``."""
        return [{"type": type(layer).__name__, **layer.config()} for layer in self.layers]


def _check_mlp_args(sizes, activation, init, dropout, output_activation) -> str | Initializer:
    """Validate :func:`mlp`'s arguments (ValueError/TypeError naming one); return the init."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a list of layer widths, got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(
            f"sizes must list at least two widths (input and output), got {list(sizes)}"
        )
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"sizes must be positive ints, got {list(sizes)}")
    if not isinstance(activation, str) or activation.lower() not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    if output_activation is not None and (
        not isinstance(output_activation, str) or output_activation.lower() not in ACTIVATIONS
    ):
        raise ValueError(
            f"output_activation must be None or one of {', '.join(ACTIVATIONS)}, "
            f"got {output_activation!r}"
        )
    if init is None:
        init = "he" if activation.lower() in ("relu", "leaky_relu", "elu", "gelu") else "xavier"
    elif not callable(init) and init not in INITIALIZERS:
        raise ValueError(
            f"init must be one of {', '.join(INITIALIZERS)} or a callable, got {init!r}"
        )
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a float in [0, 1), got {dropout!r}")
    return init


def mlp(
    sizes: Sequence[int],
    activation: str = "tanh",
    *,
    init: str | Initializer | None = None,
    dropout: float = 0.0,
    seed: int | np.random.Generator | None = None,
    dtype: object = np.float32,
    output_activation: str | None = None,
) -> Sequential:
    """A multilayer perceptron: Linear, activation, ..., Linear, from the layer widths.

    Args:
        sizes: layer widths from input to output, at least two positive ints.
        activation: hidden activation, one of :data:`network.ACTIVATIONS`.
        init: weight initialiser (``xavier, he, uniform, normal`` or a callable); default
            ``"he"`` for ReLU-like activations and ``"xavier"`` otherwise.
        dropout: if > 0, a :class:`Dropout` with this ``p`` after every hidden activation.
        seed: int or ``np.random.Generator`` for the initial weights and the dropout masks.
        dtype: float32 (default) or float64.
        output_activation: optional activation name after the last layer (default: none).
    """
    init = _check_mlp_args(sizes, activation, init, dropout, output_activation)
    dtype = float_dtype(dtype)
    rng = as_rng(seed)
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Linear(int(n_in), int(n_out), init=init, seed=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(get_activation(activation))
            if dropout > 0:
                layers.append(Dropout(dropout, seed=rng))
    if output_activation is not None:
        layers.append(get_activation(output_activation))
    return Sequential(*layers)
