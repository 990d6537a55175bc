"""Exports of a run: its history as CSV or JSON, and its model as an ``.npz`` for ``nn.load``,
as JSON, or as a standalone PyTorch script.

The ``.npz`` and the torch script map raw inputs to predictions in the task's units: the run's
input standardisation is folded in front of the network and, for regression, the target's
inverse standardisation behind it, as `network.Affine` layers (dropout, a no-op at inference,
is left out). Classification models output the class scores (logits for cross-entropy). Input
features (``input_features``) are expressions, not layers: such runs export as JSON only
(`ExportError`).
"""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

import numpy as np

import network as nn
from app.data.encoding import column_json, shortest_texts
from app.training.session import Checkpoint

HISTORY_FORMATS = ("csv", "json")
MODEL_FORMATS = ("npz", "json", "torch")


class ExportError(ValueError):
    """The run cannot be exported in this form (the API answers 400 with the message)."""


# ------------------------------------------------------------------ history


def history_table(
    names: list[str], columns: dict[str, np.ndarray], seconds: np.ndarray, length: int
) -> tuple[list[str], list[np.ndarray]]:
    """The exported columns: ``epoch``, every history column, then ``seconds`` (training
    seconds at the end of the epoch)."""
    header = ["epoch", *names, "seconds"]
    values = [np.arange(1, length + 1), *(_exact(name, columns[name][:length]) for name in names)]
    values.append(np.asarray(seconds[:length]))
    return header, values


WHOLE_COLUMNS = ("batch_size",)  # history columns of whole numbers: exported as integers


def _exact(name: str, column: np.ndarray) -> np.ndarray:
    """A column of whole numbers (`WHOLE_COLUMNS`) as integers when every value is there (32,
    not 32.0); any other column as it is."""
    if name in WHOLE_COLUMNS and np.all(np.isfinite(column)):
        return column.astype(np.int64)
    return column


def history_export_json(header: list[str], values: list[np.ndarray]) -> dict[str, list]:
    """``{column: [values per epoch]}`` (float32 values as their shortest decimal; NaN → null)."""
    return {
        name: column_json(column, exact=True) for name, column in zip(header, values, strict=True)
    }


def history_csv(header: list[str], values: list[np.ndarray]) -> str:
    """The same as CSV: a header line, one line per epoch; NaN is an empty cell. Float32
    values are written as their shortest decimal, so they read back exactly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    formatted = [
        [str(int(value)) for value in column]
        if column.dtype.kind in "iu"
        else shortest_texts(column)
        for column in values
    ]
    writer.writerows(zip(*formatted, strict=True))
    return out.getvalue()


# ------------------------------------------------------------------ model


def exported_model(checkpoint: Checkpoint) -> nn.Sequential:
    """The run's network with its scalers folded in (see the module docstring)."""
    if checkpoint.features:
        raise ExportError(
            "this run computes input features ("
            + ", ".join(checkpoint.features)
            + ") before its network: they are expressions, not layers, so it exports as "
            "format=json only"
        )
    trained = nn.from_config(checkpoint.architecture)
    trained.load_state_dict(checkpoint.state)
    mean, std = (np.asarray(part, np.float64) for part in checkpoint.x_scaler)
    layers: list[nn.Layer] = [nn.Affine(1.0 / std, -mean / std)]
    layers += [layer for layer in trained if not isinstance(layer, nn.Dropout)]
    if checkpoint.y_scaler is not None:
        y_mean, y_std = (np.asarray(part, np.float64) for part in checkpoint.y_scaler)
        layers.append(nn.Affine(y_std, y_mean))
    return nn.Sequential(*layers).eval()


def model_npz(checkpoint: Checkpoint) -> bytes:
    """`exported_model` as the bytes of an ``nn.save`` file."""
    model = exported_model(checkpoint)
    buffer = io.BytesIO()
    architecture = json.dumps({"dtype": model.dtype.name, "layers": model.config()})
    np.savez(buffer, __architecture__=np.array(architecture), **model.state_dict())
    return buffer.getvalue()


def _scaler_json(scaler: tuple[np.ndarray, np.ndarray] | None) -> dict[str, list] | None:
    return None if scaler is None else {"mean": scaler[0].tolist(), "std": scaler[1].tolist()}


def model_json(checkpoint: Checkpoint, run_id: str, task: Any, config: dict) -> dict[str, Any]:
    """The checkpoint as plain JSON: architecture, weights (nested lists, ``(in, out)``),
    scalers and input features, with what they mean."""
    return {
        "run_id": run_id,
        "task": task.id,
        "kind": task.kind,
        "inputs": task.inputs,
        "epoch": checkpoint.epoch,
        "config": config,
        "features": checkpoint.features,
        "architecture": checkpoint.architecture,
        "state": {name: value.tolist() for name, value in checkpoint.state.items()},
        "x_scaler": _scaler_json(checkpoint.x_scaler),
        "y_scaler": _scaler_json(checkpoint.y_scaler),
        "about": (
            "prediction = network((features(x) - x_scaler.mean) / x_scaler.std) * y_scaler.std "
            "+ y_scaler.mean; Linear weights have shape (in, out): y = x @ W + b"
        ),
    }


_TORCH_HEADER = '''"""Backprop Studio run {run_id} ({task}, epoch {epoch}) as a PyTorch model.

Standalone: run it (prints the model and a prediction) or import it; `model` is a
torch.nn.Module (float32 layers, eval mode) mapping raw inputs of shape (n, {inputs}), float32 or
float64 (standardised in float64), to {outputs}.
"""

import base64

import torch
from torch import nn


class Affine(nn.Module):
    """Fixed per-feature x * scale + shift (the run's input / target standardisation), computed
    in float64 (raw inputs far from 0 keep their digits) and returned in `dtype`: float32 into
    the network, float64 out of it."""

    def __init__(self, scale, shift, dtype="float32"):
        super().__init__()
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float64))
        self.register_buffer("shift", torch.tensor(shift, dtype=torch.float64))
        self.dtype = getattr(torch, dtype)

    def forward(self, x):
        return (x.double() * self.scale + self.shift).to(self.dtype)


class Softplus(nn.Module):
    """max(x, 0) + log1p(exp(-beta |x|)) / beta (as Backprop Studio computes it)."""

    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-self.beta * x.abs())) / self.beta


def _tensor(text, shape):
    data = bytearray(base64.b64decode(text))
    return torch.frombuffer(data, dtype=torch.float32).reshape(shape).clone()


def _linear(weight, bias):
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(bias)
    return layer


'''

_TORCH_FOOTER = '''
model = nn.Sequential(*LAYERS).eval()

if __name__ == "__main__":
    print(model)
    print(model(torch.zeros(1, {inputs})))
'''


def _base64(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def _torch_layer(layer: nn.Layer, last: bool = False) -> str:
    """Python source building one layer of the exported model in torch (`last`: the model's
    last layer, whose output is float64 when it is the target's scaler)."""
    kind = type(layer).__name__
    if isinstance(layer, nn.Affine):
        spec = layer.config()
        dtype = "float64" if last else "float32"
        return f"Affine({spec['scale']!r}, {spec['shift']!r}, {dtype!r})"
    if isinstance(layer, nn.Linear):
        weight = layer.weight.data.T  # torch keeps (out, in)
        text = f'_tensor("{_base64(weight)}", {tuple(weight.shape)!r})'
        bias = "None"
        if layer.bias is not None:
            bias = f'_tensor("{_base64(layer.bias.data)}", ({layer.out_features},))'
        return f"_linear({text}, {bias})"
    simple = {"Tanh": "nn.Tanh()", "ReLU": "nn.ReLU()", "Sigmoid": "nn.Sigmoid()",
              "Identity": "nn.Identity()", "GELU": 'nn.GELU(approximate="tanh")'}  # fmt: skip
    if kind in simple:
        return simple[kind]
    spec = layer.config()
    if kind == "LeakyReLU":
        return f"nn.LeakyReLU({spec['negative_slope']!r})"
    if kind == "ELU":
        return f"nn.ELU({spec['alpha']!r})"
    if kind == "Softplus":
        return f"Softplus({spec['beta']!r})"
    raise ExportError(f"the layer {kind} has no PyTorch equivalent here")


def torch_script(checkpoint: Checkpoint, run_id: str, task: Any) -> str:
    """A standalone Python script defining `model` (see `_TORCH_HEADER`)."""
    model = exported_model(checkpoint)
    outputs = (
        "predictions in the task's units"
        if checkpoint.y_scaler is not None
        else f"{task.outputs} class scores"
    )
    lines = [
        _TORCH_HEADER.format(
            run_id=run_id, task=task.id, epoch=checkpoint.epoch, inputs=task.inputs, outputs=outputs
        ),
        "LAYERS = [",
        *(f"    {_torch_layer(layer, k == len(model) - 1)}," for k, layer in enumerate(model)),
        "]",
        _TORCH_FOOTER.format(inputs=task.inputs),
    ]
    return "\n".join(lines)
