"""What the screenshot scripts share: the real window on a throw-away settings file (never the
user's), shown and settled, and a grab of a widget saved as a small PNG."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def settle() -> None:
    """Let the window lay itself out and paint (a few rounds of events)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    for _ in range(10):
        app.processEvents()


@contextmanager
def shown_window(width: int, height: int) -> Iterator:
    """The app's main window on the CPU engine, resized, shown and settled; closed at the end."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from lenet_draw.engine import Engine
    from lenet_draw.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 (kept alive)
    with tempfile.TemporaryDirectory(prefix="lenet-draw-shot-") as tmp:
        settings = QSettings(os.path.join(tmp, "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(Engine(device="cpu"), settings=settings)
        window.resize(width, height)
        window.show()
        settle()
        try:
            yield window
        finally:
            window.close()


def save_png(widget, out: Path) -> str:
    """Grab `widget` into `out` (256 colours, optimised); returns "path: WxH, N kB"."""
    from PIL import Image
    from PySide6.QtCore import QBuffer

    buf = QBuffer()
    buf.open(QBuffer.OpenModeFlag.WriteOnly)
    widget.grab().save(buf, "PNG")
    img = Image.open(io.BytesIO(bytes(buf.data()))).convert("RGB")
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    return f"{out}: {img.size[0]}x{img.size[1]}, {out.stat().st_size / 1024:.0f} kB"
