"""The answer: the predicted digit shown large, its confidence, and ten probability bars.

Three visible states: empty (no ink, no prediction: nothing pretends to be a digit), sure,
and unsure (the top probability is below the engine's threshold: the digit is greyed and the
panel says it is a guess, so a scribble is never shown as a confident digit).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

ACCENT = QColor("#1c7ed6")
UNSURE = QColor("#f08c00")
BAR_BG = QColor("#e9ecef")
BAR = QColor("#a5d8ff")
TEXT = QColor("#212529")
MUTED = QColor("#868e96")


class BigDigit(QWidget):
    """The predicted digit, large, with its confidence underneath."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)  # paints every pixel itself
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(108)
        self.state = "empty"  # "empty" | "sure" | "unsure" | "waiting"
        self.digit: int | None = None
        self.confidence = 0.0
        self.runner_up: tuple[int, float] | None = None

    def caption(self) -> str:
        if self.state == "waiting":
            return "Loading LeNet-5…"
        if self.state == "empty":
            return "Draw a digit"
        if self.state == "unsure":
            second = f", or {self.runner_up[0]} ({self.runner_up[1]:.0%})" if self.runner_up else ""
            return f"Unsure: best guess {self.digit} ({self.confidence:.0%}){second}"
        return f"{self.confidence:.1%} confident"

    def paintEvent(self, ev: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        r = QRectF(self.rect())
        big = QFont(self.font())
        big.setPixelSize(70)
        big.setBold(True)
        p.setFont(big)
        top = QRectF(r.x(), r.y(), r.width(), 80)
        if self.state in ("empty", "waiting"):
            p.setPen(QPen(QColor("#ced4da"), 2, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(QRectF(top.center().x() - 26, top.y() + 8, 52, top.height() - 14), 8, 8)
        else:
            color = UNSURE if self.state == "unsure" else ACCENT
            p.setPen(color)
            text = f"{self.digit}?" if self.state == "unsure" else str(self.digit)
            p.drawText(top, Qt.AlignmentFlag.AlignCenter, text)
        small = QFont(self.font())
        small.setPixelSize(14)
        small.setBold(self.state == "unsure")
        p.setFont(small)
        p.setPen(UNSURE if self.state == "unsure" else MUTED)
        caption = p.fontMetrics().elidedText(self.caption(), Qt.TextElideMode.ElideRight, int(r.width()) - 4)
        p.drawText(QRectF(r.x(), 80, r.width(), 26), Qt.AlignmentFlag.AlignCenter, caption)
        p.end()


class ProbabilityBars(QWidget):
    """Ten labelled bars with their values; the top one highlighted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)  # paints every pixel itself
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(10 * 12)
        self.probabilities: np.ndarray | None = None
        self.unsure = False

    def sizeHint(self) -> QSize:
        return QSize(260, 10 * 24)

    def bar_rects(self) -> list[QRectF]:
        """Where each digit's row is, for painting and for hit tests."""
        row = self.height() / 10.0
        return [QRectF(0, i * row, self.width(), row) for i in range(10)]

    def paintEvent(self, ev: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        f = QFont(self.font())
        f.setPixelSize(max(10, min(15, int(self.height() / 10 * 0.6))))
        p.setFont(f)
        fm = p.fontMetrics()
        label_w = fm.horizontalAdvance("0") + 12
        value_w = fm.horizontalAdvance("100.0%") + 8
        probs = self.probabilities
        top = int(np.argmax(probs)) if probs is not None else -1
        for i, row in enumerate(self.bar_rects()):
            h = min(row.height() * 0.62, 20.0)
            y = row.center().y() - h / 2
            track = QRectF(label_w, y, max(10.0, row.width() - label_w - value_w), h)
            is_top = i == top
            p.setPen(TEXT if is_top else MUTED)
            bold = QFont(f)
            bold.setBold(is_top)
            p.setFont(bold)
            p.drawText(QRectF(0, row.y(), label_w - 6, row.height()), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(i))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(BAR_BG)
            p.drawRoundedRect(track, 3, 3)
            if probs is not None:
                v = float(probs[i])
                if v > 0.0005:
                    fill = QRectF(track.x(), track.y(), max(2.0, track.width() * v), track.height())
                    p.setBrush((UNSURE if self.unsure else ACCENT) if is_top else BAR)
                    p.drawRoundedRect(fill, 3, 3)
                p.setPen(TEXT if is_top else MUTED)
                p.drawText(QRectF(track.right() + 6, row.y(), value_w, row.height()),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{v:.1%}")
        p.end()


class PredictionPanel(QWidget):
    """BigDigit over ProbabilityBars; ``show_prediction(None)`` is the empty state."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.digit_view = BigDigit(self)
        self.bars = ProbabilityBars(self)
        self.source = QLabel(self)
        self.source.setStyleSheet("color: #868e96;")
        self.source.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 8)
        lay.setSpacing(4)
        lay.addWidget(self.digit_view)
        lay.addWidget(self.bars, 1)
        lay.addWidget(self.source)
        self.prediction = None
        self.set_waiting(True)

    def set_waiting(self, waiting: bool) -> None:
        if waiting:
            self.digit_view.state = "waiting"
            self.digit_view.update()
        elif self.digit_view.state == "waiting":
            self.show_prediction(self.prediction)

    @property
    def state(self) -> str:
        return self.digit_view.state

    def shown_probabilities(self) -> np.ndarray | None:
        """The ten values the bars show, or None when they show none."""
        return None if self.bars.probabilities is None else self.bars.probabilities.copy()

    def headline(self) -> str:
        """What the person reads above the bars."""
        d = self.digit_view
        main = "–" if d.state in ("empty", "waiting") else (f"{d.digit}?" if d.state == "unsure" else str(d.digit))
        return f"{main} {d.caption()}"

    def show_prediction(self, pred) -> None:
        self.prediction = pred
        d = self.digit_view
        if pred is None:
            d.state, d.digit, d.confidence, d.runner_up = "empty", None, 0.0, None
            self.bars.probabilities = None
            self.bars.unsure = False
        else:
            probs = np.asarray(pred.probabilities, dtype=np.float64)
            d.digit, d.confidence = pred.digit, pred.confidence
            d.state = "unsure" if pred.unsure else "sure"
            d.runner_up = pred.top(2)[1] if len(probs) > 1 else None
            self.bars.probabilities = probs
            self.bars.unsure = pred.unsure
        d.update()
        self.bars.update()
