"""Output paths are checked before any work, and a gzip'ed IDX file inflates only as far as its
header declares: a training run is never lost to an unusable --out, and a small .gz in --data
cannot fill memory."""

from __future__ import annotations

import gzip
import struct
import tracemalloc
import zlib

import pytest

import lenet_draw.training.evaluate as evaluate_mod
import lenet_draw.training.train as train_mod
from lenet_draw.cli import main
from lenet_draw.training.data import IMAGES_MAGIC, MAX_IDX_BYTES, IdxError, read_idx


def _never(*a, **k):
    raise AssertionError("the work started although the output path is unusable")


@pytest.mark.parametrize(
    "out,words",
    [
        ("folder", "is a folder"),
        ("w.txt", "name a file ending in .pt, .pth or .safetensors"),
        ("nowhere/w.pt", "does not exist"),
    ],
)
def test_train_refuses_an_unusable_out_before_loading_data_or_training(tmp_path, monkeypatch, capsys, out, words):
    (tmp_path / "folder").mkdir()
    monkeypatch.setattr(train_mod, "load_split", _never)
    monkeypatch.setattr(train_mod, "train", _never)
    assert main(["train", "--data", str(tmp_path), "--epochs", "1", "--out", str(tmp_path / out)]) == 2
    msg = capsys.readouterr().err
    assert msg.startswith("lenet-draw: error: ") and words in msg and msg.count("\n") == 1


@pytest.mark.parametrize(
    "name,words", [("folder", "is a folder"), ("conf.xyz", "name a file ending in .png"), ("conf", "has no suffix")]
)
def test_eval_refuses_an_unusable_confusion_png_before_evaluating(tmp_path, monkeypatch, capsys, name, words):
    (tmp_path / "folder").mkdir()
    monkeypatch.setattr(evaluate_mod, "evaluate", _never)
    assert main(["eval", "--data", str(tmp_path), "--confusion-png", str(tmp_path / name)]) == 2
    msg = capsys.readouterr().err
    assert msg.startswith("lenet-draw: error: ") and words in msg


def test_eval_writes_the_confusion_matrix_in_the_format_its_suffix_names(tmp_path, mnist_dir):
    from PIL import Image

    path = tmp_path / "conf.jpg"
    assert main(["eval", "--data", str(mnist_dir), "--confusion-png", str(path)]) == 0
    with Image.open(path) as im:
        assert im.format == "JPEG"
    assert [p.name for p in tmp_path.iterdir()] == ["conf.jpg"]  # no temporary file left


def _gzip_bomb(path, declared=(10, 28, 28), inflated=64 * 2**20):
    """A .gz whose IDX header declares 7,840 bytes and whose stream inflates to 64 MB."""
    header = struct.pack(">I", IMAGES_MAGIC) + struct.pack(">III", *declared)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = comp.compress(header)
    chunk = b"\0" * 2**20
    for _ in range(inflated // len(chunk)):
        body += comp.compress(chunk)
    path.write_bytes(body + comp.flush())
    return path


def test_a_gzip_bomb_is_refused_inflating_no_more_than_its_header_declares(tmp_path):
    path = _gzip_bomb(tmp_path / "t10k-images-idx3-ubyte.gz")
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(IdxError, match="truncated or corrupt"):
            read_idx(path, IMAGES_MAGIC)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"{peak / 2**20:.0f} MB held while reading a file that declares 8 kB"


def test_a_header_that_declares_more_than_any_mnist_file_is_refused_before_inflating(tmp_path):
    huge = (60_000, 280, 280)
    assert 60_000 * 280 * 280 > MAX_IDX_BYTES
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(struct.pack(">I", IMAGES_MAGIC) + struct.pack(">III", *huge)))
    with pytest.raises(IdxError, match="declares 4486 MB of data"):
        read_idx(path, IMAGES_MAGIC)


def test_a_fifo_in_data_is_refused_without_blocking(tmp_path):
    import os

    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes")
    path = tmp_path / "t10k-images-idx3-ubyte"
    os.mkfifo(path)
    with pytest.raises(IdxError, match="not a regular file"):
        read_idx(path, IMAGES_MAGIC)
