"""The explanations' figures: the live update with the evidence overlay off and on (and on,
the time until the evidence is shown too), each invariance plot, and (with MNIST) how faithful
each evidence method is.

Targets: the live update with the overlay on at p99 <= 16 ms; off, as without it; each
invariance plot (a few dozen redrawn inputs, one batched prediction) <= 150 ms.
``lenet-draw bench --explain`` runs these alone; a full ``lenet-draw bench`` includes them.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from lenet_draw.bench.stats import summary_ms


def bench_live_overlay(engine, moves: int) -> dict:
    """Pointer move -> repainted window, in one window, first with the overlay off, then on."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from lenet_draw.bench.latency import measure_move_latency
    from lenet_draw.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(engine, settings=settings)
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    try:
        off = measure_move_latency(window, moves=moves)
        window.explanations.evidence.set_enabled(True)
        on = measure_move_latency(window, moves=moves)
    finally:
        window.close()
    return {"overlay_off": off, "overlay_on": on}


def bench_invariance(engine, repeats: int) -> dict:
    """Time to compute each invariance plot for a drawn 6 (a fresh drawing each time)."""
    from lenet_draw import invariance
    from lenet_draw.sample_digits import DIGIT_STROKES

    out = {}
    for name in invariance.CHANGES:
        ms = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            src = invariance.Source(strokes=DIGIT_STROKES[6])
            c = invariance.curve(engine, src, name)
            ms.append((time.perf_counter() - t0) * 1e3)
        out[name] = dict(summary_ms(ms), points=len(c.values))
    return out


def bench_evidence(engine, repeats: int) -> dict:
    """One evidence map (the overlay's method) for a drawn 3."""
    from lenet_draw import attribution
    from lenet_draw.sample_digits import DIGIT_STROKES

    x = engine.predict_strokes(DIGIT_STROKES[3]).stages.input
    ms = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        attribution.evidence(engine, x, 3)
        ms.append((time.perf_counter() - t0) * 1e3)
    return summary_ms(ms)


def measure(engine, quick: bool = False, faithfulness_digits: int | None = None) -> dict:
    res: dict = {
        "evidence_map": bench_evidence(engine, 50 if quick else 200),
        "invariance": bench_invariance(engine, 5 if quick else 20),
        "live": bench_live_overlay(engine, 100 if quick else 300),
    }
    if faithfulness_digits:
        from lenet_draw.bench import faithfulness
        from lenet_draw.training.data import default_data_dir, load_split

        folder = default_data_dir()
        if folder is not None:
            split = load_split(folder, "test")
            res["faithfulness"] = faithfulness.compare(
                engine, faithfulness.drawn_inputs(engine, split, faithfulness_digits)
            )
    return res


def _line(name: str, s: dict) -> str:
    return f"  {name:44s} median {s['median_ms']:8.3f} ms   p99 {s['p99_ms']:8.3f} ms   (n={s['n']})"


def report(res: dict) -> str:
    live = res["live"]
    out = [
        "explanations:",
        _line("live update, evidence overlay off", live["overlay_off"]["move_to_repaint"]),
        _line("live update, evidence overlay on", live["overlay_on"]["move_to_repaint"]),
    ]
    if "move_to_evidence_shown" in live["overlay_on"]:  # the overlay follows the repainted bars
        out.append(_line("  pointer move to the evidence shown", live["overlay_on"]["move_to_evidence_shown"]))
    out += [
        _line("one evidence map (integrated gradients)", res["evidence_map"]),
    ]
    for name, s in res["invariance"].items():
        out.append(_line(f"invariance plot: {name} ({s['points']} points)", s))
    if "faithfulness" in res:
        from lenet_draw.bench import faithfulness

        out.append(faithfulness.report(res["faithfulness"]))
    return "\n".join(out)


def main(args) -> int:
    import json
    from pathlib import Path

    import torch

    from lenet_draw.engine import Engine
    from lenet_draw.errors import DeviceError

    torch.set_num_threads(1)  # as the app runs
    try:
        engine = Engine(device=getattr(args, "device", "auto"))
    except DeviceError as exc:
        raise SystemExit(f"error: {exc}") from None
    quick = getattr(args, "quick", False)
    res = measure(engine, quick=quick, faithfulness_digits=100 if quick else 300)
    print(report(res))
    if getattr(args, "json", None):
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0
