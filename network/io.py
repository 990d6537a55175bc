"""Saving and loading models: one ``.npz`` file holding the architecture and the weights."""

from __future__ import annotations

import json
import os

import numpy as np

from . import activations, layers
from .model import Sequential

__all__ = ["save", "load", "from_config"]

_ARCHITECTURE_KEY = "__architecture__"
_LAYER_TYPES = {
    name: getattr(module, name)
    for module, names in (
        (layers, ("Linear", "Dropout", "Affine")),
        (activations, activations.__all__),
    )
    for name in names
    if isinstance(getattr(module, name), type) and issubclass(getattr(module, name), layers.Layer)
}


def from_config(config: list[dict], dtype: object = np.float32) -> Sequential:
    """A new :class:`Sequential` from :meth:`Sequential.config` output (weights freshly drawn)."""
    built = []
    for spec in config:
        spec = dict(spec)
        kind = spec.pop("type", None)
        if kind not in _LAYER_TYPES:
            raise ValueError(
                f"unknown layer type {kind!r}; known: {', '.join(sorted(_LAYER_TYPES))}"
            )
        cls = _LAYER_TYPES[kind]
        if cls in (layers.Linear, layers.Affine):
            spec["dtype"] = dtype
        built.append(cls(**spec))
    return Sequential(*built).to(dtype)


def save(model: Sequential, path: str | os.PathLike) -> None:
    """Write ``model`` (architecture, dtype and weights) to ``path`` (an ``.npz`` file)."""
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential, got {type(model).__name__}")
    architecture = json.dumps({"dtype": model.dtype.name, "layers": model.config()})
    with open(path, "wb") as f:  # an open file: numpy does not append ".npz" to the name
        np.savez(f, **{_ARCHITECTURE_KEY: np.array(architecture)}, **model.state_dict())


def load(path: str | os.PathLike) -> Sequential:
    """The model saved at ``path`` by :func:`save` (same architecture, dtype and weights)."""
    with np.load(path, allow_pickle=False) as archive:
        if _ARCHITECTURE_KEY not in archive:
            raise ValueError(f"{os.fspath(path)!r} was not written by network.save")
        architecture = json.loads(str(archive[_ARCHITECTURE_KEY]))
        model = from_config(architecture["layers"], architecture["dtype"])
        model.load_state_dict({k: archive[k] for k in archive.files if k != _ARCHITECTURE_KEY})
    return model
