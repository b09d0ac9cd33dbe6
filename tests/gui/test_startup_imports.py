"""The window comes up before torch is imported: the start-up path imports no torch, and the
app never imports the training or measurement rooms (import-linter checks the static graph;
this checks what really runs)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, sys, time
from PySide6.QtCore import QSettings
from lenet_draw.gui.app import make_application
from lenet_draw.gui.main_window import MainWindow

app = make_application()
window = MainWindow(None, settings=QSettings(sys.argv[1], QSettings.Format.IniFormat))
ready = []
window.drawable.connect(lambda: ready.append(True))
window.show()
end = time.time() + 20
while not ready and time.time() < end:
    app.processEvents()
mods = sorted(sys.modules)
print(json.dumps({
    "drawable": bool(ready),
    "torch": [m for m in mods if m == "torch" or m.startswith("torch.")][:5],
    "rooms": [m for m in mods if m.startswith(("lenet_draw.training", "lenet_draw.bench"))],
}))
window.close()
"""


def test_the_window_is_drawable_before_torch_is_imported(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "s.ini")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["drawable"], "the canvas was never painted"
    assert seen["torch"] == [], f"start-up imported torch: {seen['torch']}"
    assert seen["rooms"] == [], f"the app imported training or measurement code: {seen['rooms']}"


def test_the_app_command_line_path_imports_no_training_or_measurement(tmp_path):
    code = (
        "import sys, contextlib, io; from lenet_draw import cli; cli.build_app_parser(); import lenet_draw.gui.app, "
        "lenet_draw.selftest\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    cli.main(['--version']); cli.main(['predict', 'no-such-file.png'])\n"
        "print([m for m in sys.modules if m.startswith(('lenet_draw.training', 'lenet_draw.bench'))])"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "[]"
