"""Mouse move -> updated probability bars and feature maps: median and p99 latency.

Builds the real main window offscreen with the bundled weights (or --weights), draws a
real-looking stroke through the canvas one mouse move at a time, and times each move until
the prediction has run and the bars and feature maps have been repainted.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/measure_latency.py [--moves 300] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # as the app runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=300)
    ap.add_argument("--weights")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from lenet_draw.bench.latency import measure_move_latency
    from lenet_draw.engine import Engine
    from lenet_draw.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = tempfile.TemporaryDirectory(prefix="lenet-draw-latency-")  # never the user's settings
    settings = QSettings(os.path.join(tmp.name, "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Engine(args.weights, device=args.device), settings=settings)
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    result = measure_move_latency(window, moves=args.moves)
    result["device"] = window.engine.device
    result["platform"] = app.platformName()
    for key in ("move_to_repaint", "engine_preprocess_plus_inference", "views_take_prediction"):
        r = result[key]
        print(f"{key:34s} median {r['median_ms']:6.2f} ms   p99 {r['p99_ms']:6.2f} ms   max {r['max_ms']:6.2f} ms")
    print(f"({result['moves']} moves on {result['device']}, Qt platform {result['platform']})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    window.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
