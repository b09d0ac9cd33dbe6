"""A plain `pip install .` must carry the bundled weights: build the wheel, install it into a
fresh virtual environment and load them from there."""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]


def _run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))}\n{res.stdout}\n{res.stderr}"
    return res


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # a copy of the tracked sources only (what a clone has), so the build leaves nothing in the
    # working tree and a stray untracked file cannot make the wheel look complete
    src = out / "src"
    tracked = _run(["git", "-C", str(ROOT), "ls-files", "-z"]).stdout.split("\0")
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)])
    wheels = list(out.glob("lenet_draw-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_contains_the_weights(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "lenet_draw/resources/lenet5.pt" in names
    assert "lenet_draw/engine.py" in names
    # the Python install keeps train, eval and bench (the packaged app leaves them out)
    assert "lenet_draw/training/train.py" in names and "lenet_draw/bench/figures.py" in names


def test_installed_wheel_loads_the_bundled_weights(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    py = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)])
    # dependencies (torch, numpy, pillow) come from this environment; lenet_draw from the wheel
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    code = (
        "import lenet_draw, lenet_draw.resources as r; from lenet_draw.engine import Engine;"
        "e = Engine(device='cpu'); print(lenet_draw.__file__); print(r.bundled_weights_path());"
        "print(e.weights.test_accuracy)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}  # the wheel, not a checkout
    res = _run([str(py), "-c", code], cwd=tmp_path, env=clean)
    module, weights, acc = res.stdout.strip().splitlines()
    assert Path(module).is_relative_to(venv)
    assert Path(weights).is_relative_to(venv) and Path(weights).is_file()
    assert float(acc) > 0
