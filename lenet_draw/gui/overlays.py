"""Drawn over the canvas and over the 32x32 input tile: the evidence map and receptive fields.

An ``InputOverlay`` is a transparent child of the widget it covers, so the widget's own
painting is untouched; it lets every mouse event through. Everything it draws is given in the
input's continuous pixel coordinates (pixel (i, j) covers [j, j+1) x [i, i+1)) and placed by a
``QTransform`` from input to widget that its host supplies: for the input tile, the tile's
square; for the canvas, the inverse of the preprocessing's fit, centring and padding, so the
evidence lies on the strokes that made it.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from PIL import Image
from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QTransform
from PySide6.QtWidgets import QWidget

#: Evidence colours: ink that pushed towards the digit, and against it.
TOWARDS = QColor("#e8590c")
AGAINST = QColor("#1c7ed6")
#: Receptive-field outlines: the clicked unit, the hovered one, a kernel's strongest response.
SELECTED = QColor("#2b8a3e")
HOVERED = QColor("#495057")
KERNEL = QColor("#ae3ec9")


def _evidence_lut(n: int = 511) -> np.ndarray:
    """ARGB32 premultiplied pixels for evidence from -1 (AGAINST, opaque) through 0
    (transparent) to +1 (TOWARDS, opaque); opacity grows as |value| ** 0.6."""
    t = np.linspace(-1.0, 1.0, n)
    alpha = np.round(np.abs(t) ** 0.6 * 235.0)
    rgb = np.where((t > 0)[:, None], TOWARDS.getRgb()[:3], AGAINST.getRgb()[:3]).astype(np.float64)
    pre = np.round(rgb * (alpha[:, None] / 255.0)).astype(np.uint32)
    a = alpha.astype(np.uint32)
    return ((a << 24) | (pre[:, 0] << 16) | (pre[:, 1] << 8) | pre[:, 2]).astype(np.uint32)


_LUT = _evidence_lut()


def evidence_image(values: np.ndarray, scale: float, upsample: int = 1) -> QImage:
    """(32, 32) evidence -> ARGB32 premultiplied: TOWARDS where positive, AGAINST where negative,
    more opaque the stronger. ``upsample`` > 1 interpolates it (bilinear) first, so that drawn
    large without smoothing, which is several times faster, it still looks smooth."""
    v = np.asarray(values, dtype=np.float32)
    if upsample > 1:
        h, w = v.shape
        img = Image.fromarray(np.ascontiguousarray(v), mode="F")
        v = np.asarray(img.resize((w * upsample, h * upsample), Image.Resampling.BILINEAR), dtype=np.float32)
    half = (len(_LUT) - 1) / 2.0
    idx = np.clip(v * (half / (scale if scale > 0 else 1.0)) + half, 0, len(_LUT) - 1).astype(np.intp)
    px = np.ascontiguousarray(np.take(_LUT, idx))
    h, w = px.shape
    return QImage(px.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied).copy()


class InputOverlay(QWidget):
    """Evidence and outlines in input coordinates, over ``host``."""

    def __init__(self, host: QWidget, to_widget: Callable[[], QTransform | None], upsample: int = 1) -> None:
        super().__init__(host)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self._to_widget = to_widget
        self.upsample = upsample  # the evidence image's pixels per input pixel
        self.evidence: QImage | None = None
        self.caption = ""
        #: name -> (top, bottom, left, right) in input pixels, half-open
        self.outlines: dict[str, tuple[int, int, int, int]] = {}
        self._evidence_area = QRect()  # where the evidence shown was drawn, in this widget
        host.installEventFilter(self)
        self.setGeometry(host.rect())
        self.raise_()
        self.hide()  # shown only while it has something to draw: otherwise it costs its host nothing

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if ev.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def transform(self) -> QTransform | None:
        return self._to_widget()

    def set_evidence(
        self, image: QImage | None, caption: str = "", extent: tuple[int, int, int, int] | None = None
    ) -> None:
        """Show an evidence image (None: none). ``extent`` (top, bottom, left, right), in input
        pixels, bounds where it is not transparent: only that, and what the last one covered,
        is repainted (the canvas under it repaints with it)."""
        old = self._evidence_area
        self.evidence = image
        t = self.transform() if image is not None else None
        if t is None:
            new = QRect()
        else:
            top, bottom, left, right = extent if extent is not None else (0, 32, 0, 32)
            new = t.mapRect(QRectF(left, top, right - left, bottom - top)).toAlignedRect().adjusted(-2, -2, 2, 2)
        self._evidence_area = new
        if caption != self.caption:
            self.caption = caption
            self.update(self._caption_area())
        dirty = old.united(new)
        if not dirty.isEmpty():
            self.update(dirty)
        self._show_if_needed()

    def _show_if_needed(self) -> None:
        needed = self.evidence is not None or bool(self.outlines) or bool(self.caption)
        if needed != self.isVisible():
            self.setVisible(needed)

    def _caption_area(self) -> QRect:
        return QRect(0, self.height() - 40, self.width(), 40)

    def set_outline(self, name: str, field: tuple[int, int, int, int] | None) -> None:
        if field is None:
            if self.outlines.pop(name, None) is not None:
                self.update()
        elif self.outlines.get(name) != field:
            self.outlines[name] = field
            self.update()
        self._show_if_needed()

    def outline_rect(self, name: str, t: QTransform | None = None) -> QRectF | None:
        """Where an outline lies in this widget's coordinates (None when not shown); ``t``: the
        transform, when the caller has it already."""
        field = self.outlines.get(name)
        if field is None:
            return None
        t = t if t is not None else self.transform()
        if t is None:
            return None
        top, bottom, left, right = field
        return t.mapRect(QRectF(left, top, right - left, bottom - top))

    def paintEvent(self, ev) -> None:
        if self.evidence is None and not self.outlines and not self.caption:
            return
        t = self.transform()
        if t is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.evidence is not None:
            p.save()
            p.setTransform(t, True)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # smoothing: see evidence_image
            p.drawImage(QRectF(0, 0, 32, 32), self.evidence)
            p.restore()
        for name, colour in (("kernel", KERNEL), ("hovered", HOVERED), ("selected", SELECTED)):
            r = self.outline_rect(name, t)
            if r is not None:
                p.setPen(QPen(colour, 2.0, Qt.PenStyle.DashLine if name == "hovered" else Qt.PenStyle.SolidLine))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(r)
        if self.caption:
            f = p.font()
            f.setPixelSize(12)
            p.setFont(f)
            box = QRectF(self._caption_area()).adjusted(14, 0, -14, -14)
            p.setPen(QColor("#343a40"))
            p.drawText(box, Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft, self.caption)
        p.end()


def tile_transform(tile) -> QTransform | None:
    """Input pixels -> the input tile's square (None when it shows nothing)."""
    if tile.array is None or tile.array.shape != (32, 32):
        return None
    box = tile._box()
    s = box.width() / 32.0
    return QTransform(s, 0, 0, s, box.x(), box.y())


def canvas_transform(canvas, to_input) -> QTransform | None:
    """Input pixels -> canvas widget pixels, through the inverse of ``Stages.to_input``."""
    if to_input is None or not all(math.isfinite(v) for v in to_input) or to_input[0] <= 0:
        return None
    scale, dx, dy = to_input
    r = canvas.pad_rect()
    k = r.width() / scale
    return QTransform(k, 0, 0, k, r.x() - dx * k, r.y() - dy * k)


def input_point(t: QTransform, pos: QPointF) -> QPointF:
    inv, ok = t.inverted()
    return inv.map(pos) if ok else QPointF()
