"""The pen width setting: thin, medium and thick strokes on screen, chosen from the Edit menu,
remembered between runs; pressure still narrows the pen; the network's input never changes."""

import numpy as np
import pytest
from guihelpers import assert_views_show, fresh_prediction, settle
from PySide6.QtGui import QColor, QImage, QPainter

from lenet_draw.gui.canvas import PEN_WIDTHS, paint_strokes
from lenet_draw.gui.main_window import MainWindow
from lenet_draw.gui.testing import draw_stroke


def ink_run(window) -> int:
    """How many pixels thick the vertical stroke is on screen, measured across its middle."""
    img = window.canvas.grab().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    r = window.canvas.pad_rect()
    row = int(r.center().y())
    w = img.width()
    line = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[row, :w]
    return int((line < 128).sum())


def draw_line(window, qtbot):
    window.canvas.clear()
    draw_stroke(window.canvas, [(0.5, 0.2 + 0.6 * t / 40) for t in range(41)])
    settle(qtbot, window)


def menu_action(window, text):
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    widths = next(a.menu() for a in edit.actions() if a.menu() is not None and "Width" in a.text())
    return next(a for a in widths.actions() if a.text().replace("&", "") == text)


def test_the_pen_width_is_chosen_from_the_menu_and_shown_on_screen(qtbot, window):
    assert window.canvas.pen == "medium"
    seen = {}
    for name in ("thin", "medium", "thick"):
        menu_action(window, name.capitalize()).trigger()
        assert window.canvas.pen == name and window.pen_width_actions[name].isChecked()
        draw_line(window, qtbot)
        seen[name] = ink_run(window)
        expected = PEN_WIDTHS[name] * window.canvas.pad_rect().width()
        assert abs(seen[name] - expected) <= 2.5, (name, seen[name], expected)
        assert_views_show(window, fresh_prediction(window))  # the cropped stage shows this pen
    assert seen["thin"] < seen["medium"] < seen["thick"]
    assert seen["medium"] <= 0.03 * window.canvas.pad_rect().width()  # a pen, not a marker


def test_the_drawing_is_redrawn_and_the_network_input_unchanged(qtbot, window):
    draw_line(window, qtbot)
    before = window.panel.prediction
    menu_action(window, "Thick").trigger()
    settle(qtbot, window)
    after = window.panel.prediction
    assert ink_run(window) > PEN_WIDTHS["medium"] * window.canvas.pad_rect().width() + 3
    np.testing.assert_array_equal(before.stages.input, after.stages.input)
    assert after.stages.cropped.shape != before.stages.cropped.shape or not np.array_equal(
        after.stages.cropped, before.stages.cropped
    )


def test_the_pen_width_is_remembered(qtbot, fresh_engine, settings, dialogs):
    first = MainWindow(fresh_engine, settings=settings)
    qtbot.addWidget(first)
    menu_action(first, "Thin").trigger()
    first.close()
    again = MainWindow(fresh_engine, settings=settings)
    qtbot.addWidget(again)
    assert again.canvas.pen == "thin" and again.pen_width_actions["thin"].isChecked()


@pytest.mark.parametrize("stored", ["enormous", 7, ""])
def test_a_stored_pen_width_that_is_not_one_of_the_three_gives_the_default(qtbot, fresh_engine, settings, stored):
    settings.setValue("penWidth", stored)
    settings.sync()
    w = MainWindow(fresh_engine, settings=settings)
    qtbot.addWidget(w)
    assert w.canvas.pen == "medium"


def test_pressure_still_narrows_the_pen():
    def width(pressure: float) -> int:
        img = QImage(200, 200, QImage.Format.Format_Grayscale8)
        img.fill(255)
        p = QPainter(img)
        stroke = np.array([[0.5, 0.2, pressure], [0.5, 0.5, pressure], [0.5, 0.8, pressure]])
        paint_strokes(p, [stroke], 200.0, 0.0, 0.0, PEN_WIDTHS["thick"], QColor("#000000"))
        p.end()
        row = np.frombuffer(img.constBits(), np.uint8).reshape(200, img.bytesPerLine())[100, :200]
        return int((row < 128).sum())

    assert width(0.1) < width(0.5) < width(1.0)
    assert abs(width(1.0) - PEN_WIDTHS["thick"] * 200) <= 1.5
