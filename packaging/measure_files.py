"""Medians of the file-handling costs issue 11 bounded: reading weights, refusing hostile files,
painting long pen strokes, a million-point drawing on resize, and 1,000,000 Recent entries.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/measure_files.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "core"))


def median_ms(fn, n: int = 7) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from hostile import torch_zip

    from lenet_draw.resources import bundled_weights_path
    from lenet_draw.weights import WeightsError, load_weights

    tmp = Path(tempfile.mkdtemp())
    bundled = bundled_weights_path()
    print(f"load_weights(bundled .pt): {median_ms(lambda: load_weights(bundled)):.1f} ms")
    print(
        f"torch.load(bundled, weights_only=True), for comparison: "
        f"{median_ms(lambda: torch.load(bundled, weights_only=True)):.1f} ms"
    )

    deep = torch_zip(tmp / "deep.pt", b"\x80\x02}N" + b"\x85" * 200_000 + b"Ns.")
    ops = b"N"
    for i in range(64):
        ops += b"q" + bytes([i]) + b"h" + bytes([i]) + b"\x86"
    dag = torch_zip(tmp / "dag.pt", b"\x80\x02}" + ops + b"Ns.")
    bomb = torch_zip(tmp / "ops.pt", b"\x80\x02}" + b"N0" * 4_000_000 + b".", deflate=True)
    for name, path in (("tuple 200,000 deep", deep), ("tuple DAG 64 deep", dag), ("8 MB of opcodes", bomb)):

        def refuse(path=path):
            try:
                load_weights(path)
            except WeightsError:
                pass

        print(f"refusing {name}: {median_ms(refuse):.1f} ms")

    from PySide6.QtCore import QEvent, QSettings
    from PySide6.QtWidgets import QApplication

    from lenet_draw.gui import prefs
    from lenet_draw.gui.canvas import Canvas
    from lenet_draw.gui.testing import pressure_wiggle, send_tablet, stylus

    app = QApplication.instance() or QApplication([])
    canvas = Canvas()
    canvas.resize(600, 600)
    canvas.show()
    app.processEvents()
    pen = stylus()

    xy, pr = pressure_wiggle(6001, waves=60)
    send_tablet(canvas, pen, QEvent.Type.TabletPress, *xy[0], pr[0])
    per_move = []
    for i in range(1, len(xy)):
        t0 = time.perf_counter()
        send_tablet(canvas, pen, QEvent.Type.TabletMove, *xy[i], pr[i])
        canvas.repaint()
        if i > len(xy) - 200:
            per_move.append((time.perf_counter() - t0) * 1000)
    send_tablet(canvas, pen, QEvent.Type.TabletRelease, *xy[-1], pr[-1])
    print(f"pressure stroke, move + repaint at 6,000 points: {statistics.median(per_move):.2f} ms")

    s = np.linspace(0, 1, 1_000_000)
    canvas.set_strokes([np.column_stack([0.5 + 0.3 * np.cos(s * 2 * np.pi), 0.5 + 0.3 * np.sin(s * 2 * np.pi)])])
    sizes = iter([(600, 600), (640, 620)] * 10)

    def resize():
        canvas.resize(*next(sizes))
        canvas.repaint()

    print(f"resize + repaint with a 1,000,000-point drawing: {median_ms(resize, 5):.0f} ms")

    ini = tmp / "settings.ini"
    ini.write_text("[General]\nrecentWeights=" + ", ".join(f"/nowhere/w{i}.pt" for i in range(1_000_000)) + "\n")

    def check():
        prefs.check(QSettings(str(ini), QSettings.Format.IniFormat))

    print(f"start-up settings check with 1,000,000 Recent entries: {median_ms(check, 1):.0f} ms")


if __name__ == "__main__":
    main()
