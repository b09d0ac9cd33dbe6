"""The evidence overlay: which ink pushed the reading towards the shown digit and which against
it, over the strokes on the canvas and over the 32x32 input tile.

Off, it costs nothing: it is not connected to the live update at all. On, it follows the
shown predictions without holding up the bars: a new prediction only arms a zero-time timer, so
the evidence (8 forward and backward passes) is computed once the bars and maps have been
repainted, for the newest prediction only, and not while a newer drawing waits for its bars
(unless the overlay has waited FOLLOW_MS: it never lags further behind a pen that keeps
moving). Switching it on and clicking a bar answer at once. While it is on, clicking another
digit's bar shows the evidence for that digit against the shown one ("why not 7?"); clicking
the shown digit's bar (or switching the overlay off) goes back. With the overlay off, a click
on a bar is left to the bars.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction

from lenet_draw.gui.overlays import InputOverlay, canvas_transform, evidence_image, tile_transform

#: The longest the overlay waits, while drawings keep coming, before it follows the newest.
FOLLOW_MS = 100


class EvidenceOverlay(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self._waiting: tuple | None = None  # (prediction,) shown but not yet explained
        self._follow = QTimer(self)
        self._follow.setSingleShot(True)
        self._follow.timeout.connect(self._catch_up)
        self._since = 0.0  # perf_counter() when the oldest prediction still waiting was shown
        self._last: tuple | None = None  # (what was asked, Evidence) of the last evidence computed
        self.shown_at = 0.0  # perf_counter() when the overlay last took in new evidence
        self.canvas_overlay = InputOverlay(
            window.canvas, lambda: canvas_transform(window.canvas, self._to_input()), upsample=4
        )
        self.tile_overlay = InputOverlay(
            window.stages.tiles["input"], lambda: tile_transform(window.stages.tiles["input"])
        )
        self.contrast: int | None = None  # the digit whose bar was clicked ("why not 7?")
        self.evidence = None  # the Evidence shown, if any
        self.action = QAction("Show &Evidence", window)
        self.action.setCheckable(True)
        self.action.setShortcut("L")
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        tip = "Where the network looked: ink for the shown digit in orange, against it in blue"
        self.action.setStatusTip(tip + "; click another digit's bar to ask why not that digit")
        self.action.setToolTip(tip + " (L)")
        self.action.toggled.connect(self.set_enabled)
        window.addAction(self.action)
        window.panel.bars.installEventFilter(self)

    @property
    def enabled(self) -> bool:
        return self.action.isChecked()

    def _to_input(self):
        pred = self.window.panel.prediction
        return None if pred is None else getattr(pred.stages, "to_input", None)

    def set_enabled(self, on: bool) -> None:
        if on != self.action.isChecked():
            self.action.setChecked(on)  # comes back here through toggled
            return
        if on:
            self.window.predictionShown.connect(self.follow)
            self.refresh(self.window.panel.prediction)
        else:
            try:
                self.window.predictionShown.disconnect(self.follow)
            except (RuntimeError, TypeError):
                pass
            self._waiting = None
            self._follow.stop()
            self.contrast = None
            self.evidence = None
            self.canvas_overlay.set_evidence(None)
            self.tile_overlay.set_evidence(None)

    def ask_why_not(self, digit: int | None) -> None:
        """Show the evidence for ``digit`` against the shown digit (None: for the shown one)."""
        pred = self.window.panel.prediction
        self.contrast = None if digit is None or (pred is not None and digit == pred.digit) else int(digit)
        self.refresh(pred)

    def follow(self, pred) -> None:
        """A prediction was shown: explain it once the event loop has repainted the bars."""
        if self._waiting is None:
            self._since = time.perf_counter()
        self._waiting = (pred,)
        self._follow.start(0)

    def pending(self) -> bool:
        """Whether a shown prediction still waits for its evidence."""
        return self._waiting is not None

    def _catch_up(self) -> None:
        if self._waiting is None:
            return
        waited_ms = (time.perf_counter() - self._since) * 1e3
        if self.window.predictor.pending() and self.window.engine is not None and waited_ms < FOLLOW_MS:
            # A newer drawing waits for its bars: they go first, the overlay follows that one.
            self._follow.start(int(FOLLOW_MS - waited_ms) + 1)
            return
        (pred,) = self._waiting
        self._waiting = None
        self.refresh(pred)

    def refresh(self, pred) -> None:
        self._waiting = None
        self._follow.stop()
        from lenet_draw import attribution  # torch: loaded by now, since a prediction exists

        engine = self.window.engine
        if pred is None or engine is None:
            self.evidence = None
            self.canvas_overlay.set_evidence(None)
            self.tile_overlay.set_evidence(None)
            self.shown_at = time.perf_counter()
            return
        shown = pred.digit
        if self.contrast is not None and self.contrast != shown:
            target, against = self.contrast, shown
            caption = f"Why not {self.contrast}? Orange: ink for {self.contrast}; blue: ink for {shown}"
        else:
            target, against = shown, None
            caption = f"Evidence for {shown}: orange pushed towards it, blue against it"
        # The same input, question and weights give the same evidence (a repeated reading, a
        # why-not click taken back): the last one is kept.
        key = (pred.stages.input.tobytes(), target, against, engine, engine.model)
        if self._last is not None and self._last[0] == key:
            ev = self._last[1]
        else:
            ev = attribution.evidence(engine, pred.stages.input, target, against=against)
            self._last = (key, ev)
        self.evidence = ev
        on_canvas = getattr(pred.stages, "to_input", None) is not None
        ys, xs = np.nonzero(ev.values)
        extent = None if len(ys) == 0 else (int(ys.min()) - 1, int(ys.max()) + 2, int(xs.min()) - 1, int(xs.max()) + 2)
        if on_canvas:
            self.canvas_overlay.set_evidence(evidence_image(ev.values, ev.scale, upsample=4), caption, extent)
        else:
            self.canvas_overlay.set_evidence(None)
        self.tile_overlay.set_evidence(evidence_image(ev.values, ev.scale), "", extent)
        if not on_canvas:
            self.window.statusBar().showMessage(caption + " (on the 32×32 input)", 6000)
        self.shown_at = time.perf_counter()

    def eventFilter(self, obj, ev) -> bool:
        if (
            ev.type() == QEvent.Type.MouseButtonPress
            and self.enabled
            and obj is self.window.panel.bars
            and ev.button() == Qt.MouseButton.LeftButton
            and self.window.panel.prediction is not None
        ):
            for digit, r in enumerate(obj.bar_rects()):
                if r.contains(ev.position()):
                    self.ask_why_not(digit)
                    return True
        return False
