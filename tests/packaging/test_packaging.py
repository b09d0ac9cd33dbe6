"""The packaged app, built from this working tree and used as a person who downloaded it would.

Builds with `python packaging/build.py` into a temporary folder, unpacks the archive it made
into another, and runs the unpacked app: its self-test offscreen, a custom weights file opened
by the window, a corrupt one, the command line, the Linux desktop entry. Select or skip these
with `-m packaging` / `-m "not packaging"`; they skip only when PyInstaller is not installed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
#: Size budget of the Linux bundle (the README quotes the measured sizes).
MAX_FOLDER_MB = 600
MAX_ARCHIVE_MB = 250


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip("PyInstaller is not installed (pip install -e '.[package]'), so the app cannot be packaged")
    tmp = tmp_path_factory.mktemp("packaged")
    build = subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "build.py"),
            "--dist",
            str(tmp / "dist"),
            "--work",
            str(tmp / "build"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-5000:]
    archives = [p for p in (tmp / "dist").iterdir() if p.name.endswith((".tar.gz", ".zip"))]
    assert len(archives) == 1, archives
    archive = archives[0]
    unpacked = tmp / "unpacked"
    if archive.name.endswith(".tar.gz"):
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="tar")
    else:
        with zipfile.ZipFile(archive) as z:
            z.extractall(unpacked)
    folder = unpacked / "lenet-draw"
    if sys.platform == "darwin":
        exe = unpacked / "lenet-draw.app" / "Contents" / "MacOS" / "lenet-draw"
    else:
        exe = folder / ("lenet-draw.exe" if sys.platform == "win32" else "lenet-draw")
    assert exe.is_file(), sorted(p.name for p in unpacked.rglob("*"))[:50]
    home = tmp / "home"
    home.mkdir()
    return SimpleNamespace(
        exe=exe,
        folder=exe.parent,
        archive=archive,
        built=tmp / "dist" / "lenet-draw",
        home=home,
        tmp=tmp,
        build_output=build.stdout,
    )


def run_app(packaged, *args, offscreen=True, timeout=300):
    """Run the unpacked app as a user with an empty home; the bundle must stay untouched."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "XDG_"))}
    env.update(
        HOME=str(packaged.home),
        USERPROFILE=str(packaged.home),
        LOCALAPPDATA=str(packaged.home / "AppData"),
        XDG_STATE_HOME=str(packaged.home / "state"),
        XDG_CONFIG_HOME=str(packaged.home / "config"),
    )
    if offscreen:
        env["QT_QPA_PLATFORM"] = "offscreen"
    else:
        env.pop("QT_QPA_PLATFORM", None)
    before = _snapshot(packaged.folder)
    proc = subprocess.run(
        [str(packaged.exe), *map(str, args)], env=env, capture_output=True, text=True, timeout=timeout, cwd=packaged.tmp
    )
    assert _snapshot(packaged.folder) == before, "the app wrote inside its own folder"
    return proc


def log_text(packaged) -> str:
    if sys.platform == "win32":
        log = packaged.home / "AppData" / "lenet-draw" / "Logs" / "lenet-draw.log"
    elif sys.platform == "darwin":
        log = packaged.home / "Library" / "Logs" / "lenet-draw" / "lenet-draw.log"
    else:
        log = packaged.home / "state" / "lenet-draw" / "lenet-draw.log"
    return log.read_text(encoding="utf-8") if log.exists() else ""


def swapped_weights(path: Path) -> Path:
    """The bundled weights with the output rows for 1 and 7 swapped: a 7 then reads as 1."""
    from lenet_draw.engine import Engine
    from lenet_draw.weights import save_weights

    w = Engine(device="cpu").weights
    sd = {k: v.clone() for k, v in w.state_dict.items()}
    for k in ("output.weight", "output.bias"):
        sd[k][[1, 7]] = sd[k][[7, 1]]
    return save_weights(path, sd, w.convention, {"test_accuracy": 12.5})


def test_the_packaged_self_test_passes_offscreen(packaged):
    proc = run_app(packaged, "--self-test")
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "self-test (packaged app" in out
    assert "device: CPU (cpu)" in out
    for digit in (0, 1, 4, 7):
        assert f"ok   digit {digit} " in out
    assert "ok   window shown, canvas drawable" in out
    assert "ok   drew a 7 on the canvas with the mouse" in out
    assert "ok   bundled weights reloaded through the window" in out
    assert "ok   window closed" in out
    assert out.rstrip().splitlines()[-1].startswith("self-test passed")
    assert "Traceback" not in out + proc.stderr
    assert "lenet-draw started" in log_text(packaged)  # the log lives in the user's folder


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_the_packaged_app_opens_a_custom_weights_file(packaged, suffix):
    custom = swapped_weights(packaged.tmp / f"custom{suffix}")
    proc = run_app(packaged, "--self-test", custom)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert f"ok   weights file {custom}: opened by the window" in out
    assert "test accuracy 12.50%" in out
    assert "the window now reads the 7 as 1" in out  # the file's weights are the ones in use
    assert f"custom{suffix}" in out  # in the window title


def test_a_corrupt_weights_file_gets_the_clear_error_not_a_traceback(packaged):
    bad = packaged.tmp / "cut-short.pt"
    from lenet_draw.resources import bundled_weights_path

    bad.write_bytes(bundled_weights_path().read_bytes()[:4000])
    proc = run_app(packaged, "--self-test", bad)
    both = proc.stdout + proc.stderr
    assert proc.returncode == 1, both
    assert "FAIL weights file" in proc.stdout
    assert "cut-short.pt is not a readable weights file: it may be truncated or in another format." in proc.stdout
    assert "The previous weights are still in use." in proc.stdout
    assert "Traceback" not in both and "Traceback" not in log_text(packaged)


def test_the_packaged_command_line(packaged):
    from PIL import Image

    from lenet_draw import __version__
    from lenet_draw.preprocess import preprocess_strokes
    from lenet_draw.selftest import builtin_drawings

    proc = run_app(packaged, "--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"lenet-draw {__version__}"

    seven = next(d for d in builtin_drawings() if d.digit == 7)
    ink = preprocess_strokes([list(s) for s in seven.strokes]).centred
    png = packaged.tmp / "seven.png"
    Image.fromarray((255 - ink * 255).astype(np.uint8)).resize((112, 112)).save(png)  # dark ink on white paper
    proc = run_app(packaged, "predict", png)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith(f"{png}: 7 (")

    proc = run_app(packaged, "predict", packaged.tmp / "missing.png")
    assert proc.returncode == 1 and "missing.png: cannot read image" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_training_is_left_to_the_python_install(packaged, mnist_dir):
    proc = run_app(
        packaged, "train", "--data", mnist_dir, "--epochs", "1", "--limit", "256", "--out", packaged.tmp / "t.pt"
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "which the packaged app leaves out. Run this command from a Python install" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (packaged.tmp / "t.pt").exists()
    # evaluation and measurement are not bundled either: the commands say so
    for args in (("eval", "--data", mnist_dir), ("bench", "--quick")):
        proc = run_app(packaged, *args)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "which the packaged app leaves out" in proc.stderr and "lenet_draw." in proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the desktop entry is for Linux desktops")
def test_the_linux_desktop_entry_installs_for_the_user(packaged, tmp_path):
    data = tmp_path / "share"
    env = dict(os.environ, XDG_DATA_HOME=str(data), HOME=str(tmp_path))
    proc = subprocess.run([str(packaged.folder / "install-desktop-entry.sh")], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    entry = (data / "applications" / "lenet-draw.desktop").read_text()
    assert f'Exec="{packaged.exe}" %f' in entry.splitlines()
    assert "Icon=lenet-draw" in entry and "Type=Application" in entry
    icon = data / "icons" / "hicolor" / "256x256" / "apps" / "lenet-draw.png"
    from PIL import Image

    with Image.open(icon) as im:
        assert im.size == (256, 256)
    validate = shutil.which("desktop-file-validate")
    if validate:
        check = subprocess.run(
            [validate, str(data / "applications" / "lenet-draw.desktop")], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the budget is measured for the Linux bundle")
def test_the_bundle_stays_within_its_size_budget(packaged):
    folder = sum(p.stat().st_size for p in packaged.built.rglob("*") if p.is_file() and not p.is_symlink())
    archive = packaged.archive.stat().st_size
    assert folder <= MAX_FOLDER_MB * 1e6, f"folder {folder / 1e6:.0f} MB"
    assert archive <= MAX_ARCHIVE_MB * 1e6, f"archive {archive / 1e6:.0f} MB"
    # nothing of torch's test suite, CUDA, or the compiler stack made it in
    names = {p.name for p in packaged.built.rglob("*") if p.is_file()}
    assert not {n for n in names if n.startswith(("libcudart", "libcudnn", "libtorch_cuda", "libtorchbind_test"))}
    assert not (packaged.built / "_internal" / "torch" / "test").exists()
    assert not (packaged.built / "_internal" / "sympy").exists()
