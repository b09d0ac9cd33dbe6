"""Measuring the time from a mouse move to updated bars and feature maps, as a person sees it.

For each move of a real-looking stroke: send the move event to the canvas, then run the event
loop until the prediction for it has run *and* the window has repainted what the prediction
changed. Widgets are painted when the window handles its UpdateRequest event: one pass paints
every widget marked for repaint (bars, big digit, stages, every feature map, the canvas). The
sample ends after the first such pass that follows the prediction. (The views repaint only
what changed, so "the bars were painted" is no criterion: a move may leave them as they were.)

Besides the whole move, it reports the parts: the time until the prediction started, the
prediction call, the engine's own preprocessing + inference time within it, the time the
views took to take in the prediction, and the repaint that followed. Used by
packaging/measure_latency.py and the benchmark.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt
from PySide6.QtWidgets import QApplication

from lenet_draw.bench.stats import summary_ms
from lenet_draw.gui.testing import send_mouse, wavy_stroke


class PaintCounter(QObject):
    """Counts Paint events delivered to the widgets it watches."""

    def __init__(self, widgets) -> None:
        super().__init__()
        self.counts = {w: 0 for w in widgets}
        for w in widgets:
            w.installEventFilter(self)

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() == QEvent.Type.Paint and obj in self.counts:
            self.counts[obj] += 1
        return False

    def remove(self) -> None:
        for w in self.counts:
            w.removeEventFilter(self)


class RepaintWatcher(QObject):
    """Notes, for the window it watches, each repaint pass (UpdateRequest): when it began and
    when it ended. To see the end, the watcher hands the pass to the window itself and returns
    once it has run; work the event loop does after the pass (a timer's) is not counted."""

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.passes: list[float] = []  # perf_counter() at the start of each pass
        self.ends: list[float] = []  # and at its end
        window.installEventFilter(self)

    def eventFilter(self, obj, ev) -> bool:
        if obj is self.window and ev.type() == QEvent.Type.UpdateRequest:
            self.passes.append(time.perf_counter())
            self.window.removeEventFilter(self)
            try:
                QApplication.sendEvent(self.window, ev)
            finally:
                self.window.installEventFilter(self)
            self.ends.append(time.perf_counter())
            return True
        return False

    def remove(self) -> None:
        self.window.removeEventFilter(self)


def measure_move_latency(
    window,
    moves: int = 300,
    warmup: int = 20,
    seed: int = 0,
    stroke=None,
    keep_drawing: bool = False,
    stamps: list | None = None,
    first_shown=None,
) -> dict:
    """Median and 99th percentile, in ms, of mouse move -> repainted bars and feature maps.

    ``window`` is a shown MainWindow with an engine. Also reports, per move, the engine's own
    preprocessing + inference time, the time the views took to take in the prediction, and
    the time from then until the repaint pass after it had finished. ``stroke``: the pad points
    to draw (default: a wavy stroke of ``moves + warmup + 1`` points); ``keep_drawing``: draw it
    over what the pad holds instead of clearing it first. ``stamps``: a list to which each
    measured move's (start, end), in ``time.perf_counter()`` seconds, is appended.
    ``first_shown``: a function returning when (``time.perf_counter()``) something shown before
    the panels was last handed to its view (Number mode's number); with it, the time from each
    move to the end of the first repaint pass after that is reported as ``move_to_first_shown``.
    """
    app = QApplication.instance()
    canvas = window.canvas
    watched = [window.panel.bars, window.maps.views["C1"]]
    counter = PaintCounter(watched)
    repaints = RepaintWatcher(window)
    engine_ms: list[float] = []
    views_ms: list[float] = []
    repaint_ms: list[float] = []
    shown_at: list[float] = []  # when the views had taken in the latest prediction
    asked_at: list[float] = []  # when the predictor read the drawing (its prediction starts)
    original = window._on_predicted
    source = window.predictor._source

    def timed_source():
        asked_at.append(time.perf_counter())
        return source()

    def timed_on_predicted(pred) -> None:
        t = time.perf_counter()
        original(pred)
        done = time.perf_counter()
        views_ms.append((done - t) * 1e3)
        shown_at.append(done)
        if pred is not None:
            engine_ms.append(pred.preprocess_ms + pred.inference_ms)

    window.predictor.predicted.disconnect(original)
    window.predictor.predicted.connect(timed_on_predicted)
    window.predictor._source = timed_source
    samples: list[float] = []
    evidence_ms: list[float] = []
    evidence = getattr(getattr(window, "explanations", None), "evidence", None)
    if evidence is not None and not evidence.enabled:
        evidence = None
    before_ms: list[float] = []
    between_ms: list[float] = []
    first_ms: list[float] = []
    paints = {w: 0 for w in watched}
    try:
        if not keep_drawing:
            canvas.clear()
        app.processEvents()
        path = stroke if stroke is not None else wavy_stroke(moves + warmup + 1, seed=seed)
        points = [canvas.to_widget(x, y) for x, y in path]
        btn = Qt.MouseButton.LeftButton
        send_mouse(canvas, QEvent.Type.MouseButtonPress, points[0], btn, btn)
        app.processEvents()
        for i, p in enumerate(points[1:]):
            inf0 = window.predictor.inferences
            paints0 = dict(counter.counts)
            t0 = time.perf_counter()
            send_mouse(canvas, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, btn)
            deadline = t0 + 5.0
            done = False
            n_passes = len(repaints.passes)
            end = t0
            while not done and time.perf_counter() <= deadline:
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
                # Done once a repaint pass has run to its end after the prediction was shown.
                if window.predictor.inferences > inf0:
                    after = [
                        e for s, e in zip(repaints.passes[n_passes:], repaints.ends[n_passes:]) if s >= shown_at[-1]
                    ]
                    done, end = bool(after), (after[0] if after else end)
            if evidence is not None and done:
                # The evidence overlay follows the bars: until it shows this move's reading too.
                while evidence.pending() and time.perf_counter() <= deadline:
                    app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
                while time.perf_counter() <= deadline:
                    after = [e for s, e in zip(repaints.passes, repaints.ends) if s >= evidence.shown_at]
                    if after:
                        if i >= warmup:
                            evidence_ms.append((after[0] - t0) * 1e3)
                        break
                    app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
            if i >= warmup and done:
                samples.append((end - t0) * 1e3)
                if first_shown is not None:
                    at = first_shown()
                    firsts = [
                        e
                        for s, e in zip(repaints.passes[n_passes:], repaints.ends[n_passes:])
                        if at is not None and s >= at >= t0
                    ]
                    if firsts:
                        first_ms.append((firsts[0] - t0) * 1e3)
                if stamps is not None:
                    stamps.append((t0, end))
                repaint_ms.append((end - shown_at[-1]) * 1e3)
                before_ms.append((asked_at[-1] - t0) * 1e3)
                between_ms.append((shown_at[-1] - asked_at[-1]) * 1e3 - views_ms[-1])
                for w in watched:
                    paints[w] += counter.counts[w] > paints0[w]
        send_mouse(canvas, QEvent.Type.MouseButtonRelease, points[-1], btn, Qt.MouseButton.NoButton)
        app.processEvents()
    finally:
        window.predictor.predicted.disconnect(timed_on_predicted)
        window.predictor.predicted.connect(original)
        window.predictor._source = source
        counter.remove()
        repaints.remove()
    n = max(1, len(samples))
    out = {
        "moves": len(samples),
        "move_to_repaint": summary_ms(samples),
        "engine_preprocess_plus_inference": summary_ms(engine_ms[warmup:]),
        "views_take_prediction": summary_ms(views_ms[warmup:]),
        "repaint_after_views": summary_ms(repaint_ms),
        # The rest of a move: the canvas taking the move (and anything the event loop ran
        # before the prediction started), and the prediction call as a whole (the engine's
        # figure plus what surrounds it).
        "move_to_prediction_start": summary_ms(before_ms),
        "prediction_call": summary_ms(between_ms),
        # How often the watched views had something to repaint (the bars keep still when no
        # label, bar or value changes; C1 changes with nearly every move).
        "repainted_fraction": {"bars": paints[window.panel.bars] / n, "C1": paints[window.maps.views["C1"]] / n},
    }
    if evidence is not None:  # with the evidence overlay on: until it showed the move's reading
        out["move_to_evidence_shown"] = summary_ms(evidence_ms)
    if first_shown is not None:
        out["move_to_first_shown"] = summary_ms(first_ms)
    return out
