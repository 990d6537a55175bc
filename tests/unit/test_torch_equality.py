"""Forward, gradients and optimizer steps equal PyTorch's in float64."""

import zlib

import numpy as np
import pytest

import network as nn

torch = pytest.importorskip("torch")

TORCH_ACTIVATIONS = {
    "sigmoid": lambda: torch.nn.Sigmoid(),
    "tanh": lambda: torch.nn.Tanh(),
    "relu": lambda: torch.nn.ReLU(),
    "leaky_relu": lambda: torch.nn.LeakyReLU(),
    "elu": lambda: torch.nn.ELU(),
    "gelu": lambda: torch.nn.GELU(approximate="tanh"),
    "softplus": lambda: torch.nn.Softplus(),
    "identity": lambda: torch.nn.Identity(),
}
RTOL, ATOL = 1e-10, 1e-12


def to_torch(model: nn.Sequential) -> "torch.nn.Sequential":
    """A float64 torch copy of ``model`` (our weight is (in, out), torch's is (out, in))."""
    layers = []
    for layer in model:
        if isinstance(layer, nn.Linear):
            linear = torch.nn.Linear(
                layer.in_features,
                layer.out_features,
                bias=layer.bias is not None,
                dtype=torch.float64,
            )
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.weight.data.T.astype(np.float64)))
                if layer.bias is not None:
                    linear.bias.copy_(torch.from_numpy(layer.bias.data.astype(np.float64)))
            layers.append(linear)
        else:
            name = next(k for k, v in nn.activations._BY_NAME.items() if type(layer) is v)
            layers.append(TORCH_ACTIVATIONS[name]())
    return torch.nn.Sequential(*layers)


def torch_params(net):
    """Torch parameters in our layout and order."""
    return [p.detach().numpy().T if p.ndim == 2 else p.detach().numpy() for p in net.parameters()]


def torch_grads(net):
    return [p.grad.numpy().T if p.ndim == 2 else p.grad.numpy() for p in net.parameters()]


def assert_close(ours, theirs):
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def loss_pair(kind: str, rng, n: int, classes: int):
    """(our loss, torch loss, our targets, torch targets)."""
    labels = rng.integers(0, classes, size=n)
    if kind == "mse":
        t = rng.normal(size=(n, classes))
        return nn.MSELoss(), torch.nn.MSELoss(), t, torch.from_numpy(t)
    if kind == "ce_int":
        return nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), labels, torch.from_numpy(labels)
    if kind == "ce_onehot":
        t = np.eye(classes)[labels]
        return nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), t, torch.from_numpy(t)
    if kind == "bce":
        t = rng.random((n, classes))
        return nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), t, torch.from_numpy(t)
    raise AssertionError(kind)


@pytest.mark.parametrize("loss_kind", ["mse", "ce_int", "ce_onehot", "bce"])
@pytest.mark.parametrize("activation", nn.ACTIVATIONS)
def test_forward_and_gradients_equal_torch(activation, loss_kind):
    rng = np.random.default_rng(zlib.crc32(f"{activation}/{loss_kind}".encode()))
    model = nn.mlp([4, 7, 6, 3], activation, seed=int(rng.integers(1000)), dtype=np.float64)
    net = to_torch(model)
    x = rng.normal(size=(9, 4)) * 2
    ours_loss, their_loss, t, t_torch = loss_pair(loss_kind, rng, 9, 3)

    y = model(x)
    loss = ours_loss(y, t)
    model.zero_grad()
    dx = model.backward(ours_loss.backward(), input_grad=True)

    x_torch = torch.from_numpy(x).requires_grad_(True)
    y_torch = net(x_torch)
    l_torch = their_loss(y_torch, t_torch)
    l_torch.backward()

    assert_close(y, y_torch.detach().numpy())
    assert loss == pytest.approx(l_torch.item(), rel=1e-12)
    assert_close(dx, x_torch.grad.numpy())
    for p, g in zip(model.parameters(), torch_grads(net), strict=True):
        assert_close(p.grad, g)


OPTIMIZER_CASES = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.02}),
    ("sgd", {"lr": 0.1, "weight_decay": 0.05}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.01}),
    ("rmsprop", {"lr": 0.01}),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "weight_decay": 0.01}),
]
TORCH_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"}


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZER_CASES, ids=lambda v: str(v))
def test_optimizer_steps_equal_torch(name, kwargs):
    rng = np.random.default_rng(5)
    model = nn.mlp([3, 8, 8, 2], "tanh", seed=3, dtype=np.float64)
    net = to_torch(model)
    opt = nn.get_optimizer(name, model.parameters(), **kwargs)
    torch_opt = getattr(torch.optim, TORCH_OPTIMIZERS[name])(net.parameters(), **kwargs)
    loss_fn, torch_loss = nn.MSELoss(), torch.nn.MSELoss()
    for _ in range(6):
        x, t = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
        loss_fn(model(x), t)
        model.zero_grad()
        model.backward(loss_fn.backward())
        opt.step()
        torch_opt.zero_grad()
        torch_loss(net(torch.from_numpy(x)), torch.from_numpy(t)).backward()
        torch_opt.step()
    for p, q in zip(model.parameters(), torch_params(net), strict=True):
        assert_close(p.data, q)


def test_gradients_accumulate_across_backward_calls_like_torch():
    rng = np.random.default_rng(2)
    model = nn.mlp([3, 5, 2], "relu", seed=1, dtype=np.float64)
    net = to_torch(model)
    loss_fn = nn.MSELoss()
    model.zero_grad()
    for _ in range(3):
        x, t = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
        loss_fn(model(x), t)
        model.backward(loss_fn.backward())
        torch.nn.MSELoss()(net(torch.from_numpy(x)), torch.from_numpy(t)).backward()
    for p, g in zip(model.parameters(), torch_grads(net), strict=True):
        assert_close(p.grad, g)


@pytest.mark.parametrize(
    ("loss_kind", "optimizer", "kwargs"),
    [
        ("mse", "sgd", {"lr": 0.05, "momentum": 0.9}),
        ("ce_int", "adam", {"lr": 0.01}),
        ("bce", "rmsprop", {"lr": 0.01, "momentum": 0.3}),
    ],
)
def test_train_loop_equals_a_torch_loop_on_the_same_batches(loss_kind, optimizer, kwargs):
    """nn.train's fast path (in-place buffers, written gradients) gives torch's parameters."""
    rng = np.random.default_rng(11)
    model = nn.mlp([2, 6, 6, 3], "tanh", seed=4, dtype=np.float64)
    net = to_torch(model)
    X = rng.normal(size=(40, 2))
    ours_loss, their_loss, Y, Y_torch = loss_pair(loss_kind, rng, 40, 3)
    opt = nn.get_optimizer(optimizer, model.parameters(), **kwargs)
    torch_opt = getattr(torch.optim, TORCH_OPTIMIZERS[optimizer])(net.parameters(), **kwargs)
    records = list(nn.train(model, ours_loss, opt, X, Y, epochs=3, batch_size=16, shuffle=False))
    X_torch = torch.from_numpy(X)
    for _ in range(3):
        for start in range(0, 40, 16):  # the last batch has 8 rows
            torch_opt.zero_grad()
            their_loss(net(X_torch[start : start + 16]), Y_torch[start : start + 16]).backward()
            torch_opt.step()
    for p, q in zip(model.parameters(), torch_params(net), strict=True):
        assert_close(p.data, q)
    with torch.no_grad():
        assert records[-1]["train_loss"] == pytest.approx(
            their_loss(net(X_torch), Y_torch).item(), rel=1e-10
        )
