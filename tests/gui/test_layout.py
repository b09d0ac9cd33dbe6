"""The window at any size: the drawing pad keeps priority, panels give way first and get their
share back, a saved layout with unusably small panels is not restored, View > Reset Layout puts
everything back, the status bar elides instead of cutting, the toolbar never overflows."""

import numpy as np
import pytest
from guihelpers import on_screen, rgb, settle
from PySide6.QtCore import QPoint, QRect, QSettings, QSize, Qt
from PySide6.QtWidgets import QLabel, QToolButton

from lenet_draw.gui import prefs
from lenet_draw.gui.main_window import CRAMPED, CRAMPED_NOTE, MainWindow, panel_shares
from lenet_draw.gui.testing import DIGIT_STROKES, draw_strokes

SIZES = [QSize(400, 640), QSize(800, 600), QSize(1280, 800), QSize(2560, 1440)]


def resize(qtbot, w, size: QSize) -> None:
    w.resize(size)
    qtbot.waitUntil(lambda: w.size() == size, timeout=3000)
    settle(qtbot, w)
    qtbot.wait(20)  # panels are fitted in the event-loop pass after the resize


def c1_tile(w) -> float:
    return w.maps.views["C1"].tile_rects()[0].width()


def assert_usable(w) -> None:
    right, maps = panel_shares(w.width(), w.height())
    assert w.pad_side() >= 200, w.pad_side()
    assert w.prediction_dock.width() >= CRAMPED * right
    assert w.maps_dock.height() >= CRAMPED * maps
    assert w.cramped_panels() == []


def toolbar_overflows(w) -> bool:
    for tb in (w.toolbar, w.modes_toolbar):
        ext = [b for b in tb.findChildren(QToolButton) if b.objectName() == "qt_toolbar_ext_button"]
        hidden = [a.iconText() for a in tb.actions() if not tb.widgetForAction(a).isVisible()]
        if any(b.isVisible() for b in ext) or hidden:
            return True
    return False


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s.width()}x{s.height()}")
def test_every_size_leaves_a_usable_window(qtbot, window, size):
    resize(qtbot, window, size)
    assert window.size() == size  # the window can be that small
    assert_usable(window)
    assert not toolbar_overflows(window)
    draw_strokes(window.canvas, DIGIT_STROKES[3])
    settle(qtbot, window)
    assert window.panel.prediction.digit == 3


def test_the_pad_keeps_priority_when_space_is_short(qtbot, window):
    resize(qtbot, window, QSize(1280, 800))
    pad_before = window.pad_side()
    resize(qtbot, window, QSize(400, 640))
    right, _ = panel_shares(400, 640)
    # the prediction column gave way to its share; the pad kept what the width leaves
    assert window.prediction_dock.width() <= right + 2
    assert window.pad_side() >= 400 - right - 30
    assert window.pad_side() > window.prediction_dock.width()
    assert pad_before > window.pad_side()


def test_shrinking_and_growing_back_gives_the_panels_their_share_again(qtbot, window):
    resize(qtbot, window, QSize(1280, 800))
    tile = c1_tile(window)
    resize(qtbot, window, QSize(400, 640))
    resize(qtbot, window, QSize(1280, 800))
    assert_usable(window)
    assert c1_tile(window) >= 0.8 * tile >= 40


def saved_cramped_layout(qtbot, engine, settings):
    """A layout as the window was left by a person who squeezed the maps to a sliver."""
    w = MainWindow(engine, settings=settings)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    settle(qtbot, w)
    qtbot.waitUntil(lambda: w._fitting)  # shown and laid out
    w._fitting = False  # as an older version did: nothing gives the panels their share back
    w.resizeDocks([w.maps_dock], [150], Qt.Orientation.Vertical)
    w.resizeDocks([w.prediction_dock], [120], Qt.Orientation.Horizontal)
    settle(qtbot, w)
    qtbot.wait(20)  # docks take their new sizes in the next layout pass
    assert w.maps_dock.height() < CRAMPED * panel_shares(1280, 800)[1] and c1_tile(w) < 36
    w.close()


def test_a_saved_layout_with_unusably_small_panels_is_not_restored(qtbot, fresh_engine, tmp_path, dialogs):
    path = str(tmp_path / "s.ini")
    saved_cramped_layout(qtbot, fresh_engine, QSettings(path, QSettings.Format.IniFormat))
    w = MainWindow(fresh_engine, settings=QSettings(path, QSettings.Format.IniFormat))
    dialogs.install(w)
    qtbot.addWidget(w)
    assert w.restore_layout()  # intact, so Qt restores it ...
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.statusBar().currentMessage() == CRAMPED_NOTE, timeout=3000)
    settle(qtbot, w)
    qtbot.wait(20)
    assert_usable(w)  # ... and then it is replaced by the default layout
    assert not prefs.has_layout(w.settings)


def test_an_intact_usable_layout_is_still_restored(qtbot, fresh_engine, tmp_path, dialogs):
    path = str(tmp_path / "s.ini")
    first = MainWindow(fresh_engine, settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    first.resize(760, 590)  # within the offscreen screen (800x600): Qt keeps a restored window on screen
    first.show()
    qtbot.waitExposed(first)
    settle(qtbot, first)
    first.stages_dock.close()
    settle(qtbot, first)
    first.close()
    w = MainWindow(fresh_engine, settings=QSettings(path, QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    assert w.restore_layout()
    w.show()
    qtbot.waitExposed(w)
    settle(qtbot, w)
    qtbot.wait(20)
    assert w.size() == QSize(760, 590) and not w.stages_dock.isVisible()
    assert w.statusBar().currentMessage() == ""


def test_view_reset_layout_puts_every_panel_back(qtbot, window):
    window.maps_dock.setFloating(True)
    window.prediction_dock.close()
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, window.stages_dock)
    settle(qtbot, window)
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    reset = next(a for a in view.actions() if a.text() == "Reset &Layout")
    reset.trigger()
    settle(qtbot, window)
    qtbot.wait(20)
    for dock, area in (
        (window.prediction_dock, Qt.DockWidgetArea.RightDockWidgetArea),
        (window.stages_dock, Qt.DockWidgetArea.RightDockWidgetArea),
        (window.maps_dock, Qt.DockWidgetArea.BottomDockWidgetArea),
    ):
        assert dock.isVisible() and not dock.isFloating() and window.dockWidgetArea(dock) == area
    right, maps = panel_shares(window.width(), window.height())
    assert abs(window.prediction_dock.width() - right) <= 2 and abs(window.maps_dock.height() - maps) <= 2
    assert window.stages_dock.y() > window.prediction_dock.y()  # stages under the prediction


def test_the_status_bar_elides_and_keeps_the_whole_text_in_tooltips(qtbot, window):
    long = "Recent Weights: " + ", ".join(f"weights-file-number-{i}.pt" for i in range(6)) + " no longer exist."
    resize(qtbot, window, QSize(400, 640))
    window.announce(long)
    qtbot.wait(20)  # the labels make room in the next layout pass
    sb = window.statusBar()
    assert sb.currentMessage() == long and sb.toolTip() == long
    shown = sb.shown_message()
    assert shown.endswith("…") and long.startswith(shown[:-1])
    assert sb.fontMetrics().horizontalAdvance(shown) <= sb.message_rect().width()
    for label in (window.weights_status, window.device_status, window.timing_status):
        assert label.text() in label.toolTip()
        if label.text():
            assert label.shown_text() == label.text() or label.shown_text().endswith("…")
            assert label.fontMetrics().horizontalAdvance(label.shown_text()) <= label.contentsRect().width()
    resize(qtbot, window, QSize(2560, 1440))
    assert window.statusBar().shown_message() == long
    assert window.weights_status.shown_text() == window.weights_status.text()


def test_a_status_text_changing_while_drawing_repaints_only_its_label(qtbot, window):
    # The timing and unsure labels change several times a second while a person draws. A
    # change that keeps the text's width must not repaint the status bar and its other labels;
    # a wider text still gets the room to show whole.
    from PySide6.QtCore import QEvent, QObject

    class Paints(QObject):
        def __init__(self):
            super().__init__()
            self.seen: dict = {}

        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint:
                self.seen.setdefault(obj, []).append(ev.rect())
            return False

    resize(qtbot, window, QSize(1600, 900))
    label = window.timing_status
    label.setText("preprocess 1.2 ms · inference 0.8 ms")
    settle(qtbot, window)
    qtbot.wait(30)
    sb = window.statusBar()
    paints = Paints()
    others = [sb, window.weights_status, window.device_status, window.reading_status, label]
    for w in others:
        w.installEventFilter(paints)
    label.setText("preprocess 1.3 ms · inference 0.9 ms")
    qtbot.wait(30)
    assert paints.seen.get(label)
    # The bar is painted only beneath the label (the label has no background of its own).
    assert all(label.geometry().contains(r) for r in paints.seen.get(sb, []))
    assert [w for w in paints.seen if w not in (label, sb)] == []
    assert label.shown_text() == "preprocess 1.3 ms · inference 0.9 ms"
    longer = "reading the number 12.3 ms · inference 0.9 ms"
    label.setText(longer)
    qtbot.wait(30)
    assert label.shown_text() == longer
    assert label.fontMetrics().horizontalAdvance(longer) <= label.contentsRect().width()
    for w in others:
        w.removeEventFilter(paints)


def test_what_lies_under_the_stage_strip_does_not_show_between_its_tiles(qtbot, window):
    """The gaps between the stage tiles show the strip's own background, whatever lies under
    it: with the right column cramped, Qt can leave a second tab bar of the tabbed docks ("What
    the network sees" / "My handwriting") under the strip, and its text showed between the tiles."""
    draw_strokes(window.canvas, DIGIT_STROKES[6])
    settle(qtbot, window)
    strip = window.stages
    # A black label under the strip, where the stale tab bar was seen.
    under = QLabel("What the network sees  My handwriting", window)
    under.setStyleSheet("background: black; color: white;")
    under.setGeometry(QRect(strip.mapTo(window, QPoint(0, 0)), strip.size()))
    under.show()
    under.lower()
    strip.update()
    settle(qtbot, window)
    shot = rgb(on_screen(window, strip))
    dpr = window.devicePixelRatioF()
    background = np.array(strip.palette().window().color().getRgb()[:3])
    tiles = sorted((t.geometry() for t in strip.tiles.values()), key=lambda r: r.x())
    for left, right in zip(tiles, tiles[1:]):
        x0, x1 = int(np.ceil((left.right() + 1) * dpr)), int(right.x() * dpr)
        y0, y1 = int(left.y() * dpr), int((left.bottom() + 1) * dpr)
        gap = shot[y0:y1, x0:x1]
        assert gap.size, "no gap between the tiles"
        off = np.abs(gap - background).max(axis=-1) > 3
        assert not off.any(), f"{int(off.sum())} pixels between two tiles are not the strip's background"
