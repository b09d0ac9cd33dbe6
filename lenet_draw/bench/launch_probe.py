"""Start-up timing for `lenet-draw bench`: the app run as a person would, with marks.

``python -m lenet_draw.bench.launch_probe FILE`` runs the app through ``run_app`` with a
watcher injected: it writes ``window <unix time>`` to FILE once the canvas has been painted and
accepts strokes, draws a 7 at once through the canvas (the person who starts drawing
immediately), writes ``prediction <unix time>`` when the prediction of that drawing is shown,
then ``close <unix time>`` and closes the window, as a person quitting does; the caller times
the end of the process from that mark. Settings go to a scratch file beside FILE. The app itself knows nothing of this.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer

from lenet_draw.gui.app import run_app
from lenet_draw.gui.main_window import MainWindow
from lenet_draw.gui.testing import draw_strokes
from lenet_draw.sample_digits import DIGIT_STROKES


def probe_settings(path: Path) -> QSettings:
    return QSettings(str(path.with_suffix(".ini")), QSettings.Format.IniFormat)


def watcher(path: Path):
    """The ``on_window`` hook that marks the window and the first prediction in ``path``."""

    def install(window: MainWindow) -> None:
        shown: list = []

        def mark(name: str) -> None:
            with open(path, "a") as f:
                f.write(f"{name} {time.time():.6f}\n")

        def on_drawable() -> None:
            mark("window")
            draw_strokes(window.canvas, DIGIT_STROKES[7])

        def close() -> None:
            mark("close")
            window.close()

        def on_shown(prediction) -> None:
            if prediction is not None and not shown:
                shown.append(prediction)
                mark("prediction")
                QTimer.singleShot(0, close)

        window.drawable.connect(on_drawable)
        window.predictionShown.connect(on_shown)

    return install


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0])
    return run_app(settings=probe_settings(path), on_window=watcher(path), exit_process=True)


if __name__ == "__main__":
    raise SystemExit(main())
