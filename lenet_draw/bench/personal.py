"""The simulated-writer benchmark of personalisation, and the forgetting check.

Each writer writes their digits in order; for the first half, whenever the app reads one
wrong, the writer corrects it (the drawing becomes a sample and the app adapts, exactly as the
window does). Reported per writer, per set of writers and overall: the error rate on the second
half of their digits with the base weights, after 1, 3 and 5 corrections, and after all of
them; and how long each adaptation took (median, p99, on one torch thread as the app runs it).
Forgetting: MNIST test accuracy and the traced proxy before and after adapting to a set of
samples. Stalls: the live update in the real window while adaptations run after corrections.
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
    #: CPU time the adapting thread used for each: the wall time on a core of its own (the
    #: adaptation runs on one thread), whatever else the machine was doing meanwhile.
    adapt_cpu_seconds: list[float] = field(default_factory=list)
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
        c0 = time.thread_time()
        out = adapt(base, samples, cfg, cache)
        res.adapt_cpu_seconds.append(time.thread_time() - c0)
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


def writers_from(sources: list[str], seed: int = 0, base: Weights | None = None) -> list[Writer]:
    out: list[Writer] = []
    for s in sources:
        out += SOURCES[s](seed=seed, base=base)
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


def latency_during_adaptation(corrections: list[tuple[list, int]], moves: int = 100) -> dict:
    """Live update (pointer move to repainted views) in the real window, with no adaptation
    running, and while adaptations run after corrections made as a person makes them.

    Each round draws one of ``corrections`` on the pad with mouse events and draws a stroke
    over it with nothing adapting (the baseline, in the same conditions as what follows); then
    draws the digit again, says what it is (the digit's "This Is a d" action, as its key does),
    and at once draws over it, stroke after stroke, until the adaptation is in. A move counts as
    during adaptation when the adaptation thread was at work at some time between the move and
    its repaint. Reported: those moves, the baseline's, the rounds' moves after the adaptation
    was in, how many adaptations finished while moves were being timed, and how long they took
    in the window."""
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["LENET_DRAW_DATA"] = tempfile.mkdtemp()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from lenet_draw.bench.latency import measure_move_latency
    from lenet_draw.bench.stats import summary_ms
    from lenet_draw.gui.main_window import MainWindow
    from lenet_draw.gui.testing import draw_strokes, wavy_stroke

    app = QApplication.instance() or QApplication([])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Engine(device="cpu"), settings=settings)
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    hw = window.handwriting
    hw._pool.submit(lambda: None).result(timeout=120)  # after the anchor drawings, made at start
    measure_move_latency(window, moves=20)  # warm-up

    spans: list[list[float]] = []  # [start, end] of each adaptation (end: inf while it runs)
    work = hw._work

    cpu_ms: list[float] = []  # the adapting thread's CPU time for each

    def timed_work(gen, base, samples) -> None:
        span = [time.perf_counter(), float("inf")]
        spans.append(span)
        c0 = time.thread_time()
        try:
            work(gen, base, samples)
        finally:
            span[1] = time.perf_counter()
            cpu_ms.append((time.thread_time() - c0) * 1e3)

    hw._work = timed_work
    idle: list[float] = []  # moves just before each correction, nothing adapting
    during: list[float] = []
    after: list[float] = []  # moves of the same rounds once the adaptation was done
    finished_while_timed = 0
    try:
        for k, (strokes, label) in enumerate(corrections):
            window.canvas.clear()
            draw_strokes(window.canvas, [[(float(x), float(y)) for x, y in s[:, :2]] for s in strokes])
            app.processEvents()
            # The same drawing over the digit, first with nothing adapting (the baseline, in the
            # same conditions as what follows), then right after the correction.
            quiet: list[tuple[float, float]] = []
            measure_move_latency(
                window, moves=moves, warmup=0, keep_drawing=True, stamps=quiet, stroke=wavy_stroke(moves + 1, seed=k)
            )
            idle += [(b - a) * 1e3 for a, b in quiet]
            window.canvas.clear()
            draw_strokes(window.canvas, [[(float(x), float(y)) for x, y in s[:, :2]] for s in strokes])
            app.processEvents()
            window.teach_actions[label].trigger()
            stamps: list[tuple[float, float]] = []
            for more in range(10):  # drawing on until the adaptation is in (10 strokes at most)
                measure_move_latency(
                    window,
                    moves=moves,
                    warmup=0,
                    keep_drawing=True,
                    stamps=stamps,
                    stroke=wavy_stroke(moves + 1, seed=100 * k + more),
                )
                if hw.idle():
                    break
            while not hw.idle():
                app.processEvents()
                time.sleep(0.005)
            app.processEvents()
            # the per-move times of this round, by whether an adaptation overlapped the move
            for t0, t1 in stamps:
                ms = (t1 - t0) * 1e3
                (during if any(a < t1 and b > t0 for a, b in spans) else after).append(ms)
            if stamps:
                first, last = stamps[0][0], stamps[-1][1]
                finished_while_timed += sum(first <= b <= last for _, b in spans)
    finally:
        hw._work = work
    adapt_ms = [(b - a) * 1e3 for a, b in spans]
    window.close()
    return {
        "idle": summary_ms(idle),
        "adapting": summary_ms(during),
        "after_adapting": summary_ms(after),
        "corrections": len(corrections),
        "adaptations": len(spans),
        "adaptations_meanwhile": finished_while_timed,
        "adaptation_in_window": summary_ms(adapt_ms),
        "adaptation_in_window_cpu": summary_ms(cpu_ms),
    }


def summary(results: list[WriterResult]) -> dict:
    later = sum(r.later for r in results)
    secs = [s for r in results for s in r.adapt_seconds]
    cpu = [s for r in results for s in r.adapt_cpu_seconds]

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
        "adaptation_cpu": summary_s(cpu),
    }


def _line(title: str, s: dict) -> str:
    after = ", ".join(f"{k}: {v:.1f}%" for k, v in s["after_pct"].items())
    a, c = s["adaptation"], s["adaptation_cpu"]
    return (
        f"{title}: {s['writers']} writers, {s['corrections']} corrections: error on later digits "
        f"{s['base_error_pct']:.1f}% -> {s['final_error_pct']:.1f}% ({s['error_cut_pct']:.0f}% fewer errors; "
        f"after {after}); adaptation {a['median_ms']:.0f} ms median, {a['p99_ms']:.0f} ms p99 "
        f"(CPU time {c['median_ms']:.0f} ms median, {c['p99_ms']:.0f} ms p99)"
    )


def _round_robin(results: list[WriterResult], n: int) -> list[tuple[list, int]]:
    """Up to ``n`` of the corrections the writers made, taking each writer's in turn."""
    out: list[tuple[list, int]] = []
    for i in range(max((len(r.samples) for r in results), default=0)):
        out += [(r.samples[i].xy(), r.samples[i].label) for r in results if i < len(r.samples)]
    return out[:n]


def main(
    sources: list[str], seed: int = 0, cfg: AdaptConfig = DEFAULT, base: Weights | None = None, json_path=None
) -> dict:
    import json
    from pathlib import Path

    import torch

    from lenet_draw.resources import bundled_weights_path
    from lenet_draw.weights import load_weights

    unknown = [s for s in sources if s not in SOURCES]
    if unknown or not sources:
        raise SystemExit(f"error: unknown writer source {', '.join(unknown) or '(none)'}; known: {', '.join(SOURCES)}.")

    torch.set_num_threads(1)  # as the app runs torch (one thread): adaptation on one core
    base = base or load_weights(bundled_weights_path())
    t0 = time.perf_counter()
    anchor_inputs(cfg.anchor_variants, cfg.seed)  # made once, as the window does at start
    results: list[WriterResult] = []
    per_set: dict[str, dict] = {}
    for source in sources:
        mine = []
        for w in SOURCES[source](seed=seed, base=base):
            r = run_writer(base, w, cfg)
            mine.append(r)
            after = ", ".join(f"{k}: {r.errors_after[k]}" for k in CHECKPOINTS)
            print(
                f"{r.name}: {r.corrections} corrections; errors on the {r.later} later digits "
                f"{r.base_errors} -> {r.final_errors} (after {after})",
                flush=True,
            )
        per_set[source] = summary(mine)
        print(_line(f"{source} writers", per_set[source]) + "\n", flush=True)
        results += mine
    s = summary(results)
    s["sets"] = per_set
    print(_line("all", s) + f" ({time.perf_counter() - t0:.0f} s in all)")
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
    lat = latency_during_adaptation(_round_robin(results, 8))
    s["live_update_ms"] = lat
    i, d, w, wc = lat["idle"], lat["adapting"], lat["adaptation_in_window"], lat["adaptation_in_window_cpu"]
    print(
        f"live update, pointer move to repainted views: {i['median_ms']:.1f} ms median, {i['p99_ms']:.1f} ms p99 "
        f"with no adaptation; {d['median_ms']:.1f} ms median, {d['p99_ms']:.1f} ms p99 over the {d['n']} moves "
        f"made while an adaptation ran ({lat['corrections']} corrections in the window, "
        f"{lat['adaptations_meanwhile']} adaptations finished while moves were timed, "
        f"{w['median_ms']:.0f} ms median there, {wc['median_ms']:.0f} ms of CPU time)"
    )
    if json_path:
        Path(json_path).write_text(json.dumps(s, indent=2))
    return s
