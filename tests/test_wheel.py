"""A plain `pip install .` must carry the bundled weights: build the wheel, install it into a
fresh virtual environment and load them from there."""

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))}\n{res.stdout}\n{res.stderr}"
    return res


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # a copy of the sources, so the build leaves nothing in the working tree
    src = out / "src"
    _run(["git", "-C", str(ROOT), "ls-files", "-z"])  # the repository is a git checkout
    _run([sys.executable, "-c",
          "import shutil,sys; shutil.copytree(sys.argv[1], sys.argv[2], ignore=shutil.ignore_patterns("
          "'.venv*', '.git', 'build', 'dist', '*.egg-info', '__pycache__', '.pytest_cache'))",
          str(ROOT), str(src)])
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)])
    wheels = list(out.glob("lenet_draw-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_contains_the_weights(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "lenet_draw/resources/lenet5.pt" in names
    assert "lenet_draw/engine.py" in names


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
    res = _run([str(py), "-c", code], cwd=tmp_path)
    module, weights, acc = res.stdout.strip().splitlines()
    assert Path(module).is_relative_to(venv)
    assert Path(weights).is_relative_to(venv) and Path(weights).is_file()
    assert float(acc) > 0
