"""Feature maps of every layer, and the learned kernels, in a diverging colour map centred on 0.

Each layer is one ``LayerView`` labelled with its name and shape ("C1 6@28×28"). Hovering a map
shows it enlarged, with its values, in the detail pane beside the layers; clicking pins it
there so it can be watched while drawing. Vector layers (C5, F6, output) have no spatial
layout and are drawn as strips, one row per unit. Each view's tooltip says what it shows.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from lenet_draw.gui import explain
from lenet_draw.gui.backgrounds import StaticBackgrounds
from lenet_draw.gui.colormap import Legend, diverging_image, diverging_rgb32, pixel32, rgb_image, text_colour_for
from lenet_draw.spec import LAYER_SHAPES

#: Layer -> shape of one image's activation (torch-free: the window lays itself out before torch loads).
LAYERS: dict[str, tuple[int, ...]] = LAYER_SHAPES

#: How each layer's maps are arranged (rows, columns); vector layers are one grid of units.
_GRIDS = {"C1": (3, 2), "S2": (3, 2), "C3": (4, 4), "S4": (4, 4)}
#: Vector layers are strips, one row per unit: they have no spatial layout to show.
_UNIT_GRIDS = {"C5": (120, 1), "F6": (84, 1), "output": (10, 1)}
#: How much wider than tall a unit's cell is drawn: strips about an eighth as wide as tall.
_X_STRETCH = {"C5": 15.0, "F6": 10.5, "output": 3.0}

TITLE_PX = 12
GAP = 3
_EMPTY32 = pixel32(QColor("#f1f3f5"))  # a map with no prediction yet


def device_offset(p: QPainter) -> tuple[float, float]:
    """How far into a device pixel the painter's origin lies (0 unless the scale factor is
    fractional). Cached drawings are made with this offset and drawn at whole pixels, so they
    come out exactly as if drawn directly."""
    t = p.deviceTransform()
    return t.dx() - math.floor(t.dx()), t.dy() - math.floor(t.dy())


def shape_label(name: str, shape: tuple[int, ...]) -> str:
    """ "C1 6@28×28", "C5 120": the paper's notation."""
    if len(shape) == 3:
        return f"{name} {shape[0]}@{shape[1]}×{shape[2]}"
    return f"{name} {shape[0]}"


class LayerView(QWidget):
    """The maps of one layer (or one set of kernels), tiled in a fixed grid.

    Painting is shaped by the live update, which repaints every layer on each pointer move: the
    parts that do not change with a prediction (background, title, the output's unit labels) are
    a pixmap rebuilt only when the size, scale, font or title changes; all maps of the layer are
    coloured with one lookup into one image at screen resolution, nearest-neighbour, and blitted
    unscaled; a new activation repaints only the maps' area. Nothing is computed for a view that
    is not shown: the image is built when the view is painted.
    """

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
        explanation: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)  # paints every pixel itself
        self.explanation = explanation
        self.name = name
        self.shape = tuple(shape)
        self.symmetric_auto = symmetric_auto  # scale to the largest |value| instead of 1
        self.unit_labels = unit_labels
        self.x_stretch = _X_STRETCH.get(name, 1.0) if len(shape) == 1 else 1.0
        if len(self.shape) == 3:
            self.count, self.tile_shape = self.shape[0], self.shape[1:]
            self.grid = grid or _GRIDS.get(name) or (1, self.shape[0])
        else:
            self.count = 1
            self.tile_shape = _UNIT_GRIDS.get(name) or (math.ceil(self.shape[0] / 10), min(10, self.shape[0]))
            self.grid = (1, 1)
        self.activation: np.ndarray | None = None
        self.vmax = 1.0
        self.hover_index = -1
        self.pinned_index = -1
        # Caches (see the class docstring); each is rebuilt when its key changes.
        self._geom_key: tuple | None = None
        self._rects: list[QRectF] = []
        self._src: np.ndarray | None = None  # device pixel -> index into the layer's flattened values
        self._src_key: tuple | None = None
        self._src_origin = QPointF()
        # top unit (-1: none) -> background, title, labels
        self._statics = StaticBackgrounds(self, lambda p, top: self._draw_static(p, int(top)))
        self._mosaic: QImage | None = None
        self._mosaic_px: np.ndarray | None = None  # the pixels self._mosaic points into
        self._top = -1
        self._areas = (QRect(), QRect())
        self._background: int | None = None  # the window colour as an RGB32 pixel
        self.title = title or shape_label(name, self.shape)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(24, 40)

    @property
    def title(self) -> str:
        return self._title

    @title.setter
    def title(self, text: str) -> None:
        self._title = text
        # the whole title, also when the view is too narrow to show it, and what the maps are
        self.setToolTip(f"<b>{text}</b><br>{self.explanation}" if getattr(self, "explanation", "") else text)
        self._statics.clear()
        self.update()

    # -- data -------------------------------------------------------------------------------
    def set_activation(self, arr: np.ndarray | None) -> None:
        if arr is None:
            self.activation = None
        else:
            a = np.asarray(arr, dtype=np.float32)
            if a.shape != self.shape:
                raise ValueError(f"{self.name} expects an activation of shape {self.shape}, got {a.shape}")
            self.activation = a
            self.vmax = float(np.max(np.abs(a))) if self.symmetric_auto else 1.0
            if not np.isfinite(self.vmax) or self.vmax <= 0:
                self.vmax = 1.0
        self._mosaic = None  # coloured when painted: a hidden view does no work
        top = self._top_unit()
        if self._geom_key is None:
            self.update()
            return
        area = self._maps_area()
        if top != self._top:
            area = area.united(self._labels_area())  # one rectangle: cheaper to clip to than two
        self.update(area)

    def _top_unit(self) -> int:
        if not self.unit_labels or self.activation is None:
            return -1
        return int(np.argmax(self.activation))

    def _flat_values(self) -> np.ndarray:
        """The layer's values in the order the mosaic indexes them (tile, row, column)."""
        if len(self.shape) == 3:
            return self.activation.reshape(-1)
        return self.tile(0).reshape(-1)

    def tile(self, index: int) -> np.ndarray:
        """Map ``index`` of the layer's activation as a 2-D array (vector layers padded with NaN
        to their grid). Only called with an activation shown (``MapDetail.values`` checks)."""
        assert self.activation is not None
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

    def _geometry(self) -> list[QRectF]:
        """Tile rectangles for the current size, and the pixel index map of the mosaic."""
        dpr = self.devicePixelRatioF()
        key = (self.width(), self.height(), dpr)
        if key != self._geom_key:
            self._geom_key = key
            self._rects = self._compute_rects()
            self._areas = (self._compute_maps_area(), self._compute_labels_area())
        return self._rects

    def _compute_rects(self) -> list[QRectF]:
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

    def _pixel_index(self, dpr: float, offset: tuple[float, float]) -> np.ndarray | None:
        """For each device pixel of the maps' bounding box, the index of the value it shows
        (tile, row, column flattened), or ``count * th * tw`` for the background between maps.

        Qt itself decides: each map is drawn once, the way it used to be drawn on every paint
        (scaled into its rectangle without smoothing), as an image whose pixels are their own
        indices. So the single image painted afterwards shows exactly the pixels the maps drawn
        one by one showed, at any size and scale factor. ``offset`` is the fraction of a device
        pixel the widget starts at (with a fractional scale factor a widget may not start on a
        pixel boundary, and rounding depends on it). Done on resize only.
        """
        rects = self._rects
        th, tw = self.tile_shape
        n = self.count * th * tw
        w, h = math.ceil(self.width() * dpr), math.ceil(self.height() * dpr)
        if not rects or w <= 0 or h <= 0:
            return None
        probe = QImage(w, h, QImage.Format.Format_RGB32)
        probe.setDevicePixelRatio(dpr)
        probe.fill(0)
        p = QPainter(probe)
        p.translate(offset[0] / dpr, offset[1] / dpr)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for t, r in enumerate(rects):
            ids = np.arange(t * th * tw + 1, (t + 1) * th * tw + 1, dtype=np.uint32).reshape(th, tw)
            rgb = np.stack([(ids >> 16) & 0xFF, (ids >> 8) & 0xFF, ids & 0xFF], axis=-1).astype(np.uint8)
            p.drawImage(r, rgb_image(rgb))
        p.end()
        ids = np.frombuffer(probe.constBits(), dtype=np.uint32).reshape(h, probe.bytesPerLine() // 4)[:, :w] & 0xFFFFFF
        ys, xs = np.nonzero(ids.any(axis=1))[0], np.nonzero(ids.any(axis=0))[0]
        if ys.size == 0:
            return None
        box = ids[ys[0] : ys[-1] + 1, xs[0] : xs[-1] + 1].astype(np.intp) - 1
        box[box < 0] = n  # between the maps
        # Where to draw it so that it lands on whole device pixels again.
        self._src_origin = QPointF((xs[0] - offset[0]) / dpr, (ys[0] - offset[1]) / dpr)
        return np.ascontiguousarray(box)

    def tile_rects(self) -> list[QRectF]:
        return [QRectF(r) for r in self._geometry()]

    def _maps_area(self) -> QRect:
        """What a new activation repaints: the maps (a hover or pin frame straddling their edge
        is drawn again over them, clipped to them: outside, its pixels stay as they were)."""
        self._geometry()
        return self._areas[0]

    def _labels_area(self) -> QRect:
        """What a new top unit repaints: the unit labels."""
        self._geometry()
        return self._areas[1]

    def _compute_maps_area(self) -> QRect:
        rects = self._rects
        if not rects:
            return self.rect()
        box = QRectF(rects[0])
        for r in rects[1:]:
            box = box.united(r)
        return box.toAlignedRect()

    def _compute_labels_area(self) -> QRect:
        rects = self._rects
        if not self.unit_labels or not rects:
            return QRect()
        r, lw = rects[0], self._label_w()
        return QRectF(r.x() - lw - 2, r.y() - TITLE_PX, lw + 2, r.height() + 2 * TITLE_PX).toAlignedRect()

    def hit(self, pos: QPointF) -> tuple[int, int, int] | None:
        """(map index, row, column) under ``pos``, or None."""
        for i, r in enumerate(self._geometry()):
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

    def changeEvent(self, ev: QEvent) -> None:
        if ev.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._statics.clear()
            self._mosaic = None
            self._background = None
        super().changeEvent(ev)

    def _static(self, top: int, offset: tuple[float, float]) -> QPixmap:
        """Background, title and unit labels (``top`` in bold) for the current size, drawn
        ``offset`` device pixels in (see ``device_offset``); to be drawn at minus that."""
        return self._statics.get(top, offset)

    def _draw_static(self, p: QPainter, top: int) -> None:
        f, bold = self._title_font(), self._title_font(bold=True)
        name, _, rest = self.title.partition(" ")
        head = QFontMetricsF(bold).horizontalAdvance(name + " ")
        total = head + QFontMetricsF(f).horizontalAdvance(rest)
        if total > self.width():  # too narrow for the shape: the name alone, shape in the tooltip
            rest, total = "", head
        x = max(0.0, (self.width() - total) / 2.0)
        p.setFont(bold)
        p.setPen(QColor("#343a40"))
        p.drawText(QPointF(x, TITLE_PX), name + " ")
        x += head
        p.setFont(f)
        p.setPen(QColor("#868e96"))
        p.drawText(QPointF(x, TITLE_PX), rest)
        rects = self._geometry()
        if self.unit_labels and rects:
            r = rects[0]
            th = self.tile_shape[0]
            p.setPen(QColor("#495057"))
            for k, lab in enumerate(self.unit_labels[:th]):
                cell = QRectF(
                    r.x() - self._label_w(), r.y() + k * r.height() / th, self._label_w() - 3, r.height() / th
                )
                bf = QFont(f)
                bf.setBold(k == top)
                p.setFont(bf)
                p.drawText(cell, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, lab)

    def _mosaic_image(self, offset: tuple[float, float] = (0.0, 0.0)) -> QImage | None:
        """All maps of the layer as one RGB32 image at device resolution (see ``_pixel_index``)."""
        self._geometry()
        key = (self._geom_key, offset)
        if key != self._src_key:
            self._src_key = key
            self._src = self._pixel_index(self.devicePixelRatioF(), offset)
            self._mosaic = None
        if self._mosaic is None and self._src is not None:
            th, tw = self.tile_shape
            n = self.count * th * tw
            colours = np.empty(n + 1, dtype=np.uint32)
            if self.activation is None:
                colours[:n] = _EMPTY32
            else:
                colours[:n] = diverging_rgb32(self._flat_values(), self.vmax)
            if self._background is None:
                self._background = pixel32(self.palette().window().color())
            colours[n] = self._background
            px = np.take(colours, self._src, mode="clip")  # every index is in range; "clip" skips the check
            h, w = px.shape
            img = QImage(px.data, w, h, 4 * w, QImage.Format.Format_RGB32)
            img.setDevicePixelRatio(self.devicePixelRatioF())
            self._mosaic, self._mosaic_px = img, px
        return self._mosaic

    def paintEvent(self, ev: QPaintEvent) -> None:
        self._top = self._top_unit()
        p = QPainter(self)
        offset = device_offset(p)
        p.drawPixmap(
            QPointF(-offset[0], -offset[1]) / self.devicePixelRatioF(), self._static(self._top, offset)
        )  # clipped
        img = self._mosaic_image(offset)
        if img is not None:
            p.drawImage(self._src_origin, img)
        rects = self._rects
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
            cur = (
                min(th - 1, int((ev.position().y() - r.y()) / r.height() * th)),
                min(tw - 1, int((ev.position().x() - r.x()) / r.width() * tw)),
            )
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
            p.drawText(
                QRectF(self.rect()).adjusted(8, 8, -8, -8),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                "Hover over a map to enlarge it; click to keep it here.",
            )
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
                        if not np.isfinite(x):
                            continue
                        p.setPen(text_colour_for(float(x), v.vmax))
                        p.drawText(
                            QRectF(r.x() + j * cw, r.y() + i * cell, cw, cell),
                            Qt.AlignmentFlag.AlignCenter,
                            compact(float(x)),
                        )
                p.setFont(f)
            finite = vals[np.isfinite(vals)]
            if finite.size:
                caption = f"min {finite.min():.2f} · max {finite.max():.2f} · mean {finite.mean():.2f}".replace(
                    "-", "−"
                )
            else:  # a paint event must never raise: min() of nothing would
                caption = "no finite values"
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
        self.setMinimumSize(320, 100)
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
            LayerView(
                name,
                shape,
                symmetric_auto=(name == "output"),
                title=None,
                unit_labels=[str(i) for i in range(10)] if name == "output" else None,
                explanation=f"{explain.LAYERS[name]}<br><br>{explain.COLOUR}",
            )
            for name, shape in LAYERS.items()
        ]
        super().__init__(views, explain.LEGEND, parent)
        self.legend.setToolTip(explain.COLOUR)

    def show_activations(self, activations: dict[str, np.ndarray] | None) -> None:
        for name, view in self.views.items():
            view.set_activation(None if not activations else activations.get(name))
        if self.detail.view is not None:  # the hint shown without a map does not change
            self.detail.update()


class KernelsView(MapsPanel):
    """The learned convolution kernels of C1 (6 of 5×5) and C3 (16×6 of 5×5)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        views = [
            LayerView("C1", (6, 5, 5), grid=(2, 3), title="C1 kernels 6@1×5×5", symmetric_auto=True),
            LayerView(
                "C3",
                (96, 5, 5),
                grid=(6, 16),
                title="C3 kernels 16@6×5×5 (row: input map, column: output map)",
                symmetric_auto=True,
            ),
        ]
        super().__init__(views, "weight ÷ the largest |weight| of its layer", parent)
        self.setToolTip(explain.KERNELS)
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
