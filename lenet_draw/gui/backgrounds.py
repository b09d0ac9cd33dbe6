"""Cached pictures of a view's unchanging parts (background, labels, tracks, titles).

The bars and the feature-map views repaint only their values on every pointer move; what
does not change is drawn once into a pixmap per variant (say, bold or plain labels) and reused,
until the widget's size, device pixel ratio or device offset change, or ``clear()`` is called
(font, palette or style changed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable

from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QWidget


class StaticBackgrounds:
    """One pixmap per variant, the widget's window colour filled in, then ``draw(painter, variant)``.

    ``offset`` (device pixels) shifts the drawing so that a pixmap blitted at minus that offset
    lines up with the widget's pixel grid (see the views' ``device_offset``).
    """

    def __init__(self, widget: QWidget, draw: Callable[[QPainter, Hashable], None]) -> None:
        self.widget = widget
        self.draw = draw
        self._key: tuple | None = None
        self._cache: dict[Hashable, QPixmap] = {}

    def clear(self) -> None:
        self._cache.clear()

    def get(self, variant: Hashable, offset: tuple[float, float] = (0.0, 0.0)) -> QPixmap:
        w = self.widget
        dpr = w.devicePixelRatioF()
        key = (w.width(), w.height(), dpr, offset)
        if key != self._key:
            self._cache.clear()
            self._key = key
        pm = self._cache.get(variant)
        if pm is None:
            pm = QPixmap(math.ceil(w.width() * dpr) + 1, math.ceil(w.height() * dpr) + 1)
            pm.setDevicePixelRatio(dpr)
            p = QPainter(pm)
            p.translate(offset[0] / dpr, offset[1] / dpr)
            p.fillRect(QRectF(-1, -1, w.width() + 2, w.height() + 2), w.palette().window())
            self.draw(p, variant)
            p.end()
            self._cache[variant] = pm
        return pm
