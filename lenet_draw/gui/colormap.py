"""A diverging colour map centred on 0 (blue negative, white 0, red positive) and its legend."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

# ColorBrewer RdBu, reversed: readable for the common forms of colour blindness.
_ANCHORS = [
    (-1.0, (33, 102, 172)),
    (-0.5, (103, 169, 207)),
    (-0.2, (209, 229, 240)),
    (0.0, (247, 247, 247)),
    (0.2, (253, 219, 199)),
    (0.5, (239, 138, 98)),
    (1.0, (178, 24, 43)),
]
_MISSING = (206, 212, 218)


def _build_lut(n: int = 256) -> np.ndarray:
    xs = np.linspace(-1.0, 1.0, n)
    pos = np.array([a for a, _ in _ANCHORS])
    cols = np.array([c for _, c in _ANCHORS], dtype=np.float64)
    lut = np.stack([np.interp(xs, pos, cols[:, k]) for k in range(3)], axis=1)
    return np.round(lut).astype(np.uint8)


LUT = _build_lut()


def _pack32(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB (..., 3) -> uint32 0xffRRGGBB, the pixel layout of QImage.Format_RGB32."""
    rgb = np.asarray(rgb, dtype=np.uint32)
    return (0xFF000000 | (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]).astype(np.uint32)


#: LUT packed as RGB32 pixels, for colouring a whole layer with one lookup.
LUT32 = _pack32(LUT)
MISSING32 = int(_pack32(np.array(_MISSING)))


def pixel32(colour: QColor) -> int:
    """A QColor as an opaque RGB32 pixel value."""
    return 0xFF000000 | (colour.red() << 16) | (colour.green() << 8) | colour.blue()


def _index(values: np.ndarray, vmax: float) -> np.ndarray:
    half = 0.5 * (len(LUT) - 1)
    idx = values * (half / max(vmax, 1e-12))
    idx += half
    np.rint(idx, out=idx)
    np.minimum(idx, len(LUT) - 1, out=idx)  # as np.clip, without its overhead (called per layer per move)
    np.maximum(idx, 0, out=idx)
    nan = np.isnan(idx)
    if nan.any():
        idx[nan] = half
    return idx.astype(np.intp)


def diverging_rgb(values: np.ndarray, vmax: float = 1.0) -> np.ndarray:
    """Any-shaped array -> uint8 RGB of shape (..., 3); NaN cells grey (padding)."""
    a = np.asarray(values, dtype=np.float32)
    rgb = LUT[_index(a, vmax)]
    missing = np.isnan(a)
    if missing.any():
        rgb[missing] = _MISSING
    return rgb


def diverging_rgb32(values: np.ndarray, vmax: float = 1.0) -> np.ndarray:
    """Any-shaped array -> uint32 RGB32 pixels of the same shape (the colours of ``diverging_rgb``).

    Called for every layer on every pointer move, so the common case (all values finite) takes
    the fewest passes over the data: out-of-range indices are clamped by the lookup itself.
    """
    a = np.asarray(values, dtype=np.float32)
    half = 0.5 * (len(LUT) - 1)
    idx = a * np.float32(half / max(vmax, 1e-12))
    idx += np.float32(half)
    np.rint(idx, out=idx)
    if np.isfinite(idx).all():
        return LUT32.take(idx.astype(np.intp), mode="clip")
    px = LUT32.take(_index(a, vmax))  # NaN (padding: grey) or infinite values
    missing = np.isnan(a)
    if missing.any():
        px[missing] = MISSING32
    return px


def rgb_image(rgb: np.ndarray) -> QImage:
    """(H, W, 3) uint8 -> a QImage that owns a copy of the pixels."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def diverging_image(values: np.ndarray, vmax: float = 1.0) -> QImage:
    """A 2-D array -> RGB image, -vmax blue, 0 white, +vmax red; NaN cells grey (padding)."""
    return rgb_image(diverging_rgb(values, vmax))


def text_colour_for(value: float, vmax: float = 1.0) -> QColor:
    return QColor("#ffffff") if abs(value) / max(vmax, 1e-12) > 0.55 else QColor("#212529")


class Legend(QWidget):
    """A colour bar from -vmax to +vmax with its meaning."""

    def __init__(self, text: str = "tanh activation", vmax: float = 1.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = text
        self.vmax = vmax
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(44)
        self.setToolTip(text)

    def sizeHint(self) -> QSize:
        return QSize(200, 44)

    def paintEvent(self, ev: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        f = QFont(self.font())
        f.setPixelSize(11)
        p.setFont(f)
        bar = QRectF(8, 4, max(20.0, self.width() - 16.0), 12)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        for pos, (r, g, b) in _ANCHORS:
            grad.setColorAt((pos + 1.0) / 2.0, QColor(r, g, b))
        p.setPen(QColor("#adb5bd"))
        p.setBrush(grad)
        p.drawRect(bar)
        p.setPen(QColor("#495057"))
        v = self.vmax
        fmt = (lambda x: f"{x:+.0f}") if v >= 10 else (lambda x: f"{x:+.2g}")
        y = bar.bottom() + 2
        p.drawText(QRectF(bar.left(), y, 60, 14), Qt.AlignmentFlag.AlignLeft, fmt(-v).replace("-", "−"))
        p.drawText(QRectF(bar.center().x() - 30, y, 60, 14), Qt.AlignmentFlag.AlignHCenter, "0")
        p.drawText(QRectF(bar.right() - 60, y, 60, 14), Qt.AlignmentFlag.AlignRight, fmt(v))
        p.setPen(QColor("#868e96"))
        text = p.fontMetrics().elidedText(self.text, Qt.TextElideMode.ElideRight, int(bar.width()))
        p.drawText(QRectF(bar.left(), y + 14, bar.width(), 14), Qt.AlignmentFlag.AlignHCenter, text)
        p.end()
