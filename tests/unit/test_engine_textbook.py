"""The engine as a textbook (issue 21): what backward needs is on a tape that inference never
touches, activations are a formula and a derivative, ``trace`` shows every number of a step, and
L1 is a proximal step that yields exact zeros (issue 25, point 9)."""

import inspect
import pickle
import zlib
from pathlib import Path

import numpy as np
import pytest

import network as nn
from network.gradcheck import numeric_gradient

ENGINE = Path(nn.__file__).parent


def other_calls(model: nn.Sequential, x: np.ndarray, t: np.ndarray, loss_fn: nn.Loss) -> None:
    """Every kind of inference, on other inputs of the same and of another batch size."""
    rng = np.random.default_rng(99)
    for n in (len(x), len(x) + 3):
        other = rng.normal(size=(n, x.shape[1])) * 3
        model.predict(other)
        model.activations(other)
        nn.evaluate(model, loss_fn, other, t[:1].repeat(n, axis=0))
        model.trace(other[:2], t[:1].repeat(2, axis=0), loss_fn)
        model.trace(other[:2], t[:1].repeat(2, axis=0), loss_fn, dtype=np.float64)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("activation", nn.ACTIVATIONS)
def test_inference_between_forward_and_backward_leaves_the_gradients_bit_for_bit(
    activation, dropout
):
    rng = np.random.default_rng(zlib.crc32(activation.encode()))
    x, t = rng.normal(size=(16, 2)), rng.normal(size=(16, 1))
    grads = []
    for intervene in (False, True):
        model = nn.mlp([2, 8, 8, 1], activation, dropout=dropout, seed=1)
        loss_fn = nn.MSELoss()
        loss_fn(model(x), t)
        if intervene:
            other_calls(model, x, t, loss_fn)
        model.zero_grad()
        dx = model.backward(loss_fn.backward(), input_grad=True)
        grads.append([p.grad.copy() for p in model.parameters()] + [dx])
    for without, with_calls in zip(*grads, strict=True):
        np.testing.assert_array_equal(with_calls, without)


def test_the_trainer_step_and_a_trace_in_between_leave_a_pending_backward_alone():
    """The low-level path: record -> (inference) -> backprop equals record -> backprop."""
    rng = np.random.default_rng(3)
    x, labels = rng.normal(size=(10, 3)), rng.integers(0, 3, 10)
    results = []
    for intervene in (False, True):
        model = nn.mlp([3, 6, 3], "tanh", seed=2)
        loss_fn = nn.CrossEntropyLoss()
        tape = model.record(x)
        targets = loss_fn.targets(labels, 3, model.dtype)
        if intervene:
            other_calls(model, x, labels, loss_fn)
        model.backprop(tape, loss_fn.gradient(tape.output, targets), accumulate=False)
        results.append([p.grad.copy() for p in model.parameters()])
    for without, with_calls in zip(*results, strict=True):
        np.testing.assert_array_equal(with_calls, without)


def test_layers_keep_nothing_between_calls():
    model = nn.mlp([2, 5, 5, 2], "gelu", dropout=0.2, seed=0)
    model.eval().train()  # the mode is the one attribute a layer's forward reads
    before = [dict(vars(layer)) for layer in model]
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(np.ones((4, 2))), np.array([0, 1, 1, 0]))
    model.backward(loss_fn.backward())
    model.predict(np.zeros((3, 2)))
    after = [dict(vars(layer)) for layer in model]
    assert [set(v) for v in after] == [set(v) for v in before]
    for old, new in zip(before, after, strict=True):
        assert all(new[key] is old[key] for key in old)  # no attribute rebound


def test_backward_before_any_forward_says_what_to_do():
    model = nn.mlp([2, 3, 1])
    model.predict(np.ones((2, 2)))  # inference records nothing
    with pytest.raises(RuntimeError, match="forward first"):
        model.backward(np.ones((2, 1)))


def test_each_activation_is_a_formula_and_its_derivative():
    source = (ENGINE / "activations.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 333 // 2
    for name in nn.ACTIVATIONS:
        cls = type(nn.get_activation(name))
        assert "=" in cls.__doc__ and "dy/dx" in cls.__doc__  # the formulas, in the docstring
        backward = inspect.signature(cls.backward).parameters
        assert not {"inplace", "accumulate", "input_grad"} & set(backward)


# -- trace -----------------------------------------------------------------------------------

torch = pytest.importorskip("torch")
from test_torch_equality import loss_pair, to_torch  # noqa: E402  (needs torch)

LOSS_KINDS = ["mse", "ce_int", "ce_onehot", "bce"]


def torch_numbers(net, x: np.ndarray, their_loss, t_torch):
    """Every module's output and its gradient, and the loss, from PyTorch autograd."""
    h = torch.from_numpy(x).requires_grad_(True)
    outputs = [h]
    for module in net:
        h = module(h)
        h.retain_grad()
        outputs.append(h)
    loss = their_loss(h, t_torch)
    loss.backward()
    return outputs, loss.item()


@pytest.mark.parametrize("loss_kind", LOSS_KINDS)
@pytest.mark.parametrize("activation", nn.ACTIVATIONS)
def test_trace_equals_pytorch_autograd(activation, loss_kind):
    rng = np.random.default_rng(zlib.crc32(f"trace/{activation}/{loss_kind}".encode()))
    model = nn.mlp([4, 7, 6, 3], activation, seed=int(rng.integers(1000)), dtype=np.float64)
    x = rng.normal(size=(5, 4)) * 2
    ours_loss, their_loss, t, t_torch = loss_pair(loss_kind, rng, 5, 3)
    net = to_torch(model)
    outputs, loss = torch_numbers(net, x, their_loss, t_torch)

    trace = model.trace(x, t, ours_loss, dtype=np.float64)

    assert trace.loss == pytest.approx(loss, rel=1e-12)
    assert [layer.index for layer in trace.layers] == [0, 2, 4]
    assert [layer.activation for layer in trace.layers] == [activation, activation, None]
    close = {"rtol": 1e-10, "atol": 1e-12}
    np.testing.assert_allclose(trace.dL_dx, outputs[0].grad.numpy(), **close)
    for layer in trace.layers:
        i = layer.index
        end = i + 2 if i + 2 < len(outputs) else i + 1
        linear = net[i]
        expected = {
            "input": outputs[i].detach(),
            "z": outputs[i + 1].detach(),
            "a": outputs[end].detach(),
            "dL_da": outputs[end].grad,
            "delta": outputs[i + 1].grad,
            "weight": linear.weight.detach().T,
            "bias": linear.bias.detach(),
            "dW": linear.weight.grad.T,
            "db": linear.bias.grad,
        }
        for key, value in expected.items():
            ours = getattr(layer, key)
            assert ours.dtype == np.float64, key
            np.testing.assert_allclose(ours, value.numpy(), **close, err_msg=key)


@pytest.mark.parametrize("loss", ["mse", "cross_entropy", "bce"])
def test_trace_gradients_are_those_gradcheck_verifies(loss):
    rng = np.random.default_rng(8)
    model = nn.mlp([3, 5, 2], "softplus", seed=4)  # float32: the trace computes in float64
    x = rng.normal(size=(4, 3))
    t = rng.integers(0, 2, 4) if loss == "cross_entropy" else rng.random((4, 2))
    loss_fn = nn.get_loss(loss)
    assert nn.gradcheck(model, loss_fn, x, t) < 1e-6

    trace = model.trace(x, t, loss_fn, dtype=np.float64)
    net = model.to(np.float64)  # central differences on the same (exactly converted) weights
    targets = loss_fn.targets(t, 2, np.float64)
    for layer in trace.layers:
        linear = net[layer.index]
        for values, analytic in ((linear.weight.data, layer.dW), (linear.bias.data, layer.db)):
            numeric = numeric_gradient(lambda: loss_fn.value(net.predict(x), targets), values)
            np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_trace_touches_neither_parameters_gradients_mode_nor_pending_tape():
    model = nn.mlp([2, 4, 1], "tanh", dropout=0.5, seed=0)
    x, t = np.ones((3, 2)), np.zeros((3, 1))
    loss_fn = nn.MSELoss()
    model(x)
    for p in model.parameters():
        p.grad[...] = 7.0
    state, tape = model.state_dict(), model.tape
    trace = model.trace(x[:2], t[:2], loss_fn)
    assert model.training and model.tape is tape
    assert all(np.array_equal(p.grad, np.full(p.shape, 7.0)) for p in model.parameters())
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[name])
    assert trace.layers[0].dW.dtype == np.float32  # the model's dtype unless asked
    plain = trace.as_dict()  # what a view sends: lists, shaped as the arrays
    assert plain["layers"][0]["dW"] == trace.layers[0].dW.tolist()
    assert plain["loss"] == trace.loss and plain["layers"][1]["activation"] is None
    # evaluation mode: dropout off, so a equals the activation of z
    np.testing.assert_allclose(trace.layers[0].a, np.tanh(trace.layers[0].z), rtol=1e-6)


# -- L1 as a proximal step (issue 25, point 9) ---------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_l1_turns_the_weights_of_unused_inputs_into_exact_zeros(optimizer):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)).astype(np.float32)
    X[:, 2:] = 0.0  # three inputs that carry nothing: their weights get no gradient
    y = np.sin(X[:, :1]) + X[:, 1:2]
    model = nn.mlp([5, 8, 1], "tanh", seed=0)
    opt = nn.get_optimizer(optimizer, model.parameters(), lr=0.02, l1=0.1)
    nn.fit(model, nn.MSELoss(), opt, X, y, epochs=60)  # 420 steps shrink |w| by up to 0.84
    first = model[0].weight.data
    assert np.count_nonzero(first[2:]) == 0  # exactly 0, not jittering around it
    assert np.count_nonzero(first[:2]) > 0  # the inputs that matter keep weights
    assert all(
        np.count_nonzero(layer.bias.data) == layer.bias.size for layer in model.linear_layers()
    )


def test_l1_zeroes_weights_of_noise_inputs_on_a_classification_task():
    """Circles with five extra noise features (Playground's setting): many exact zeros."""
    X, labels = nn.datasets.make_circles(400, noise=0.1, seed=0)
    noise = np.random.default_rng(1).normal(size=(400, 5)).astype(np.float32)
    X = np.hstack([X, noise])
    zeros = {}
    for l1 in (0.0, 0.003):
        model = nn.mlp([7, 6, 2], "tanh", seed=0)
        opt = nn.SGD(model.parameters(), lr=0.1, l1=l1)
        nn.fit(model, nn.CrossEntropyLoss(), opt, X, labels, epochs=60, batch_size=10)
        zeros[l1] = sum(int(np.count_nonzero(w.weight.data == 0)) for w in model.linear_layers())
    assert zeros[0.0] == 0
    assert zeros[0.003] >= 10


def test_l1_is_soft_thresholding_after_the_optimizer_update():
    model = nn.Sequential(nn.Linear(2, 2, seed=0))
    weight, bias = model[0].weight, model[0].bias
    weight.data[...] = [[0.5, -0.5], [0.01, -0.01]]
    bias.data[...] = [0.01, -0.01]
    opt = nn.SGD(model.parameters(), lr=0.1, l1=0.2)  # threshold lr·l1 = 0.02
    opt.step()  # zero gradients: only the proximal step acts
    np.testing.assert_allclose(weight.data, [[0.48, -0.48], [0.0, 0.0]], rtol=1e-6)
    assert np.count_nonzero(weight.data[1]) == 0  # crossed 0: stopped at exactly 0
    np.testing.assert_array_equal(bias.data, np.float32([0.01, -0.01]))  # biases exempt
    assert "soft-thresholding" in nn.Optimizer.__doc__


# -- tidy ----------------------------------------------------------------------------------


def test_divergence_error_carries_the_record_of_the_epoch_and_pickles_with_it():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)).astype(np.float32)
    model = nn.mlp([2, 16, 1], "relu", seed=0)
    opt = nn.SGD(model.parameters(), lr=1e6)
    with pytest.raises(nn.DivergenceError) as info:
        nn.fit(model, nn.MSELoss(), opt, X, X[:, :1] * 1000.0, epochs=50)
    error = info.value
    assert error.record["epoch"] == error.epoch
    assert set(error.record) == {"epoch", "train_loss", "test_loss", "lr", "seconds"}
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.epoch, copy.record["epoch"], str(copy)) == (error.epoch, error.epoch, str(error))


def test_optimizers_declare_their_hyperparameters_once():
    for cls in (nn.SGD, nn.Adam, nn.RMSprop):
        opt = cls(nn.mlp([2, 1]).parameters())
        assert opt.hyperparameters() == {
            name: (tuple(v) if isinstance(v, list) else v) for name, v in cls.defaults.items()
        }
        assert list(opt.hyperparameters())[0] == "lr" and "l1" in cls.defaults


def test_fit_takes_trains_arguments_without_repeating_them():
    train, fit = inspect.signature(nn.train), inspect.signature(nn.fit)
    assert list(fit.parameters) == [*train.parameters, "callbacks"]
    trainer = [p for p in inspect.signature(nn.Trainer).parameters]
    assert [p for p in train.parameters if p != "epochs"] == trainer


def test_argument_checks_live_in_one_module():
    sources = {path.name: path.read_text(encoding="utf-8") for path in ENGINE.glob("*.py")}
    for name, source in sources.items():
        if name != "checks.py":
            assert "must be an int, got" not in source, name
            assert "must be finite, got" not in source, name
