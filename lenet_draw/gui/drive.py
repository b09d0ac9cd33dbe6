"""Drawing on the canvas programmatically, with real mouse events, and digit-shaped strokes.

The GUI tests, the self-test and the benchmark use this to draw as a person does: a press, a
series of moves with the button held, a release, delivered through Qt's event system to the
real canvas widget.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

Point = tuple[float, float]


def send_mouse(widget: QWidget, kind: QEvent.Type, pos: QPointF, button: Qt.MouseButton, buttons: Qt.MouseButton) -> None:
    ev = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)


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


# --------------------------------------------------------------------------- digit shapes


def resample(points: Sequence[Point], step: float = 0.008) -> list[Point]:
    """Points along the polyline about ``step`` apart, like a mouse sampling a steady hand."""
    a = np.asarray(points, dtype=np.float64)
    out = [a[0]]
    for p, q in zip(a[:-1], a[1:]):
        n = max(1, int(math.ceil(np.hypot(*(q - p)) / step)))
        out += [p + (q - p) * (k / n) for k in range(1, n + 1)]
    return [(float(x), float(y)) for x, y in out]


def arc(cx: float, cy: float, rx: float, ry: float, start_deg: float, end_deg: float, n: int = 60) -> list[Point]:
    """An elliptic arc; angles in degrees, 0 = right, 90 = down (screen coordinates)."""
    t = np.radians(np.linspace(start_deg, end_deg, n))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in t]


def _digits() -> dict[int, list[list[Point]]]:
    eight_t = np.linspace(0, 2 * np.pi, 120)
    return {
        0: [arc(0.5, 0.5, 0.21, 0.32, -90, 275)],
        1: [[(0.53, 0.17), (0.47, 0.83)]],
        2: [arc(0.5, 0.35, 0.19, 0.16, 190, 370) + [(0.3, 0.8), (0.72, 0.8)]],
        3: [arc(0.47, 0.34, 0.2, 0.15, 210, 450) + arc(0.47, 0.65, 0.22, 0.17, -90, 145)],
        4: [[(0.35, 0.18), (0.29, 0.56), (0.72, 0.56)], [(0.62, 0.2), (0.61, 0.84)]],
        6: [[(0.64, 0.17), (0.48, 0.3), (0.37, 0.48)] + arc(0.52, 0.64, 0.17, 0.18, 180, 540)],
        7: [[(0.28, 0.2), (0.72, 0.2), (0.44, 0.84)]],
        8: [[(0.5 + 0.17 * math.sin(2 * t), 0.5 + 0.31 * math.sin(t)) for t in eight_t]],
        9: [arc(0.48, 0.35, 0.17, 0.16, 0, -360) + [(0.65, 0.35), (0.62, 0.84)]],
    }


#: Strokes shaped like handwritten digits, in pad units, densely sampled.
DIGIT_STROKES: dict[int, list[list[Point]]] = {d: [resample(s) for s in strokes] for d, strokes in _digits().items()}


def wavy_stroke(n: int = 400, seed: int = 0) -> list[Point]:
    """A long, real-looking scribble of ``n`` points (for latency and coalescing checks)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    x = 0.5 + 0.3 * np.sin(2 * np.pi * 1.5 * t) + rng.normal(0, 0.002, n)
    y = 0.2 + 0.6 * t + 0.05 * np.sin(2 * np.pi * 5 * t)
    return [(float(a), float(b)) for a, b in zip(x, y)]
