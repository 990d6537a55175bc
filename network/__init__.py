"""A small numpy neural-network engine with a PyTorch-shaped API.

>>> import numpy as np, network as nn
>>> model = nn.mlp([1, 32, 32, 1], "tanh", seed=0)
>>> x = np.linspace(-3, 3, 200, dtype=np.float32).reshape(-1, 1)
>>> history = nn.fit(model, nn.MSELoss(), nn.Adam(model.parameters(), lr=0.01), x, np.sin(x), 5)
>>> model.predict(x).shape
(200, 1)
"""

from .activations import (
    ACTIVATIONS,
    ELU,
    GELU,
    Activation,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softplus,
    Tanh,
    get_activation,
)
from .gradcheck import gradcheck
from .init import INITIALIZERS
from .io import from_config, load, save
from .layers import Affine, Dropout, Layer, Linear
from .losses import LOSSES, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss, get_loss
from .model import LayerTrace, Sequential, Tape, Trace, mlp
from .optimizers import OPTIMIZERS, SGD, Adam, Optimizer, RMSprop, get_optimizer
from .parameter import Parameter
from .schedules import (
    SCHEDULES,
    ConstantLR,
    CosineLR,
    ExponentialLR,
    InverseLR,
    Scheduler,
    StepLR,
    get_scheduler,
)
from .training import Callback, DivergenceError, Trainer, evaluate, fit, train

try:  # written separately; the engine works without it (but a broken datasets.py must show)
    from . import datasets  # noqa: F401  (re-exported as nn.datasets)
except ModuleNotFoundError as error:  # pragma: no cover
    if error.name != f"{__name__}.datasets":
        raise

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
    "Activation",
    "Adam",
    "Affine",
    "BCEWithLogitsLoss",
    "Callback",
    "ConstantLR",
    "CosineLR",
    "CrossEntropyLoss",
    "DivergenceError",
    "Dropout",
    "ELU",
    "ExponentialLR",
    "GELU",
    "Identity",
    "InverseLR",
    "Layer",
    "LayerTrace",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MSELoss",
    "Optimizer",
    "Parameter",
    "RMSprop",
    "ReLU",
    "SGD",
    "Scheduler",
    "Sequential",
    "Sigmoid",
    "Softplus",
    "StepLR",
    "Tanh",
    "Tape",
    "Trace",
    "Trainer",
    "evaluate",
    "fit",
    "from_config",
    "get_activation",
    "get_loss",
    "get_optimizer",
    "get_scheduler",
    "gradcheck",
    "load",
    "mlp",
    "save",
    "train",
]
