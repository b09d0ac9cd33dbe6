"""Test support: drawing on the canvas programmatically, with real mouse events.

The GUI tests, the self-test and the benchmark use this to draw as a person does: a press, a
series of moves with the button held, a release, delivered through Qt's event system to the
real canvas widget. The shapes they draw come from ``lenet_draw.sample_digits``.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QInputDevice, QMouseEvent, QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication, QWidget

from lenet_draw.sample_digits import DIGIT_STROKES, Point, pressure_wiggle, resample, wavy_stroke

__all__ = [
    "DIGIT_STROKES",
    "draw_stroke",
    "draw_strokes",
    "draw_tablet_stroke",
    "pressure_wiggle",
    "resample",
    "send_mouse",
    "send_tablet",
    "stylus",
    "wavy_stroke",
]


def send_mouse(
    widget: QWidget, kind: QEvent.Type, pos: QPointF, button: Qt.MouseButton, buttons: Qt.MouseButton
) -> None:
    ev = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)


def stylus(pointer: QPointingDevice.PointerType = QPointingDevice.PointerType.Pen) -> QPointingDevice:
    """A pressure-sensitive tablet device: its pen tip (or, with ``PointerType.Eraser``, its eraser end)."""
    caps = QInputDevice.Capability.Position | QInputDevice.Capability.Pressure
    return QPointingDevice(
        f"test {pointer.name}", 1000 + int(pointer.value), QInputDevice.DeviceType.Stylus, pointer, caps, 1, 2
    )


def send_tablet(canvas, device: QPointingDevice, kind: QEvent.Type, x: float, y: float, pressure: float) -> None:
    """One tablet event at pad point (x, y): a press, a move with the tip down, or a release."""
    pos = canvas.to_widget(float(x), float(y))
    held = Qt.MouseButton.NoButton if kind == QEvent.Type.TabletRelease else Qt.MouseButton.LeftButton
    ev = QTabletEvent(
        kind,
        device,
        pos,
        canvas.mapToGlobal(pos),
        float(pressure),
        0,
        0,
        0,
        0,
        0,
        Qt.KeyboardModifier.NoModifier,
        Qt.MouseButton.LeftButton,
        held,
    )
    QApplication.sendEvent(canvas, ev)


def draw_tablet_stroke(canvas, device: QPointingDevice, points: Sequence[Point], pressures: Sequence[float]) -> None:
    """Press at the first point, move through the rest, release at the last, each with its pressure."""
    kinds = [QEvent.Type.TabletPress] + [QEvent.Type.TabletMove] * (len(points) - 2) + [QEvent.Type.TabletRelease]
    for kind, (x, y), pr in zip(kinds, points, pressures):
        send_tablet(canvas, device, kind, x, y, pr)


def draw_stroke(
    canvas,
    points: Sequence[Point],
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
    process_every: int | None = 8,
    on_move=None,
) -> None:
    """Press at the first point, move through the rest, release at the last.

    ``points`` are in pad units ((0, 0) top left, (1, 1) bottom right of the drawing pad).
    ``process_every``: let the event loop run after every N moves, as it does while a person
    draws (None: send the whole stroke as one burst). ``on_move(i)`` is called after move i.
    """
    pts = [canvas.to_widget(float(x), float(y)) for x, y in points]
    if not pts:
        return
    send_mouse(canvas, QEvent.Type.MouseButtonPress, pts[0], button, button)
    for i, p in enumerate(pts[1:]):
        send_mouse(canvas, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, button)
        if on_move is not None:
            on_move(i)
        if process_every and (i + 1) % process_every == 0:
            QApplication.processEvents()
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, pts[-1], button, Qt.MouseButton.NoButton)
    if process_every:
        QApplication.processEvents()


def draw_strokes(canvas, strokes: Iterable[Sequence[Point]], **kw) -> None:
    for s in strokes:
        draw_stroke(canvas, s, **kw)
