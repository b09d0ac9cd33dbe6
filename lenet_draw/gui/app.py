"""Start-up: show a window you can draw in first, load torch and the weights behind it.

Importing torch takes well over a second; the window does not wait for it. The engine is built
on a background thread while the first frame is painted and the person can already draw; a
stroke drawn before the engine is ready is predicted as soon as it is (the Predictor keeps the
request pending). Weights named on the command line then go through the same
``MainWindow.open_weights`` the menu and drag-and-drop use.

A device that is not there (``--device cuda`` on a machine without CUDA, a misspelt name, a
GPU whose driver fails) does not stop the app: the engine is built on the best available
device instead, then on the CPU, and the window says what was asked for and what it runs on.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Callable, NoReturn

from PySide6.QtCore import QSettings, QThread, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from lenet_draw.errors import DeviceError, WeightsError
from lenet_draw.gui.main_window import MainWindow
from lenet_draw.resources import resource_path

APP_NAME = "lenet-draw"


class EngineLoader(QThread):
    """Builds an Engine (imports torch, reads the weights, warms up) off the GUI thread."""

    loaded = Signal(object)
    failed = Signal(object)  # the exception

    def __init__(self, device: str = "auto", weights=None, parent=None) -> None:
        super().__init__(parent)
        self.device = device
        self.weights = weights

    def run(self) -> None:
        try:
            from lenet_draw.engine import Engine

            engine = Engine(self.weights, device=self.device)
            engine.predict_strokes([[(0.0, 0.0), (1.0, 1.0)]])  # first call pays one-off set-up costs
        except Exception as exc:  # reported on the GUI thread
            self.failed.emit(exc)
            return
        self.loaded.emit(engine)


#: After the asked-for device fails: the best available one, then the CPU.
FALLBACK_DEVICES = ("auto", "cpu")


def fallback_device(tried: list[str]) -> str | None:
    """The device to try after every device in ``tried`` failed, or None when none is left."""
    return next((d for d in FALLBACK_DEVICES if d not in tried), None)


#: The longest the engine loader waits for the window's first frame before it starts anyway.
LOADER_WAIT_MS = 1000


def start_engine(window: MainWindow, device: str = "auto", weights: str | None = None) -> EngineLoader:
    """Build the engine off the GUI thread and hand it to ``window`` (started from the event loop).

    When the device fails, the engine is built on the next of ``fallback_device``; once it runs,
    a dialog and the status bar say which device was asked for, why it failed and which one is
    in use. A failure no device can fix (the bundled weights, torch itself) is reported as such.
    Weights named on the command line are opened once the engine is ready.
    """
    loader = EngineLoader(device)
    tried: list[str] = []
    first_failure: list[tuple[str, Exception]] = []

    def on_loaded(engine) -> None:
        window.set_engine(engine)
        if first_failure:
            asked, exc = first_failure[0]
            if isinstance(exc, DeviceError):  # its sentence names the device
                why = str(exc).rstrip(".")
            else:
                why = f"LeNet-5 could not run on {asked} ({str(exc).rstrip('.')})"
            now = f"lenet-draw is running on {engine.describe_device()} instead."
            window.announce(f"{why}. {now}")
            window.show_error("Device not available", f"{why}.\n\n{now}")
        if weights:
            window.open_weights(weights)

    def on_failed(exc: Exception) -> None:
        tried.append(loader.device)
        next_device = None if isinstance(exc, (WeightsError, ImportError)) else fallback_device(tried)
        if next_device is not None:
            if not first_failure:
                first_failure.append((loader.device, exc))
            loader.wait()
            loader.device = next_device
            loader.start()
            return
        window.show_error("LeNet-5 could not start", str(exc))
        window.statusBar().showMessage(f"LeNet-5 could not start: {exc}")

    loader.loaded.connect(on_loaded)
    loader.failed.connect(on_failed)
    started: list[bool] = []

    def begin() -> None:
        if not started:
            started.append(True)
            loader.start()

    # Importing torch on the loader thread holds the interpreter's lock for long stretches, and
    # painting the window takes it back at every call into Qt: begun together, the first frame
    # waited on the import (0.7 s more to a drawable window on a 2-core machine). So the loader
    # starts once the window has been painted, or after LOADER_WAIT_MS if it never is.
    if window.painted:
        QTimer.singleShot(0, begin)
    else:
        window.drawable.connect(begin)
        QTimer.singleShot(LOADER_WAIT_MS, window, begin)
    return loader


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    icon = _icon_path()
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))
    return app


def _icon_path() -> Path | None:
    try:
        path = resource_path("icon.png")
    except FileNotFoundError:
        return None
    return path if path.is_file() else None


def exit_now(status: int) -> NoReturn:
    """End the process at once, without the interpreter's teardown.

    Everything worth keeping is saved when the window closes (layout and settings are synced
    in its closeEvent). Unloading torch and Qt and collecting their objects afterwards took
    1.6-1.8 s on a 2-core machine, with the window already gone and nothing to show for it.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # a closed or broken stream must not keep the process alive
            pass
    os._exit(status)


def run_app(
    weights: str | None = None,
    device: str = "auto",
    settings: QSettings | None = None,
    on_window: Callable[[MainWindow], None] | None = None,
    exit_process: bool = False,
) -> int:
    """Show the window and run until it closes; returns the exit status.

    ``settings`` replaces the user's settings; ``on_window`` is called with the window before
    it is shown (the bench's launch probe watches it this way; the app itself passes neither).
    With ``exit_process`` (the app) the process ends as soon as the window has closed, even
    while torch is still loading behind it; without it (tests), the engine loader is waited for
    and the function returns.
    """
    # One thread is the fastest way to run a model this small. Measured on a 2-core machine
    # busy with other work: 1.8 ms median per prediction with one thread, 88 ms with torch's
    # default pool, whose threads wait on busy cores. Must be set before torch is imported.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    app = make_application()
    window = MainWindow(None, settings=settings if settings is not None else QSettings())
    if on_window is not None:
        on_window(window)
    window.restore_layout()
    window.show()

    loader = start_engine(window, device, weights)
    if not exit_process:
        app.aboutToQuit.connect(lambda: loader.wait())
    status = app.exec()
    if exit_process:
        exit_now(status)
    return status
