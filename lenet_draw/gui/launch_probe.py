"""Start-up timing for `lenet-draw bench`: the app run as a person would, with marks.

When ``LENET_DRAW_LAUNCH_PROBE`` names a file, the app writes ``window <unix time>`` once the
canvas has been painted and accepts strokes, draws a 7 at once through the canvas (the person
who starts drawing immediately), writes ``prediction <unix time>`` when the prediction of that
drawing is shown, and quits. Settings go to a scratch file beside the probe file.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

ENV = "LENET_DRAW_LAUNCH_PROBE"


def probe_path() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def probe_settings(path: Path) -> QSettings:
    return QSettings(str(path.with_suffix(".ini")), QSettings.Format.IniFormat)


def install(window, path: Path) -> None:
    from lenet_draw.gui.drive import DIGIT_STROKES, draw_strokes

    def mark(name: str) -> None:
        with open(path, "a") as f:
            f.write(f"{name} {time.time():.6f}\n")

    def on_drawable() -> None:
        mark("window")
        draw_strokes(window.canvas, DIGIT_STROKES[7])

    def on_shown(prediction) -> None:
        if prediction is not None:
            mark("prediction")
            QTimer.singleShot(0, QApplication.quit)

    window.drawable.connect(on_drawable)
    window.predictionShown.connect(on_shown)
