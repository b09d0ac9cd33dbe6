"""Feature maps of every layer, and the learned kernels, in a diverging colour map centred on 0.

Each layer is one ``LayerView`` labelled with its name and shape ("C1 6@28×28"). Hovering a map
shows it enlarged, with its values, in the detail pane beside the layers; clicking pins it
there so it can be watched while drawing. Vector layers (C5, F6, output) are shown as grids
of cells, one per unit.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from lenet_draw.gui.colormap import Legend, diverging_image, diverging_rgb, rgb_image, text_colour_for

#: Layer -> shape of one image's activation. Mirrors lenet_draw.model.LAYER_SHAPES (a test
#: checks they agree) so the window can lay itself out before torch has been imported.
LAYERS: dict[str, tuple[int, ...]] = {
    "C1": (6, 28, 28),
    "S2": (6, 14, 14),
    "C3": (16, 10, 10),
    "S4": (16, 5, 5),
    "C5": (120,),
    "F6": (84,),
    "output": (10,),
}

#: How each layer's maps are arranged (rows, columns); vector layers are one grid of units.
_GRIDS = {"C1": (3, 2), "S2": (3, 2), "C3": (4, 4), "S4": (4, 4)}
_UNIT_GRIDS = {"C5": (12, 10), "F6": (12, 7), "output": (10, 1)}

TITLE_PX = 12
GAP = 3


def shape_label(name: str, shape: tuple[int, ...]) -> str:
    """"C1 6@28×28", "C5 120": the paper's notation."""
    if len(shape) == 3:
        return f"{name} {shape[0]}@{shape[1]}×{shape[2]}"
    return f"{name} {shape[0]}"


class LayerView(QWidget):
    """The maps of one layer (or one set of kernels), tiled in a fixed grid."""

    hovered = Signal(object, int)  # this view, map index (-1: left)
    clicked = Signal(object, int)

    def __init__(
        self,
        name: str,
        shape: tuple[int, ...],
        grid: tuple[int, int] | None = None,
        title: str | None = None,
        symmetric_auto: bool = False,
        unit_labels: list[str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)  # paints every pixel itself
        self.name = name
        self.shape = tuple(shape)
        self.title = title or shape_label(name, self.shape)
        self.symmetric_auto = symmetric_auto  # scale to the largest |value| instead of 1
        self.unit_labels = unit_labels
        self.x_stretch = 3.0 if name == "output" and len(shape) == 1 else 1.0  # wider cells for ten logits
        if len(self.shape) == 3:
            self.count, self.tile_shape = self.shape[0], self.shape[1:]
            self.grid = grid or _GRIDS.get(name) or (1, self.shape[0])
        else:
            self.count = 1
            self.tile_shape = _UNIT_GRIDS.get(name) or (math.ceil(self.shape[0] / 10), min(10, self.shape[0]))
            self.grid = (1, 1)
        self.activation: np.ndarray | None = None
        self.vmax = 1.0
        self._images: list[QImage] = []
        self.hover_index = -1
        self.pinned_index = -1
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(24, 40)

    # -- data -------------------------------------------------------------------------------
    def set_activation(self, arr: np.ndarray | None) -> None:
        if arr is None:
            self.activation, self._images = None, []
            self.update()
            return
        a = np.asarray(arr, dtype=np.float32)
        if a.shape != self.shape:
            raise ValueError(f"{self.name} expects an activation of shape {self.shape}, got {a.shape}")
        self.activation = a
        self.vmax = float(np.max(np.abs(a))) if self.symmetric_auto else 1.0
        if not np.isfinite(self.vmax) or self.vmax <= 0:
            self.vmax = 1.0
        # One vectorised colour lookup for the whole layer, then one image per map.
        if len(self.shape) == 3:
            rgb = diverging_rgb(a, self.vmax)
            self._images = [rgb_image(rgb[i]) for i in range(self.count)]
        else:
            self._images = [rgb_image(diverging_rgb(self.tile(0), self.vmax))]
        self.update()

    def tile(self, index: int) -> np.ndarray:
        """Map ``index`` as a 2-D array (vector layers padded with NaN to their grid)."""
        if self.activation is None:
            return np.full(self.tile_shape, np.nan)
        if len(self.shape) == 3:
            return self.activation[index]
        rows, cols = self.tile_shape
        flat = np.full(rows * cols, np.nan, dtype=np.float64)
        flat[: self.shape[0]] = self.activation
        return flat.reshape(rows, cols)

    def tile_caption(self, index: int) -> str:
        if len(self.shape) == 3:
            return f"{self.title.split(' ')[0]} · map {index + 1} of {self.count} · {self.tile_shape[1]}×{self.tile_shape[0]}"
        return f"{self.title}"

    def cell_caption(self, index: int, r: int, c: int) -> str:
        if len(self.shape) == 3:
            return f"row {r}, column {c}"
        unit = r * self.tile_shape[1] + c
        if self.unit_labels and unit < len(self.unit_labels):
            return self.unit_labels[unit]
        return f"unit {unit}"

    # -- geometry ---------------------------------------------------------------------------
    def _label_w(self) -> float:
        return 14.0 if self.unit_labels else 0.0

    def _scale_for(self, w: float, h: float) -> float:
        rows, cols = self.grid
        th, tw = self.tile_shape
        sh = (h - TITLE_PX - 6 - (rows - 1) * GAP) / (rows * th)
        sw = (w - self._label_w() - (cols - 1) * GAP) / (cols * tw * self.x_stretch)
        return max(0.2, min(sh, sw))

    def width_for_height(self, h: float) -> float:
        """Width the maps need at height ``h`` (a title that does not fit is shortened)."""
        rows, cols = self.grid
        th, tw = self.tile_shape
        s = max(0.2, (h - TITLE_PX - 6 - (rows - 1) * GAP) / (rows * th))
        name_w = QFontMetricsF(self._title_font(bold=True)).horizontalAdvance(self.title.split(" ")[0]) + 4
        return max(name_w, cols * tw * s * self.x_stretch + (cols - 1) * GAP + self._label_w())

    def _title_font(self, bold: bool = False) -> QFont:
        f = QFont(self.font())
        f.setPixelSize(TITLE_PX - 1)
        f.setBold(bold)
        return f

    def tile_rects(self) -> list[QRectF]:
        rows, cols = self.grid
        th, tw = self.tile_shape
        s = self._scale_for(self.width(), self.height())
        sx = s * self.x_stretch
        gw = cols * tw * sx + (cols - 1) * GAP + self._label_w()
        x0 = (self.width() - gw) / 2.0 + self._label_w()
        y0 = TITLE_PX + 6
        out = []
        for i in range(self.count):
            r, c = divmod(i, cols)
            out.append(QRectF(x0 + c * (tw * sx + GAP), y0 + r * (th * s + GAP), tw * sx, th * s))
        return out

    def hit(self, pos: QPointF) -> tuple[int, int, int] | None:
        """(map index, row, column) under ``pos``, or None."""
        for i, r in enumerate(self.tile_rects()):
            if r.contains(pos):
                th, tw = self.tile_shape
                row = min(th - 1, int((pos.y() - r.y()) / r.height() * th))
                col = min(tw - 1, int((pos.x() - r.x()) / r.width() * tw))
                return i, row, col
        return None

    # -- events -----------------------------------------------------------------------------
    def mouseMoveEvent(self, ev: QMouseEvent) -> None:
        h = self.hit(ev.position())
        idx = -1 if h is None else h[0]
        if idx != self.hover_index:
            self.hover_index = idx
            self.update()
            self.hovered.emit(self, idx)

    def leaveEvent(self, ev) -> None:
        if self.hover_index != -1:
            self.hover_index = -1
            self.update()
            self.hovered.emit(self, -1)
        super().leaveEvent(ev)

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        h = self.hit(ev.position())
        if h is not None and ev.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self, h[0])

    def paintEvent(self, ev: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        f, bold = self._title_font(), self._title_font(bold=True)
        name, _, rest = self.title.partition(" ")
        head = QFontMetricsF(bold).horizontalAdvance(name + " ")
        total = head + QFontMetricsF(f).horizontalAdvance(rest)
        if total > self.width():  # too narrow for the shape: the name alone, shape in the tooltip
            rest, total = "", head
        self.setToolTip(self.title)
        x = max(0.0, (self.width() - total) / 2.0)
        p.setFont(bold)
        p.setPen(QColor("#343a40"))
        p.drawText(QPointF(x, TITLE_PX), name + " ")
        x += head
        p.setFont(f)
        p.setPen(QColor("#868e96"))
        p.drawText(QPointF(x, TITLE_PX), rest)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        rects = self.tile_rects()
        for i, r in enumerate(rects):
            if i < len(self._images):
                p.drawImage(r, self._images[i])
            else:
                p.fillRect(r, QColor("#f1f3f5"))
        if self.unit_labels and rects:
            r = rects[0]
            th = self.tile_shape[0]
            p.setPen(QColor("#495057"))
            top = int(np.argmax(self.activation)) if self.activation is not None else -1
            for k, lab in enumerate(self.unit_labels[:th]):
                cell = QRectF(r.x() - self._label_w(), r.y() + k * r.height() / th, self._label_w() - 3, r.height() / th)
                bf = QFont(f)
                bf.setBold(k == top)
                p.setFont(bf)
                p.drawText(cell, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, lab)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for idx, colour in ((self.pinned_index, QColor("#1c7ed6")), (self.hover_index, QColor("#212529"))):
            if 0 <= idx < len(rects):
                p.setPen(QPen(colour, 2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(rects[idx].adjusted(-1.5, -1.5, 1.5, 1.5))
        p.end()


def compact(x: float) -> str:
    """A value in at most four characters: "−.83", ".07", "1.0", "−12"."""
    if abs(x) >= 9.95:
        return f"{x:.0f}".replace("-", "−")
    if abs(x) >= 0.995:
        return f"{x:.1f}".replace("-", "−")
    return f"{x:.2f}".replace("0.", ".", 1).replace("-", "−")


class MapDetail(QWidget):
    """One map enlarged, with its values; follows the live prediction."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)  # paints every pixel itself
        self.view: LayerView | None = None
        self.index = -1
        self._cursor: tuple[int, int] | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(100, 80)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_map(self, view: LayerView | None, index: int) -> None:
        self.view, self.index = view, index
        self._cursor = None
        self.update()

    def values(self) -> np.ndarray | None:
        """The values the enlarged map shows (None when it shows none)."""
        if self.view is None or self.index < 0 or self.view.activation is None:
            return None
        return self.view.tile(self.index)

    def _map_rect(self) -> QRectF | None:
        if self.view is None:
            return None
        th, tw = self.view.tile_shape
        avail_w, avail_h = self.width() - 8.0, self.height() - 44.0
        xs = self.view.x_stretch
        s = max(1.0, min(avail_w / (tw * xs), avail_h / th))
        w, h = tw * s * xs, th * s
        return QRectF((self.width() - w) / 2, 20 + (avail_h - h) / 2, w, h)

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:
        r = self._map_rect()
        cur = None
        if r is not None and r.contains(ev.position()):
            th, tw = self.view.tile_shape
            cur = (min(th - 1, int((ev.position().y() - r.y()) / r.height() * th)),
                   min(tw - 1, int((ev.position().x() - r.x()) / r.width() * tw)))
        if cur != self._cursor:
            self._cursor = cur
            self.update()

    def leaveEvent(self, ev) -> None:
        self._cursor = None
        self.update()
        super().leaveEvent(ev)

    def paintEvent(self, ev: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#f8f9fa"))
        f = QFont(self.font())
        f.setPixelSize(12)
        p.setFont(f)
        if self.view is None or self.index < 0:
            p.setPen(QColor("#868e96"))
            p.drawText(QRectF(self.rect()).adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       "Hover over a map to enlarge it; click to keep it here.")
            p.end()
            return
        v = self.view
        p.setPen(QColor("#212529"))
        title = p.fontMetrics().elidedText(v.tile_caption(self.index), Qt.TextElideMode.ElideRight, self.width() - 4)
        p.drawText(QRectF(0, 2, self.width(), 16), Qt.AlignmentFlag.AlignCenter, title)
        r = self._map_rect()
        vals = self.values()
        if vals is None:
            p.fillRect(r, QColor("#f1f3f5"))
            caption = "no prediction yet"
        else:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            p.drawImage(r, diverging_image(vals, v.vmax))
            th, tw = v.tile_shape
            cw, cell = r.width() / tw, r.height() / th
            if cell >= 22:
                nf = QFont(f)
                nf.setPixelSize(max(8, min(12, int(cell / 3.2))))
                p.setFont(nf)
                for i in range(th):
                    for j in range(tw):
                        x = vals[i, j]
                        if np.isnan(x):
                            continue
                        p.setPen(text_colour_for(float(x), v.vmax))
                        p.drawText(QRectF(r.x() + j * cw, r.y() + i * cell, cw, cell), Qt.AlignmentFlag.AlignCenter,
                                   compact(float(x)))
                p.setFont(f)
            finite = vals[np.isfinite(vals)]
            caption = f"min {finite.min():.2f} · max {finite.max():.2f} · mean {finite.mean():.2f}".replace("-", "−")
            if self._cursor is not None:
                i, j = self._cursor
                x = vals[i, j]
                if np.isfinite(x):
                    caption = f"{v.cell_caption(self.index, i, j)}: {x:.3f}".replace("-", "−")
                    p.setPen(QPen(QColor("#212529"), 1.5))
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    p.drawRect(QRectF(r.x() + j * cw, r.y() + i * cell, cw, cell))
        p.setPen(QColor("#495057"))
        caption = p.fontMetrics().elidedText(caption, Qt.TextElideMode.ElideRight, self.width() - 4)
        p.drawText(QRectF(0, self.height() - 22, self.width(), 18), Qt.AlignmentFlag.AlignCenter, caption)
        p.end()


class MapsPanel(QWidget):
    """Layer views side by side, with a legend and the detail pane on the right."""

    def __init__(self, views: list[LayerView], legend_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views: dict[str, LayerView] = {}
        for v in views:
            v.setParent(self)
            v.hovered.connect(self._on_hover)
            v.clicked.connect(self._on_click)
            self.views[v.name] = v
        self.detail = MapDetail(self)
        self.legend = Legend(legend_text, parent=self)
        self._pinned: tuple[LayerView, int] | None = None
        self.setMinimumSize(320, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(1200, 250)

    def pin(self, name: str, index: int) -> None:
        self._on_click(self.views[name], index)

    def _on_hover(self, view: LayerView, index: int) -> None:
        if index >= 0:
            self.detail.show_map(view, index)
        elif self._pinned is not None:
            self.detail.show_map(*self._pinned)
        else:
            self.detail.show_map(None, -1)

    def _on_click(self, view: LayerView, index: int) -> None:
        for v in self.views.values():
            v.pinned_index = -1
            v.update()
        if self._pinned == (view, index):
            self._pinned = None
        else:
            self._pinned = (view, index)
            view.pinned_index = index
        self.detail.show_map(view, index)

    def resizeEvent(self, ev) -> None:
        self._layout()
        super().resizeEvent(ev)

    def showEvent(self, ev) -> None:
        self._layout()
        super().showEvent(ev)

    def _layout(self) -> None:
        W, H = float(self.width()), float(self.height())
        side_w = min(300.0, max(150.0, W * 0.22))
        self.detail.setGeometry(int(W - side_w), 0, int(side_w), int(H - self.legend.height() - 2))
        self.legend.setGeometry(int(W - side_w), int(H - self.legend.height()), int(side_w), self.legend.height())
        avail = W - side_w - 16
        views = list(self.views.values())
        spacing = 14.0

        def total(h: float) -> float:
            return sum(v.width_for_height(h) for v in views) + spacing * (len(views) - 1)

        h = H - 4
        if total(h) > avail:
            lo, hi = 24.0, h
            for _ in range(24):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if total(mid) <= avail else (lo, mid)
            h = lo
        widths = [v.width_for_height(h) for v in views]
        extra = max(0.0, avail - sum(widths) - spacing * (len(views) - 1))
        gap = spacing + extra / max(1, len(views) + 1)
        x = 6 + extra / max(1, len(views) + 1) / 2
        y = (H - h) / 2
        for v, w in zip(views, widths):
            v.setGeometry(int(x), int(y), int(math.ceil(w)), int(h))
            x += w + gap


class FeatureMapsView(MapsPanel):
    """Every layer's activations for the current prediction."""

    def __init__(self, parent: QWidget | None = None) -> None:
        views = [
            LayerView(name, shape, symmetric_auto=(name == "output"),
                      title=None,
                      unit_labels=[str(i) for i in range(10)] if name == "output" else None)
            for name, shape in LAYERS.items()
        ]
        super().__init__(views, "tanh activation; output: logits ÷ largest", parent)

    def show_activations(self, activations: dict[str, np.ndarray] | None) -> None:
        for name, view in self.views.items():
            view.set_activation(None if not activations else activations.get(name))
        self.detail.update()


class KernelsView(MapsPanel):
    """The learned convolution kernels of C1 (6 of 5×5) and C3 (16×6 of 5×5)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        views = [
            LayerView("C1", (6, 5, 5), grid=(2, 3), title="C1 kernels 6@1×5×5", symmetric_auto=True),
            LayerView("C3", (96, 5, 5), grid=(6, 16), title="C3 kernels 16@6×5×5 (row: input map, column: output map)",
                      symmetric_auto=True),
        ]
        super().__init__(views, "weight ÷ the largest |weight| of its layer", parent)
        self.views["C1"].tile_caption = lambda i: f"C1 kernel {i + 1} of 6 · 5×5"
        self.views["C3"].tile_caption = lambda i: f"C3 kernel: input map {i // 16 + 1} → output map {i % 16 + 1} · 5×5"

    def show_kernels(self, kernels: dict[str, np.ndarray] | None) -> None:
        """``kernels``: "C1" (6, 1, 5, 5) and "C3" (16, 6, 5, 5) weight arrays."""
        if not kernels:
            for v in self.views.values():
                v.set_activation(None)
            return
        c1 = np.asarray(kernels["C1"], dtype=np.float32).reshape(6, 5, 5)
        c3 = np.asarray(kernels["C3"], dtype=np.float32)  # (out 16, in 6, 5, 5)
        self.views["C1"].set_activation(c1)
        self.views["C3"].set_activation(np.transpose(c3, (1, 0, 2, 3)).reshape(96, 5, 5))  # row = input map
        self.detail.update()
