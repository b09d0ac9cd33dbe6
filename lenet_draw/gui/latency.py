"""Measuring the time from a mouse move to updated bars and feature maps, as a person sees it.

For each move of a real-looking stroke: send the move event to the canvas, then run the event
loop until the prediction for it has run *and* the probability bars and the C1 feature maps
have been repainted. The time between is one sample. Used by packaging/measure_latency.py and
the benchmark.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt
from PySide6.QtWidgets import QApplication

from lenet_draw.gui.drive import send_mouse, wavy_stroke


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


def _percentiles(xs: list[float]) -> dict:
    a = np.asarray(xs, dtype=np.float64)
    if a.size == 0:
        return {"median_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan"), "n": 0}
    return {"median_ms": float(np.median(a)), "p99_ms": float(np.percentile(a, 99)), "max_ms": float(a.max()), "n": int(a.size)}


def measure_move_latency(window, moves: int = 300, warmup: int = 20, seed: int = 0) -> dict:
    """Median and 99th percentile, in ms, of mouse move -> repainted bars and feature maps.

    ``window`` is a shown MainWindow with an engine. Also reports, per move, the engine's own
    preprocessing + inference time and the time the views took to take in the prediction.
    """
    app = QApplication.instance()
    canvas = window.canvas
    watched = [window.panel.bars, window.maps.views["C1"]]
    counter = PaintCounter(watched)
    engine_ms: list[float] = []
    views_ms: list[float] = []
    original = window._on_predicted

    def timed_on_predicted(pred) -> None:
        t = time.perf_counter()
        original(pred)
        views_ms.append((time.perf_counter() - t) * 1e3)
        if pred is not None:
            engine_ms.append(pred.preprocess_ms + pred.inference_ms)

    window.predictor.predicted.disconnect(original)
    window.predictor.predicted.connect(timed_on_predicted)
    samples: list[float] = []
    try:
        canvas.clear()
        app.processEvents()
        points = [canvas.to_widget(x, y) for x, y in wavy_stroke(moves + warmup + 1, seed=seed)]
        btn = Qt.MouseButton.LeftButton
        send_mouse(canvas, QEvent.Type.MouseButtonPress, points[0], btn, btn)
        app.processEvents()
        for i, p in enumerate(points[1:]):
            inf0 = window.predictor.inferences
            paints0 = dict(counter.counts)
            t0 = time.perf_counter()
            send_mouse(canvas, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, btn)
            deadline = t0 + 5.0
            while True:
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
                done = window.predictor.inferences > inf0 and all(counter.counts[w] > paints0[w] for w in watched)
                if done or time.perf_counter() > deadline:
                    break
            if i >= warmup and done:
                samples.append((time.perf_counter() - t0) * 1e3)
        send_mouse(canvas, QEvent.Type.MouseButtonRelease, points[-1], btn, Qt.MouseButton.NoButton)
        app.processEvents()
    finally:
        window.predictor.predicted.disconnect(timed_on_predicted)
        window.predictor.predicted.connect(original)
        counter.remove()
    return {
        "moves": len(samples),
        "move_to_repaint": _percentiles(samples),
        "engine_preprocess_plus_inference": _percentiles(engine_ms[warmup:]),
        "views_take_prediction": _percentiles(views_ms[warmup:]),
    }
