"""The engine's public behaviour: argument checking, dtypes, saving, schedules, training loop."""

import math

import numpy as np
import pytest

import network as nn


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)).astype(np.float32)
    labels = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X, labels


# -- bad arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: nn.Linear(0, 3), ValueError, "in_features"),
        (lambda: nn.Linear(2, -1), ValueError, "out_features"),
        (lambda: nn.Linear(2.5, 3), TypeError, "in_features"),
        (lambda: nn.Linear(2, 3, init="zeros"), ValueError, "init must be one of xavier"),
        (lambda: nn.Linear(2, 3, dtype=np.int32), ValueError, "dtype must be float32 or float64"),
        (
            lambda: nn.mlp([2, 3], activation="swish"),
            ValueError,
            "activation must be one of sigmoid",
        ),
        (lambda: nn.get_activation("swish"), ValueError, "activation must be one of"),
        (lambda: nn.mlp([2]), ValueError, "sizes"),
        (lambda: nn.mlp([2, 0, 1]), ValueError, "sizes must be positive"),
        (lambda: nn.mlp("2,3"), TypeError, "sizes"),
        (
            lambda: nn.mlp([2, 3, 1], dropout=1.0),
            ValueError,
            r"dropout must be a float in \[0, 1\)",
        ),
        (lambda: nn.mlp([2, 3, 1], output_activation="soft"), ValueError, "output_activation"),
        (lambda: nn.Dropout(1.0), ValueError, r"p must be in \[0, 1\)"),
        (lambda: nn.Dropout(-0.1), ValueError, r"p must be in \[0, 1\)"),
        (lambda: nn.Dropout("half"), TypeError, "p must be"),
        (lambda: nn.LeakyReLU(-1.0), ValueError, "negative_slope"),
        (lambda: nn.get_loss("hinge"), ValueError, "loss must be one of mse, cross_entropy, bce"),
        (lambda: nn.Sequential(nn.Linear(2, 2), "tanh"), TypeError, "layers must be Layer"),
    ],
)
def test_bad_constructor_arguments_raise_naming_the_argument(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "match"),
    [
        ("sgd", {"lr": 0.0}, ValueError, "lr must be > 0"),
        ("sgd", {"lr": -1.0}, ValueError, "lr must be > 0"),
        ("sgd", {"lr": "fast"}, TypeError, "lr must be a number"),
        ("sgd", {"lr": float("nan")}, ValueError, "lr must be finite"),
        ("sgd", {"lr": 0.1, "momentum": -0.5}, ValueError, "momentum must be >= 0"),
        ("sgd", {"lr": 0.1, "nesterov": True}, ValueError, "nesterov.*momentum"),
        ("sgd", {"lr": 0.1, "weight_decay": -1}, ValueError, "weight_decay must be >= 0"),
        ("adam", {"lr": 0.1, "betas": (0.9, 1.0)}, ValueError, "betas"),
        ("adam", {"lr": 0.1, "betas": 0.9}, TypeError, "betas"),
        ("rmsprop", {"lr": 0.1, "alpha": 1.5}, ValueError, "alpha"),
        ("rmsprop", {"lr": 0.1, "momentum": -1}, ValueError, "momentum"),
        ("lbfgs", {"lr": 0.1}, ValueError, "optimizer must be one of sgd, adam, rmsprop"),
        ("adam", {"lr": 0.1, "amsgrad": True}, TypeError, "amsgrad"),
    ],
)
def test_bad_optimizer_arguments_raise_naming_the_argument(name, kwargs, error, match):
    model = nn.mlp([2, 3, 1])
    with pytest.raises(error, match=match):
        nn.get_optimizer(name, model.parameters(), **kwargs)


def test_optimizer_rejects_an_empty_parameter_list():
    with pytest.raises(ValueError, match="params"):
        nn.SGD([], lr=0.1)


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "match"),
    [
        ("step", {"step_size": 0}, ValueError, "step_size"),
        ("step", {"step_size": 2, "gamma": 0}, ValueError, "gamma"),
        ("exponential", {"gamma": -0.5}, ValueError, "gamma"),
        ("inverse", {"gamma": 0.1, "power": -1}, ValueError, "power"),
        ("cosine", {"t_max": 0}, ValueError, "t_max"),
        ("warmup", {}, ValueError, "scheduler must be one of constant"),
    ],
)
def test_bad_scheduler_arguments_raise_naming_the_argument(name, kwargs, error, match):
    opt = nn.SGD(nn.mlp([2, 1]).parameters(), lr=0.1)
    with pytest.raises(error, match=match):
        nn.get_scheduler(name, opt, **kwargs)


def test_train_rejects_bad_arguments(data):
    X, labels = data
    model = nn.mlp([2, 4, 2])
    loss, opt = nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1)
    cases = [
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an int"),
        ({"epochs": -1}, ValueError, "epochs must be >= 0"),
        ({"Y": labels[:-1]}, ValueError, "X and Y must have the same number of rows"),
        ({"X": X[:, :1]}, ValueError, r"x must have shape \(batch, 2\)"),
        ({"Y": labels + 5}, ValueError, r"class labels must be in \[0, 2\)"),
        ({"validation": (X, labels[:3])}, ValueError, "validation X and Y"),
        ({"validation": X}, TypeError, "validation must be None or a pair"),
        ({"scheduler": "cosine"}, TypeError, "scheduler must be None or a Scheduler"),
    ]
    for override, error, match in cases:
        kwargs = {"X": X, "Y": labels, "epochs": 1, **override}
        with pytest.raises(error, match=match):
            nn.train(model, loss, opt, **kwargs)
    with pytest.raises(TypeError, match="loss_fn must be a Loss"):
        nn.train(model, "mse", opt, X, labels, 1)
    with pytest.raises(TypeError, match="optimizer must be an Optimizer"):
        nn.train(model, loss, "sgd", X, labels, 1)
    other = nn.SGD(nn.mlp([2, 4, 2]).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="optimizer must hold this model's parameters"):
        nn.train(model, loss, other, X, labels, 1)


def test_a_layer_may_appear_only_once_in_a_model():
    shared = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="layers must be distinct"):
        nn.Sequential(shared, nn.Tanh(), shared)


def test_wrong_input_width_raises_value_error():
    model = nn.mlp([3, 4, 1])
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 3\), got \(5, 2\)"):
        model(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="x must have shape"):
        model.predict(np.zeros(3))


def test_mse_targets_of_the_wrong_width_raise():
    model = nn.mlp([2, 3, 2])
    with pytest.raises(ValueError, match=r"targets must have shape \(batch, 2\)"):
        nn.train(
            model,
            nn.MSELoss(),
            nn.SGD(model.parameters(), lr=0.1),
            np.zeros((4, 2)),
            np.zeros((4, 3)),
            1,
        )


# -- divergence --------------------------------------------------------------------------------


def test_huge_learning_rate_raises_divergence_error(data):
    X, labels = data
    model = nn.mlp([2, 16, 1], "relu", seed=0)
    targets = (labels * 1000.0).reshape(-1, 1)
    with pytest.raises(nn.DivergenceError, match="diverged at epoch") as info:
        nn.fit(model, nn.MSELoss(), nn.SGD(model.parameters(), lr=1e6), X, targets, epochs=50)
    assert info.value.epoch >= 1
    assert not math.isfinite(info.value.loss)


# -- ownership of outputs and modes -----------------------------------------------------------


def test_model_output_is_owned_by_the_caller():
    model = nn.mlp([2, 4, 3], seed=0)
    x1, x2 = np.ones((5, 2)), np.zeros((5, 2))
    y1 = model(x1)
    kept = y1.copy()
    model(x2)
    model.predict(x2)
    np.testing.assert_array_equal(y1, kept)
    y1[:] = 99  # writing into it does not disturb the next call
    np.testing.assert_array_equal(model(x1), kept)


def test_predict_disables_dropout_and_keeps_the_mode():
    model = nn.mlp([2, 64, 64, 1], dropout=0.5, seed=0).train()
    x = np.ones((8, 2))
    first = model.predict(x)
    np.testing.assert_array_equal(model.predict(x), first)  # no dropout: deterministic
    assert model.training
    assert not np.array_equal(model(x), model(x))  # training mode: dropout on
    model.eval()
    model.predict(x)
    assert not model.training


def test_linear_layers_and_layer_sizes():
    model = nn.mlp([1, 32, 16, 1], "relu", dropout=0.1)
    assert model.layer_sizes() == [1, 32, 16, 1]
    linears = model.linear_layers()
    assert [layer.weight.data.shape for layer in linears] == [(1, 32), (32, 16), (16, 1)]
    assert [layer.bias.data.shape for layer in linears] == [(32,), (16,), (1,)]


def test_mlp_seed_makes_identical_models():
    a, b = nn.mlp([2, 8, 1], seed=3), nn.mlp([2, 8, 1], seed=3)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    c = nn.mlp([2, 8, 1], seed=4)
    assert not np.array_equal(a.parameters()[0].data, c.parameters()[0].data)


@pytest.mark.parametrize("init", nn.INITIALIZERS)
def test_initialisers_have_the_documented_scale(init):
    layer = nn.Linear(400, 300, init=init, seed=0)
    std = float(layer.weight.data.std())
    expected = {
        "xavier": math.sqrt(2 / 700),
        "he": math.sqrt(2 / 400),
        "uniform": 1 / math.sqrt(400) / math.sqrt(3),
        "normal": math.sqrt(1 / 400),
    }[init]
    assert std == pytest.approx(expected, rel=0.03)


def test_zero_grad_then_backward_gives_the_same_gradient_twice():
    model = nn.mlp([2, 5, 1], seed=0, dtype=np.float64)
    x, t = np.ones((3, 2)), np.zeros((3, 1))
    loss = nn.MSELoss()
    grads = []
    for _ in range(2):
        model.zero_grad()
        loss(model(x), t)
        model.backward(loss.backward())
        grads.append([p.grad.copy() for p in model.parameters()])
    for g1, g2 in zip(*grads, strict=True):
        np.testing.assert_array_equal(g1, g2)
    loss(model(x), t)
    model.backward(loss.backward())  # without zero_grad: accumulates
    np.testing.assert_allclose(model.parameters()[0].grad, 2 * grads[0][0])


# -- saving ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_load_round_trips_exactly(tmp_path, dtype):
    model = nn.Sequential(
        nn.Linear(2, 6, seed=1),
        nn.LeakyReLU(0.2),
        nn.Dropout(0.3),
        nn.Linear(6, 4, seed=2),
        nn.ELU(alpha=0.5),
        nn.Linear(4, 3, bias=False),
    )
    model.to(dtype)
    path = tmp_path / "model.npz"
    nn.save(model, path)
    loaded = nn.load(path)
    assert loaded.dtype == np.dtype(dtype)
    assert loaded.config() == model.config()
    assert loaded.layer_sizes() == model.layer_sizes()
    x = np.random.default_rng(0).normal(size=(10, 2))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    for (name, a), (name_b, b) in zip(
        model.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert name == name_b
        assert b.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)


def test_save_keeps_the_given_file_name(tmp_path):
    path = tmp_path / "weights.bin"
    nn.save(nn.mlp([1, 2, 1]), path)
    assert path.exists()
    assert nn.load(path).layer_sizes() == [1, 2, 1]


def test_load_state_dict_copies_values_and_checks_keys():
    a, b = nn.mlp([2, 3, 1], seed=0), nn.mlp([2, 3, 1], seed=1)
    b.load_state_dict(a.state_dict())
    x = np.ones((2, 2))
    np.testing.assert_array_equal(a(x), b(x))
    with pytest.raises(ValueError, match="missing"):
        b.load_state_dict({"0.weight": np.zeros((2, 3))})
    state = a.state_dict()
    state["0.weight"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="shape"):
        b.load_state_dict(state)


# -- dtypes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy", "bce"])
def test_float32_stays_float32_end_to_end(optimizer, loss_name):
    rng = np.random.default_rng(0)
    model = nn.mlp([3, 8, 2], "gelu", dropout=0.1, seed=0)
    kwargs = (
        {"momentum": 0.9, "weight_decay": 0.01} if optimizer != "adam" else {"weight_decay": 0.1}
    )
    opt = nn.get_optimizer(optimizer, model.parameters(), lr=0.01, **kwargs)
    loss = nn.get_loss(loss_name)
    X = rng.normal(size=(20, 3))  # float64 data, cast at the model boundary
    Y = rng.integers(0, 2, 20) if loss_name == "cross_entropy" else rng.random((20, 2))
    scheduler = nn.CosineLR(opt, t_max=3)
    records = list(nn.train(model, loss, opt, X, Y, epochs=3, batch_size=8, scheduler=scheduler))
    assert all(isinstance(r["train_loss"], float) and isinstance(r["lr"], float) for r in records)
    out = model(X)
    assert out.dtype == np.float32
    assert model.predict(X).dtype == np.float32
    loss(out, Y)
    assert loss.backward().dtype == np.float32
    model.zero_grad()
    model.backward(loss.backward())
    for p in model.parameters():
        assert p.data.dtype == np.float32 and p.grad.dtype == np.float32
    for state in opt.state_dict()["state"]:
        for value in state.values():
            assert value.dtype == np.float32
    opt.step()
    assert all(p.data.dtype == np.float32 for p in model.parameters())


def test_optimizer_created_before_model_to_refuses_to_step():
    model = nn.mlp([2, 3, 1], seed=0)
    opt = nn.Adam(model.parameters(), lr=0.01)
    model.to(np.float64)
    with pytest.raises(RuntimeError, match="create the optimizer again"):
        opt.step()
    nn.Adam(model.parameters(), lr=0.01).step()


def test_float64_scalars_do_not_promote_float32_parameters():
    model = nn.mlp([2, 4, 1], seed=0)
    opt = nn.SGD(model.parameters(), lr=np.float64(0.1), momentum=np.float64(0.9))
    opt.lr = np.float64(0.05)  # a scheduler or a user may set a numpy scalar
    loss = nn.MSELoss()
    loss(model(np.ones((3, 2))), np.ones((3, 1)))
    model.backward(loss.backward())
    opt.step()
    assert all(p.data.dtype == np.float32 for p in model.parameters())


def test_to_float64_converts_parameters_outputs_and_gradients():
    model = nn.mlp([2, 4, 1], seed=0)
    x = np.ones((3, 2), np.float32)
    before = model(x)
    assert model.to(np.float64) is model
    assert model.dtype == np.float64
    out = model(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, before, rtol=1e-6)
    loss = nn.MSELoss()
    loss(out, np.zeros((3, 1)))
    model.backward(loss.backward())
    assert all(p.data.dtype == p.grad.dtype == np.float64 for p in model.parameters())
    assert nn.mlp([2, 4, 1], seed=0, dtype=np.float64).dtype == np.float64


def test_integer_inputs_are_cast_to_the_model_dtype():
    model = nn.mlp([2, 3, 1], seed=0)
    np.testing.assert_array_equal(model(np.array([[1, 2]])), model(np.array([[1.0, 2.0]])))
    assert model(np.array([[1, 2]])).dtype == np.float32


# -- schedules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs", "expected"),
    [
        ("constant", {}, lambda e: 0.1),
        ("step", {"step_size": 2, "gamma": 0.5}, lambda e: 0.1 * 0.5 ** (e // 2)),
        ("exponential", {"gamma": 0.9}, lambda e: 0.1 * 0.9**e),
        ("inverse", {"gamma": 0.5, "power": 0.75}, lambda e: 0.1 * (1 + 0.5 * e) ** -0.75),
        (
            "cosine",
            {"t_max": 4, "eta_min": 0.01},
            lambda e: 0.01 + 0.09 * (1 + math.cos(math.pi * min(e, 4) / 4)) / 2,
        ),
    ],
)
def test_schedules_give_the_documented_lr_sequence(name, kwargs, expected):
    opt = nn.SGD(nn.mlp([2, 1]).parameters(), lr=0.1)
    scheduler = nn.get_scheduler(name, opt, **kwargs)
    seen = [opt.lr]
    for _ in range(6):
        scheduler.step()
        seen.append(opt.lr)
    assert seen == pytest.approx([expected(e) for e in range(7)], rel=1e-12)


def test_step_lr_known_values_and_train_reports_the_lr_of_each_epoch(data):
    X, labels = data
    model = nn.mlp([2, 4, 2], seed=0)
    opt = nn.SGD(model.parameters(), lr=1.0)
    scheduler = nn.StepLR(opt, step_size=2, gamma=0.1)
    records = list(nn.train(model, nn.CrossEntropyLoss(), opt, X, labels, 5, scheduler=scheduler))
    assert [r["lr"] for r in records] == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01])


# -- the training loop -----------------------------------------------------------------------


def test_train_yields_the_documented_keys(data):
    X, labels = data
    model = nn.mlp([2, 4, 2], seed=0)
    records = list(
        nn.train(
            model,
            nn.CrossEntropyLoss(),
            nn.Adam(model.parameters(), lr=0.01),
            X,
            labels,
            3,
            validation=(X[:10], labels[:10]),
        )
    )
    assert [r["epoch"] for r in records] == [1, 2, 3]
    for r in records:
        assert set(r) == {
            "epoch",
            "train_loss",
            "test_loss",
            "lr",
            "seconds",
            "train_acc",
            "test_acc",
        }
        assert 0.0 <= r["train_acc"] <= 1.0 and 0.0 <= r["test_acc"] <= 1.0
    assert 0 < records[0]["seconds"] < records[1]["seconds"] < records[2]["seconds"]


def test_train_losses_are_whole_set_evaluations_in_eval_mode(data):
    X, labels = data
    model = nn.mlp([2, 8, 2], dropout=0.5, seed=0)
    loss = nn.CrossEntropyLoss()
    record = next(
        nn.train(
            model,
            loss,
            nn.Adam(model.parameters(), lr=0.01),
            X,
            labels,
            1,
            validation=(X[:20], labels[:20]),
        )
    )
    assert record["train_loss"] == pytest.approx(loss(model.predict(X), labels), rel=1e-6)
    assert record["test_loss"] == pytest.approx(loss(model.predict(X[:20]), labels[:20]), rel=1e-6)
    accuracy = np.mean(model.predict(X).argmax(axis=1) == labels)
    assert record["train_acc"] == pytest.approx(accuracy)
    assert nn.evaluate(model, loss, X, labels) == pytest.approx(
        {"loss": record["train_loss"], "accuracy": record["train_acc"]}
    )


def test_mse_has_no_accuracy_unless_asked(data):
    X, labels = data
    onehot = np.eye(2)[labels]
    model = nn.mlp([2, 4, 2], seed=0)
    record = next(nn.train(model, nn.MSELoss(), nn.SGD(model.parameters(), lr=0.1), X, onehot, 1))
    assert set(record) == {"epoch", "train_loss", "test_loss", "lr", "seconds"}
    assert record["test_loss"] is None
    record = next(
        nn.train(
            model, nn.MSELoss(), nn.SGD(model.parameters(), lr=0.1), X, onehot, 1, accuracy=True
        )
    )
    assert record["train_acc"] == pytest.approx(np.mean(model.predict(X).argmax(1) == labels))


def test_bce_accuracy_thresholds_logits_at_zero(data):
    X, labels = data
    model = nn.mlp([2, 4, 1], seed=0)
    loss = nn.BCEWithLogitsLoss()
    record = next(nn.train(model, loss, nn.Adam(model.parameters(), lr=0.01), X, labels, 1))
    assert record["train_acc"] == pytest.approx(np.mean((model.predict(X)[:, 0] > 0) == labels))


def test_train_does_no_work_beyond_what_the_consumer_asks_for(data):
    X, labels = data
    model = nn.mlp([2, 4, 2], seed=0)
    opt = nn.SGD(model.parameters(), lr=0.1)
    steps_per_epoch = math.ceil(len(X) / 16)
    records = nn.train(model, nn.CrossEntropyLoss(), opt, X, labels, epochs=100, batch_size=16)
    assert opt.steps == 0  # a generator: nothing happens until asked
    for record in records:
        if record["epoch"] == 2:
            break
    assert opt.steps == 2 * steps_per_epoch
    records.close()
    assert opt.steps == 2 * steps_per_epoch


def test_train_is_reproducible_with_a_seed(data):
    X, labels = data
    results = []
    for _ in range(2):
        model = nn.mlp([2, 6, 2], seed=1)
        history = nn.fit(
            model, nn.CrossEntropyLoss(), nn.Adam(model.parameters(), lr=0.01), X, labels, 3, seed=7
        )
        results.append(history[-1]["train_loss"])
    assert results[0] == results[1]


def test_fit_calls_callbacks_with_epoch_and_logs_and_can_stop(data):
    X, labels = data

    class Recorder(nn.Callback):
        def __init__(self):
            self.calls, self.began, self.ended = [], False, None

        def on_train_begin(self, logs):
            self.began = True

        def on_epoch_end(self, epoch, logs):
            self.calls.append((epoch, logs))
            return epoch == 3

        def on_train_end(self, logs):
            self.ended = logs

    recorder = Recorder()
    model = nn.mlp([2, 4, 2], seed=0)
    history = nn.fit(
        model,
        nn.CrossEntropyLoss(),
        nn.SGD(model.parameters(), lr=0.1),
        X,
        labels,
        epochs=10,
        callbacks=[recorder],
    )
    assert recorder.began
    assert [epoch for epoch, _ in recorder.calls] == [1, 2, 3]
    assert [logs for _, logs in recorder.calls] == history
    assert recorder.ended is history[-1]
    with pytest.raises(TypeError, match="callbacks"):
        nn.fit(
            model,
            nn.CrossEntropyLoss(),
            nn.SGD(model.parameters(), lr=0.1),
            X,
            labels,
            1,
            callbacks=[object()],
        )


def test_training_reduces_the_loss(data):
    X, labels = data
    model = nn.mlp([2, 16, 2], seed=0)
    history = nn.fit(
        model, nn.CrossEntropyLoss(), nn.Adam(model.parameters(), lr=0.02), X, labels, 30
    )
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]


def test_optimizer_state_dict_round_trip():
    model = nn.mlp([2, 3, 1], seed=0)
    opt = nn.Adam(model.parameters(), lr=0.01)
    loss = nn.MSELoss()
    loss(model(np.ones((2, 2))), np.zeros((2, 1)))
    model.backward(loss.backward())
    opt.step()
    state = opt.state_dict()
    other = nn.Adam(model.parameters(), lr=0.5)
    other.load_state_dict(state)
    assert other.lr == 0.01 and other.steps == 1
    np.testing.assert_array_equal(other.state_dict()["state"][0]["m"], state["state"][0]["m"])


@pytest.mark.parametrize(
    ("layer", "formula"),
    [
        (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        (nn.Tanh(), np.tanh),
        (nn.ReLU(), lambda x: np.maximum(x, 0)),
        (nn.LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
        (nn.ELU(), lambda x: np.where(x > 0, x, np.exp(x) - 1)),
        (nn.GELU(), lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))),
        (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
        (nn.Identity(), lambda x: x),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, nn.Layer) else "",
)
def test_standalone_activation_matches_its_formula_and_leaves_the_input_alone(layer, formula):
    x = np.linspace(-4, 4, 24).reshape(4, 6)
    before = x.copy()
    y = layer(x)
    np.testing.assert_allclose(y, formula(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(x, before)
    y[...] = 0  # the caller owns the result
    np.testing.assert_allclose(layer(x), formula(x), rtol=1e-12, atol=1e-12)
