"""What the reading tolerates: the current drawing rotated, scaled, shifted, thickened or thinned
and made noisy, as plots of each class's probability against the change, and a slider per
change that applies it, live, to what the network sees (shown beside them with its reading).

The plots are recomputed only while the view is shown, shortly after the drawing stops
changing, one curve per event-loop pass so drawing never waits for them.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QSlider, QVBoxLayout, QWidget

from lenet_draw.gui.stages import StageTile

#: The ten classes' colours (Tableau 10); the shown digit's curve is drawn thicker.
CLASS_COLOURS = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
]  # fmt: skip
SLIDER_STEPS = 1000
#: Wait this long after the last change of the drawing before recomputing the plots.
SETTLE_MS = 250


class CurvePlot(QWidget):
    """Each class's probability (0..1) against one change's values."""

    def __init__(self, change, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.change = change
        self.curve = None  # an invariance.Curve
        self.digit: int | None = None  # the shown digit
        self.marker = change.neutral
        self.setMinimumSize(160, 110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(240, 140)

    def set_curve(self, curve, digit: int | None) -> None:
        self.curve, self.digit = curve, digit
        self.update()

    def set_marker(self, value: float) -> None:
        self.marker = value
        self.update()

    def plot_rect(self) -> QRectF:
        return QRectF(28, 18, max(10.0, self.width() - 36.0), max(10.0, self.height() - 36.0))

    def point(self, value: float, prob: float) -> QPointF:
        r, c = self.plot_rect(), self.change
        return QPointF(r.x() + (value - c.lo) / (c.hi - c.lo) * r.width(), r.bottom() - prob * r.height())

    def paintEvent(self, ev) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#ffffff"))
        f = QFont(self.font())
        f.setPixelSize(11)
        p.setFont(f)
        r, c = self.plot_rect(), self.change
        p.setPen(QColor("#212529"))
        p.drawText(QRectF(0, 1, self.width(), 16), Qt.AlignmentFlag.AlignCenter, c.label)
        p.setPen(QPen(QColor("#dee2e6"), 1))
        for y in (0.0, 0.5, 1.0):
            p.drawLine(self.point(c.lo, y), self.point(c.hi, y))
        p.setPen(QColor("#868e96"))
        for y in (0.0, 1.0):
            p.drawText(QRectF(0, self.point(c.lo, y).y() - 7, 24, 14), Qt.AlignmentFlag.AlignRight, f"{y:.0f}")
        for v, align in ((c.lo, Qt.AlignmentFlag.AlignLeft), (c.neutral, Qt.AlignmentFlag.AlignHCenter),
                         (c.hi, Qt.AlignmentFlag.AlignRight)):  # fmt: skip
            if align == Qt.AlignmentFlag.AlignHCenter and c.neutral in (c.lo, c.hi):
                continue  # already labelled at its end
            x = self.point(v, 0).x()
            box = QRectF(x - 40 if align != Qt.AlignmentFlag.AlignLeft else x, r.bottom() + 2, 80, 14)
            if align == Qt.AlignmentFlag.AlignRight:
                box.moveRight(x)
            elif align == Qt.AlignmentFlag.AlignHCenter:
                box.moveCenter(QPointF(x, box.center().y()))
            p.drawText(box, align, f"{v:g}{c.unit}")
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.curve is not None:
            order = [k for k in range(10) if k != self.digit] + ([self.digit] if self.digit is not None else [])
            for k in order:
                path = QPainterPath(self.point(self.curve.values[0], float(self.curve.probabilities[0, k])))
                for v, pr in zip(self.curve.values[1:], self.curve.probabilities[1:, k]):
                    path.lineTo(self.point(float(v), float(pr)))
                p.setPen(QPen(QColor(CLASS_COLOURS[k]), 2.6 if k == self.digit else 1.2))
                p.drawPath(path)
                peak = int(np.argmax(self.curve.probabilities[:, k]))
                if self.curve.probabilities[peak, k] > 0.3:
                    p.drawText(self.point(float(self.curve.values[peak]), float(self.curve.probabilities[peak, k]))
                               + QPointF(3, -3), str(k))  # fmt: skip
        p.setPen(QPen(QColor("#212529"), 1, Qt.PenStyle.DashLine))
        p.drawLine(self.point(self.marker, 0), self.point(self.marker, 1))
        p.end()


class InvarianceView(QWidget):
    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from lenet_draw.invariance import CHANGES

        self.window = window
        self.changes = CHANGES
        self.plots: dict[str, CurvePlot] = {}
        self.sliders: dict[str, QSlider] = {}
        self.source = None
        self.digit: int | None = None
        self.changed_probabilities: np.ndarray | None = None  # the reading with the sliders applied
        self._pending: list[str] = []
        self._stale = True  # the drawing changed since the plots were made
        self.shown = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._next_curve)
        grid = QGridLayout()
        grid.setSpacing(6)
        for i, (name, change) in enumerate(CHANGES.items()):
            plot = CurvePlot(change, self)
            s = QSlider(Qt.Orientation.Horizontal, self)
            s.setRange(0, SLIDER_STEPS)
            s.setValue(self._to_slider(name, change.neutral))
            s.setToolTip(f"{change.label}: applied to what the network sees, shown on the right")
            s.valueChanged.connect(lambda _v, n=name: self._on_slider(n))
            box = QVBoxLayout()
            box.setSpacing(0)
            box.addWidget(plot, 1)
            box.addWidget(s)
            grid.addLayout(box, i // 3, i % 3)
            self.plots[name], self.sliders[name] = plot, s
        self.preview = StageTile("input", "What the network\nsees, changed", self)
        self.preview.setMinimumSize(110, 140)
        self.reading = QLabel("", self)
        self.reading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reading.setWordWrap(True)
        side = QVBoxLayout()
        side.addWidget(self.preview, 1)
        side.addWidget(self.reading)
        outer = QGridLayout(self)
        outer.setContentsMargins(6, 4, 6, 4)
        outer.addLayout(grid, 0, 0)
        outer.addLayout(side, 0, 1)
        outer.setColumnStretch(0, 1)
        window.predictionShown.connect(self._on_prediction)

    # -- sliders ------------------------------------------------------------------------------
    def _to_slider(self, name: str, value: float) -> int:
        c = self.changes[name]
        return int(round((value - c.lo) / (c.hi - c.lo) * SLIDER_STEPS))

    def value(self, name: str) -> float:
        c = self.changes[name]
        return c.lo + self.sliders[name].value() / SLIDER_STEPS * (c.hi - c.lo)

    def set_value(self, name: str, value: float) -> None:
        self.sliders[name].setValue(self._to_slider(name, value))

    def changed_values(self) -> dict[str, float]:
        return {n: self.value(n) for n in self.changes}

    def _on_slider(self, name: str) -> None:
        self.plots[name].set_marker(self.value(name))
        self._apply_sliders()

    def _apply_sliders(self) -> None:
        engine = self.window.engine
        if self.source is None or engine is None:
            self.preview.set_array(None)
            self.reading.setText("Draw a digit")
            return
        img = self.source.image(**self.changed_values())
        probs = engine.probabilities(img[None])[0]
        self.preview.set_array(img)
        top = int(np.argmax(probs))
        self.changed_probabilities = probs
        self.reading.setText(f"reads <b>{top}</b> ({probs[top]:.0%})")

    # -- curves -------------------------------------------------------------------------------
    def set_shown(self, shown: bool) -> None:
        """Whether a person can see the view (its dock is open and its tab in front): only then
        does it follow the drawing."""
        self.shown = shown
        if shown and self._stale:
            self._timer.start(0)

    def _on_prediction(self, pred) -> None:
        self._stale = True  # nothing computed here: a pointer move must not wait for the plots
        if self.shown:
            self._timer.start(SETTLE_MS)

    def _refresh_source(self) -> bool:
        from lenet_draw.invariance import Source

        self._stale = False
        pred = self.window.panel.prediction
        if pred is None:
            self.source, self.digit = None, None
            for plot in self.plots.values():
                plot.set_curve(None, None)
            self._pending = []
            self._apply_sliders()
            return False
        canvas = self.window.canvas
        self.source = Source.from_prediction(canvas.strokes() if canvas.image() is None else [], pred.stages)
        self.digit = pred.digit
        self._apply_sliders()
        self._pending = list(self.changes)
        return True

    def _next_curve(self) -> None:
        from lenet_draw.invariance import curve

        if self._stale and not self._refresh_source():
            return
        engine = self.window.engine
        if not self._pending or self.source is None or engine is None:
            return
        name = self._pending.pop(0)
        self.plots[name].set_curve(curve(engine, self.source, name), self.digit)
        if self._pending:
            self._timer.start(0)

    def compute_now(self) -> None:
        """Every pending curve at once (for callers that need them synchronously)."""
        self._timer.stop()
        self._next_curve()
        while self._pending:
            self._next_curve()
