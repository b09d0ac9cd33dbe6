"""Regenerate docs/number-mode.png: the real window in Number mode, a number written through
the wide pad with mouse events, one digit clicked.

xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python docs/make_number_screenshot.py
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
OUT = Path(__file__).resolve().parent / "number-mode.png"
#: The number written, digits close together (some touch); the 4 and the 5 take two strokes.
NUMBER = "4207159"


def main() -> int:
    from PIL import Image
    from PySide6.QtCore import QBuffer, QSettings
    from PySide6.QtWidgets import QApplication

    from lenet_draw.engine import Engine
    from lenet_draw.gui.main_window import MainWindow
    from lenet_draw.gui.testing import DIGIT_STROKES, draw_strokes

    app = QApplication(sys.argv[:1])
    tmp = tempfile.TemporaryDirectory(prefix="lenet-draw-shot-")  # never the user's settings
    settings = QSettings(os.path.join(tmp.name, "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Engine(device="cpu"), settings=settings)
    window.resize(1280, 800)
    window.show()
    for _ in range(10):
        app.processEvents()
    window.set_number_mode(True)
    for k, ch in enumerate(NUMBER):
        x = 0.2 + k * 0.5
        draw_strokes(window.canvas, [[(x + px * 0.62, py) for px, py in s] for s in DIGIT_STROKES[int(ch)]])
    window.predict_now()
    window.number_mode.select(5)
    window.predict_now()
    for _ in range(10):
        app.processEvents()
    window._show_timing()
    buf = QBuffer()
    buf.open(QBuffer.OpenModeFlag.WriteOnly)
    window.grab().save(buf, "PNG")
    img = Image.open(io.BytesIO(bytes(buf.data()))).convert("RGB")
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(OUT, optimize=True)
    window.close()
    tmp.cleanup()
    print(
        f"{OUT}: {img.size[0]}x{img.size[1]}, {OUT.stat().st_size / 1024:.0f} kB, reads {window.number_mode.reading.text}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
