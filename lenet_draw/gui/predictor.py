"""Coalesced live prediction: the newest drawing wins, stale requests are never computed.

Every change of the canvas calls ``request()``, which only raises a flag and arms a zero-time
single-shot timer. Qt fires a zero timer once the queued input events have been handled, so a
burst of a thousand mouse moves leads to one prediction of the drawing as it is after the
burst, never to a queue of a thousand. When the prediction runs it reads the drawing *then*
(through ``source``), so the final state always reflects the final drawing.

It runs on the GUI thread, by measurement rather than habit (``packaging/measure_latency.py``,
on a 2-core machine busy with other work): preprocessing plus LeNet-5 with every activation
takes 2.5-2.8 ms median (4-11 ms p99) on one CPU thread, handing the result to the views
1.3 ms, and a whole mouse move to repainted bars and feature maps 10-14 ms median (17-29 ms
p99), about one 60 Hz frame. Input that arrives meanwhile is folded into the next prediction, not queued. A
worker thread would add a hand-off and copies of the drawing and the activations without
taking the repaint, the larger share, off the GUI thread.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from PySide6.QtCore import QObject, QTimer, Signal


class Request(NamedTuple):
    """What to predict: strokes (pad units) and the pen width shown, or an image, or stages
    already made (Number mode's selected digit: its ink was preprocessed to read the number)."""

    strokes: list
    pen_width: float | None = None
    image: object | None = None
    stages: object | None = None
    preprocess_ms: float = 0.0  # with stages: the time it took to make them


class Predictor(QObject):
    """Turns "the drawing changed" into at most one prediction per event-loop pass."""

    #: A Prediction, or None for an empty canvas (no ink: no prediction).
    predicted = Signal(object)
    #: A readable sentence when the engine failed (the drawing stays, nothing else changes).
    failed = Signal(str)

    def __init__(self, source: Callable[[], Request], engine=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._engine = engine
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._run)
        self.requests = 0  # how many times a prediction was asked for
        self.inferences = 0  # how many predictions actually ran
        self.last = None  # the last Prediction (or None)

    @property
    def engine(self):
        return self._engine

    def set_engine(self, engine) -> None:
        """Use this engine from now on; a drawing waiting for an engine is predicted now."""
        self._engine = engine
        if engine is not None:
            self._dirty = True
            self._timer.start()

    def request(self) -> None:
        self.requests += 1
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def pending(self) -> bool:
        return self._dirty

    def flush(self) -> None:
        """Run a pending prediction now (for callers that need the result synchronously)."""
        if self._dirty:
            self._timer.stop()
            self._run()

    def _run(self) -> None:
        if not self._dirty or self._engine is None:
            return  # without an engine the request stays pending until set_engine
        self._dirty = False
        req = self._source()
        try:
            if req.stages is not None:
                pred = self._engine.predict_stages(req.stages, preprocess_ms=req.preprocess_ms)
            elif req.image is not None:
                pred = self._engine.predict_image(req.image)
            else:
                pred = self._engine.predict_strokes(req.strokes, pen_width=req.pen_width)
        except Exception as exc:  # a device failure must not take the window down
            self.failed.emit(f"Prediction failed: {exc}")
            return
        self.inferences += 1
        self.last = pred
        self.predicted.emit(pred)
