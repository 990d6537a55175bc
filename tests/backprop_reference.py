"""PyTorch autograd as the reference for the backprop endpoint (app.backprop): one forward and
backward in float64 on given weights, every intermediate kept (shared by the unit and
integration tests)."""

from __future__ import annotations

import numpy as np
import torch

ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "elu": torch.nn.functional.elu,
    "gelu": lambda z: torch.nn.functional.gelu(z, approximate="tanh"),
    "softplus": torch.nn.functional.softplus,
    "identity": lambda z: z,
}


def torch_pass(weights, biases, activation: str, loss: str, x, target) -> dict:
    """Per layer ``input, z, a, dL_da, delta, dW, db`` (numpy float64) and ``loss``, by autograd.

    `weights[i]` (in, out) and `biases[i]` (out,) as the engine stores them; `x` (n, in); `target`
    class labels (n,) for ``cross_entropy``, else (n, outputs); the loss is the batch mean as in
    training (MSE: mean over every element; BCE with logits).
    """
    a = torch.tensor(np.asarray(x, np.float64))
    kept = []
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        W = torch.tensor(np.asarray(w, np.float64), requires_grad=True)
        B = torch.tensor(np.asarray(b, np.float64), requires_grad=True)
        layer_input = a
        z = layer_input @ W + B
        a = z if i == len(weights) - 1 else ACTIVATIONS[activation](z)
        z.retain_grad()
        a.retain_grad()
        kept.append((layer_input, z, a, W, B))
    if loss == "cross_entropy":
        value = torch.nn.functional.cross_entropy(a, torch.tensor(np.asarray(target, np.int64)))
    elif loss == "bce":
        value = torch.nn.functional.binary_cross_entropy_with_logits(
            a, torch.tensor(np.asarray(target, np.float64))
        )
    else:
        value = torch.nn.functional.mse_loss(a, torch.tensor(np.asarray(target, np.float64)))
    value.backward()
    layers = [
        {
            "input": layer_input.detach().numpy(),
            "z": z.detach().numpy(),
            "a": a.detach().numpy(),
            "dL_da": a.grad.numpy(),
            "delta": z.grad.numpy(),
            "dW": W.grad.numpy(),
            "db": B.grad.numpy(),
        }
        for layer_input, z, a, W, B in kept
    ]
    return {"loss": float(value.detach()), "layers": layers}


def assert_matches(answer: dict, reference: dict, tolerance: float = 1e-9) -> None:
    """Every array of the endpoint's `answer` equals the `reference` within `tolerance`
    (relative to the array's largest magnitude, at least 1)."""
    assert abs(answer["loss"] - reference["loss"]) <= tolerance * max(1.0, abs(reference["loss"]))
    assert len(answer["layers"]) == len(reference["layers"])
    for number, (mine, theirs) in enumerate(zip(answer["layers"], reference["layers"],
                                                strict=True)):  # fmt: skip
        for name, expected in theirs.items():
            got = np.asarray(mine[name], np.float64).reshape(expected.shape)
            scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
            error = float(np.abs(got - expected).max(initial=0.0))
            assert error <= tolerance * scale, f"layer {number} {name}: off by {error}"
