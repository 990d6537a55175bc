"""`Sequential` (a stack of layers), the `Tape` of a training forward, and `mlp`.

**What backward needs is on the tape.** A training forward (:meth:`Sequential.record`, which
``model(x)`` runs) returns a :class:`Tape`: every layer's input and output and
its ``aux`` buffer (dropout's mask; scratch for an activation's derivative, the input gradient of
a Linear). :meth:`Sequential.backprop` walks the tape backwards, handing each layer what its own
forward left there; the model keeps the tape of its last training forward as ``model.tape``, which
is what :meth:`Sequential.backward` uses. Layers keep nothing between calls, so inference —
:meth:`~Sequential.predict`, :meth:`~Sequential.activations`, the evaluation in training and
:func:`~network.evaluate`, :meth:`~Sequential.trace` — runs on buffers of its own (in evaluation
mode) and never touches a pending tape.

**The model owns the buffers.** Per batch size it keeps a training workspace (an output and an
``aux`` buffer per layer, so a step allocates nothing) and an inference workspace, and it plans,
once, which layers work in place: layer ``i`` overwrites its input when its backward does not read
that input and layer ``i - 1``'s backward does not read its output (``Layer.reads``). Parameters
live in one flat data buffer and one flat gradient buffer (each ``Parameter.data``/``.grad`` is a
view), so an optimizer updates the whole model with a few vector operations. Whether backward
writes gradients or adds to them is the model's choice too (``accumulate``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from . import checks
from .activations import _BY_NAME, get_activation
from .init import INITIALIZERS, Initializer, as_rng
from .layers import Dropout, Layer, Linear
from .losses import Loss
from .parameter import Parameter

__all__ = ["Sequential", "Tape", "Trace", "LayerTrace", "mlp"]

_PREDICT_CHUNK = 8192
_MAX_WORKSPACES = 16  # batch shapes kept (training and inference); then start afresh


@dataclass(slots=True)
class Tape:
    """What one training forward leaves for its backward.

    ``values[i]`` is the input of layer ``i`` and ``values[i + 1]`` its output (``values[0]`` the
    model's input, ``values[-1]`` = ``output`` its output); ``aux[i]`` is layer ``i``'s aux buffer,
    shaped like its input. Where a layer worked in place, ``values[i] is values[i + 1]``. The tape
    and its arrays belong to the model's training workspace: valid until the next training
    forward with inputs of the same shape, which fills them again.
    """

    values: list[np.ndarray]
    aux: list[np.ndarray]

    @property
    def output(self) -> np.ndarray:
        """The model's output (an internal buffer: copy it to keep it)."""
        return self.values[-1]


@dataclass
class LayerTrace:
    """One Linear layer and the activation after it, on ``n`` traced samples.

    Shapes: ``input`` (n, in); ``z``, ``a``, ``dL_da``, ``delta`` (n, out); ``weight`` and ``dW``
    (in, out), as ``Linear.weight``; ``bias`` and ``db`` (out,) (None without bias).
    """

    index: int  #: position of the Linear in ``model.layers``
    activation: str | None  #: name of the activation after it (None: none)
    input: np.ndarray  #: x, the Linear's input
    z: np.ndarray  #: pre-activation ``z = x W + b``
    a: np.ndarray  #: activation ``a = f(z)`` (``z`` itself without activation)
    dL_da: np.ndarray  #: dL/da
    delta: np.ndarray  #: δ = dL/dz = dL/da · f'(z)
    weight: np.ndarray  #: W (a copy)
    bias: np.ndarray | None  #: b (a copy)
    dW: np.ndarray  #: dL/dW = xᵀ δ
    db: np.ndarray | None  #: dL/db = Σₙ δ


@dataclass
class Trace:
    """Every number of one forward and backward (see :meth:`Sequential.trace`)."""

    loss: float  #: the loss on the traced samples
    layers: list[LayerTrace] = field(default_factory=list)  #: one per Linear, in order
    dL_dx: np.ndarray | None = None  #: dL/d(model input), (n, in_features)

    def as_dict(self) -> dict:
        """The same numbers as nested lists and floats (``{"loss", "dL_dx", "layers": [{field:
        value}, ...]}``, fields as :class:`LayerTrace`'s), e.g. to send as JSON."""
        plain = {"loss": self.loss, "dL_dx": _plain(self.dL_dx), "layers": []}
        for layer in self.layers:
            plain["layers"].append({k: _plain(v) for k, v in vars(layer).items()})
        return plain


def _plain(value):
    return value.tolist() if isinstance(value, np.ndarray) else value


class Sequential:
    """Layers applied one after another: ``y = f_L(... f_2(f_1(x)))``; backward runs in reverse.

    ``model(x)`` / ``forward(x)`` return an array the caller owns and record the tape that
    :meth:`backward` uses. ``predict(x)`` evaluates in evaluation mode (dropout off)
    without changing the model's mode. Inputs of another dtype are cast once to the model dtype
    (float32 by default). See the module docstring for the tape and the buffers.
    """

    def __init__(self, *layers: Layer) -> None:
        for layer in layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"layers must be Layer objects, got {type(layer).__name__}")
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError("layers must be distinct objects (each has its place on the tape)")
        self.layers: list[Layer] = list(layers)
        self.training = True
        self.tape: Tape | None = None  #: the last training forward's, for :meth:`backward`
        linears = self.linear_layers()
        self._width = linears[0].in_features if linears else None
        self._row = (self._width,)  # the shape of a valid input row
        reads = [layer.reads for layer in layers]
        self._in_place = {  # may layer i overwrite its input?  {training: [...], inference: [...]}
            True: [i > 0 and "x" not in r and "y" not in reads[i - 1] for i, r in enumerate(reads)],
            False: [i > 0 and "x" not in r for i, r in enumerate(reads)],
        }
        self._grads_zeroed = False
        params = self.parameters()
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
        return self._width

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

    # -- dtype, the flat buffers and the workspaces ------------------------------------------

    def _flatten(self, dtype: np.dtype) -> None:
        """(Re)build the flat buffers in ``dtype`` and point every parameter into them."""
        params = self.parameters()
        flat_data = np.empty(sum(p.size for p in params), dtype)
        flat_grad = np.zeros(flat_data.size, dtype)
        offset = 0
        for p in params:
            view = flat_data[offset : offset + p.size].reshape(p.shape)
            view[...] = p.data
            p.data, p.grad = view, flat_grad[offset : offset + p.size].reshape(p.shape)
            offset += p.size
        self._flat_data, self._flat_grad, self._dtype = flat_data, flat_grad, np.dtype(dtype)
        for layer in self.layers:
            layer.cast(self._dtype)
        self._workspaces: dict[tuple[bool, tuple], tuple[list, Tape]] = {}
        self.tape = None
        # per layer, backwards: what backprop needs, looked up once
        self._backward_plan = [
            (i, layer.backward, layer.param_grads, [p.grad for p in layer.parameters()])
            for i, layer in reversed(list(enumerate(self.layers)))
        ]

    def _workspace(self, training: bool, shape: tuple[int, int]) -> tuple[list, Tape]:
        """``(plan, tape)`` for inputs of ``shape``: per layer ``(i + 1, forward, out, aux)``,
        ``out`` None when layer ``i`` works in place, and the tape a training forward fills;
        buffers allocated on first use of a batch shape."""
        key = (training, shape)
        space = self._workspaces.get(key)
        if space is None:
            if len(self._workspaces) >= _MAX_WORKSPACES:
                self._workspaces.clear()
            space = self._workspaces[key] = self._new_workspace(training, *shape)
        return space

    def _new_workspace(self, training: bool, n: int, width: int) -> tuple[list, Tape]:
        plan, aux = [], []
        in_place_plan = zip(self.layers, self._in_place[training], strict=True)
        for i, (layer, in_place) in enumerate(in_place_plan):
            out_width = layer.output_width(width)
            buffer = np.empty((n, width), self._dtype) if training else None
            out = None if in_place else np.empty((n, out_width), self._dtype)
            plan.append((i + 1, layer.forward, out, buffer))
            aux.append(buffer)
            width = out_width
        return plan, Tape([None] * (len(plan) + 1), aux)

    def __deepcopy__(self, memo: dict) -> Sequential:
        clone = Sequential.__new__(Sequential)
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            if key not in ("_workspaces", "tape", "_backward_plan"):
                setattr(clone, key, copy.deepcopy(value, memo))
        clone._flatten(clone._dtype)  # deepcopy does not keep the parameters as buffer views
        return clone

    def to(self, dtype: object) -> Sequential:
        """Convert every parameter to ``dtype`` (float32 or float64) in place; returns ``self``.

        Create optimizers after this call (they hold the old buffers).
        """
        dtype = checks.float_dtype(dtype)
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

    @contextmanager
    def _evaluating(self) -> Iterator[None]:
        """Evaluation mode for the block, then the mode the model had."""
        was_training = self.training
        self.eval()
        try:
            yield
        finally:
            self.train(was_training)

    # -- forward / backward ----------------------------------------------------------------

    def as_input(self, x: np.ndarray) -> np.ndarray:
        """``x`` as a 2-D array (batch, in_features) in the model dtype (cast once), or
        TypeError (not numeric) / ValueError (wrong shape)."""
        if type(x) is not np.ndarray or x.dtype != self._dtype:
            x = np.asarray(x)
            if x.dtype.kind not in "fiub":
                raise TypeError(f"x must be a numeric array, got dtype {x.dtype}")
            x = x.astype(self._dtype, copy=False)
        width = self._width
        if x.ndim != 2 or (width is not None and x.shape[1] != width):
            raise ValueError(
                f"x must have shape (batch, {width if width is not None else 'features'}), "
                f"got {x.shape}"
            )
        return x

    def record(self, x: np.ndarray) -> Tape:
        """A training forward: runs ``x`` (batch, in_features) through the layers, keeps the
        :class:`Tape` as ``self.tape`` and returns it (``tape.output`` is the output)."""
        if type(x) is not np.ndarray or x.dtype != self._dtype or x.shape[1:] != self._row:
            x = self.as_input(x)  # the checks, when the quick look fails
        plan, tape = self._workspaces.get((True, x.shape)) or self._workspace(True, x.shape)
        values = tape.values
        values[0] = x
        for i, forward, out, aux in plan:
            x = values[i] = forward(x, x if out is None else out, aux)
        self.tape = tape
        return tape

    def backprop(
        self, tape: Tape, grad: np.ndarray, input_grad: bool = False, accumulate: bool = True
    ) -> np.ndarray | None:
        """Back-propagate dL/d(output) ``grad`` through the forward recorded on ``tape``.

        Adds each parameter's gradient to ``p.grad`` (``accumulate=False`` writes it instead,
        as if :meth:`zero_grad` had just run). Returns dL/dx when ``input_grad`` (an internal
        buffer), else None. May overwrite ``grad``, which must match ``tape.output``'s shape.
        """
        values, aux = tape.values, tape.aux
        if grad.shape != values[-1].shape:
            raise ValueError(
                f"grad must have the output's shape {values[-1].shape}, got {grad.shape}"
            )
        for i, backward, param_grads, grads in self._backward_plan:
            x = values[i]
            if grads:
                if accumulate:
                    for target, value in zip(grads, param_grads(grad, x), strict=True):
                        target += value
                else:
                    param_grads(grad, x, grads)
            if i or input_grad:
                grad = backward(grad, x, values[i + 1], aux[i])
        self._grads_zeroed = False  # the gradients are real now: the next backward adds
        return grad if input_grad else None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Outputs for inputs ``x`` of shape (batch, in_features): a new array the caller owns.

        A training forward (:meth:`record`): :meth:`backward` may follow, in either mode (as in
        PyTorch; the mode only switches dropout). For inference use :meth:`predict`.
        """
        return np.array(self.record(x).output, copy=True)

    __call__ = forward

    def backward(self, grad: np.ndarray, input_grad: bool = False) -> np.ndarray | None:
        """Back-propagate dL/d(output) ``grad`` for the last training forward (``self.tape``).

        Adds to every ``p.grad`` (as in PyTorch; call :meth:`zero_grad` between steps). With
        ``input_grad=True`` also returns dL/dx (it costs one more GEMM), else None.
        """
        if self.tape is None:
            raise RuntimeError(
                "backward needs a forward first: model(x) or model.record(x) "
                "(predict and activations record nothing)"
            )
        grad = np.array(grad, dtype=self._dtype, copy=True)  # ours to overwrite
        accumulate = not self._grads_zeroed
        dx = self.backprop(self.tape, grad, input_grad, accumulate)
        return None if dx is None else np.array(dx, copy=True)

    def zero_grad(self) -> None:
        """Set every gradient to zero."""
        self._flat_grad.fill(0)
        self._grads_zeroed = True  # the next backward may write gradients instead of adding

    # -- inference ---------------------------------------------------------------------------

    def _infer(self, x: np.ndarray, keep: list | None = None) -> np.ndarray:
        """Inference forward into the inference workspace (an internal buffer); with ``keep``,
        a copy of every layer's output is appended to it."""
        plan, _ = self._workspace(False, x.shape)
        for _, forward, out, _ in plan:
            x = forward(x, x if out is None else out, None)
            if keep is not None:
                keep.append(np.array(x, copy=True))  # before an in-place layer reuses it
        return x

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs in evaluation mode (dropout off), in chunks; the model's mode is unchanged."""
        x = self.as_input(x)
        with self._evaluating():
            if len(x) <= _PREDICT_CHUNK:
                return np.array(self._infer(x), copy=True)
            parts = [
                np.array(self._infer(x[i : i + _PREDICT_CHUNK]), copy=True)
                for i in range(0, len(x), _PREDICT_CHUNK)
            ]
            return np.concatenate(parts)

    def activations(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for inputs ``x`` (batch, in_features), in evaluation mode.

        Returns a list of ``len(self)`` new arrays, ``out[i]`` the output of ``self[i]`` with
        shape (batch, width of that layer); so for ``mlp(...)`` the hidden units' activations
        are the outputs of the activation layers and ``out[-1]`` equals ``predict(x)``. The
        model's mode is unchanged. Costs one forward pass plus a copy per layer.
        """
        x = self.as_input(x)
        outputs: list[np.ndarray] = []
        with self._evaluating():
            self._infer(x, outputs)
        return outputs

    def trace(self, x: np.ndarray, y: np.ndarray, loss_fn: Loss, dtype: object = None) -> Trace:
        """Every number of one forward and backward on the samples ``x`` (n, in_features) with
        targets ``y`` (as ``loss_fn`` takes them), in evaluation mode: per Linear layer its input,
        ``z``, ``a``, dL/da, δ, dL/dW and dL/db (a :class:`LayerTrace` each), and the loss.

        Parameters, their gradients, the model's mode and a pending ``tape`` are untouched (as
        with :meth:`predict`). ``dtype=np.float64`` computes in float64 (float32 weights are exact
        in float64); by default in the model's dtype. Meant for a few samples: arrays are new.
        """
        dtype = self._dtype if dtype is None else checks.float_dtype(dtype)
        x = np.array(self.as_input(x), dtype=dtype)
        with self._evaluating():
            values = [x]
            for layer in self.layers:
                values.append(np.asarray(layer.forward(values[-1]), dtype=dtype))
            targets = loss_fn.targets(y, values[-1].shape[1], dtype, len(x))
            loss = loss_fn.value(values[-1], targets)
            grads = [loss_fn.gradient(values[-1], targets)]
            param_grads = {}
            for i in range(len(self.layers) - 1, -1, -1):
                layer, grad = self.layers[i], grads[0]
                param_grads[i] = layer.param_grads(grad, values[i])
                dx = layer.backward(grad.copy(), values[i], values[i + 1])
                grads.insert(0, np.asarray(dx, dtype=dtype))
        return Trace(loss, _layer_traces(self.layers, values, grads, param_grads, dtype), grads[0])

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


def _layer_traces(layers, values, grads, param_grads, dtype) -> list[LayerTrace]:
    """Group the layers into (Linear, the layers up to the next Linear) and pick their numbers."""
    starts = [i for i, layer in enumerate(layers) if isinstance(layer, Linear)]
    traces = []
    for j, start in enumerate(starts):
        end = starts[j + 1] if j + 1 < len(starts) else len(layers)  # a = output of layer end-1
        linear = layers[start]
        names = [
            _name(layer) for layer in layers[start + 1 : end] if not isinstance(layer, Dropout)
        ]
        d_weight, *d_bias = (np.asarray(g, dtype) for g in param_grads[start])
        traces.append(
            LayerTrace(
                index=start,
                activation="+".join(names) or None,
                input=values[start],
                z=values[start + 1],
                a=values[end],
                dL_da=grads[end],
                delta=grads[start + 1],
                weight=linear.weight.data.astype(dtype),
                bias=None if linear.bias is None else linear.bias.data.astype(dtype),
                dW=d_weight,
                db=d_bias[0] if d_bias else None,
            )
        )
    return traces


def _name(layer: Layer) -> str:
    """An activation's name as in :data:`network.ACTIVATIONS` (else the class name)."""
    return next(
        (name for name, cls in _BY_NAME.items() if type(layer) is cls), type(layer).__name__
    )


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
    checks.one_of(activation, "activation", _BY_NAME)
    if output_activation is not None:
        checks.one_of(output_activation, "output_activation", _BY_NAME)
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
    dtype = checks.float_dtype(dtype)
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
