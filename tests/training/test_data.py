import gzip
import struct

import numpy as np
import pytest

from lenet_draw.training.data import IMAGES_MAGIC, LABELS_MAGIC, IdxError, load_split, read_idx


def _idx(magic, dims, payload: bytes) -> bytes:
    return struct.pack(">I", magic) + struct.pack(">" + "I" * len(dims), *dims) + payload


def test_reads_raw_and_gzip(tmp_path):
    data = np.arange(2 * 28 * 28, dtype=np.uint8).tobytes()
    raw = _idx(IMAGES_MAGIC, (2, 28, 28), data)
    (tmp_path / "a").write_bytes(raw)
    (tmp_path / "a.gz").write_bytes(gzip.compress(raw))
    for name in ("a", "a.gz"):
        arr = read_idx(tmp_path / name, IMAGES_MAGIC)
        assert arr.shape == (2, 28, 28)
        assert arr.tobytes() == data


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "too short"),
        (_idx(LABELS_MAGIC, (3,), b"\x01\x02\x03"), "expected 0x00000803"),
        (_idx(IMAGES_MAGIC, (2, 28, 28), b"\x00" * 100), "truncated"),
        (_idx(IMAGES_MAGIC, (2, 28, 28), b"\x00" * (2 * 784 + 5)), "holds"),
        (b"\x00\x00\x0d\x03" + b"\x00" * 20, "magic number 0x00000d03"),
    ],
)
def test_bad_files_are_refused_clearly(tmp_path, content, words):
    p = tmp_path / "bad"
    p.write_bytes(content)
    with pytest.raises(IdxError, match=words):
        read_idx(p, IMAGES_MAGIC)


def test_corrupt_gzip_is_an_idx_error(tmp_path):
    p = tmp_path / "bad.gz"
    p.write_bytes(gzip.compress(b"x" * 1000)[:30])
    with pytest.raises(IdxError):
        read_idx(p)


def test_images_and_labels_must_agree(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx(IMAGES_MAGIC, (2, 28, 28), b"\x00" * 1568))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(LABELS_MAGIC, (3,), b"\x01\x02\x03"))
    with pytest.raises(IdxError, match="2 images"):
        load_split(tmp_path, "test")


def test_real_mnist_test_split(mnist_test):
    assert mnist_test.images.shape == (10_000, 28, 28)
    assert mnist_test.images.dtype == np.uint8
    assert np.bincount(mnist_test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_non_byte_idx_is_refused_without_expected_magic(tmp_path):
    p = tmp_path / "floats"
    p.write_bytes(b"\x00\x00\x0d\x01" + struct.pack(">I", 1) + b"\x00" * 4)
    with pytest.raises(IdxError, match="unsigned bytes"):
        read_idx(p)
