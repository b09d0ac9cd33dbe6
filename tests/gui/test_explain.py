"""Every view explains itself: tooltips in plain words (not the label again), vectors drawn as
strips, and Help > What Am I Looking At?."""

import pytest
from guihelpers import settle
from PySide6.QtCore import QEvent, QPointF, Qt

from lenet_draw.gui import explain
from lenet_draw.gui.featuremaps import LAYERS
from lenet_draw.gui.testing import DIGIT_STROKES, draw_strokes, send_mouse


def plain(html: str) -> str:
    return html.replace("<b>", "").replace("</b>", "").replace("<br>", " ")


@pytest.mark.parametrize("name", list(LAYERS))
def test_each_layer_says_what_it_computes_and_what_the_colour_means(window, name):
    view = window.maps.views[name]
    tip = plain(view.toolTip())
    assert view.title in tip and len(tip) > len(view.title) + 80  # more than the label again
    assert explain.LAYERS[name][:40] in tip and "blue" in tip and "red" in tip
    kind = {"C1": "Convolution", "C3": "Convolution", "S2": "Pooling", "S4": "Pooling", "F6": "Fully connected"}
    if name in kind:
        assert kind[name] in tip


def test_the_stages_explain_themselves_and_the_red_cross(qtbot, window):
    draw_strokes(window.canvas, DIGIT_STROKES[2])
    settle(qtbot, window)
    for key, tile in window.stages.tiles.items():
        tip = plain(tile.toolTip())
        assert explain.STAGES[key] in tip and "pixels" in tip
    for key in ("centred", "input"):
        assert "centre of mass" in window.stages.tiles[key].toolTip()


def test_the_legend_and_the_prediction_speak_plainly(window):
    assert "logits" not in window.maps.legend.text
    assert "blue" in window.maps.legend.toolTip() and "red" in window.maps.legend.toolTip()
    assert "unsure" in window.panel.toolTip() and "85%" in window.panel.toolTip()


@pytest.mark.parametrize("name, units", [("C5", 120), ("F6", 84)])
def test_vectors_are_drawn_as_strips_one_row_per_unit(qtbot, window, name, units):
    draw_strokes(window.canvas, DIGIT_STROKES[4])
    settle(qtbot, window)
    view = window.maps.views[name]
    assert view.tile_shape == (units, 1)
    (rect,) = view.tile_rects()
    assert rect.height() > 4 * rect.width() > 40  # a tall strip, not a square image
    # hovering a row shows that unit's value in the enlarged view
    row = units // 3
    pos = QPointF(rect.center().x(), rect.y() + (row + 0.5) * rect.height() / units)
    assert view.hit(pos) == (0, row, 0)
    send_mouse(view, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    assert window.maps.detail.view is view
    assert window.maps.detail.values().shape == (units, 1)
    assert view.cell_caption(0, row, 0) == f"unit {row}"
    assert window.maps.detail.values()[row, 0] == pytest.approx(float(window.panel.prediction.activations[name][row]))


def test_help_what_am_i_looking_at(window, dialogs):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    action = next(a for a in help_menu.actions() if "Looking At" in a.text())
    action.trigger()
    ((title, text),) = dialogs.infos
    assert title == "What am I looking at?"
    for name in LAYERS:
        assert f"<b>{name}</b>" in text
    for words in ("centre of mass", "convolution", "Pooling", "Fully connected", "softmax", "blue", "unsure"):
        assert words.lower() in text.lower(), words
