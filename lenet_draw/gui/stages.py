"""The preprocessing strip: the ink cropped, fitted to 20x20, centred by mass, the 32x32 input.

Each stage is drawn pixelated (no smoothing), so a person sees the pixels the network gets
and why a digit drawn small in a corner is still read right.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QWidget

from lenet_draw.gui import explain

#: (attribute of Stages, caption) in pipeline order.
STAGES = (
    ("cropped", "Ink\ncropped"),
    ("fitted", "Fitted\n20×20"),
    ("centred", "Centred\n28×28"),
    ("input", "Input\n32×32"),
)


def gray_image(arr: np.ndarray) -> QImage:
    """Ink = 1 as white on black, the way MNIST stores digits and the network sees them."""
    a = np.ascontiguousarray((np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))
    h, w = a.shape
    return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


class StageTile(QWidget):
    """One stage, pixelated in a black square, its caption underneath.

    A new array repaints only the square; the image is made when the tile is painted, so a
    closed "What the network sees" dock costs nothing while drawing.
    """

    def __init__(self, key: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)  # paints every pixel itself
        self.key = key
        self.caption = caption
        self.array: np.ndarray | None = None
        self.centre_of_mass: tuple[float, float] | None = None
        self._image: QImage | None = None
        self._image_stale = False
        self._tip = ""
        self._geom_key: tuple | None = None
        self._geom: tuple = ()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(34, 42)  # four fit beside a 200 px drawing pad in a 400 px window
        self.setToolTip(f"<b>{caption.replace(chr(10), ' ')}</b><br>{explain.STAGES.get(key, '')}")

    def sizeHint(self) -> QSize:
        return QSize(96, 118)

    def set_array(self, arr: np.ndarray | None, com: tuple[float, float] | None = None) -> None:
        self.array = None if arr is None else np.asarray(arr)
        self.centre_of_mass = com
        self._image, self._image_stale = None, self.array is not None and self.array.size > 0
        if arr is not None:
            h, w = self.array.shape
            tip = f"<b>{self.caption.replace(chr(10), ' ')}</b>: {w}×{h} pixels<br>{explain.STAGES.get(self.key, '')}"
            if tip != self._tip:
                self._tip = tip
                self.setToolTip(tip)
        # Only the square: the centre-of-mass mark lies well inside it (centring by mass puts
        # the centre of mass in the middle of the 28x28 and 32x32 images).
        self.update(self._box().toAlignedRect())

    def _geometry(self) -> tuple[QFont, float, QRectF, QRectF, QRect]:
        """(font, text height, the square, the caption's rectangle and pixels) for this size."""
        key = (self.width(), self.height())
        if key != self._geom_key:
            f = QFont(self.font())
            f.setPixelSize(11)
            # a narrow tile gets a smaller caption rather than a cut one
            while (
                f.pixelSize() > 8
                and max(map(QFontMetrics(f).horizontalAdvance, self.caption.split("\n"))) > self.width()
            ):
                f.setPixelSize(f.pixelSize() - 1)
            text_h = 2 * QFontMetrics(f).height() + 4
            side = max(8.0, min(self.width() - 4.0, self.height() - text_h - 4.0))
            box = QRectF((self.width() - side) / 2, 2, side, side)
            caption = QRectF(0, box.bottom() + 2, self.width(), text_h)
            self._geom = (f, text_h, box, caption, caption.toAlignedRect())
            self._geom_key = key
        return self._geom

    def _box(self) -> QRectF:
        return self._geometry()[2]

    def image_rect(self) -> QRectF | None:
        """Where the array's pixels are drawn (each array pixel a square of the same size),
        or None when there is nothing to show."""
        arr = self.array
        if arr is None or arr.size == 0:
            return None
        box = self._box()
        h, w = arr.shape
        scale = min(box.width() / w, box.height() / h)
        return QRectF(box.center().x() - w * scale / 2, box.center().y() - h * scale / 2, w * scale, h * scale)

    def changeEvent(self, ev: QEvent) -> None:
        if ev.type() == QEvent.Type.FontChange:
            self._geom_key = None
        super().changeEvent(ev)

    def paintEvent(self, ev: QPaintEvent) -> None:
        f, _, box, caption, caption_px = self._geometry()
        p = QPainter(self)
        p.fillRect(ev.rect(), self.palette().window())  # clipped to what is repainted
        p.fillRect(box, QColor("#000000"))
        if self._image_stale:
            self._image, self._image_stale = gray_image(self.array), False
        target = self.image_rect()
        if self._image is not None and target is not None:
            img = self._image
            scale = target.width() / img.width()
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            p.drawImage(target, img)
            if self.centre_of_mass is not None and self.key in ("centred", "input"):
                off = 2.0 if self.key == "input" else 0.0
                cx, cy = self.centre_of_mass
                pt = QPointF(target.x() + (cx + off + 0.5) * scale, target.y() + (cy + off + 0.5) * scale)
                p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                p.setPen(QPen(QColor("#ff6b6b"), 1.5))
                p.drawLine(pt - QPointF(5, 0), pt + QPointF(5, 0))
                p.drawLine(pt - QPointF(0, 5), pt + QPointF(0, 5))
        if ev.region().intersects(caption_px):
            p.setFont(f)
            p.setPen(QColor("#495057"))
            p.drawText(caption, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, self.caption)
        p.end()


class StagesStrip(QWidget):
    """Four tiles, updated together from a Prediction's ``stages``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Paint the gaps between the tiles: when the right column is cramped, Qt may leave a
        # second tab bar of the tabbed docks under the strip, which showed through them.
        self.setAutoFillBackground(True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(6)
        self.tiles = {key: StageTile(key, caption, self) for key, caption in STAGES}
        for t in self.tiles.values():
            lay.addWidget(t)
        self.stages = None

    def show_stages(self, stages) -> None:
        """``stages`` from the engine, or None to show nothing."""
        self.stages = stages
        for key, tile in self.tiles.items():
            if stages is None:
                tile.set_array(None)
            else:
                tile.set_array(getattr(stages, key), getattr(stages, "centre_of_mass", None))
