"""Explanations in the window, driven with real mouse and key events: the evidence overlay and
"why not 7?", the arithmetic of a clicked cell and the outline of a hovered one, a kernel's
strongest response, and the invariance plots and sliders."""

import numpy as np
import pytest
from guihelpers import settle
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from lenet_draw import attribution
from lenet_draw import unit_arithmetic as ua
from lenet_draw.gui.testing import DIGIT_STROKES, draw_strokes, send_mouse


def draw(window, qtbot, digit):
    draw_strokes(window.canvas, DIGIT_STROKES[digit])
    settle(qtbot, window)
    return window.panel.prediction


def click(qtbot, widget, pos: QPointF):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos.toPoint())


def hover(widget, pos: QPointF):
    send_mouse(widget, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)


def cell_centre(view, index: int, row: int, col: int) -> QPointF:
    r = view.tile_rects()[index]
    th, tw = view.tile_shape
    return QPointF(r.x() + (col + 0.5) * r.width() / tw, r.y() + (row + 0.5) * r.height() / th)


def test_evidence_button_shows_where_the_network_looked_over_the_strokes(window, qtbot):
    ex = window.explanations.evidence
    pred = draw(window, qtbot, 3)
    assert ex.evidence is None and ex.canvas_overlay.evidence is None
    button = window.modes_toolbar.widgetForAction(ex.action)
    click(qtbot, button, QPointF(button.rect().center()))
    assert ex.enabled
    expected = attribution.evidence(window.engine, pred.stages.input, pred.digit)
    np.testing.assert_allclose(ex.evidence.values, expected.values, atol=1e-6)
    assert (ex.evidence.target, ex.evidence.against) == (3, None)
    assert ex.canvas_overlay.caption.startswith("Evidence for 3")
    # The strongest evidence, drawn on the canvas, lies on a stroke and is tinted orange there.
    t = ex.canvas_overlay.transform()
    y, x = np.unravel_index(int(np.argmax(ex.evidence.values)), (32, 32))
    at = t.map(QPointF(x + 0.5, y + 0.5))
    strokes = np.concatenate(window.canvas.strokes())[:, :2]
    widget_pts = np.array([[window.canvas.to_widget(a, b).x(), window.canvas.to_widget(a, b).y()] for a, b in strokes])
    pixel_w = t.m11()
    assert np.hypot(*(widget_pts - [at.x(), at.y()]).T).min() < 1.5 * pixel_w
    shot = window.canvas.grab().toImage()
    c = QColor(shot.pixel(at.toPoint()))
    assert c.red() > c.blue() + 40, c.name()
    # The input tile shows the same map.
    assert ex.tile_overlay.evidence is not None


def test_evidence_follows_the_drawing_live_and_costs_nothing_when_off(window, qtbot, monkeypatch):
    calls = []
    real = attribution.evidence
    monkeypatch.setattr(attribution, "evidence", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    draw(window, qtbot, 7)
    assert calls == []
    qtbot.keyClick(window, Qt.Key.Key_L)  # the shortcut
    assert window.explanations.evidence.enabled and len(calls) == 1
    window.clear_action.trigger()
    settle(qtbot, window)
    assert window.explanations.evidence.evidence is None
    pred = draw(window, qtbot, 1)
    assert calls[-1] == pred.digit and window.explanations.evidence.evidence.target == pred.digit
    qtbot.keyClick(window, Qt.Key.Key_L)
    n = len(calls)
    draw(window, qtbot, 4)
    assert len(calls) == n
    assert window.explanations.evidence.canvas_overlay.evidence is None
    # Off, the overlays are hidden: the canvas and the input tile paint as they did without them.
    assert not window.explanations.evidence.canvas_overlay.isVisible()
    assert not window.explanations.evidence.tile_overlay.isVisible()


def test_the_bars_never_wait_for_the_evidence_and_it_follows_the_newest_drawing(window, qtbot, monkeypatch):
    """With the overlay on, the window's repaint pass that shows a prediction's bars runs before
    its evidence is computed, and the evidence that ends up shown is the final drawing's."""
    ex = window.explanations.evidence
    ex.action.trigger()
    passes = [0]
    shown: dict[int, int] = {}  # id of each shown prediction -> repaint passes by then
    computed: list[tuple[int, int]] = []  # (id of the prediction explained, repaint passes by then)

    class Passes(QObject):
        def eventFilter(self, obj, ev):
            if obj is window and ev.type() == QEvent.Type.UpdateRequest:
                passes[0] += 1
            return False

    watcher = Passes()
    window.installEventFilter(watcher)
    window.predictionShown.connect(lambda pred: shown.setdefault(id(pred), passes[0]))
    real = attribution.evidence

    def recording(*a, **k):
        computed.append((id(window.panel.prediction), passes[0]))
        return real(*a, **k)

    monkeypatch.setattr(attribution, "evidence", recording)
    draw_strokes(window.canvas, DIGIT_STROKES[8], process_every=1)
    settle(qtbot, window)
    window.removeEventFilter(watcher)
    assert len(computed) >= 2  # it follows the drawing while it is drawn
    for pred_id, n in computed:  # each after a repaint pass that showed its prediction
        assert n > shown[pred_id]
    pred = window.panel.prediction
    expected = attribution.evidence(window.engine, pred.stages.input, pred.digit)
    np.testing.assert_allclose(ex.evidence.values, expected.values, atol=1e-6)


def test_with_the_overlay_off_a_bar_click_is_a_correction_not_a_question(window, qtbot):
    draw(window, qtbot, 3)
    ex = window.explanations.evidence
    click(qtbot, window.panel.bars, window.panel.bars.bar_rects()[8].center())
    assert ex.contrast is None and ex.evidence is None
    qtbot.waitUntil(lambda: window.handwriting.count() == 1, timeout=10000)


def test_clicking_another_bar_asks_why_not_that_digit_only_with_the_overlay_on(window, qtbot):
    pred = draw(window, qtbot, 3)
    bars = window.panel.bars
    ex = window.explanations.evidence
    ex.action.trigger()
    click(qtbot, bars, bars.bar_rects()[8].center())
    assert (ex.evidence.target, ex.evidence.against) == (8, pred.digit)
    # with the overlay on, the click asks "why not 8?" and teaches nothing
    assert window.handwriting.count() == 0
    expected = attribution.evidence(window.engine, pred.stages.input, 8, against=pred.digit)
    np.testing.assert_allclose(ex.evidence.values, expected.values, atol=1e-6)
    assert ex.canvas_overlay.caption.startswith("Why not 8?")
    click(qtbot, bars, bars.bar_rects()[pred.digit].center())
    assert (ex.evidence.target, ex.evidence.against) == (pred.digit, None)


@pytest.mark.parametrize(
    "layer, index, row, col",
    [
        ("C1", 2, 12, 9),
        ("S2", 4, 6, 5),
        ("C3", 7, 4, 3),
        ("S4", 11, 2, 1),
        ("C5", 0, 34, 0),  # C5 and F6 are strips: one unit a row
        ("F6", 0, 52, 0),
        ("output", 0, 3, 0),
    ],  # fmt: skip
)
def test_clicking_a_cell_shows_its_arithmetic_and_receptive_field(window, qtbot, layer, index, row, col):
    pred = draw(window, qtbot, 6)
    view = window.maps.views[layer]
    click(qtbot, view, cell_centre(view, index, row, col))
    units = window.explanations.units
    expected_unit = (
        ua.Unit(layer, index, row, col) if len(view.shape) == 3 else ua.Unit(layer, row * view.tile_shape[1] + col)
    )
    assert units.selected == expected_unit
    assert units.dock.isVisible()
    a = units.arithmetic
    assert a.value == pytest.approx(ua.engine_value(pred.activations, expected_unit), abs=1e-5)
    assert f"{a.value:+.3f}".replace("-", "−") in units.text.toPlainText()
    field = ua.receptive_field(expected_unit)
    for overlay in (window.explanations.evidence.tile_overlay, window.explanations.evidence.canvas_overlay):
        assert overlay.outlines["selected"] == field
    # On the input tile the outline covers exactly the field's pixels.
    tile = window.stages.tiles["input"]
    box = tile._box()
    r = window.explanations.evidence.tile_overlay.outline_rect("selected")
    s = box.width() / 32
    assert (r.x(), r.y(), r.width()) == pytest.approx(
        (box.x() + field[2] * s, box.y() + field[0] * s, (field[3] - field[2]) * s)
    )
    # The arithmetic follows the drawing.
    pred2 = draw(window, qtbot, 1)
    assert units.arithmetic.value == pytest.approx(ua.engine_value(pred2.activations, expected_unit), abs=1e-5)
    # Closing the panel lets go of the unit and its outline.
    units.dock.toggleViewAction().trigger()
    assert units.selected is None and "selected" not in window.explanations.evidence.canvas_overlay.outlines


def test_hovering_a_cell_outlines_its_field_without_the_panel(window, qtbot):
    draw(window, qtbot, 2)
    view = window.maps.views["C3"]
    hover(view, cell_centre(view, 5, 7, 2))
    units = window.explanations.units
    assert units.hovered == ua.Unit("C3", 5, 7, 2)
    assert window.explanations.evidence.canvas_overlay.outlines["hovered"] == ua.receptive_field(units.hovered)
    assert not units.dock.isVisible() and units.selected is None
    # On the canvas the outline lies where the fit put those input pixels.
    stages = window.panel.prediction.stages
    r = window.explanations.evidence.canvas_overlay.outline_rect("hovered")
    top, _, left, _ = ua.receptive_field(units.hovered)
    x, y = attribution.to_drawing(stages.to_input, left, top)
    corner = window.canvas.to_widget(x, y)
    assert (r.x(), r.y()) == pytest.approx((corner.x(), corner.y()), abs=1e-6)
    QApplication.sendEvent(view, QEvent(QEvent.Type.Leave))  # the pointer leaves the maps
    assert "hovered" not in window.explanations.evidence.canvas_overlay.outlines


def test_clicking_a_kernel_outlines_where_it_responds_most(window, qtbot):
    pred = draw(window, qtbot, 0)
    qtbot.keyClick(window, Qt.Key.Key_K)
    assert window.inside.currentWidget() is window.kernels
    qtbot.waitExposed(window.kernels)
    view = window.kernels.views["C1"]
    click(qtbot, view, view.tile_rects()[3].center())
    units = window.explanations.units
    c1 = pred.activations["C1"][3]
    r, c = np.unravel_index(int(np.argmax(c1)), c1.shape)
    assert units.kernel_unit == ua.Unit("C1", 3, int(r), int(c))
    assert window.explanations.evidence.tile_overlay.outlines["kernel"] == (r, r + 5, c, c + 5)
    # A C3 kernel: row = input map, column = output map.
    view3 = window.kernels.views["C3"]
    click(qtbot, view3, view3.tile_rects()[2 * 16 + 9].center())
    assert units.kernel == ("C3", 9, 2)
    assert units.kernel_unit.layer == "C3" and units.kernel_unit.map == 9
    qtbot.keyClick(window, Qt.Key.Key_K)
    assert "kernel" not in window.explanations.evidence.tile_overlay.outlines


def test_invariance_plots_are_batched_engine_predictions_and_sliders_change_what_it_sees(window, qtbot):
    from lenet_draw.invariance import Source

    pred = draw(window, qtbot, 6)
    window.explanations.invariance_action.trigger()
    inv = window.explanations.invariance
    qtbot.waitExposed(inv)
    assert window.maps.visibleRegion().isEmpty()  # its tab is in front of the maps
    inv.compute_now()
    source = Source(strokes=window.canvas.strokes())
    for plot in inv.plots.values():
        assert plot.curve is not None and plot.digit == pred.digit
        np.testing.assert_allclose(plot.curve.probabilities, window.engine.probabilities(plot.curve.images), atol=1e-6)
        i0 = int(np.flatnonzero(plot.curve.values == plot.change.neutral)[0])
        np.testing.assert_array_equal(plot.curve.images[i0], source.image())
        np.testing.assert_allclose(plot.curve.probabilities[i0], pred.probabilities, atol=1e-5)
    slider = inv.sliders["rotation"]
    before = slider.value()
    click(qtbot, slider, QPointF(slider.width() - 3, slider.height() / 2))  # a page towards +60
    assert slider.value() > before
    changed = source.image(**inv.changed_values())
    np.testing.assert_array_equal(inv.preview.array, changed)
    np.testing.assert_allclose(inv.changed_probabilities, window.engine.probabilities(changed[None])[0], atol=1e-6)
    assert inv.plots["rotation"].marker == pytest.approx(inv.value("rotation"))


def test_a_dot_with_the_overlay_on_is_shown_on_the_input_only(window, qtbot):
    """A dot has no size for the fit to undo: no place on the canvas, evidence on the input."""
    window.explanations.evidence.action.trigger()
    click(qtbot, window.canvas, window.canvas.to_widget(0.5, 0.5))
    settle(qtbot, window)
    assert window.panel.prediction is not None and window.panel.prediction.stages.to_input is None
    window.canvas.grab()  # paints the overlay: no transform, nothing drawn, no error
    assert window.explanations.evidence.canvas_overlay.transform() is None
    assert window.explanations.evidence.tile_overlay.evidence is not None


def test_invariance_plots_follow_the_drawing_only_while_in_view(window, qtbot):
    window.explanations.invariance_action.trigger()
    inv = window.explanations.invariance
    qtbot.waitUntil(lambda: inv.shown)
    pred = draw(window, qtbot, 7)
    qtbot.waitUntil(lambda: all(p.curve is not None for p in inv.plots.values()), timeout=10000)
    assert all(p.digit == pred.digit for p in inv.plots.values())
    before = {n: p.curve for n, p in inv.plots.items()}
    window.maps_dock.raise_()  # the feature maps' tab in front
    qtbot.waitUntil(lambda: not inv.shown)
    pred = draw(window, qtbot, 1)
    qtbot.wait(600)
    assert all(p.curve is before[n] for n, p in inv.plots.items())  # nothing computed out of sight
    window.explanations.invariance_dock.raise_()
    qtbot.waitUntil(lambda: all(p.curve is not before[n] for n, p in inv.plots.items()), timeout=10000)
    assert all(p.digit == pred.digit for p in inv.plots.values())
