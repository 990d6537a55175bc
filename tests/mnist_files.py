"""Small synthetic MNIST IDX files for tests (the app never downloads MNIST)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np


def write_idx(folder: Path, kind: str, images: np.ndarray, labels: np.ndarray) -> None:
    """IDX files as MNIST ships them (images gzipped, to cover both spellings)."""
    header = struct.pack(">IIII", 2051, len(images), 28, 28)
    with gzip.open(folder / f"{kind}-images-idx3-ubyte.gz", "wb") as file:
        file.write(header + images.astype(np.uint8).tobytes())
    (folder / f"{kind}-labels-idx1-ubyte").write_bytes(
        struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()
    )


def synthetic_mnist(folder: Path, n_train: int = 300, n_test: int = 100) -> Path:
    """Digits as bars: class k lights row 2k+4 of the 28×28 image (plus noise)."""
    rng = np.random.default_rng(0)
    for kind, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 40, (n, 28, 28))
        images[np.arange(n), 2 * labels + 4, 4:24] = 250
        write_idx(folder, kind, images, labels)
    return folder
