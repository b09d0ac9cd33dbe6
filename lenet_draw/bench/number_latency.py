"""Number mode's live update: a 6-digit number, the last digit written move by move.

Five digits stand on the wide pad (the style set's drawings); the sixth is written with
mouse events, and for each move two figures: the time from the move to the repaint that shows
the number read (the strip and the boxes on the pad, painted first), and to the repaint after
the selected digit's panels took it too (as ``latency.measure_move_latency``); with the number
reading's own share (segmentation, scoring the new candidates, the best path).
"""

from __future__ import annotations

import time

import numpy as np

from lenet_draw.bench.stats import summary_ms
from lenet_draw.sample_digits import DIGIT_STROKES, resample

#: The number written: five digits in place, the sixth written while measured.
NUMBER = "314159"
#: Pad units between the digits' left edges, and the width each digit is squeezed to.
STEP, SQUEEZE = 0.62, 0.55


def digit_strokes(d: int, k: int) -> list[list[tuple[float, float]]]:
    x = 0.2 + k * STEP
    return [[(x + px * SQUEEZE, py) for px, py in s] for s in DIGIT_STROKES[d]]


def measure_number_latency(window, repeats: int = 3) -> dict:
    """Median and p99 of move -> repaint in Number mode for the sixth digit of NUMBER, and of
    the number reading within it."""
    from PySide6.QtWidgets import QApplication

    from lenet_draw.bench.latency import measure_move_latency

    app = QApplication.instance()
    window.set_number_mode(True)
    reading_ms: list[float] = []
    texts: list[str] = []
    measuring = [False]
    shown_at: list[float | None] = [None]  # when the strip and the pad last took a reading

    def note(reading) -> None:
        shown_at[0] = time.perf_counter()
        if measuring[0] and reading is not None:
            reading_ms.append(reading.ms)

    window.number_mode.readingShown.connect(note)
    moves: list[dict] = []
    last = [np.asarray(s) for s in digit_strokes(int(NUMBER[-1]), len(NUMBER) - 1)]
    # The sixth digit's strokes joined into one path, sampled as a steady hand moves a mouse.
    path = resample([tuple(p) for s in last for p in s], step=0.004)
    for rep in range(repeats):
        # Each repeat moves the ink a little, so no score comes from an earlier repeat's cache.
        shift = np.array([0.013 * rep, 0.0])
        window.canvas.set_strokes(
            [np.asarray(s) + shift for k, ch in enumerate(NUMBER[:-1]) for s in digit_strokes(int(ch), k)]
        )
        window.predict_now()
        app.processEvents()
        measuring[0] = True
        stroke = [(x + float(shift[0]), y) for x, y in path]
        moves.append(
            measure_move_latency(
                window,
                moves=len(path) - 21,
                warmup=20,
                stroke=stroke,
                keep_drawing=True,
                first_shown=lambda: shown_at[0],
            )
        )
        measuring[0] = False
        texts.append(window.number_mode.strip.number.text())
    samples = [m["move_to_repaint"] for m in moves]
    return {
        "digits": len(NUMBER),
        "read_as": texts[-1],
        "move_to_repaint": summary_ms([]) if not samples else _pooled(moves, "move_to_repaint"),
        "move_to_number_shown": summary_ms([]) if not samples else _pooled(moves, "move_to_first_shown"),
        "number_reading": summary_ms(reading_ms),
    }


def _pooled(moves: list[dict], key: str) -> dict:
    """The runs' summaries of ``key``, pooled by their medians and worst p99 (the samples stay
    in each run)."""
    s = [m[key] for m in moves]
    return {
        "median_ms": float(np.median([x["median_ms"] for x in s])),
        "p99_ms": float(max(x["p99_ms"] for x in s)),
        "max_ms": float(max(x["max_ms"] for x in s)),
        "n": int(sum(x["n"] for x in s)),
    }


def main() -> int:
    """``python -m lenet_draw.bench.number_latency``: this figure alone (offscreen)."""
    import os
    import sys
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import torch
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from lenet_draw.engine import Engine
    from lenet_draw.gui.main_window import MainWindow

    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Engine(device="cpu"), settings=settings)
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    from lenet_draw.bench.latency import measure_move_latency

    digit = measure_move_latency(window, moves=300)["move_to_repaint"]
    res = measure_number_latency(window)
    window.close()
    print(
        f"digit mode, for comparison (same run):{'':10s} median {digit['median_ms']:8.3f} ms   "
        f"p99 {digit['p99_ms']:8.3f} ms   (n={digit['n']})"
    )
    print(report(res))
    return 0


def report(res: dict) -> str:
    m, r, f = res["move_to_repaint"], res["number_reading"], res["move_to_number_shown"]
    return "\n".join(
        [
            f"number mode, {res['digits']} digits, the last written (read as {res['read_as']}):",
            f"  {'move to the number and its boxes painted':44s} median {f['median_ms']:8.3f} ms   "
            f"p99 {f['p99_ms']:8.3f} ms   (n={f['n']})",
            f"  {'move to the digit panels painted too':44s} median {m['median_ms']:8.3f} ms   "
            f"p99 {m['p99_ms']:8.3f} ms   (n={m['n']})",
            f"  {'of which reading the number':44s} median {r['median_ms']:8.3f} ms   p99 {r['p99_ms']:8.3f} ms   "
            f"(n={r['n']})",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
