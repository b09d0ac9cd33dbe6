"""The answer: the predicted digit shown large, its confidence, and ten probability bars.

Three visible states: empty (no ink, no prediction: nothing pretends to be a digit), sure,
and unsure (the top probability is below the engine's threshold: the digit is greyed and the
panel says it is a guess, so a scribble is never shown as a confident digit).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QFontMetricsF, QPainter, QPaintEvent, QPen, QPixmap, QStaticText
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from lenet_draw.gui.backgrounds import StaticBackgrounds

ACCENT = QColor("#1c7ed6")
UNSURE = QColor("#f08c00")
BAR_BG = QColor("#e9ecef")
BAR = QColor("#a5d8ff")
TEXT = QColor("#212529")
MUTED = QColor("#868e96")


class BigDigit(QWidget):
    """The predicted digit, large, with its confidence underneath.

    The digit and the caption are repainted only when what they show changes: while a person
    draws, the digit mostly stays and only the confidence moves.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)  # paints every pixel itself
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(108)
        self.state = "empty"  # "empty" | "sure" | "unsure" | "waiting" | "invalid"
        self.digit: int | None = None
        self.confidence = 0.0
        self.runner_up: tuple[int, float] | None = None
        # Why a reading the network is sure of is still shown unsure (a digit of a number whose
        # cut is in doubt): the caption says it, in place of the network's confidence.
        self.doubt = ""
        self._shown: tuple | None = None  # (digit part, caption part) last asked to be painted

    def text(self) -> str:
        """The big text: the digit, or when unsure the two it is between, best guess first ("7 or 1?")."""
        if self.state in ("empty", "waiting", "invalid"):
            return "–"
        if self.state == "unsure":
            return f"{self.digit} or {self.runner_up[0]}?" if self.runner_up and not self.doubt else f"{self.digit}?"
        return str(self.digit)

    def caption(self) -> str:
        if self.state == "waiting":
            return "Loading LeNet-5…"
        if self.state == "empty":
            return "Draw a digit"
        if self.state == "invalid":
            return "No reading: the network's output is not a number"
        if self.state == "unsure" and self.doubt:
            return self.doubt
        if self.state == "unsure":
            second = f", or {self.runner_up[0]} ({self.runner_up[1]:.0%})" if self.runner_up else ""
            return f"Unsure: best guess {self.digit} ({self.confidence:.0%}){second}"
        return f"{self.confidence:.1%} confident"

    def _digit_rect(self) -> QRectF:
        return QRectF(0, 0, self.width(), 80)

    def _caption_rect(self) -> QRectF:
        return QRectF(0, 80, self.width(), 26)

    def refresh(self) -> None:
        """Repaint the parts whose content changed (call after changing state, digit, confidence)."""
        shown = (
            self.state if self.state in ("empty", "waiting", "invalid") else (self.state, self.text()),
            (self.state == "unsure", self.caption()),
        )
        old, self._shown = self._shown, shown
        if old is None:
            self.update()
            return
        dirty = QRect()
        if shown[0] != old[0]:
            dirty = dirty.united(self._digit_rect().toAlignedRect())
        if shown[1] != old[1]:
            dirty = dirty.united(self._caption_rect().toAlignedRect())
        if not dirty.isEmpty():
            self.update(dirty)

    def paintEvent(self, ev: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())  # clipped to what is repainted
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        r = QRectF(self.rect())
        region = ev.region()
        top = self._digit_rect()
        if region.intersects(top.toAlignedRect()):
            big = QFont(self.font())
            big.setPixelSize(70)
            big.setBold(True)
            p.setFont(big)
            if self.state in ("empty", "waiting", "invalid"):
                p.setPen(QPen(QColor("#ced4da"), 2, Qt.PenStyle.DashLine))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRoundedRect(QRectF(top.center().x() - 26, top.y() + 8, 52, top.height() - 14), 8, 8)
            else:
                color = UNSURE if self.state == "unsure" else ACCENT
                p.setPen(color)
                text = self.text()
                while big.pixelSize() > 28 and p.fontMetrics().horizontalAdvance(text) > top.width() - 8:
                    big.setPixelSize(big.pixelSize() - 4)  # "7 or 1?" in a narrow panel
                    p.setFont(big)
                p.drawText(top, Qt.AlignmentFlag.AlignCenter, text)
        if region.intersects(self._caption_rect().toAlignedRect()):
            small = QFont(self.font())
            small.setPixelSize(14)
            small.setBold(self.state == "unsure")
            p.setFont(small)
            p.setPen(UNSURE if self.state == "unsure" else MUTED)
            caption = p.fontMetrics().elidedText(self.caption(), Qt.TextElideMode.ElideRight, int(r.width()) - 4)
            p.drawText(QRectF(r.x(), 80, r.width(), 26), Qt.AlignmentFlag.AlignCenter, caption)
        p.end()


def device_offset(p: QPainter) -> tuple[float, float]:
    """How far into a device pixel the painter's origin lies (0 unless the scale factor is
    fractional): the cached pixmaps are drawn with it, then placed on whole pixels."""
    t = p.deviceTransform()
    return t.dx() - math.floor(t.dx()), t.dy() - math.floor(t.dy())


class _Row(NamedTuple):
    """Where one digit's row draws, and the pixels each part may touch."""

    label: QRectF
    track: QRectF
    value: QRectF
    value_pos: QPointF  # top left of the value text, vertically centred as drawText centres it
    row_px: QRect
    label_px: QRect
    track_px: QRect
    value_px: QRect


class _BarsLayout(NamedTuple):
    font: QFont
    bold: QFont
    rows: list[_Row]


class ProbabilityBars(QWidget):
    """Ten labelled bars with their values; the top one highlighted.

    What does not change with a prediction (background, digit labels, bar tracks) is a pixmap
    rebuilt on resize; a new prediction repaints only the labels, bars and values that changed,
    and the values are laid out once per distinct text.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)  # paints every pixel itself
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(10 * 10)  # ten rows of at least 10 px: readable at 400x640
        self.probabilities: np.ndarray | None = None
        self.unsure = False
        self._layout_key: tuple | None = None
        self._layout: _BarsLayout | None = None
        # bold labels? -> background, labels, tracks
        self._statics = StaticBackgrounds(self, lambda p, bold: self._draw_static(p, bool(bold)))
        self._texts: dict[str, QStaticText] = {}  # value text -> its layout (at most 1001 of them)
        self._shown: list[tuple] | None = None  # per row: what was last asked to be painted

    def sizeHint(self) -> QSize:
        return QSize(260, 10 * 24)

    def bar_rects(self) -> list[QRectF]:
        """Where each digit's row is, for painting and for hit tests."""
        row = self.height() / 10.0
        return [QRectF(0, i * row, self.width(), row) for i in range(10)]

    def set_probabilities(self, probs: np.ndarray | None, unsure: bool = False) -> None:
        """Show ``probs`` (ten values) or nothing; repaints only the parts that change."""
        self.probabilities = probs
        self.unsure = unsure
        shown = self._row_contents()
        if self._shown is None:
            self.update()
        else:
            # One rectangle around what changed: painting through a clip of many small
            # rectangles costs more than painting the few unchanged parts inside one.
            dirty = QRect()
            for row, new, old in zip(self._layout.rows, shown, self._shown):
                if new[0] != old[0]:  # the label's weight
                    dirty = dirty.united(row.label_px)
                if new[1] != old[1]:  # the bar
                    dirty = dirty.united(row.track_px)
                if new[2] != old[2]:  # the value
                    dirty = dirty.united(row.value_px)
            if not dirty.isEmpty():
                self.update(dirty)
        self._shown = shown

    def _row_contents(self) -> list[tuple]:
        """Per row: (is top, (fill width, fill colour) or None, (value text, bold) or None)."""
        lay = self._geometry()
        probs = self.probabilities
        if probs is None:
            return [(False, None, None)] * 10
        top = int(np.argmax(probs))
        fill_top = UNSURE if self.unsure else ACCENT
        out = []
        for i, row in enumerate(lay.rows):
            v = float(probs[i])
            fill = (max(2.0, row.track.width() * v), fill_top if i == top else BAR) if v > 0.0005 else None
            out.append((i == top, fill, (f"{v:.1%}", i == top)))
        return out

    def _geometry(self) -> _BarsLayout:
        key = (self.width(), self.height())
        if key != self._layout_key or self._layout is None:
            f = QFont(self.font())
            f.setPixelSize(max(10, min(15, int(self.height() / 10 * 0.6))))
            bold = QFont(f)
            bold.setBold(True)
            fm = QFontMetrics(f)
            label_w = fm.horizontalAdvance("0") + 12
            value_w = fm.horizontalAdvance("100.0%") + 8
            text_h = {False: QFontMetricsF(f).height(), True: QFontMetricsF(bold).height()}
            rows = []
            for r in self.bar_rects():
                h = min(r.height() * 0.62, 20.0)
                track = QRectF(label_w, r.center().y() - h / 2, max(10.0, r.width() - label_w - value_w), h)
                label = QRectF(0, r.y(), label_w - 6, r.height())
                value = QRectF(track.right() + 6, r.y(), value_w, r.height())
                pos = QPointF(value.x(), value.y() + (value.height() - text_h[False]) / 2)
                rows.append(
                    _Row(
                        label,
                        track,
                        value,
                        pos,
                        r.toAlignedRect(),
                        QRectF(0, r.y(), label_w, r.height()).toAlignedRect(),
                        track.toAlignedRect(),
                        value.toAlignedRect(),
                    )
                )
            self._layout = _BarsLayout(f, bold, rows)
            self._layout_key = key
            self._statics.clear()
            self._texts.clear()
        return self._layout

    def changeEvent(self, ev: QEvent) -> None:
        if ev.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._layout = None
            self._statics.clear()
        super().changeEvent(ev)

    def _static(self, bold: bool, offset: tuple[float, float]) -> QPixmap:
        """Background, the ten digit labels (all bold and dark, or all plain and muted) and
        tracks, drawn ``offset`` device pixels in (see ``device_offset``)."""
        self._geometry()  # a new layout clears the cached pictures
        return self._statics.get(bold, offset)

    def _draw_static(self, p: QPainter, bold: bool) -> None:
        lay = self._geometry()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setFont(lay.bold if bold else lay.font)
        for i, row in enumerate(lay.rows):
            p.setPen(TEXT if bold else MUTED)
            p.drawText(row.label, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(i))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(BAR_BG)
            p.drawRoundedRect(row.track, 3, 3)

    def _text(self, text: str) -> QStaticText:
        st = self._texts.get(text)
        if st is None:
            st = self._texts[text] = QStaticText(text)
            st.setTextFormat(Qt.TextFormat.PlainText)
        return st

    def paintEvent(self, ev: QPaintEvent) -> None:
        lay = self._geometry()
        region = ev.region()
        p = QPainter(self)
        offset = device_offset(p)
        origin = QPointF(-offset[0], -offset[1]) / self.devicePixelRatioF()  # whole device pixels
        p.drawPixmap(origin, self._static(False, offset))  # clipped to what is repainted
        probs = self.probabilities
        if probs is None:
            p.end()
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(Qt.PenStyle.NoPen)
        top = int(np.argmax(probs))
        for i, row in enumerate(lay.rows):
            if not region.intersects(row.row_px):
                continue
            v = float(probs[i])
            if i == top and region.intersects(row.label_px):  # the bold label over the plain one
                p.save()
                p.setClipRect(row.label_px, Qt.ClipOperation.IntersectClip)
                p.drawPixmap(origin, self._static(True, offset))
                p.restore()
            if v > 0.0005 and region.intersects(row.track_px):
                fill = QRectF(row.track.x(), row.track.y(), max(2.0, row.track.width() * v), row.track.height())
                p.setBrush((UNSURE if self.unsure else ACCENT) if i == top else BAR)
                p.drawRoundedRect(fill, 3, 3)
        # The values: each text laid out once (QStaticText), placed as drawText's AlignVCenter would.
        p.setFont(lay.font)
        p.setPen(MUTED)
        for i, row in enumerate(lay.rows):
            if i != top and region.intersects(row.value_px):
                p.drawStaticText(row.value_pos, self._text(f"{float(probs[i]):.1%}"))
        row = lay.rows[top]
        if region.intersects(row.value_px):
            p.setFont(lay.bold)
            p.setPen(TEXT)
            p.drawText(
                row.value, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{float(probs[top]):.1%}"
            )
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
        self._doubt = ""
        self.set_waiting(True)

    def set_waiting(self, waiting: bool) -> None:
        if waiting:
            self.digit_view.state = "waiting"
            self.digit_view.refresh()
        elif self.digit_view.state == "waiting":
            self.show_prediction(self.prediction, self._doubt)

    @property
    def state(self) -> str:
        return self.digit_view.state

    def shown_probabilities(self) -> np.ndarray | None:
        """The ten values the bars show, or None when they show none."""
        return None if self.bars.probabilities is None else self.bars.probabilities.copy()

    def headline(self) -> str:
        """What the person reads above the bars."""
        d = self.digit_view
        return f"{d.text()} {d.caption()}"

    def show_prediction(self, pred, doubt: str = "") -> None:
        """Show ``pred``; ``doubt``: why a reading the network is sure of is unsure all the same
        (the caption then says it), or "" (the network's confidence decides)."""
        self.prediction, self._doubt = pred, doubt
        d = self.digit_view
        d.doubt = ""
        if pred is None:
            d.state, d.digit, d.confidence, d.runner_up = "empty", None, 0.0, None
            self.bars.set_probabilities(None)
        elif not np.isfinite(np.asarray(pred.probabilities, dtype=np.float64)).all():
            # Never shown as a reading: "0 nan% confident" would look like a sure answer.
            d.state, d.digit, d.confidence, d.runner_up = "invalid", None, 0.0, None
            self.bars.set_probabilities(None)
        else:
            probs = np.asarray(pred.probabilities, dtype=np.float64)
            d.digit, d.confidence = pred.digit, pred.confidence
            d.doubt = "" if pred.unsure else doubt  # the network's own doubt is said first
            d.state = "unsure" if pred.unsure or d.doubt else "sure"
            d.runner_up = pred.top(2)[1] if len(probs) > 1 else None
            self.bars.set_probabilities(probs, d.state == "unsure")
        d.refresh()
