"""Number mode: a wide pad, the number read so far, and each digit's box on the drawing.

The reading runs inside the window's one coalesced prediction pass: when the Predictor asks
the window what to predict, the number is read (``NumberReader``, which rescores only the
segments the newest ink touched), the window paints the number and its boxes at once, and the
Predictor then predicts the selected digit for the bars, stages and feature maps, painted in the
next pass. So a burst of mouse moves costs one reading, as in digit mode, and the number the
person watches while writing does not wait for the panels.

Which digit the panels show: the one clicked (in the number or on the pad), until the drawing
changes; while the person writes, the digit holding the newest stroke.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QRegion
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QStyle, QWidget

from lenet_draw.errors import NumberError
from lenet_draw.gui.canvas import PEN_WIDTH

#: Width over height of the number pad.
NUMBER_ASPECT = 4.0
SURE = QColor("#1c7ed6")
UNSURE = QColor("#e8590c")
CHOSEN = QColor("#2b8a3e")


def _sentence(exc: Exception) -> str:
    """An error's text as a sentence for the strip: capitalised, with a full stop."""
    text = str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def digit_tooltip(i: int, d) -> str:
    """What a digit's button says when hovered: its reading, and why it is unsure."""
    return (
        f"Digit {i + 1}: {d.digit} ({d.confidence * 100:.1f}%"
        + (", unsure" if d.unsure else "")
        + "). "
        + (f"Where it ends is unsure: the {d.doubt[0]} here may also be read as {d.doubt[1]}. " if d.doubt else "")
        + ("Written without lifting the pen into a neighbour: where the stroke parts is a guess. " if d.joined else "")
        + "Click to see it in the panels."
    )


def digit_label(d) -> str:
    """``7 98%`` or, when the network is unsure, ``7? 41%``."""
    return f"{d.digit}{'?' if d.unsure else ''} {d.confidence * 100:.0f}%"


class NumberStrip(QWidget):
    """The number read so far, one button per digit (reading and confidence); click to inspect."""

    digitClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The number and its buttons scroll sideways inside the window's width: a long number
        # (a phone number, an IBAN) must not widen the window past the screen.
        self.scroll = QScrollArea(self)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidgetResizable(True)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        content = QWidget(self.scroll)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)
        lay = QHBoxLayout(content)
        lay.setContentsMargins(10, 4, 10, 4)
        self.number = QLabel("—", content)
        f = QFont(self.number.font())
        f.setPointSizeF(f.pointSizeF() * 2.2)
        f.setBold(True)
        self.number.setFont(f)
        self.number.setToolTip("The number read so far")
        lay.addWidget(self.number)
        self._buttons_layout = QHBoxLayout()
        self._buttons_layout.setSpacing(2)
        lay.addLayout(self._buttons_layout)
        self.note = QLabel(content)  # why there is no number, when the ink cannot be read as one
        self.note.setVisible(False)
        lay.addWidget(self.note)
        lay.addStretch(1)
        self.buttons: list[QPushButton] = []
        self._content = content
        self.scroll.setWidget(content)
        # As tall as the number and a scroll bar, whether the bar shows or not: the pad below
        # must not move when a long number starts to scroll.
        bar = self.scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.setFixedHeight(content.sizeHint().height() + bar)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def _button(self, i: int) -> QPushButton:
        while len(self.buttons) <= i:
            b = QPushButton(self._content)
            b.setCheckable(True)
            # A fixed size, that of the widest label: a label changes on nearly every move
            # while a digit is written, and a button that resized with it would lay out and
            # repaint the whole strip each time.
            b.setText("8? 100%")
            hint = b.sizeHint()
            b.setFixedSize(max(54, hint.width()), hint.height())
            k = len(self.buttons)
            b.clicked.connect(lambda _checked=False, k=k: self.digitClicked.emit(k))
            self._buttons_layout.addWidget(b)
            self.buttons.append(b)
        return self.buttons[i]

    def show_reading(self, reading, selected: int | None, problem: str = "") -> None:
        """Show a NumberReading; only what changed is touched (this runs on every move).
        ``problem``: why the ink is not read as a number (shown instead of one)."""
        digits = reading.digits if reading is not None else ()
        text = reading.text if digits else "—"
        if self.number.text() != text:
            self.number.setText(text)
        if self.note.text() != problem:
            self.note.setText(problem)
            self.note.setVisible(bool(problem))
        for i, d in enumerate(digits):
            b = self._button(i)
            label = digit_label(d)
            if b.text() != label:
                b.setText(label)
            tip = digit_tooltip(i, d)
            if b.toolTip() != tip:
                b.setToolTip(tip)
            if b.property("unsure") != d.unsure:
                b.setProperty("unsure", d.unsure)
                b.setStyleSheet(f"color: {UNSURE.name()};" if d.unsure else "")
            if b.isHidden():
                b.setVisible(True)
            if b.isChecked() != (i == selected):
                b.setChecked(i == selected)
                if i == selected:
                    # Once the strip has laid out a button just added: scrolled to where it is then.
                    QTimer.singleShot(0, b, lambda b=b: b.isChecked() and self.scroll.ensureWidgetVisible(b, 20, 0))
        for b in self.buttons[len(digits) :]:
            if not b.isHidden():
                b.setVisible(False)

    def shown_digits(self) -> list[str]:
        """The visible buttons' texts, left to right (what a person reads)."""
        return [b.text() for b in self.buttons if not b.isHidden()]


class NumberMode(QObject):
    """Reads the wide pad as a number and says which digit the panels should show."""

    #: The new NumberReading (or None: no ink), after the strip and the pad show it.
    readingShown = Signal(object)

    def __init__(self, canvas, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.strip = NumberStrip()
        self.strip.setVisible(False)
        self.strip.digitClicked.connect(self.select)
        self.reader = None
        self.reading = None
        self._chosen: int | None = None  # clicked digit; None: follow the newest stroke
        self._chosen_for = None  # the strokes the choice was made on
        self._other_mode = None  # the digit pad's drawing while this mode is on
        self.active = False
        self._newest_index = 0
        self._shown: list[tuple] = []  # the marks the pad shows (see _marks)
        self._laid: dict[tuple, list] = {}  # the last few layouts of marks (see _layout)
        self._label_widths: dict[tuple[float, str], float] = {}
        self._image_reading: tuple | None = None  # (picture, weights, its reading in pad units, problem)
        self.problem = ""  # why the pad is not read as a number ("" when it is, or is empty)
        self.request = lambda: None  # set by the window: ask for a prediction pass
        canvas.penLifted.connect(self._pen_lifted)

    def _pen_lifted(self) -> None:
        """Read again once the pen lifts: a stroke is judged whole only then (a joined "11" is
        cut when it reads badly, which a half-drawn stroke always may)."""
        if self.active:
            self.request()

    # -- mode --------------------------------------------------------------------------------
    def set_engine(self, engine) -> None:
        from lenet_draw.numbers import NumberReader  # torch: loaded once the engine exists

        self.reader = NumberReader(engine) if engine is not None else None

    def set_active(self, on: bool) -> None:
        if on == self.active:
            return
        self.active = on
        self.reading = None
        self.problem = ""
        self._shown = []
        self._chosen = None
        self.strip.setVisible(on)
        self.canvas.overlay = self._paint if on else None
        self.canvas.on_tap = self._tap if on else None
        self.canvas.placeholder = "Write a number here" if on else "Draw a digit here"
        self._other_mode = self.canvas.swap_mode(NUMBER_ASPECT if on else 1.0, self._other_mode)
        self.strip.show_reading(None, None)

    # -- reading -----------------------------------------------------------------------------
    @property
    def selected(self) -> int | None:
        """Index of the digit the panels show, or None when there is none."""
        if self.reading is None or not self.reading.digits:
            return None
        if self._chosen is not None and self._chosen < len(self.reading.digits):
            return self._chosen
        return self._newest_index

    def selected_doubt(self) -> str:
        """Why the digit the panels show is unsure though the network is sure of it (its cut is
        in doubt), as the big digit's caption says it; "" when it is not."""
        i = self.selected
        if self.reading is None or i is None:
            return ""
        d = self.reading.digits[i]
        if d.doubt:
            return f"Unsure where it ends: {d.doubt[0]} or {d.doubt[1]}?"
        if d.joined:
            return "Unsure: written into a neighbour"
        return ""

    def _newest(self, strokes: list) -> int:
        """The digit holding the end of the newest stroke (or the nearest to it)."""
        if not strokes or self.reading is None or not self.reading.digits:
            return 0
        x, y = strokes[-1][-1][:2]
        for i, d in enumerate(self.reading.digits):
            if d.box[0] <= x <= d.box[2] and d.box[1] <= y <= d.box[3]:
                return i
        centres = [abs((d.box[0] + d.box[2]) / 2 - x) for d in self.reading.digits]
        return int(np.argmin(centres))

    def _read_image(self, image):
        """The number in an opened picture, its boxes moved into pad units (where the pad shows
        the picture: fitted and centred); read once per picture."""
        weights = self.reader.engine.weights if self.reader is not None else None
        cached = self._image_reading
        if cached is not None and cached[0] is image and cached[1] is weights:
            self.problem = cached[3]
            return cached[2]
        try:
            reading = self.reader.read_image(image) if self.reader is not None else None
        except NumberError as exc:
            self.problem = _sentence(exc)
            self._image_reading = (image, weights, None, self.problem)
            return None
        if reading is not None:
            w, h = image.size
            aspect = self.canvas.aspect
            k = min(aspect / w, 1.0 / h)
            ox, oy = (aspect - w * k) / 2.0, (1.0 - h * k) / 2.0
            digits = tuple(
                replace(d, box=(ox + d.box[0] * k, oy + d.box[1] * k, ox + d.box[2] * k, oy + d.box[3] * k))
                for d in reading.digits
            )
            reading = replace(reading, digits=digits)
        self._image_reading = (image, weights, reading, "")
        return reading

    def read(self) -> None:
        """Read the pad (a drawing or an opened picture) now, and show the number in the strip
        and its boxes on the pad (``selected_stages`` then gives the panels their digit)."""
        image = self.canvas.image()
        strokes = [] if image is not None else self.canvas.strokes()
        if self._chosen is not None and (self.canvas.is_drawing() or self.canvas.document is not self._chosen_for):
            self._chosen = None  # the drawing changed: follow the newest stroke again
        before = self._shown
        self.problem = ""
        if image is not None:
            self.reading = self._read_image(image)
        else:
            try:
                self.reading = (
                    self.reader.read_strokes([s[:, :2] for s in strokes], drawing=self.canvas.is_drawing())
                    if self.reader is not None
                    else None
                )
            except NumberError as exc:
                self.reading, self.problem = None, _sentence(exc)
        self._newest_index = self._newest(strokes)
        self.strip.show_reading(self.reading, self.selected, self.problem)
        self._repaint_marks(before)
        self.readingShown.emit(self.reading)

    def selected_stages(self):
        """The stages of the digit the panels should show, as the number was read (None when
        there is none), with the "cropped" view of its own ink."""
        from lenet_draw.preprocess import with_crop_view

        i = self.selected
        if self.reading is None or i is None:
            return None
        digit = self.reading.digits[i]
        if not digit.strokes:
            return digit.stages
        return with_crop_view(digit.stages, digit.strokes, self.canvas.pen_width)

    def select(self, index: int) -> None:
        """Show digit ``index`` in the panels (a click on the strip or on the pad)."""
        if self.reading is None or not 0 <= index < len(self.reading.digits):
            return
        self._chosen = index
        self._chosen_for = self.canvas.document
        self.strip.show_reading(self.reading, index)
        self._shown = self._marks()
        self.canvas.update()
        self.request()

    def _marks(self) -> list[tuple]:
        """What the pad shows of the reading: each digit's box, label, selected, unsure."""
        if self.reading is None:
            return []
        selected = self.selected
        return [(d.box, digit_label(d), i == selected, d.unsure) for i, d in enumerate(self.reading.digits)]

    def _repaint_marks(self, before: list[tuple]) -> None:
        """Repaint the pad only where a box's outline or its label appeared, moved or changed:
        the outline's four edges and the label, not the ink inside the box (a growing box
        changes on nearly every move while a digit is written)."""
        after = self._shown = self._marks()
        if after == before:
            return
        r = self.canvas.pad_rect()
        region = QRegion()
        # A mark is its box and label where they are painted, with its text and style: a label
        # moved aside by a neighbour's is repainted where it was and where it now is.
        old = {(*place, m[1:]) for place, m in zip(self._layout(r, before), before)}
        new = {(*place, m[1:]) for place, m in zip(self._layout(r, after), after)}
        for outline, label, _ in old ^ new:
            outline, label = QRectF(*outline), QRectF(*label)
            edge = outline.adjusted(-4, -4, 4, 4)
            inner = outline.adjusted(6, 6, -6, -6)
            if inner.width() <= 0 or inner.height() <= 0:
                region = region.united(edge.toAlignedRect())
            else:
                region = region.united(QRegion(edge.toAlignedRect()).subtracted(QRegion(inner.toAlignedRect())))
            region = region.united(label.adjusted(-2, -2, 2, 2).toAlignedRect())
        self.canvas.update(region.intersected(self.canvas.rect()))

    def _label_font(self, r: QRectF) -> QFont:
        f = QFont(self.canvas.font())
        f.setPointSizeF(max(8.0, r.height() / 22))
        return f

    def _layout(self, r: QRectF, marks: list[tuple]) -> list[tuple[tuple, tuple]]:
        """Where each mark's box outline and label are painted on the pad ``r`` (widget pixels),
        as (x, y, width, height) tuples. A label sits under its box, or when it would overlap a
        neighbour's label (digits written close together, or a digit cut in two), one line
        lower, or above the box: each label stays readable.

        A move asks for the same layout up to three times (the marks before, after, and to
        paint), so the last few are kept, with each label's width at the pad's size."""
        key = (r.getRect(), tuple(marks))
        hit = self._laid.get(key)
        if hit is None:
            if len(self._laid) >= 4:
                self._laid.pop(next(iter(self._laid)))
            hit = self._laid[key] = self._place_marks(r, marks)
        return hit

    def _label_width(self, r: QRectF, label: str) -> float:
        key = (r.height(), label)
        width = self._label_widths.get(key)
        if width is None:
            if len(self._label_widths) > 512:
                self._label_widths.clear()
            width = self._label_widths[key] = QFontMetricsF(self._label_font(r)).horizontalAdvance(label) + 8
        return width

    def _place_marks(self, r: QRectF, marks: list[tuple]) -> list[tuple[tuple, tuple]]:
        def clear(q: QRectF, of: list[QRectF]) -> bool:
            return not any(q.adjusted(2, 0, -2, 0).intersects(o) for o in of)

        s = r.height()
        m = PEN_WIDTH / 2
        line = s / 12
        outlines = [
            QRectF(r.x() + (x0 - m) * s, r.y() + (y0 - m) * s, (x1 - x0 + 2 * m) * s, (y1 - y0 + 2 * m) * s)
            for (x0, y0, x1, y1), *_ in marks
        ]
        placed: list[QRectF] = []
        for i, (outline, (_, label, *_)) in enumerate(zip(outlines, marks)):
            width = self._label_width(r, label)
            x = outline.center().x() - width / 2
            below = [outline.bottom() + 2 + k * line for k in range(3)]
            above = [outline.top() - 2 - (k + 1) * line for k in range(2)]
            rows = [y for y in below + above if r.top() <= y and y + line <= r.bottom()]
            spots = [QRectF(x, y, width, line) for y in rows]
            for y in rows:  # or moved right past the labels in its way, by at most half its width
                after = max((p.right() + 2 for p in placed if p.top() < y + line and y < p.bottom()), default=x)
                if x < after <= x + width / 2 and after + width <= r.right():
                    spots.append(QRectF(after, y, width, line))
            others = outlines[:i] + outlines[i + 1 :]
            # Free of other labels and of other boxes' outlines; else of other labels; else (no
            # room on the pad) under the box, as close to the pad's edge as it goes.
            text = next(
                (q for q in spots if clear(q, placed) and clear(q, others)),
                next((q for q in spots if clear(q, placed)), QRectF(x, min(below[0], r.bottom() - line), width, line)),
            )
            placed.append(text)
        return [(o.getRect(), t.getRect()) for o, t in zip(outlines, placed)]

    def digit_at(self, x: float, y: float) -> int | None:
        """The digit whose box (widened by the pen) holds the pad point (x, y)."""
        if self.reading is None:
            return None
        m = PEN_WIDTH
        for i, d in enumerate(self.reading.digits):
            if d.box[0] - m <= x <= d.box[2] + m and d.box[1] - m <= y <= d.box[3] + m:
                return i
        return None

    def _tap(self, x: float, y: float) -> bool:
        i = self.digit_at(x, y)
        if i is None:
            return False
        self.select(i)
        return True

    # -- painting ----------------------------------------------------------------------------
    def _paint(self, p: QPainter, r: QRectF, dirty: QRectF) -> None:
        """Each digit's box, its reading and confidence under it; only those in ``dirty``."""
        p.setFont(self._label_font(r))
        for (_box, label, selected, unsure), (outline, where) in zip(self._shown, self._layout(r, self._shown)):
            box, text = QRectF(*outline), QRectF(*where)
            if not dirty.intersects(box.adjusted(-3, -3, 3, 3).united(text)):
                continue
            colour = CHOSEN if selected else (UNSURE if unsure else SURE)
            pen = QPen(colour, 2.5 if selected else 1.4)
            if unsure:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(box, 4, 4)
            p.setPen(colour)
            p.drawText(text, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, label)
