"""MNIST's IDX files: reading and validating them, and finding the data folder."""

from __future__ import annotations

import gzip
import os
import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

#: Environment variable that names the MNIST folder, for tests and the CLI.
DATA_ENV = "LENET_DRAW_MNIST"

_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class IdxError(ValueError):
    """An IDX file is missing, truncated or not the kind expected."""


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (N, 28, 28) uint8, white ink on black
    labels: np.ndarray  # (N,) int64

    def __len__(self) -> int:
        return len(self.labels)


#: An IDX file may declare at most this much data (MNIST's training images: 47 MB).
MAX_IDX_BYTES = 256 * 2**20


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, inflated if gzip'ed, never more than its header declares (+1 byte, so
    a longer file is still seen as such): a small .gz that inflates to gigabytes costs nothing."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise IdxError(f"{path} is not a regular file.")
        with open(path, "rb") as f:
            head = f.read(2)
            f.seek(0)
            stream: BinaryIO = gzip.GzipFile(fileobj=f) if head == b"\x1f\x8b" else f  # type: ignore[assignment]
            header = stream.read(4)
            if len(header) < 4 or header[2] != 0x08 or not 1 <= header[3] <= 4:
                return header + stream.read(64)  # not an IDX header: read_idx says what is wrong
            header += stream.read(4 * header[3])
            if len(header) < 4 + 4 * header[3]:
                return header
            declared = int(np.prod(struct.unpack(">" + "I" * header[3], header[4:]), dtype=np.int64))
            if declared > MAX_IDX_BYTES:
                raise IdxError(
                    f"{path.name} declares {declared / 2**20:.0f} MB of data; more than {MAX_IDX_BYTES // 2**20} MB "
                    "is refused (MNIST's largest file holds 47 MB)."
                )
            return header + stream.read(declared + 1)
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise IdxError(f"Cannot read {path}: {exc}") from exc


def read_idx(path: str | os.PathLike, expect_magic: int | None = None) -> np.ndarray:
    """Read one IDX file (gzip or raw) of unsigned bytes into an array, checking its header."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 8:
        raise IdxError(f"{path.name} is too short to be an IDX file ({len(raw)} bytes).")
    magic = struct.unpack(">I", raw[:4])[0]
    if expect_magic is not None and magic != expect_magic:
        raise IdxError(
            f"{path.name} has magic number 0x{magic:08x}; expected 0x{expect_magic:08x} "
            f"({'images' if expect_magic == IMAGES_MAGIC else 'labels'})."
        )
    if magic >> 8 != 0x08:
        raise IdxError(f"{path.name} is not an IDX file of unsigned bytes (magic 0x{magic:08x}).")
    ndim = magic & 0xFF
    if not 1 <= ndim <= 4:
        raise IdxError(f"{path.name} declares {ndim} dimensions; expected 1 to 4.")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxError(f"{path.name} is truncated inside its header.")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    expected = int(np.prod(dims, dtype=np.int64))
    found = len(raw) - header
    if found != expected:
        raise IdxError(
            f"{path.name} declares {'x'.join(map(str, dims))} = {expected} bytes of data "
            f"but holds {found}; the file is truncated or corrupt."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def _find(folder: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise IdxError(f"{stem}(.gz) not found in {folder}.")


def load_split(folder: str | os.PathLike, split: str) -> Split:
    """Load 'train' or 'test' from a folder holding MNIST's four IDX files."""
    folder = Path(folder)
    img_stem, lbl_stem = _SPLIT_FILES[split]
    images = read_idx(_find(folder, img_stem), IMAGES_MAGIC)
    labels = read_idx(_find(folder, lbl_stem), LABELS_MAGIC)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise IdxError(f"{split} images have shape {images.shape}; expected (N, 28, 28).")
    if labels.ndim != 1 or len(labels) != len(images):
        raise IdxError(f"{split} has {len(images)} images but {labels.shape} labels.")
    if labels.size and labels.max() > 9:
        raise IdxError(f"{split} labels go up to {labels.max()}; MNIST labels are 0-9.")
    return Split(images=images, labels=labels.astype(np.int64))


def default_data_dir() -> Path | None:
    """The MNIST folder: $LENET_DRAW_MNIST, else ../shared/data/mnist beside the project."""
    env = os.environ.get(DATA_ENV)
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve().parent.parent
    candidates += [here.parent / "shared" / "data" / "mnist", Path.cwd().parent / "shared" / "data" / "mnist"]
    for c in candidates:
        try:
            _find(c, _SPLIT_FILES["test"][0])
        except IdxError:
            continue
        return c
    return None


def as_input(images_u8: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 MNIST -> (N, 32, 32) float32 ink in 0..1: the 28x28 field padded by 2,
    as preprocessing pads a drawing. The one MNIST-to-input transform: training, evaluation and
    the bench all use it; the weights' input convention is applied by whoever runs the network
    (``Engine.probabilities``, or ``train.to_input``)."""
    return np.pad(np.asarray(images_u8, dtype=np.float32) / 255.0, ((0, 0), (2, 2), (2, 2)))
