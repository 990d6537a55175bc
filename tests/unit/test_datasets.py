"""Specification of network.datasets: generators, split, grid, scaling and the MNIST reader."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pytest

from network import datasets

# name -> (generator, extra kwargs, number of classes)
CLASSIFIERS = {
    "moons": (datasets.make_moons, {}, 2),
    "circles": (datasets.make_circles, {}, 2),
    "xor": (datasets.make_xor, {}, 2),
    "spiral2": (datasets.make_spiral, {"arms": 2}, 2),
    "spiral3": (datasets.make_spiral, {"arms": 3}, 3),
    "spiral6": (datasets.make_spiral, {"arms": 6}, 6),
    "blobs3": (datasets.make_blobs, {"centers": 3}, 3),
    "blobs5": (datasets.make_blobs, {"centers": 5}, 5),
}
classifier_names = pytest.mark.parametrize("name", list(CLASSIFIERS))


def generate(name: str, **kwargs):
    generator, extra, _ = CLASSIFIERS[name]
    return generator(**{**extra, **kwargs})


# --------------------------------------------------------------------------- classifiers


@classifier_names
def test_classifier_returns_float32_points_and_int64_labels(name):
    X, labels = generate(name, n_samples=301)
    assert X.shape == (301, 2) and X.dtype == np.float32
    assert labels.shape == (301,) and labels.dtype == np.int64
    assert np.all(np.isfinite(X))


@classifier_names
def test_classifier_accepts_float64(name):
    X, labels = generate(name, n_samples=50, dtype=np.float64)
    assert X.dtype == np.float64 and labels.dtype == np.int64


@classifier_names
@pytest.mark.parametrize("n_samples", [1, 7, 100, 1001])
def test_classifier_classes_are_balanced(name, n_samples):
    _, labels = generate(name, n_samples=n_samples)
    n_classes = CLASSIFIERS[name][2]
    counts = np.bincount(labels, minlength=n_classes)
    assert len(counts) == n_classes and counts.sum() == n_samples
    assert counts.max() - counts.min() <= 1


@classifier_names
def test_classifier_is_deterministic_per_seed(name):
    X1, labels1 = generate(name, n_samples=200, seed=5)
    X2, labels2 = generate(name, n_samples=200, seed=5)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(labels1, labels2)


@classifier_names
def test_classifier_differs_across_seeds(name):
    X1, _ = generate(name, n_samples=200, seed=1)
    X2, _ = generate(name, n_samples=200, seed=2)
    assert not np.array_equal(X1, X2)


@classifier_names
def test_classifier_order_is_shuffled(name):
    _, labels = generate(name, n_samples=400)
    # Unshuffled output would come in class blocks: count label changes between neighbours.
    assert np.count_nonzero(np.diff(labels)) > 100


def test_moons_without_noise_lie_on_two_unit_half_circles():
    X, labels = datasets.make_moons(n_samples=500, noise=0.0, dtype=np.float64)
    upper, lower = X[labels == 0], X[labels == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-12)
    assert np.all(upper[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert np.all(lower[:, 1] <= 0.5 + 1e-12)
    # The arcs run the full half circle, end to end.
    np.testing.assert_allclose(np.sort(upper[:, 0])[[0, -1]], [-1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(np.sort(lower[:, 0])[[0, -1]], [0.0, 2.0], atol=1e-12)


def test_circles_without_noise_have_radii_one_and_factor():
    X, labels = datasets.make_circles(n_samples=400, noise=0.0, factor=0.3, dtype=np.float64)
    radii = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radii[labels == 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(radii[labels == 1], 0.3, atol=1e-12)


def test_circles_noise_is_the_standard_deviation_of_the_offsets():
    X, labels = datasets.make_circles(n_samples=20000, noise=0.05, factor=0.5, seed=3)
    radial_offset = np.hypot(X[:, 0], X[:, 1]) - np.where(labels == 0, 1.0, 0.5)
    assert abs(radial_offset.std() - 0.05) < 0.005


def test_moons_with_noise_are_off_the_arcs():
    X, labels = datasets.make_moons(n_samples=2000, noise=0.2, seed=0)
    upper = X[labels == 0].astype(np.float64)
    offset = np.hypot(upper[:, 0], upper[:, 1]) - 1.0
    assert 0.15 < offset.std() < 0.25


def test_xor_without_noise_is_labelled_by_the_sign_of_x_times_y():
    X, labels = datasets.make_xor(n_samples=1000, noise=0.0)
    np.testing.assert_array_equal(labels, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    assert np.all(np.abs(X) <= 1.0) and np.all(np.abs(X) >= 0.05 - 1e-7)
    # All four quadrants are populated, evenly within each class.
    quadrant = (X[:, 0] > 0).astype(int) * 2 + (X[:, 1] > 0).astype(int)
    assert np.bincount(quadrant, minlength=4).tolist() == [250, 250, 250, 250]


@pytest.mark.parametrize("arms", [2, 3, 5])
def test_spiral_without_noise_follows_each_arm(arms):
    X, labels = datasets.make_spiral(n_samples=600, noise=0.0, arms=arms, dtype=np.float64)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.all(radius <= 1.0 + 1e-12)
    assert radius.max() == pytest.approx(1.0)
    far = radius > 1e-9  # the angle of the centre point is undefined
    expected = 2 * np.pi * labels / arms + 2 * np.pi * datasets.SPIRAL_TURNS * radius
    angle_error = np.angle(np.exp(1j * (np.arctan2(X[:, 1], X[:, 0]) - expected)))
    np.testing.assert_allclose(angle_error[far], 0.0, atol=1e-9)


def test_blobs_without_noise_sit_on_their_centres():
    X, labels = datasets.make_blobs(n_samples=90, centers=3, noise=0.0, dtype=np.float64)
    centres = datasets.blob_centers(3)
    np.testing.assert_allclose(X, centres[labels], atol=1e-12)


@pytest.mark.parametrize("centers", [2, 3, 4, 8])
def test_blob_centres_are_six_apart_from_their_nearest_neighbour(centers):
    centres = datasets.blob_centers(centers)
    distances = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    np.testing.assert_allclose(distances.min(axis=1), 6.0)


def test_blobs_are_well_separated_at_default_noise():
    X, labels = datasets.make_blobs(n_samples=3000, centers=4, seed=1)
    centres = datasets.blob_centers(4)
    nearest = np.argmin(np.linalg.norm(X[:, None] - centres[None], axis=-1), axis=1)
    assert np.mean(nearest == labels) > 0.99


# --------------------------------------------------------------------------- sample_function


def test_sample_function_shapes_dtype_and_domain():
    X, Y = datasets.sample_function(np.sin, [(-np.pi, np.pi)], 500)
    assert X.shape == (500, 1) and Y.shape == (500, 1)
    assert X.dtype == np.float32 and Y.dtype == np.float32
    assert np.all((X >= -np.pi) & (X <= np.pi))
    # Uniform over the whole domain, not bunched in one corner.
    assert X.min() < -2.5 and X.max() > 2.5


def test_sample_function_without_noise_returns_fn_values():
    X, Y = datasets.sample_function(
        lambda x, y: x * np.exp(-y), [(-2, 2), (0, 1)], 300, dtype=np.float64
    )
    assert X.shape == (300, 2) and X.dtype == np.float64
    assert np.all((X[:, 1] >= 0) & (X[:, 1] <= 1))
    np.testing.assert_allclose(Y[:, 0], X[:, 0] * np.exp(-X[:, 1]), rtol=1e-12)


def test_sample_function_noise_is_gaussian_with_the_given_std():
    X, Y = datasets.sample_function(np.square, [(-1, 1)], 20000, noise=0.1, dtype=np.float64)
    residual = Y[:, 0] - X[:, 0] ** 2
    assert abs(residual.mean()) < 0.005
    assert abs(residual.std() - 0.1) < 0.005


def test_sample_function_is_deterministic_per_seed_and_differs_across_seeds():
    first = datasets.sample_function(np.sin, [(-1, 1)], 50, noise=0.1, seed=9)
    again = datasets.sample_function(np.sin, [(-1, 1)], 50, noise=0.1, seed=9)
    other = datasets.sample_function(np.sin, [(-1, 1)], 50, noise=0.1, seed=10)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_sample_function_accepts_a_bare_pair_and_a_constant_fn():
    X, Y = datasets.sample_function(lambda x: 2.5, (0, 1), 10)
    assert X.shape == (10, 1)
    np.testing.assert_array_equal(Y, np.full((10, 1), 2.5, dtype=np.float32))


# --------------------------------------------------------------------------- train_test_split


def test_split_sizes_follow_round_n_times_fraction():
    X = np.arange(1000).reshape(-1, 1)
    X_train, Y_train, X_test, Y_test = datasets.train_test_split(X, X, test_fraction=0.3)
    assert len(X_test) == len(Y_test) == 300
    assert len(X_train) == len(Y_train) == 700
    _, _, X_test, _ = datasets.train_test_split(X[:10], X[:10], test_fraction=0.26)
    assert len(X_test) == 3


def test_split_is_disjoint_covers_everything_and_keeps_rows_paired():
    X = np.arange(200).reshape(100, 2)
    Y = X[:, :1] * 10
    X_train, Y_train, X_test, Y_test = datasets.train_test_split(X, Y, 0.25, seed=4)
    train_ids, test_ids = set(X_train[:, 0]), set(X_test[:, 0])
    assert not train_ids & test_ids
    assert train_ids | test_ids == set(X[:, 0])
    np.testing.assert_array_equal(Y_train, X_train[:, :1] * 10)
    np.testing.assert_array_equal(Y_test, X_test[:, :1] * 10)


def test_split_is_deterministic_per_seed_and_differs_across_seeds():
    X = np.arange(100)
    first = datasets.train_test_split(X, X, seed=1)
    again = datasets.train_test_split(X, X, seed=1)
    other = datasets.train_test_split(X, X, seed=2)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert set(first[2]) != set(other[2])


@pytest.mark.parametrize("fraction", [0.001, 0.999])
def test_split_keeps_at_least_one_row_on_each_side(fraction):
    X = np.arange(5)
    X_train, _, X_test, _ = datasets.train_test_split(X, X, test_fraction=fraction)
    assert len(X_train) >= 1 and len(X_test) >= 1 and len(X_train) + len(X_test) == 5


def test_split_keeps_dtype():
    X, labels = datasets.make_moons(100)
    X_train, labels_train, _, _ = datasets.train_test_split(X, labels)
    assert X_train.dtype == np.float32 and labels_train.dtype == np.int64


# --------------------------------------------------------------------------- grid


def test_grid_reshaped_prediction_is_z_row_y_column_x():
    (xs, ys), X = datasets.grid([(-1, 1), (0, 3)], [5, 4])
    assert len(xs) == 5 and len(ys) == 4 and X.shape == (20, 2)
    z = (X[:, 0] * 10 + X[:, 1]).reshape(len(ys), len(xs))
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            assert z[j][i] == pytest.approx(x * 10 + y, abs=1e-5)


def test_grid_axes_are_linspace_including_endpoints():
    (xs, ys), X = datasets.grid([(-2, 2), (0, 1)], 50)
    np.testing.assert_allclose(xs, np.linspace(-2, 2, 50))
    np.testing.assert_allclose(ys, np.linspace(0, 1, 50))
    assert X.shape == (2500, 2) and X.dtype == np.float32


def test_grid_in_one_dimension_is_a_column():
    (xs,), X = datasets.grid([(-np.pi, np.pi)], 200)
    assert X.shape == (200, 1)
    np.testing.assert_allclose(X[:, 0], xs, rtol=1e-6)


# --------------------------------------------------------------------------- Standardizer


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_standardizer_round_trips_and_keeps_dtype(dtype):
    A = np.random.default_rng(0).normal([5.0, -3.0, 100.0], [2.0, 0.1, 30.0], (500, 3))
    A = A.astype(dtype)
    scaler = datasets.Standardizer().fit(A)
    Z = scaler.transform(A)
    assert Z.dtype == dtype
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-4)
    back = scaler.inverse_transform(Z)
    assert back.dtype == dtype
    np.testing.assert_allclose(back, A, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_standardizer_maps_a_constant_column_to_zero():
    A = np.column_stack([np.full(10, 7.0), np.arange(10.0)])
    Z = datasets.Standardizer().fit_transform(A)
    assert np.all(np.isfinite(Z))
    np.testing.assert_array_equal(Z[:, 0], 0.0)


@pytest.mark.parametrize(
    ("value", "dtype", "rows"),
    [
        (0.7, np.float64, 100),  # the field report: std 2.2e-16 from the rounded mean
        (0.7, np.float32, 100),
        (0.7, np.float16, 100),
        (-3.3, np.float64, 1000),
        (1e8 + 0.1, np.float64, 5000),
        (1e-300, np.float64, 64),
        (123456.789, np.float32, 777),
        (7, np.int64, 50),
    ],
)
def test_standardizer_treats_a_column_constant_up_to_rounding_as_constant(value, dtype, rows):
    column = np.full((rows, 1), value, dtype=dtype)
    scaler = datasets.Standardizer().fit(column)
    assert scaler.std[0] == 1.0
    out_dtype = dtype if np.dtype(dtype).kind == "f" else np.float64
    probe = np.array([[value], [value + 0.5]], dtype=out_dtype)
    Z = scaler.transform(probe)
    np.testing.assert_allclose(Z[:, 0], probe[:, 0] - probe[0, 0], atol=1e-12)
    assert Z[0, 0] == 0.0


def test_standardizer_float32_column_equal_up_to_float32_rounding_is_constant():
    sums = (np.arange(1, 201, dtype=np.float32) * np.float32(0.1)) / np.arange(1, 201) * 7
    column = sums.astype(np.float32)[:, None]  # 0.7 computed 200 ways: a few ulps apart
    assert column.max() > column.min()
    assert datasets.Standardizer().fit(column).std[0] == 1.0


def test_standardizer_still_scales_small_but_real_variation():
    tiny = np.array([[1e-30], [2e-30], [3e-30]])
    np.testing.assert_allclose(datasets.Standardizer().fit(tiny).std, [np.std([1, 2, 3]) * 1e-30])
    close = np.array([[1.0], [1.0 + 1e-9]], dtype=np.float64)  # ~4500 ulps apart in float64
    assert datasets.Standardizer().fit(close).std[0] == pytest.approx(5e-10)
    wide = np.column_stack([np.full(10, 0.7), np.arange(10.0)])
    scaler = datasets.Standardizer().fit(wide)
    assert scaler.std[0] == 1.0 and scaler.std[1] == pytest.approx(np.std(np.arange(10.0)))


def test_standardizer_refuses_to_transform_before_fit():
    with pytest.raises(RuntimeError, match="fit"):
        datasets.Standardizer().transform(np.ones((3, 2)))


def test_standardizer_refuses_a_different_column_count():
    scaler = datasets.Standardizer().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        scaler.transform(np.ones((3, 3)))


# --------------------------------------------------------------------------- load_mnist


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(folder: Path, kind: str, n: int, compress: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # make sure both ends of the scale occur
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    files = {
        f"{kind}-images-idx3-ubyte": idx_bytes(images, 0x803),
        f"{kind}-labels-idx1-ubyte": idx_bytes(labels, 0x801),
    }
    for name, data in files.items():
        if compress:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return images, labels


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("kind", ["train", "t10k"])
def test_load_mnist_reads_idx_files(tmp_path, compress, kind):
    images, labels = write_mnist(tmp_path, kind, 6, compress)
    X, y = datasets.load_mnist(tmp_path, kind=kind)
    assert X.shape == (6, 784) and X.dtype == np.float32
    assert y.shape == (6,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_allclose(X, images.reshape(6, 784) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_reports_the_missing_file(tmp_path):
    write_mnist(tmp_path, "train", 3, compress=False)
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        datasets.load_mnist(tmp_path, kind="t10k")
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_rejects_a_bad_magic_number(tmp_path):
    write_mnist(tmp_path, "train", 3, compress=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x08\x01" + path.read_bytes()[4:])
    with pytest.raises(ValueError, match="magic"):
        datasets.load_mnist(tmp_path)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_load_mnist_rejects_a_truncated_file(tmp_path, compress):
    images, _ = write_mnist(tmp_path, "train", 3, compress=False)
    data = idx_bytes(images, 0x803)[:-10]
    path = tmp_path / "train-images-idx3-ubyte"
    path.unlink()
    if compress:
        (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    with pytest.raises(ValueError, match="truncated"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_rejects_mismatched_counts(tmp_path):
    write_mnist(tmp_path, "train", 3, compress=False)
    labels = np.zeros(4, dtype=np.uint8)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels, 0x801))
    with pytest.raises(ValueError, match="labels"):
        datasets.load_mnist(tmp_path)


# --------------------------------------------------------------------------- bad arguments

BAD_ARGUMENTS = {
    "n_samples zero": (lambda: datasets.make_moons(n_samples=0), ValueError, "n_samples"),
    "n_samples float": (lambda: datasets.make_xor(n_samples=10.5), TypeError, "n_samples"),
    "n_samples negative": (lambda: datasets.make_blobs(n_samples=-5), ValueError, "n_samples"),
    "noise negative": (lambda: datasets.make_circles(noise=-0.1), ValueError, "noise"),
    "noise nan": (lambda: datasets.make_spiral(noise=math.nan), ValueError, "noise"),
    "noise string": (lambda: datasets.make_moons(noise="0.1"), TypeError, "noise"),
    "factor one": (lambda: datasets.make_circles(factor=1.0), ValueError, "factor"),
    "arms one": (lambda: datasets.make_spiral(arms=1), ValueError, "arms"),
    "centers one": (lambda: datasets.make_blobs(centers=1), ValueError, "centers"),
    "dtype int": (lambda: datasets.make_moons(dtype=np.int32), TypeError, "dtype"),
    "fn not callable": (
        lambda: datasets.sample_function("sin", [(0, 1)], 10),
        TypeError,
        "fn",
    ),
    "domain lo >= hi": (
        lambda: datasets.sample_function(np.sin, [(1, 1)], 10),
        ValueError,
        "domain",
    ),
    "domain too long for fn": (
        lambda: datasets.sample_function(np.sin, [(0, 1), (0, 1)], 10),
        ValueError,
        "domain",
    ),
    "domain too short for fn": (
        lambda: datasets.sample_function(lambda x, y: x + y, [(0, 1)], 10),
        ValueError,
        "domain",
    ),
    "domain empty": (lambda: datasets.sample_function(np.sin, [], 10), ValueError, "domain"),
    "domain not pairs": (
        lambda: datasets.sample_function(np.sin, [(0, 1, 2)], 10),
        ValueError,
        "domain",
    ),
    "sample n_samples zero": (
        lambda: datasets.sample_function(np.sin, [(0, 1)], 0),
        ValueError,
        "n_samples",
    ),
    "sample noise negative": (
        lambda: datasets.sample_function(np.sin, [(0, 1)], 10, noise=-1),
        ValueError,
        "noise",
    ),
    "fn wrong output shape": (
        lambda: datasets.sample_function(lambda x: np.ones(3), [(0, 1)], 10),
        ValueError,
        "fn",
    ),
    "fn non-finite": (
        lambda: datasets.sample_function(np.log, [(-1, 1)], 100),
        ValueError,
        "fn",
    ),
    "test_fraction zero": (
        lambda: datasets.train_test_split(np.ones(10), np.ones(10), test_fraction=0.0),
        ValueError,
        "test_fraction",
    ),
    "test_fraction one": (
        lambda: datasets.train_test_split(np.ones(10), np.ones(10), test_fraction=1.0),
        ValueError,
        "test_fraction",
    ),
    "split length mismatch": (
        lambda: datasets.train_test_split(np.ones(10), np.ones(9)),
        ValueError,
        "Y",
    ),
    "grid lo >= hi": (lambda: datasets.grid([(0, 1), (2, -2)], 10), ValueError, "domain"),
    "grid one point": (lambda: datasets.grid([(0, 1)], 1), ValueError, "points_per_axis"),
    "grid counts mismatch": (
        lambda: datasets.grid([(0, 1), (0, 1)], [5]),
        ValueError,
        "points_per_axis",
    ),
    "mnist kind": (lambda: datasets.load_mnist(".", kind="test"), ValueError, "kind"),
}


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_argument_raises_naming_it(case):
    call, error, name = BAD_ARGUMENTS[case]
    with pytest.raises(error, match=name):
        call()
