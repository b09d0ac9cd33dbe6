"""Files the app writes are replaced in one step: a kill or a failure mid-write leaves the old
file whole (or the new one), never a truncated one, and no temporary file behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lenet_draw import atomic
from lenet_draw.atomic import OutputPathError, check_output_path, write_atomic
from lenet_draw.model import LeNet5
from lenet_draw.weights import load_weights, save_weights

REPO = Path(__file__).resolve().parents[2]


def _state(seed: int):
    torch.manual_seed(seed)
    return LeNet5().state_dict()


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_a_save_that_fails_midway_leaves_the_old_weights_whole(tmp_path, monkeypatch, suffix):
    path = save_weights(tmp_path / f"w{suffix}", _state(1))
    old = path.read_bytes()

    real = atomic.os.replace

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(OSError):
        save_weights(path, _state(2))
    monkeypatch.setattr(atomic.os, "replace", real)
    assert path.read_bytes() == old
    assert _leftovers(tmp_path) == []
    load_weights(path)


def test_an_exception_inside_the_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old content")

    def write(f):
        f.write(b"new, but only half")
        raise RuntimeError("the writer failed")

    with pytest.raises(RuntimeError):
        write_atomic(path, write)
    assert path.read_bytes() == b"old content"
    assert _leftovers(tmp_path) == []


def test_the_replaced_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "w.pt"
    save_weights(path, _state(1))
    os.chmod(path, 0o640)
    save_weights(path, _state(2))
    assert (path.stat().st_mode & 0o777) == 0o640


_SAVER = r"""
import sys, torch
from lenet_draw.model import LeNet5
from lenet_draw.weights import save_weights
path = sys.argv[1]
states = [LeNet5().state_dict() for _ in range(2)]
print("ready", flush=True)
i = 0
while True:  # overwrite the same file as fast as it can, until killed
    save_weights(path, states[i % 2])
    i += 1
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_killing_a_process_while_it_overwrites_weights_never_leaves_a_broken_file(tmp_path):
    path = save_weights(tmp_path / "w.pt", _state(0))
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    for delay in (0.2,):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE, env=env)
        try:
            assert proc.stdout.readline().strip() == b"ready"
            time.sleep(delay)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        assert path.stat().st_size > 100_000
        load_weights(path)  # whole: the old weights or the new ones


@pytest.mark.parametrize(
    "make,suffixes,words",
    [
        (lambda d: d, (), "is a folder"),
        (lambda d: d / "missing" / "w.pt", (), "does not exist"),
        (lambda d: d / "w.txt", (".pt", ".pth", ".safetensors"), "name a file ending in .pt, .pth or .safetensors"),
        (lambda d: d / "w", (".png",), "has no suffix"),
    ],
    ids=["folder", "missing folder", "unknown suffix", "no suffix"],
)
def test_an_output_path_is_checked_before_any_work(tmp_path, make, suffixes, words):
    with pytest.raises(OutputPathError) as info:
        check_output_path(make(tmp_path), suffixes)
    msg = str(info.value)
    assert words in msg and msg.endswith(".") and "\n" not in msg
    assert list(tmp_path.iterdir()) == []  # nothing created


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null")
def test_a_device_is_not_an_output_file():
    with pytest.raises(OutputPathError, match="not a regular file"):
        check_output_path("/dev/null")
