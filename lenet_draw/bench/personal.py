"""The simulated-writer benchmark of personalisation, and the forgetting check.

Each writer writes their digits in order; for the first half, whenever the app reads one
wrong, the writer corrects it (the drawing becomes a sample and the app adapts, exactly as the
window does). Reported per writer and overall: the error rate on the second half of their
digits with the base weights, after 1, 3 and 5 corrections, and after all of them; and how
long each adaptation took (median, p99). Forgetting: MNIST test accuracy and the traced proxy
before and after adapting to a set of samples.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from lenet_draw.bench.stats import summary_s
from lenet_draw.engine import Engine
from lenet_draw.personalise import DEFAULT, AdaptConfig, VariantCache, adapt, anchor_inputs
from lenet_draw.samples import Sample, make_sample
from lenet_draw.weights import Weights

from .writers import SOURCES, Writer

#: Report the error on the later digits after this many corrections.
CHECKPOINTS = (1, 3, 5)


@dataclass
class WriterResult:
    name: str
    later: int  # digits in the second half
    base_errors: int
    errors_after: dict[int, int] = field(default_factory=dict)  # corrections -> errors on the later digits
    final_errors: int = 0
    corrections: int = 0
    adapt_seconds: list[float] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)  # the corrections, in order


def _errors(engine: Engine, digits) -> int:
    wrong = 0
    for strokes, label in digits:
        pred = engine.predict_strokes(strokes, activations=False)
        wrong += int(pred is None or pred.digit != label)
    return wrong


def run_writer(base: Weights, writer: Writer, cfg: AdaptConfig = DEFAULT) -> WriterResult:
    half = len(writer.digits) // 2
    first, later = writer.digits[:half], writer.digits[half:]
    engine = Engine(base, device="cpu")
    res = WriterResult(writer.name, len(later), _errors(engine, later))
    cache = VariantCache(cfg)
    samples: list[Sample] = []
    for strokes, label in first:
        pred = engine.predict_strokes(strokes, activations=False)
        if pred is not None and pred.digit == label:
            continue
        samples.append(make_sample(label, strokes))
        out = adapt(base, samples, cfg, cache)
        res.adapt_seconds.append(out.seconds)
        engine = Engine(out.weights, device="cpu")
        if len(samples) in CHECKPOINTS:
            res.errors_after[len(samples)] = _errors(engine, later)
    res.corrections = len(samples)
    res.samples = samples
    res.final_errors = _errors(engine, later)
    for k in CHECKPOINTS:  # fewer corrections were needed: the state after the last one holds
        res.errors_after.setdefault(k, res.final_errors)
    return res


def writers_from(sources: list[str], seed: int = 0) -> list[Writer]:
    out: list[Writer] = []
    for s in sources:
        out += SOURCES[s](seed=seed)
    return out


def forgetting(base: Weights, samples: list[Sample], mnist_test, proxy_count: int = 1000, cfg=DEFAULT) -> dict:
    """MNIST test accuracy and the traced proxy before and after adapting to ``samples``."""
    from lenet_draw.bench.proxy import PLACEMENTS, accuracy, pen_paths
    from lenet_draw.training.data import as_input
    from lenet_draw.training.evaluate import percent_right

    adapted = adapt(base, samples, cfg).weights
    paths, labels = pen_paths(mnist_test, proxy_count)
    out = {}
    for name, w in (("base", base), ("adapted", adapted)):
        eng = Engine(w, device="cpu")
        x = as_input(mnist_test.images)
        mnist = percent_right(eng.probabilities(x).argmax(1), mnist_test.labels)
        proxy = accuracy(eng, paths, labels, PLACEMENTS[0])
        out[name] = {"mnist": mnist, "proxy": proxy}
    return out


def latency_during_adaptation(samples: list[Sample], moves: int = 150) -> dict:
    """Live update (pointer move to repainted views) in the real window, with no adaptation
    running and with adaptations running back to back in the background the whole time."""
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["LENET_DRAW_DATA"] = tempfile.mkdtemp()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from lenet_draw.bench.latency import measure_move_latency
    from lenet_draw.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Engine(device="cpu"), settings=settings)
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    idle = measure_move_latency(window, moves=moves)
    hw = window.handwriting
    runs = []

    def again(_result) -> None:
        runs.append(time.perf_counter())
        hw.schedule()

    hw.adapted.connect(again)
    hw.add_imported(samples)
    busy = measure_move_latency(window, moves=moves)
    hw.adapted.disconnect(again)
    while not hw.idle():
        app.processEvents()
        time.sleep(0.01)
    window.close()
    return {"idle": idle["move_to_repaint"], "adapting": busy["move_to_repaint"], "adaptations_meanwhile": len(runs)}


def summary(results: list[WriterResult]) -> dict:
    later = sum(r.later for r in results)
    secs = [s for r in results for s in r.adapt_seconds]

    def rate(errors: int) -> float:
        return 100.0 * errors / max(1, later)

    base = sum(r.base_errors for r in results)
    final = sum(r.final_errors for r in results)
    return {
        "writers": len(results),
        "later_digits": later,
        "base_error_pct": rate(base),
        "after_pct": {k: rate(sum(r.errors_after[k] for r in results)) for k in CHECKPOINTS},
        "final_error_pct": rate(final),
        "error_cut_pct": 100.0 * (base - final) / max(1, base),
        "corrections": sum(r.corrections for r in results),
        "adaptation": summary_s(secs),
    }


def main(
    sources: list[str], seed: int = 0, cfg: AdaptConfig = DEFAULT, base: Weights | None = None, json_path=None
) -> dict:
    import json
    from pathlib import Path

    from lenet_draw.resources import bundled_weights_path
    from lenet_draw.weights import load_weights

    unknown = [s for s in sources if s not in SOURCES]
    if unknown or not sources:
        raise SystemExit(f"error: unknown writer source {', '.join(unknown) or '(none)'}; known: {', '.join(SOURCES)}.")

    base = base or load_weights(bundled_weights_path())
    t0 = time.perf_counter()
    results = []
    writers = writers_from(sources, seed)
    anchor_inputs(cfg.anchor_variants, cfg.seed)  # made once, as the window does at start
    for w in writers:
        r = run_writer(base, w, cfg)
        results.append(r)
        after = ", ".join(f"{k}: {r.errors_after[k]}" for k in CHECKPOINTS)
        print(
            f"{r.name}: {r.corrections} corrections; errors on the {r.later} later digits "
            f"{r.base_errors} -> {r.final_errors} (after {after})",
            flush=True,
        )
    s = summary(results)
    after = ", ".join(f"{k}: {v:.1f}%" for k, v in s["after_pct"].items())
    print(
        f"\n{s['writers']} writers, {s['corrections']} corrections: error on later digits "
        f"{s['base_error_pct']:.1f}% -> {s['final_error_pct']:.1f}% ({s['error_cut_pct']:.0f}% fewer errors; "
        f"after {after}); adaptation {s['adaptation']['median_ms']:.0f} ms median, "
        f"{s['adaptation']['p99_ms']:.0f} ms p99 ({time.perf_counter() - t0:.0f} s in all)"
    )
    from lenet_draw.training.data import default_data_dir, load_split

    corrections = [x for r in results for x in r.samples]
    folder = default_data_dir()
    if len(corrections) >= 50 and folder is not None:
        f = forgetting(base, corrections[:50], load_split(folder, "test"), proxy_count=1000, cfg=cfg)
        s["forgetting_50_samples"] = f
        print(
            f"after adapting to 50 of these corrections: MNIST test {f['base']['mnist']:.2f}% -> "
            f"{f['adapted']['mnist']:.2f}%, traced proxy (1,000 digits) {f['base']['proxy']:.1f}% -> "
            f"{f['adapted']['proxy']:.1f}%"
        )
    picked = [make_sample(label, strokes) for w in writers for strokes, label in w.digits[:2]]
    lat = latency_during_adaptation(picked[:20])
    s["live_update_ms"] = lat
    print(
        f"live update, pointer move to repainted views: {lat['idle']['median_ms']:.1f} ms median, "
        f"{lat['idle']['p99_ms']:.1f} ms p99 with no adaptation; {lat['adapting']['median_ms']:.1f} ms median, "
        f"{lat['adapting']['p99_ms']:.1f} ms p99 while {lat['adaptations_meanwhile']} adaptations ran"
    )
    if json_path:
        Path(json_path).write_text(json.dumps(s, indent=2))
    return s
