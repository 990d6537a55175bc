"""Engine speed against PyTorch CPU (issue 3, item 6). Run: ``python benchmarks/engine.py``.

Training steps per second for ours and for PyTorch with the same shapes, float32 and the same
number of threads, measured in one process in interleaved blocks (ours, torch, ours, torch, ...)
and reported as the best block of each, for

  (a) 1-64-64-1 tanh, MSE, batch 64, SGD + momentum
  (b) 784-50-50-10 tanh, cross-entropy, batch 100, SGD + momentum
  (c) 784-512-512-10 ReLU, cross-entropy, batch 256, SGD + momentum
      (+ the GEMM floor: np.matmul alone at the step's own GEMM shapes, timed in the same
      interleaved blocks, and our share of it = floor time / our step time)
  (d) the moons net 2-25-50-25-2 tanh, cross-entropy, batch 32, Adam

and the wall time the engine needs to reach 96 % test accuracy on moons (2000 points, noise 0.2,
70/30 split). Our step is the one ``nn.train`` runs (no loss value, gradients written in place);
PyTorch's is the usual ``zero_grad(); loss(net(x), t).backward(); step()``.

``--against DIR`` also times the engine found in ``DIR/network`` (an earlier version, e.g.
``git archive <commit> network | tar -x -C DIR``) in the same interleaved blocks and moons runs,
so a change is compared with what it replaces on the same machine at the same moment.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

THREADS = os.cpu_count() or 1
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, str(THREADS))  # numpy's BLAS: set before numpy loads it

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import network as nn  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

TARGETS = {"a": 5.0, "b": 2.0, "c": 1.0, "d": 6.0}
FLOOR_TARGET = 0.75
MOONS_TARGET = 0.1

CASES = {
    "a": dict(sizes=[1, 64, 64, 1], activation="tanh", loss="mse", batch=64, optimizer="sgd"),
    "b": dict(sizes=[784, 50, 50, 10], activation="tanh", loss="ce", batch=100, optimizer="sgd"),
    "c": dict(sizes=[784, 512, 512, 10], activation="relu", loss="ce", batch=256, optimizer="sgd"),
    "d": dict(sizes=[2, 25, 50, 25, 2], activation="tanh", loss="ce", batch=32, optimizer="adam"),
}


def build_ours(case: dict, x: np.ndarray, t: np.ndarray, engine=nn):
    """One training step of our engine (or of ``engine``, an earlier copy), as ``nn.train``
    runs it."""
    model = engine.mlp(case["sizes"], case["activation"], seed=0)
    loss_fn = engine.MSELoss() if case["loss"] == "mse" else engine.CrossEntropyLoss()
    if case["optimizer"] == "sgd":
        opt = engine.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        opt = engine.Adam(model.parameters(), lr=0.001)
    step = opt.step
    if not hasattr(model, "record"):  # the engine before the tape (issue 21)
        targets = loss_fn._targets(t, case["sizes"][-1], model.dtype)
        forward, backward, gradient = model._forward, model._backward, loss_fn._grad

        def old_step() -> None:
            backward(gradient(forward(x), targets), False, False)
            step()

        return model, old_step
    targets = loss_fn.targets(t, case["sizes"][-1], model.dtype)  # converted once, as in train
    record, backprop, gradient = model.record, model.backprop, loss_fn.gradient

    def train_step() -> None:
        tape = record(x)
        backprop(tape, gradient(tape.output, targets), False, False)
        step()

    return model, train_step


def load_engine(folder: str):
    """The ``network`` package found in ``folder`` (e.g. an earlier version extracted with
    ``git archive <commit> network | tar -x -C folder``), imported as ``engine_before``."""
    init = Path(folder) / "network" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        "engine_before", init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["engine_before"] = module
    spec.loader.exec_module(module)
    return module


def build_torch(case: dict, model: nn.Sequential, x, t, net_only: bool = False):
    """The same step in PyTorch (same weights, shapes and dtype); or just the network."""
    layers = []
    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[case["activation"]]
    for layer in model.linear_layers():
        linear = torch.nn.Linear(layer.in_features, layer.out_features)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weight.data.T.copy()))
            linear.bias.copy_(torch.from_numpy(layer.bias.data.copy()))
        layers += [linear, act()]
    net = torch.nn.Sequential(*layers[:-1])
    if net_only:
        return net
    if case["optimizer"] == "sgd":
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = torch.nn.MSELoss() if case["loss"] == "mse" else torch.nn.CrossEntropyLoss()
    xt = torch.from_numpy(x)
    tt = torch.from_numpy(t)

    def train_step() -> None:
        opt.zero_grad()
        loss_fn(net(xt), tt).backward()
        opt.step()

    return train_step


def calibrate(step, seconds: float) -> int:
    """Steps that take about ``seconds``."""
    for _ in range(3):
        step()
    n, began = 0, time.perf_counter()
    while time.perf_counter() - began < 0.05:
        step()
        n += 1
    per_step = (time.perf_counter() - began) / n
    return max(3, int(seconds / per_step))


def time_block(step, n: int) -> float:
    """Steps per second over ``n`` steps."""
    began = time.perf_counter()
    for _ in range(n):
        step()
    return n / (time.perf_counter() - began)


def interleaved(steps: dict, blocks: int, seconds: float, settle: float) -> dict:
    """Best steps/s of each step function over ``blocks`` interleaved blocks.

    Before each block the process sleeps ``settle`` seconds: BLAS and OpenMP worker threads keep
    spinning for a while after their last call, and would otherwise steal a core from whichever
    library runs next. One untimed step then warms the caches.
    """
    counts = {name: calibrate(step, seconds) for name, step in steps.items()}
    best = dict.fromkeys(steps, 0.0)
    for _ in range(blocks):
        for name, step in steps.items():
            time.sleep(settle)
            step()
            best[name] = max(best[name], time_block(step, counts[name]))
    return best


def case_data(case: dict, rng: np.random.Generator):
    sizes, batch = case["sizes"], case["batch"]
    x = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    if case["loss"] == "mse":
        t = rng.normal(size=(batch, sizes[-1])).astype(np.float32)
    else:
        t = rng.integers(0, sizes[-1], size=batch).astype(np.int64)
    return x, t


def gemm_floor_step(sizes: list[int], batch: int):
    """A function running the GEMMs of one training step, and nothing else: the forward
    products, the weight gradients and the input gradients of all layers but the first, with
    the operand layouts our step uses and preallocated outputs."""
    rng = np.random.default_rng(0)
    products = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        x = rng.normal(size=(batch, n_in)).astype(np.float32)
        w = rng.normal(size=(n_in, n_out)).astype(np.float32)
        g = rng.normal(size=(batch, n_out)).astype(np.float32)
        products.append((x, w, np.empty((batch, n_out), np.float32)))  # y = x @ W
        products.append((x.T, g, np.empty((n_in, n_out), np.float32)))  # dW = xᵀ g
        if i > 0:
            products.append((g, w.T, np.empty((batch, n_in), np.float32)))  # dx = g Wᵀ

    def gemms() -> None:
        for a, b, out in products:
            np.matmul(a, b, out=out)

    return gemms


def moons_data(seed: int):
    X, labels = nn.datasets.make_moons(2000, noise=0.2, seed=seed)
    return nn.datasets.train_test_split(X, labels, 0.3, seed=seed)


def moons_time_to_accuracy(seed: int, target: float = 0.96, max_epochs: int = 200, engine=nn):
    """Ours: (wall seconds, epochs) until the test accuracy reaches ``target``, timed from
    building the model (``nn.train`` also evaluates the whole training set every epoch)."""
    X_train, y_train, X_test, y_test = moons_data(seed)
    began = time.perf_counter()
    model = engine.mlp([2, 25, 50, 25, 2], "tanh", seed=seed)
    opt = engine.Adam(model.parameters(), lr=0.01)
    records = engine.train(
        model,
        engine.CrossEntropyLoss(),
        opt,
        X_train,
        y_train,
        max_epochs,
        batch_size=32,
        validation=(X_test, y_test),
        seed=seed,
    )
    for record in records:
        if record["test_acc"] >= target:
            return time.perf_counter() - began, record["epoch"]
    return float("nan"), max_epochs


def torch_moons_time(seed: int, epochs: int) -> float:
    """PyTorch on the same trajectory: the same initial weights, batches and per-epoch
    evaluations (training-set loss and accuracy, test loss and accuracy) for ``epochs``."""
    X_train, y_train, X_test, y_test = moons_data(seed)
    began = time.perf_counter()
    model = nn.mlp([2, 25, 50, 25, 2], "tanh", seed=seed)
    net = build_torch({"activation": "tanh", "optimizer": "adam"}, model, None, None, net_only=True)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X_train), torch.from_numpy(y_train)
    Xv, yv = torch.from_numpy(X_test), torch.from_numpy(y_test)
    rng = np.random.default_rng(seed)  # nn.train's shuffling
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(X_train)))
        Xe, ye = Xt[order], yt[order]
        for start in range(0, len(Xe), 32):
            opt.zero_grad()
            loss_fn(net(Xe[start : start + 32]), ye[start : start + 32]).backward()
            opt.step()
        with torch.no_grad():
            for X, y in ((Xt, yt), (Xv, yv)):
                out = net(X)
                loss_fn(out, y).item()
                (out.argmax(1) == y).float().mean().item()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=20, help="interleaved blocks per case")
    parser.add_argument("--block-seconds", type=float, default=0.1, help="length of one block")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.1,
        help="idle seconds before each block (spinning threads)",
    )
    parser.add_argument(
        "--against",
        metavar="DIR",
        help="also time the engine in DIR/network (an earlier version) in the same blocks",
    )
    args = parser.parse_args()

    if torch is None:
        sys.exit("PyTorch is needed for the comparison: pip install -e '.[bench]'")
    torch.set_num_threads(THREADS)
    before = load_engine(args.against) if args.against else None
    print(
        f"numpy {np.__version__}, torch {torch.__version__}, float32, "
        f"{THREADS} threads (torch.set_num_threads; OPENBLAS_NUM_THREADS="
        f"{os.environ['OPENBLAS_NUM_THREADS']}), "
        f"best of {args.blocks} interleaved blocks"
        + (f"; 'before' is the engine in {args.against}" if before else "")
        + "\n"
    )
    results = step_rates(args, before)
    floor_report(results, before)
    moons_report(before)


def step_rates(args, before) -> dict:
    """Steps/s of every case (ours, torch, the engine before if given, the GEMM floor in (c))."""
    rng = np.random.default_rng(0)
    extra = f" {'before':>9} {'ours/before':>11}" if before else ""
    header = (
        f"{'case':<36} {'ours steps/s':>13} {'torch steps/s':>14} {'ratio':>7} {'target':>7}"
        f"{'':3}{extra}"
    )
    print(header)
    print("-" * len(header))
    results = {}
    for key, case in CASES.items():
        x, t = case_data(case, rng)
        model, ours = build_ours(case, x, t)
        steps = {"ours": ours, "torch": build_torch(case, model, x, t)}
        if before is not None:
            steps["before"] = build_ours(case, x, t, before)[1]
        if key == "c":  # the GEMM floor, measured in the same interleaved blocks
            steps["gemm"] = gemm_floor_step(case["sizes"], case["batch"])
        best = interleaved(steps, args.blocks, args.block_seconds, args.settle)
        ratio = best["ours"] / best["torch"]
        results[key] = best
        label = (
            f"({key}) {'-'.join(map(str, case['sizes']))} {case['activation']} "
            f"b{case['batch']} {'sgd+mom' if case['optimizer'] == 'sgd' else case['optimizer']}"
        )
        ok = "ok" if ratio >= TARGETS[key] else "MISSED"
        line = (
            f"{label:<36} {best['ours']:>13,.0f} {best['torch']:>14,.0f} {ratio:>6.2f}x "
            f"{'>=' + str(TARGETS[key]) + 'x':>7} {ok:<6}"
        )
        if before is not None:
            line += f" {best['before']:>9,.0f} {best['ours'] / best['before']:>10.1%}"
        print(line)
    return results


def floor_report(results: dict, before) -> None:
    floor_steps, ours_c = results["c"]["gemm"], results["c"]["ours"]
    share = ours_c / floor_steps  # GEMM-only time over our whole step time
    print(
        f"\n(c) GEMM floor: {1e3 / floor_steps:.2f} ms/step = {floor_steps:,.0f} steps/s; "
        f"ours {1e3 / ours_c:.2f} ms/step = {share:.0%} of the floor "
        f"(target >= {FLOOR_TARGET:.0%}) {'ok' if share >= FLOOR_TARGET else 'MISSED'}"
        + (f"; before {results['c']['before'] / floor_steps:.0%}" if before else "")
    )


def moons_report(before) -> None:
    engines = {"ours": nn} if before is None else {"ours": nn, "before": before}
    times = {name: [] for name in engines}
    epochs, torch_times = [], []
    for seed in range(5):  # each trajectory is deterministic: keep its best of 3 runs
        runs = {name: [] for name in engines}
        for _ in range(3):  # the engines interleaved
            for name, engine in engines.items():
                runs[name].append(moons_time_to_accuracy(seed, engine=engine))
        for name in engines:
            times[name].append(min(seconds for seconds, _ in runs[name]))
        epochs.append(runs["ours"][0][1])
        torch_times.append(min(torch_moons_time(seed, epochs[-1]) for _ in range(3)))
    print(
        "moons to 96 % test accuracy (2-25-50-25-2 tanh, Adam lr 0.01, batch 32, seeds 0-4, "
        "best of 3 runs each):"
    )
    for name in engines:
        median = statistics.median(times[name])
        print(
            f"  {name:<6} median {median * 1e3:.0f} ms "
            f"(each: {', '.join(f'{s * 1e3:.0f}' for s in times[name])} ms; epochs {epochs}); "
            f"target <= {MOONS_TARGET * 1e3:.0f} ms {'ok' if median <= MOONS_TARGET else 'MISSED'}"
        )
    print(f"  torch  median {statistics.median(torch_times) * 1e3:.0f} ms on the same trajectories")


if __name__ == "__main__":
    main()
