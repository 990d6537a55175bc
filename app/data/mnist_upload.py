"""MNIST by upload: the four IDX files sent from the page become the task ``mnist``.

``POST /api/mnist`` takes the four files of MNIST (train and t10k images and labels, raw or
gzipped, under any names) as the multipart field ``files``. Each is recognised by its IDX header
(magic number 2051 for images, 2049 for labels) and, train or test, by its name (``train`` /
``t10k`` or ``test``), else by its count (the larger set is the training set). They are written
with their standard names to the ``mnist`` folder of the data directory, read once with
`network.datasets.load_mnist` (so a bad file is refused with the reason), and the app offers the
task ``mnist`` from then on, also after a restart on the same data directory. Nothing is ever
downloaded.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import struct
import tempfile
from pathlib import Path

from app.data.tasks import mnist_files_present
from app.settings import data_dir as default_data_dir
from network import datasets

MAX_MNIST_BYTES = 64 * 1024 * 1024  # the four raw files are ~55 MB (~11 MB gzipped)
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
HEADER_BYTES = 8  # magic number and item count, big-endian
IMAGES_HEADER_BYTES = 16  # and rows and columns


class MnistUploadError(ValueError):
    """The uploaded files are not MNIST's four IDX files; the message says which and why."""


def mnist_folder(config: dict) -> Path:
    """Where uploaded IDX files live: ``mnist`` in the data directory (a new temporary folder
    for a TESTING app without a data directory, so tests never write into the project)."""
    data_dir = config.get("DATA_DIR") or os.environ.get("BACKPROP_DATA_DIR")
    if data_dir is None and config.get("TESTING"):
        return Path(tempfile.mkdtemp(prefix="backprop-mnist-"))
    return default_data_dir(config) / "mnist"


def _header(name: str, data: bytes) -> tuple[str, int]:
    """("images" | "labels", item count) from the IDX header of one file (gzipped or not);
    images must be 28×28."""
    try:
        if data[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                head = unzipped.read(IMAGES_HEADER_BYTES)
        else:
            head = data[:IMAGES_HEADER_BYTES]
    except (OSError, EOFError) as error:
        raise MnistUploadError(f"{name}: not a readable gzip file ({error})") from None
    if len(head) < HEADER_BYTES:
        raise MnistUploadError(f"{name}: too short for an IDX file")
    magic, count = struct.unpack(">II", head[:HEADER_BYTES])
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        raise MnistUploadError(
            f"{name}: not an MNIST IDX file (magic number {magic}; images have 2051, labels 2049)"
        )
    if magic == LABELS_MAGIC:
        return "labels", count
    if len(head) < IMAGES_HEADER_BYTES:
        raise MnistUploadError(f"{name}: too short for an IDX file of images")
    rows, cols = struct.unpack(">II", head[HEADER_BYTES:])
    if (rows, cols) != (28, 28):
        raise MnistUploadError(f"{name}: images of {rows}×{cols} pixels; MNIST's are 28×28")
    return "images", count


def _split(name: str) -> str | None:
    """The split a file name names ("train" or "t10k"), else None."""
    lowered = name.lower()
    if "train" in lowered:
        return "train"
    if "t10k" in lowered or "test" in lowered:
        return "t10k"
    return None


def _standard_names(files: list[tuple[str, bytes]]) -> dict[str, bytes]:
    """The four files under their standard names (``train-images-idx3-ubyte[.gz]`` ...)."""
    if len(files) != 4:
        raise MnistUploadError(
            f"send the four MNIST files (train and t10k images and labels), got {len(files)}"
        )
    by_what: dict[str, list[tuple[str, int, str, bytes]]] = {"images": [], "labels": []}
    for name, data in files:
        what, count = _header(name, data)
        by_what[what].append((name, count, _split(name) or "", data))
    counts = {what: len(found) for what, found in by_what.items()}
    if counts != {"images": 2, "labels": 2}:
        raise MnistUploadError(
            f"got {counts['images']} images and {counts['labels']} labels files: send the train "
            "and t10k images and the train and t10k labels"
        )
    named: dict[str, bytes] = {}
    for what, found in by_what.items():
        if found[0][3] == found[1][3]:
            raise MnistUploadError(f"the same file twice ({found[0][0]}, {found[1][0]}): "
                                   f"send the train and the t10k {what}")  # fmt: skip
        splits = [split for _name, _count, split, _data in found]
        if sorted(splits) != ["t10k", "train"]:  # names do not tell: the larger set trains
            found.sort(key=lambda item: -item[1])
            splits = ["train", "t10k"]
        for (_name, _count, _split_name, data), split in zip(found, splits, strict=True):
            end = ".gz" if data[:2] == b"\x1f\x8b" else ""
            idx = "idx3-ubyte" if what == "images" else "idx1-ubyte"
            named[f"{split}-{what}-{idx}{end}"] = data
    return named


def store_mnist(files: list[tuple[str, bytes]], folder: Path) -> None:
    """Replace the MNIST files of `folder` by the uploaded ones, under their standard names, once
    `network.datasets.load_mnist` has read all four; `MnistUploadError` (naming the files as
    sent) if not, and then `folder` is left as it was.

    The files are written to a new folder beside `folder` and checked there; only then each is
    renamed into `folder` (`os.replace`, atomic on one file system) and the earlier upload's
    files of other names (raw vs gzipped) are removed.
    """
    named = _standard_names(files)
    sent = {standard: name for standard, name in zip(named, _sent_names(files, named), strict=True)}
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".mnist-upload-", dir=folder.parent))
    try:
        for name, data in named.items():
            (staging / name).write_bytes(data)
        _check_readable(staging, sent)
        for name in named:
            os.replace(staging / name, folder / name)
        for old in folder.glob("*-idx?-ubyte*"):
            if old.name not in named:
                old.unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not mnist_files_present(folder):  # the names written are the ones the task looks for
        raise MnistUploadError("the files could not be stored under their standard names")


def _sent_names(files: list[tuple[str, bytes]], named: dict[str, bytes]) -> list[str]:
    """The name each standard file was sent under (matched by its bytes)."""
    by_data = {id(data): name for name, data in files}
    return [by_data.get(id(data), "?") for data in named.values()]


def _check_readable(staging: Path, sent: dict[str, str]) -> None:
    """`MnistUploadError` unless `load_mnist` reads both splits of `staging` with digit labels;
    the message names the files as sent (`sent`: standard name -> sent name), never a path."""
    try:
        for kind in ("train", "t10k"):
            _images, labels = datasets.load_mnist(staging, kind)
            if labels.size and (labels.min() < 0 or labels.max() > 9):
                raise ValueError(f"{kind} labels must be digits 0-9")
    except (OSError, ValueError, EOFError) as error:
        message = str(error)
        for standard, name in sent.items():
            message = message.replace(str(staging / standard), repr(name))
        message = message.replace(str(staging), "the upload")
        raise MnistUploadError(message) from None
