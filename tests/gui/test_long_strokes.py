"""Long strokes paint in bounded work: a pen stroke of varying pressure is painted one new
segment per move (not the whole stroke again), a stroke is split past MAX_STROKE_POINTS, and a
drawing of a million points paints as the points that show."""

from __future__ import annotations

import numpy as np
from guihelpers import settle
from PySide6.QtCore import QEvent

import lenet_draw.gui.canvas as canvas_mod
from lenet_draw.gui.canvas import MAX_STROKE_POINTS
from lenet_draw.gui.testing import pressure_wiggle, send_tablet, stylus


def test_a_pressure_stroke_paints_each_segment_once_while_it_is_drawn(qtbot, window, monkeypatch):
    c = window.canvas
    painted = []
    real = canvas_mod.paint_pressure_segments

    def counting(p, s, *a):
        painted.append(len(s) - 1)
        return real(p, s, *a)

    monkeypatch.setattr(canvas_mod, "paint_pressure_segments", counting)
    pen = stylus()
    xy, pressure = pressure_wiggle(1500)
    send_tablet(c, pen, QEvent.Type.TabletPress, *xy[0], pressure[0])
    for i in range(1, len(xy)):
        send_tablet(c, pen, QEvent.Type.TabletMove, *xy[i], pressure[i])
        if i % 10 == 0:
            c.repaint()  # a paint every few moves, as the screen refreshes
    c.repaint()
    during = sum(painted)
    assert during == len(xy) - 1, f"{during} segments painted for a stroke of {len(xy) - 1}"
    # What the person sees equals the stroke painted in full.
    live = c.grab().toImage()
    c._cache = None
    assert c.grab().toImage() == live
    send_tablet(c, pen, QEvent.Type.TabletRelease, *xy[-1], pressure[-1])
    settle(qtbot, window)
    assert len(c.strokes()) == 1 and len(c.strokes()[0]) == len(xy)


def test_a_stroke_past_the_limit_continues_as_a_new_stroke_in_one_undo_step(qtbot, window):
    c = window.canvas
    pen = stylus()
    n = MAX_STROKE_POINTS + 500
    t = np.linspace(0, 1, n)
    xy = np.column_stack([0.3 + 0.4 * t, 0.5 + 0.2 * np.sin(t * 30)])
    send_tablet(c, pen, QEvent.Type.TabletPress, *xy[0], 1.0)
    for x, y in xy[1:]:
        send_tablet(c, pen, QEvent.Type.TabletMove, x, y, 1.0)
    send_tablet(c, pen, QEvent.Type.TabletRelease, *xy[-1], 1.0)
    settle(qtbot, window)
    strokes = c.strokes()
    assert [len(s) for s in strokes] == [MAX_STROKE_POINTS, n - MAX_STROKE_POINTS + 1]
    np.testing.assert_array_equal(strokes[0][-1], strokes[1][0])  # continuous
    window.undo_action.trigger()
    assert len(c.strokes()) == 0


def test_a_million_point_drawing_paints_as_the_points_that_show(qtbot, window, monkeypatch):
    c = window.canvas
    t = np.linspace(0, 1, 1_000_000)
    stroke = np.column_stack([0.5 + 0.3 * np.cos(t * 2 * np.pi), 0.5 + 0.3 * np.sin(t * 2 * np.pi)])
    c.set_strokes([stroke])
    assert max(len(s) for s in c.strokes()) <= MAX_STROKE_POINTS
    assert sum(len(s) for s in c.strokes()) >= 1_000_000
    drawn = []
    real = canvas_mod.stroke_path
    monkeypatch.setattr(canvas_mod, "stroke_path", lambda pts, *a: (drawn.append(len(pts)), real(pts, *a))[1])
    window.resize(1000, 700)
    c.repaint()
    assert 0 < sum(drawn) < 50_000, f"{sum(drawn)} points painted for a circle"
    settle(qtbot, window)
    assert window.panel.prediction is not None
