"""A device that is not there does not stop the app: it starts on the best available device
and says what it did (``start_engine`` is what ``run_app`` runs; ``run_app`` itself is run too)."""

import pytest
from guihelpers import assert_views_show, fresh_prediction, settle
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from lenet_draw import devices
from lenet_draw.gui import app as app_module
from lenet_draw.gui.main_window import MainWindow
from lenet_draw.gui.testing import DIGIT_STROKES, draw_stroke, draw_strokes

AVAILABLE = devices.available_devices()
BEST = AVAILABLE[0]

# (asked for, the sentence that says why it cannot be used), for the devices this machine lacks.
MISSING = [
    (d, why)
    for d, why in [
        ("cuda", "CUDA was asked for but this machine has no usable CUDA GPU (or torch was built without CUDA)"),
        ("mps", "MPS was asked for but is not available on this machine"),
        ("tpu", "Unknown device 'tpu'; use auto, cpu, cuda or mps"),
    ]
    if not any(a.startswith(d) for a in AVAILABLE)
]


def test_fallback_order_is_the_best_device_then_the_cpu():
    assert app_module.fallback_device(["cuda"]) == "auto"
    assert app_module.fallback_device(["cuda", "auto"]) == "cpu"
    assert app_module.fallback_device(["cuda", "auto", "cpu"]) is None
    assert app_module.fallback_device(["auto"]) == "cpu"
    assert app_module.fallback_device(["auto", "cpu"]) is None


@pytest.fixture
def starting_window(qtbot, settings, dialogs):
    """The window as run_app shows it: no engine yet."""
    w = MainWindow(None, settings=settings)
    dialogs.install(w)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.mark.skipif(not MISSING, reason="this machine has every device the test would ask for")
@pytest.mark.parametrize("asked,why", MISSING, ids=[d for d, _ in MISSING])
def test_a_missing_device_falls_back_to_the_best_available_and_says_so(qtbot, starting_window, dialogs, asked, why):
    w = starting_window
    loader = app_module.start_engine(w, asked)
    try:
        qtbot.waitUntil(lambda: w.engine is not None, timeout=60000)
    finally:
        loader.wait()
    assert w.engine.device == BEST
    now = f"lenet-draw is running on {devices.describe(BEST)} instead."
    assert dialogs.errors == [("Device not available", f"{why}.\n\n{now}")]
    assert w.statusBar().currentMessage() == f"{why}. {now}"
    assert w.device_status.text() == f"Device: {devices.describe(BEST)}"
    checked = [a.data() for a in w.device_group.actions() if a.isChecked()]
    assert checked == [BEST]
    # It works: a digit drawn now is read, and the views show exactly that prediction.
    draw_strokes(w.canvas, DIGIT_STROKES[1])
    settle(qtbot, w)
    assert w.panel.prediction.digit == 1
    assert_views_show(w, fresh_prediction(w))


def test_a_device_that_fails_while_building_falls_back_and_names_it(qtbot, starting_window, dialogs, monkeypatch):
    """Not a DeviceError: a device that is listed but breaks when used (a driver gone bad)."""
    from lenet_draw import engine as engine_module

    real = engine_module.Engine

    class BrokenOnCuda(real):
        def __init__(self, weights=None, device="auto"):
            if device == "cuda":
                raise RuntimeError("CUDA error: no CUDA-capable device is detected")
            super().__init__(weights, device=device)

    monkeypatch.setattr(engine_module, "Engine", BrokenOnCuda)
    w = starting_window
    loader = app_module.start_engine(w, "cuda")
    try:
        qtbot.waitUntil(lambda: w.engine is not None, timeout=60000)
    finally:
        loader.wait()
    now = f"lenet-draw is running on {devices.describe(w.engine.device)} instead."
    why = "LeNet-5 could not run on cuda (CUDA error: no CUDA-capable device is detected)"
    assert dialogs.errors == [("Device not available", f"{why}.\n\n{now}")]
    assert w.statusBar().currentMessage() == f"{why}. {now}"
    assert w.engine.device == BEST  # "auto" works here: only the name "cuda" was made to fail


def test_when_no_device_works_the_window_says_lenet_could_not_start(qtbot, starting_window, dialogs, monkeypatch):
    from lenet_draw import engine as engine_module

    class Broken:
        def __init__(self, weights=None, device="auto"):
            raise RuntimeError(f"out of memory on {device}")

    monkeypatch.setattr(engine_module, "Engine", Broken)
    w = starting_window
    loader = app_module.start_engine(w, "cuda")
    try:
        qtbot.waitUntil(lambda: len(dialogs.errors) == 1, timeout=60000)
    finally:
        loader.wait()
    # cuda, then the best device, then the CPU were tried; the last failure is reported.
    assert dialogs.errors == [("LeNet-5 could not start", "out of memory on cpu")]
    assert w.statusBar().currentMessage() == "LeNet-5 could not start: out of memory on cpu"
    assert w.engine is None
    draw_stroke(w.canvas, DIGIT_STROKES[1][0])  # the canvas still draws; nothing crashes
    assert len(w.canvas.strokes()) == 1


def test_broken_bundled_weights_are_not_retried_on_other_devices(qtbot, starting_window, dialogs, monkeypatch):
    from lenet_draw import engine as engine_module
    from lenet_draw.weights import WeightsError

    tried = []
    sentence = "lenet5.pt is truncated: it ends before the data it announces."

    class BadWeights:
        def __init__(self, weights=None, device="auto"):
            tried.append(device)
            raise WeightsError(sentence)

    monkeypatch.setattr(engine_module, "Engine", BadWeights)
    w = starting_window
    loader = app_module.start_engine(w, "cpu")
    try:
        qtbot.waitUntil(lambda: len(dialogs.errors) == 1, timeout=60000)
    finally:
        loader.wait()
    assert tried == ["cpu"]
    assert dialogs.errors == [("LeNet-5 could not start", sentence)]


@pytest.mark.skipif(not MISSING, reason="this machine has every device the test would ask for")
@pytest.mark.parametrize("asked,why", MISSING, ids=[d for d, _ in MISSING])
def test_run_app_with_a_missing_device_starts_and_says_what_it_did(qtbot, tmp_path, asked, why):
    """The whole start-up as `lenet-draw --device cuda` (or a misspelt device) runs it."""
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    seen = {"errors": []}

    def watch():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not wins:
            QTimer.singleShot(5, watch)
            return
        w = wins[0]
        if "window" not in seen:
            seen["window"] = w
            w.show_error = lambda title, text: seen["errors"].append((title, text))
            draw_strokes(w.canvas, DIGIT_STROKES[1])
        if w.engine is None or w.predictor.pending() or not seen["errors"]:
            QTimer.singleShot(10, watch)
            return
        seen["device"] = w.engine.device
        seen["message"] = w.statusBar().currentMessage()
        seen["digit"] = w.panel.prediction.digit if w.panel.prediction else None
        w.close()

    QTimer.singleShot(0, watch)
    assert app_module.run_app(device=asked) == 0
    now = f"lenet-draw is running on {devices.describe(BEST)} instead."
    assert seen["device"] == BEST
    assert seen["errors"] == [("Device not available", f"{why}.\n\n{now}")]
    assert seen["message"] == f"{why}. {now}"
    assert seen["digit"] == 1
