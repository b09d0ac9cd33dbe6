"""The drawing canvas: strokes as vectors, pen / tablet / touch input, eraser, undo and redo.

The drawing lives in a resolution-independent space: the square drawing pad is [0, 1] x [0, 1]
whatever the widget's size or the screen's pixel ratio, so resizing the window rescales the
drawing instead of cropping it, and the network always gets the vectors, never a bitmap.

Every change (a stroke growing, an erase, undo, redo, clear, an image opened) replaces one
immutable ``Document`` and emits ``changed``; undo and redo swap whole documents, which makes
erasing and clearing undoable with no special cases. Touch input arrives as the mouse events
Qt synthesises for unhandled touches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QPointingDevice,
    QResizeEvent,
    QTabletEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

#: Widths of the pen the canvas shows, as a fraction of the drawing pad's side (on a 460 px
#: pad: 6, 11 and 18 px); a pen's pressure narrows it down to 35%. The network never sees this
#: width: preprocessing redraws the vectors with MNIST's pen.
PEN_WIDTHS = {"thin": 0.014, "medium": 0.024, "thick": 0.04}
DEFAULT_PEN = "medium"
#: The width a new canvas draws with.
PEN_WIDTH = PEN_WIDTHS[DEFAULT_PEN]
#: Radius of the eraser, as a fraction of the pad's side.
ERASER_RADIUS = 0.045
#: Undo steps kept; older ones are dropped so a long session's memory stays flat.
MAX_UNDO = 500
#: Memory the undo and redo history may hold (opened images, their display copies, strokes);
#: the oldest steps are dropped beyond it, so opening photos again and again stays flat.
MAX_HISTORY_BYTES = 96 * 2**20
#: An opened image is shown from one copy of at most this side (the pad is smaller).
DISPLAY_SIDE = 1024
#: A stroke holds at most this many points; a longer one continues as a new stroke from its
#: last point (same gesture, same undo step), so no single stroke makes painting slow.
MAX_STROKE_POINTS = 10_000
#: Strokes of more points than this are thinned for painting to about one point per quarter
#: pixel (a million points drawn in one place paint as the few thousand that show).
THIN_ABOVE = 2_000
#: Pad margin inside the widget, in widget pixels.
MARGIN = 10

INK = QColor("#1b1f24")
PAPER = QColor("#ffffff")
SURROUND = QColor("#e9ecef")
GUIDE = QColor("#adb5bd")


@dataclass(frozen=True)
class Document:
    """What the canvas shows: finished strokes, or an opened image (never both)."""

    strokes: tuple[np.ndarray, ...] = ()  # each (N, 3): x, y, pressure in pad units
    image: object | None = None  # a PIL image opened from a file
    image_name: str = ""
    _qimage: QImage | None = field(default=None, compare=False, repr=False)

    @property
    def empty(self) -> bool:
        return not self.strokes and self.image is None

    def nbytes(self) -> int:
        """Memory this document holds: the image, its display copy and the strokes."""
        n = sum(s.nbytes for s in self.strokes)
        if self.image is not None:
            w, h = self.image.size
            n += w * h * max(1, len(self.image.getbands()))
        if self._qimage is not None:
            n += self._qimage.sizeInBytes()
        return n


def _densify(stroke: np.ndarray, step: float) -> np.ndarray:
    """Insert points so no segment is longer than ``step`` (pressure interpolated)."""
    if len(stroke) < 2:
        return stroke
    seg = np.sqrt((np.diff(stroke[:, :2], axis=0) ** 2).sum(axis=1))
    parts = np.maximum(1, np.ceil(seg / step).astype(int))
    if int(parts.max()) == 1:
        return stroke
    out = []
    for i, n in enumerate(parts):
        t = np.arange(n)[:, None] / n
        out.append(stroke[i] + (stroke[i + 1] - stroke[i]) * t)
    out.append(stroke[-1:])
    return np.concatenate(out)


def _distance_to_segment(pts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    denom = float(ab @ ab)
    if denom == 0.0:
        return np.sqrt(((pts - a) ** 2).sum(axis=1))
    t = np.clip(((pts - a) @ ab) / denom, 0.0, 1.0)
    closest = a + t[:, None] * ab
    return np.sqrt(((pts - closest) ** 2).sum(axis=1))


def erase(strokes: tuple[np.ndarray, ...], a: np.ndarray, b: np.ndarray, radius: float) -> tuple[np.ndarray, ...]:
    """Remove the parts of strokes within ``radius`` of segment a-b, splitting strokes.

    Returns the same tuple object when nothing was touched, so callers can tell.
    """
    lo, hi = np.minimum(a, b) - radius, np.maximum(a, b) + radius
    out: list[np.ndarray] = []
    touched = False
    for s in strokes:
        xy = s[:, :2]
        if (xy.max(axis=0) < lo).any() or (xy.min(axis=0) > hi).any():
            out.append(s)
            continue
        dense = _densify(s, radius / 3.0)
        keep = _distance_to_segment(dense[:, :2], a, b) > radius
        if keep.all():
            out.append(s)
            continue
        touched = True
        # Split into runs of kept points; a lone point left at a cut is a speck, not ink.
        idx = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(np.int8), [0]])))
        for start, stop in zip(idx[::2], idx[1::2]):
            if stop - start >= 2 or len(s) == 1:
                out.append(dense[start:stop].copy())
    return tuple(out) if touched else strokes


def stroke_path(points: np.ndarray, scale: float, ox: float, oy: float) -> QPainterPath:
    """A smooth path through the points (quadratic curves through the midpoints)."""
    xy = points[:, :2] * scale + (ox, oy)
    path = QPainterPath(QPointF(*xy[0]))
    if len(xy) == 1:
        path.lineTo(QPointF(*xy[0]))
        return path
    for i in range(1, len(xy) - 1):
        mid = (xy[i] + xy[i + 1]) / 2.0
        path.quadTo(QPointF(*xy[i]), QPointF(*mid))
    path.lineTo(QPointF(*xy[-1]))
    return path


def thin_for_painting(s: np.ndarray, scale: float) -> np.ndarray:
    """A long stroke with its points at least about a quarter pixel apart (first and last kept)."""
    if len(s) <= THIN_ABOVE:
        return s
    step = np.sqrt((np.diff(s[:, :2], axis=0) ** 2).sum(axis=1)) * scale
    cells = np.floor(np.concatenate([[0.0], np.cumsum(step)]) / 0.25)
    keep = np.concatenate([[True], cells[1:] != cells[:-1]])
    keep[-1] = True
    return s[keep]


def paint_pressure_segments(
    p: QPainter, s: np.ndarray, scale: float, ox: float, oy: float, pen_width: float, color: QColor
) -> int:
    """Draw the segments between consecutive points of ``s`` (x, y, pressure), each as wide as
    its pressure says; returns how many were drawn."""
    xy = s[:, :2] * scale + (ox, oy)
    base = pen_width * scale
    pressure = s[:, 2]
    for i in range(len(s) - 1):
        w = base * (0.35 + 0.65 * float(pressure[i] + pressure[i + 1]) / 2.0)
        p.setPen(QPen(color, w, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        p.drawLine(QPointF(*xy[i]), QPointF(*xy[i + 1]))
    return max(0, len(s) - 1)


def paint_strokes(p: QPainter, strokes, scale: float, ox: float, oy: float, pen_width: float, color: QColor) -> None:
    """Draw strokes with a round pen; a stroke with varying pressure varies its width."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    base = pen_width * scale
    for s in strokes:
        if len(s) == 0:
            continue
        s = thin_for_painting(s, scale)
        pressure = s[:, 2] if s.shape[1] > 2 else np.ones(len(s))
        if len(s) > 1 and float(pressure.max() - pressure.min()) > 1e-3:
            paint_pressure_segments(p, s, scale, ox, oy, pen_width, color)
        else:
            w = base * (0.35 + 0.65 * float(pressure[0]))
            p.setPen(QPen(color, w, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(stroke_path(s, scale, ox, oy))


def pil_to_qimage(image) -> QImage:
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # Wide-range greys: scale to 8 bits by the image's own range (convert() would clip
        # everything above 255 to white).
        a = np.asarray(image, dtype=np.float64)
        a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        image = Image.fromarray(a.astype(np.uint8), mode="L")
    rgba = np.ascontiguousarray(np.asarray(image.convert("RGBA"), dtype=np.uint8))
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


class Canvas(QWidget):
    """A square drawing pad. Emits ``changed`` whenever what the network should read changes."""

    changed = Signal()
    penLifted = Signal()  # a stroke or an erase has ended (the ink may be unchanged since the last move)
    historyChanged = Signal(bool, bool)  # can undo, can redo
    toolChanged = Signal(str)
    penChanged = Signal(str)  # "thin", "medium" or "thick"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)
        self.setMouseTracking(True)  # the eraser's outline follows the pointer
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._doc = Document()
        self._undo: list[Document] = []
        self._redo: list[Document] = []
        self._active: list[tuple[float, float, float]] | None = None  # the stroke being drawn
        self._active_path: QPainterPath | None = None  # its smoothed path, grown point by point
        self._active_path_len = 0  # how many points the path covers
        self._active_varies = False  # its pressure varies: painted segment by segment, into the cache
        self._active_painted = 0  # segments of it already painted into the cache
        self._erasing = False
        self._last_erase: np.ndarray | None = None
        self._press_state: tuple[Document, list[Document]] | None = None
        self._tool = "pen"
        self._pen = DEFAULT_PEN
        self._pen_width = PEN_WIDTHS[DEFAULT_PEN]
        self._hover: QPointF | None = None
        self._cache: QPixmap | None = None
        # Number mode: a wide pad (pad units: y in [0, 1], x in [0, aspect]), a hook that paints
        # over the drawing, and one that may take a click (a press and release in one place).
        self._aspect = 1.0
        self.placeholder = "Draw a digit here"
        self.overlay = None  # callable(QPainter, pad QRectF, repainted QRectF) or None
        self.on_tap = None  # callable(x, y) -> bool (True: the click was used, it leaves no ink)

    # -- geometry: pad units <-> widget pixels --------------------------------------------
    def pad_rect(self) -> QRectF:
        side = max(1.0, min(self.width() - 2 * MARGIN, self.height() * self._aspect - 2 * MARGIN * self._aspect))
        w, h = (side, side / self._aspect) if self._aspect >= 1 else (side * self._aspect, side)
        return QRectF((self.width() - w) / 2.0, (self.height() - h) / 2.0, w, h)

    def to_widget(self, x: float, y: float) -> QPointF:
        r = self.pad_rect()
        return QPointF(r.x() + x * r.height(), r.y() + y * r.height())

    def to_pad(self, pos: QPointF) -> tuple[float, float]:
        r = self.pad_rect()
        return (pos.x() - r.x()) / r.height(), (pos.y() - r.y()) / r.height()

    @property
    def aspect(self) -> float:
        """The pad's width over its height: 1 for a digit, wide for a number."""
        return self._aspect

    def swap_mode(self, aspect: float, state: tuple | None) -> tuple:
        """Switch to a pad of ``aspect`` holding ``state`` (from an earlier call; None: empty).

        Returns the drawing and its undo history as they were, to be handed back later: each
        mode keeps its own drawing.
        """
        if self.is_drawing():
            self._finish()
        old = (self._doc, self._undo, self._redo)
        self._doc, self._undo, self._redo = state if state is not None else (Document(), [], [])
        self._aspect = aspect
        self._cache = None
        self.update()
        self.changed.emit()
        self.historyChanged.emit(self.can_undo(), self.can_redo())
        return old

    def sizeHint(self) -> QSize:
        return QSize(520, 520)

    # -- document -------------------------------------------------------------------------
    @property
    def document(self) -> Document:
        return self._doc

    @property
    def pen_width(self) -> float:
        """The width of the pen shown, as a fraction of the pad's side."""
        return self._pen_width

    @property
    def pen(self) -> str:
        return self._pen

    def set_pen(self, name: str) -> None:
        """Draw with the "thin", "medium" or "thick" pen; the drawing so far is redrawn with it."""
        if name not in PEN_WIDTHS:
            raise ValueError(f"unknown pen {name!r}")
        if name == self._pen:
            return
        self._pen, self._pen_width = name, PEN_WIDTHS[name]
        self._cache = None
        self._active_path = None
        self.update()
        self.penChanged.emit(name)
        if not self.is_empty():
            self.changed.emit()  # the "ink cropped" stage shows the ink as drawn

    @property
    def tool(self) -> str:
        return self._tool

    def is_empty(self) -> bool:
        return self._doc.empty and not self._active

    def is_drawing(self) -> bool:
        return self._active is not None or self._erasing

    def strokes(self) -> list[np.ndarray]:
        """Every stroke, the one being drawn included, as (N, 3) arrays in pad units."""
        out = list(self._doc.strokes)
        if self._active:
            out.append(np.asarray(self._active, dtype=np.float64))
        return out

    def image(self):
        """The opened image (PIL), or None while the canvas shows a drawing."""
        return self._doc.image

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def _set_doc(self, doc: Document) -> None:
        self._doc = doc
        self._cache = None
        self.update()
        self.changed.emit()

    def _remember(self, doc: Document) -> None:
        self._undo.append(doc)
        if len(self._undo) > MAX_UNDO:
            del self._undo[: len(self._undo) - MAX_UNDO]
        # Bound the memory too, not only the steps: drop the oldest steps (a redo list of
        # images goes first: it is dropped by the next change anyway).
        total = self.history_bytes()
        while total > MAX_HISTORY_BYTES and (self._redo or self._undo):
            total -= (self._redo.pop(0) if self._redo else self._undo.pop(0)).nbytes()

    def history_bytes(self) -> int:
        """Memory held by the undo and redo history (not the document shown)."""
        return sum(d.nbytes() for d in self._undo) + sum(d.nbytes() for d in self._redo)

    def _push(self, new: Document) -> None:
        """Make ``new`` current as one undoable step."""
        self._remember(self._doc)
        self._redo.clear()
        self._set_doc(new)
        self.historyChanged.emit(self.can_undo(), self.can_redo())

    def undo(self) -> None:
        if self.is_drawing() or not self._undo:
            return
        self._redo.append(self._doc)
        self._set_doc(self._undo.pop())
        self.historyChanged.emit(self.can_undo(), self.can_redo())

    def redo(self) -> None:
        if self.is_drawing() or not self._redo:
            return
        self._undo.append(self._doc)
        self._set_doc(self._redo.pop())
        self.historyChanged.emit(self.can_undo(), self.can_redo())

    def clear(self) -> None:
        if self.is_drawing():
            self._finish()  # the stroke in progress is kept, so Clear can be undone as one step
        if not self._doc.empty:
            self._push(Document())

    def set_strokes(self, strokes) -> None:
        """Replace the drawing with the given strokes (pad units), as one undoable step."""
        clean = []
        for s in strokes:
            a = np.asarray(s, dtype=np.float64)
            if a.ndim == 2 and len(a):
                if a.shape[1] == 2:
                    a = np.column_stack([a, np.ones(len(a))])
                a = a[:, :3]
                step = MAX_STROKE_POINTS - 1  # long strokes in pieces that share their end points
                clean += [a[i : i + MAX_STROKE_POINTS].copy() for i in range(0, max(1, len(a) - 1), step)]
        self._push(Document(strokes=tuple(clean)))

    def set_image(self, image, name: str = "") -> None:
        """Show an opened image instead of the drawing (undoable; drawing or Clear leaves it)."""
        q = pil_to_qimage(image)
        if max(q.width(), q.height()) > DISPLAY_SIDE:  # one reduced copy to show, not a second full one
            q = q.scaled(
                DISPLAY_SIDE,
                DISPLAY_SIDE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        self._push(Document(image=image, image_name=name, _qimage=q))

    def set_tool(self, tool: str) -> None:
        if tool not in ("pen", "eraser"):
            raise ValueError(f"unknown tool {tool!r}")
        if tool != self._tool:
            self._tool = tool
            self.setCursor(Qt.CursorShape.BlankCursor if tool == "eraser" else Qt.CursorShape.CrossCursor)
            self.update()
            self.toolChanged.emit(tool)

    # -- gestures ---------------------------------------------------------------------------
    def _begin(self, pos: QPointF, pressure: float, erase_mode: bool) -> None:
        if self.is_drawing():
            self._finish()
        self._press_state = (self._doc, list(self._redo))
        x, y = self.to_pad(pos)
        if erase_mode:
            if self._doc.image is not None:
                self._press_state = None
                return  # an opened image has no strokes to erase
            self._erasing = True
            self._last_erase = np.array([x, y])
            self._erase_to(np.array([x, y]))
            return
        self._remember(self._doc)
        self._redo.clear()
        if self._doc.image is not None:  # drawing leaves the image for a fresh drawing
            self._doc = Document()
            self._cache = None
        self._active = [(x, y, pressure)]
        self._active_path = None
        self._active_varies = False
        self._active_painted = 0
        self.update()
        self.changed.emit()
        self.historyChanged.emit(self.can_undo(), self.can_redo())

    def _extend(self, pos: QPointF, pressure: float) -> None:
        x, y = self.to_pad(pos)
        if self._erasing:
            self._erase_to(np.array([x, y]))
            return
        if self._active is None:
            return
        lx, ly, _ = self._active[-1]
        if (x - lx) ** 2 + (y - ly) ** 2 < 1e-10:
            return
        if len(self._active) >= MAX_STROKE_POINTS:
            # Commit what is drawn so far and go on from its last point, in the same gesture.
            self._doc = Document(strokes=self._doc.strokes + (np.asarray(self._active, dtype=np.float64),))
            self._cache = None
            self._active = [self._active[-1]]
            self._active_path = None
            self._active_painted = 0
        if pressure != self._active[0][2]:
            self._active_varies = True
        self._active.append((x, y, pressure))
        r = self.pad_rect()
        s = r.height()
        w = self._pen_width * s + 4
        x0, y0 = r.x() + min(x, lx) * s - w, r.y() + min(y, ly) * s - w
        self.update(QRectF(x0, y0, abs(x - lx) * s + 2 * w, abs(y - ly) * s + 2 * w).toAlignedRect())
        self.changed.emit()

    def _erase_to(self, point: np.ndarray) -> None:
        a = self._last_erase if self._last_erase is not None else point
        self._last_erase = point
        radius = ERASER_RADIUS + self._pen_width / 2.0
        new = erase(self._doc.strokes, a, point, radius)
        if new is not self._doc.strokes:
            self._doc = Document(strokes=new)
            self._cache = None
            self.update()
            self.changed.emit()

    def _finish(self) -> None:
        if self._erasing:
            self._erasing = False
            self._last_erase = None
            before, redo = self._press_state or (self._doc, list(self._redo))
            if self._doc.strokes is not before.strokes:  # something was erased: one undo step
                self._remember(before)
                self._redo.clear()
            else:
                self._redo = redo
        elif self._active is not None and self._press_state is not None and self._tapped():
            self._active = None  # a click that selected something: no ink, no undo step
            self._active_path = None
            self._doc, self._redo = self._press_state
            if self._undo:
                self._undo.pop()
            self.update()
            self.changed.emit()
        elif self._active is not None:
            stroke = np.asarray(self._active, dtype=np.float64)
            self._active = None
            self._active_path = None
            self._doc = Document(strokes=self._doc.strokes + (stroke,))
            self._cache = None
            self.update()
        self._press_state = None
        self.penLifted.emit()
        self.historyChanged.emit(self.can_undo(), self.can_redo())

    def _tapped(self) -> bool:
        """Whether the stroke just finished was a click that ``on_tap`` took."""
        if self.on_tap is None or self._active is None:
            return False
        pts = np.asarray(self._active)[:, :2]
        if float(np.abs(pts - pts[0]).max()) > 0.01 or self._press_state is None:
            return False
        # What was tapped is the drawing as it was before the press (a press on an opened
        # picture starts a fresh drawing, which the tap then takes back).
        drawn, self._doc = self._doc, self._press_state[0]
        if self.on_tap(float(pts[0, 0]), float(pts[0, 1])):
            return True
        self._doc = drawn
        return False

    # -- Qt input ---------------------------------------------------------------------------
    def mousePressEvent(self, ev: QMouseEvent) -> None:
        if ev.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            erase_mode = self._tool == "eraser" or ev.button() == Qt.MouseButton.RightButton
            self._begin(ev.position(), 1.0, erase_mode)
            ev.accept()
        else:
            super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:
        self._hover = ev.position()
        if self.is_drawing() and ev.buttons() & (Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton):
            self._extend(ev.position(), 1.0)
        elif self._tool == "eraser":
            self.update()
        ev.accept()

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:
        if self.is_drawing() and ev.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            self._extend(ev.position(), 1.0)
            self._finish()
        ev.accept()

    def tabletEvent(self, ev: QTabletEvent) -> None:
        eraser_end = ev.pointerType() == QPointingDevice.PointerType.Eraser
        pressure = float(ev.pressure()) if ev.pressure() > 0 else 0.0
        t = ev.type()
        if t == QTabletEvent.Type.TabletPress:
            self._begin(ev.position(), pressure, eraser_end or self._tool == "eraser")
        elif t == QTabletEvent.Type.TabletMove:
            self._hover = ev.position()
            if self.is_drawing():
                self._extend(ev.position(), pressure)
        elif t == QTabletEvent.Type.TabletRelease:
            if self.is_drawing():
                self._extend(ev.position(), pressure)
                self._finish()
        ev.accept()  # no synthesised mouse events for the pen

    def leaveEvent(self, ev) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(ev)

    def resizeEvent(self, ev: QResizeEvent) -> None:
        self._cache = None
        super().resizeEvent(ev)

    # -- painting ---------------------------------------------------------------------------
    def _render_committed(self) -> QPixmap:
        dpr = self.devicePixelRatioF()
        pm = QPixmap(QSize(max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr))))
        pm.setDevicePixelRatio(dpr)
        pm.fill(SURROUND)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        r = self.pad_rect()
        p.setPen(QPen(QColor("#ced4da"), 1.0))
        p.setBrush(PAPER)
        p.drawRoundedRect(r.adjusted(-0.5, -0.5, 0.5, 0.5), 6, 6)
        if self._doc.image is not None and self._doc._qimage is not None:
            img = self._doc._qimage
            scale = min(r.width() / img.width(), r.height() / img.height())
            w, h = img.width() * scale, img.height() * scale
            p.drawImage(QRectF(r.center().x() - w / 2, r.center().y() - h / 2, w, h), img)
        else:
            p.setClipRect(r.adjusted(-2, -2, 2, 2))
            paint_strokes(p, self._doc.strokes, r.height(), r.x(), r.y(), self._pen_width, INK)
        p.end()
        return pm

    def paintEvent(self, ev: QPaintEvent) -> None:
        if self._cache is None or abs(self._cache.devicePixelRatio() - self.devicePixelRatioF()) > 1e-6:
            self._cache = self._render_committed()
            self._active_painted = 0
        if self._active and self._active_varies:
            self._paint_new_segments()
        p = QPainter(self)
        p.drawPixmap(0, 0, self._cache)
        r = self.pad_rect()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._active:
            p.setClipRect(r.adjusted(-2, -2, 2, 2))
            self._paint_active(p, r)
            p.setClipping(False)
        if self.is_empty():
            p.setPen(GUIDE)
            f = p.font()
            f.setPointSizeF(max(9.0, r.height() / 28))
            p.setFont(f)
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, self.placeholder)
        elif self._doc.image is not None:
            p.setPen(QColor("#6c757d"))
            p.drawText(
                r.adjusted(8, 0, -8, -6),
                Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter,
                f"{self._doc.image_name or 'image'}: draw or clear to return to drawing",
            )
        if self._tool == "eraser" and self._hover is not None:
            rad = ERASER_RADIUS * r.height()
            p.setPen(QPen(QColor("#495057"), 1.2, Qt.PenStyle.DashLine))
            p.setBrush(QColor(255, 255, 255, 90))
            p.drawEllipse(self._hover, rad, rad)
        if self.overlay is not None:
            self.overlay(p, r, QRectF(ev.rect()))
        p.end()

    def _paint_new_segments(self) -> None:
        """A stroke of varying pressure is painted into the cached picture one new segment at a
        time, as the points arrive: a move costs the same at the 6,000th point as at the first."""
        pts = self._active
        n = len(pts)
        if self._active_painted >= n - 1:
            return
        r = self.pad_rect()
        p = QPainter(self._cache)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setClipRect(r.adjusted(-2, -2, 2, 2))
        new = np.asarray(pts[self._active_painted : n], dtype=np.float64)
        self._active_painted += paint_pressure_segments(p, new, r.height(), r.x(), r.y(), self._pen_width, INK)
        p.end()

    def _paint_active(self, p: QPainter, r: QRectF) -> None:
        """The stroke being drawn; its path grows by one curve per point instead of being
        rebuilt, so a long stroke costs the same per move as a short one. (One of varying
        pressure is already in the cached picture: ``_paint_new_segments``.)"""
        pts = self._active
        if self._active_varies:
            return
        key = (r.x(), r.y(), r.height())
        if self._active_path is None or getattr(self, "_active_key", None) != key or self._active_path_len > len(pts):
            self._active_path = QPainterPath(QPointF(r.x() + pts[0][0] * r.height(), r.y() + pts[0][1] * r.height()))
            self._active_path_len = 1
            self._active_key = key
        s, ox, oy = r.height(), r.x(), r.y()
        path = self._active_path
        for i in range(self._active_path_len, len(pts) - 1):
            (x0, y0, _), (x1, y1, _) = pts[i], pts[i + 1]
            path.quadTo(QPointF(ox + x0 * s, oy + y0 * s), QPointF(ox + (x0 + x1) / 2 * s, oy + (y0 + y1) / 2 * s))
        self._active_path_len = max(self._active_path_len, len(pts) - 1)
        full = QPainterPath(path)
        full.lineTo(QPointF(ox + pts[-1][0] * s, oy + pts[-1][1] * s))
        w = self._pen_width * s * (0.35 + 0.65 * float(pts[0][2]))
        p.setPen(QPen(INK, w, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(full)

    def render_drawing(self, side: int = 560) -> QImage:
        """The drawing on white, ``side`` pixels square: what File > Save Drawing writes."""
        img = QImage(round(side * self._aspect), side, QImage.Format.Format_RGB32)
        img.fill(PAPER)
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        if self._doc.image is not None and self._doc._qimage is not None:
            q = self._doc._qimage
            scale = min(side / q.width(), side / q.height())
            w, h = q.width() * scale, q.height() * scale
            p.drawImage(QRectF((side - w) / 2, (side - h) / 2, w, h), q)
        else:
            paint_strokes(p, self.strokes(), float(side), 0.0, 0.0, self._pen_width, QColor("#000000"))
        p.end()
        return img
