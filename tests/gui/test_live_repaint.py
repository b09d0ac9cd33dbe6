"""The live views repaint only what changed, and what is on screen is still exactly right.

The bars, big digit, stages and feature maps keep what does not change with a prediction in
cached pixmaps and repaint only the parts that changed, and the feature maps are coloured as
one image per layer. These tests draw through the real canvas, move by move, and compare what
the window shows (its backing store, as the screen shows it) with a second window built from
scratch and given the same prediction: no cache of the first window takes part in what the
second one paints. (Grabbing the first window again would repaint from its own caches, and
could not see a stale cache.) The colours themselves are checked against fixed references in
test_what_is_seen.py. Views that are not shown must not paint while the person draws, and must
show the latest prediction when shown again.
"""

import numpy as np
import pytest
from guihelpers import on_screen, settle
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtWidgets import QApplication

from lenet_draw.gui.colormap import diverging_rgb
from lenet_draw.gui.testing import DIGIT_STROKES, draw_stroke, draw_strokes, send_mouse, wavy_stroke


def built_from_scratch(qtbot, window, tmp_path, prepare=None):
    """A new MainWindow of the same size on the same engine, shown, given the prediction
    ``window`` shows (through the signal predictions arrive by); ``prepare(new)`` before it
    paints, for hover and pin states."""
    from PySide6.QtCore import QSettings

    from lenet_draw.gui.main_window import MainWindow

    settings = QSettings(str(tmp_path / f"scratch{len(list(tmp_path.iterdir()))}.ini"), QSettings.Format.IniFormat)
    new = MainWindow(window.engine, settings=settings)
    qtbot.addWidget(new)
    new.resize(window.size())
    new.show()
    qtbot.waitExposed(new)
    settle(qtbot, new)
    new.predictor.predicted.emit(window.panel.prediction)
    QApplication.processEvents()
    if prepare is not None:  # pins and hovers, as a person does over a reading
        prepare(new)
        QApplication.processEvents()
    return new


def live_views(window) -> dict:
    views = {"bars": window.panel.bars, "big digit": window.panel.digit_view}
    views.update({f"stage {k}": t for k, t in window.stages.tiles.items()})
    views.update({f"maps {k}": v for k, v in window.maps.views.items()})
    views["map detail"] = window.maps.detail  # the enlarged map follows the live values too
    return views


def channel_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.max([np.abs(((a >> s) & 255).astype(int) - ((b >> s) & 255).astype(int)) for s in (0, 8, 16)], axis=0)


def assert_screen_is_a_full_repaint(qtbot, window, tmp_path, prepare=None) -> None:
    new = built_from_scratch(qtbot, window, tmp_path, prepare)
    fresh_views = live_views(new)
    for name, widget in live_views(window).items():
        assert widget.geometry() == fresh_views[name].geometry(), name
        shown, fresh = on_screen(window, widget), on_screen(new, fresh_views[name])
        assert shown.shape == fresh.shape, name
        if widget is window.panel.digit_view:
            # Qt anti-aliases a large glyph slightly differently the first time it draws it
            # (before it is cached), so the digit's edges may differ by a few levels; a stale
            # or misplaced digit would differ by far more. The caption must match exactly.
            rows = round(80 * window.devicePixelRatioF())
            assert channel_diff(shown[:rows], fresh[:rows]).max() <= 24, name
            shown, fresh = shown[rows:], fresh[rows:]
        # With a fractional scale factor, a cached drawing made at the widget's fraction of a
        # pixel may round an anti-aliased edge one or two levels differently.
        tolerance = 0 if window.devicePixelRatioF().is_integer() else 4
        differ = int((channel_diff(shown, fresh) > tolerance).sum())
        assert differ == 0, f"{name}: {differ} pixels on screen differ from a window built from scratch"
    new.close()


class PaintCounter(QObject):
    def __init__(self, widgets):
        super().__init__()
        self.count = 0
        self.widgets = list(widgets)
        for w in self.widgets:
            w.installEventFilter(self)

    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint:
            self.count += 1
        return False

    def remove(self):
        for w in self.widgets:
            w.removeEventFilter(self)


def test_partial_repaints_leave_the_screen_as_a_new_window_paints_it(qtbot, window, tmp_path):
    # A scribble drawn one move at a time: every move repaints only what changed.
    draw_stroke(window.canvas, wavy_stroke(160, seed=4), process_every=1)
    settle(qtbot, window)
    assert_screen_is_a_full_repaint(qtbot, window, tmp_path)
    # A confident digit after it (most bars fall to 0.0%, the top one moves), then clear.
    window.clear_action.trigger()
    settle(qtbot, window)
    assert_screen_is_a_full_repaint(qtbot, window, tmp_path)
    for stroke in DIGIT_STROKES[2]:
        draw_stroke(window.canvas, stroke, process_every=1)
    settle(qtbot, window)
    assert window.panel.prediction is not None
    assert_screen_is_a_full_repaint(qtbot, window, tmp_path)


def test_hovered_and_pinned_maps_keep_their_frames_through_live_updates(qtbot, window, tmp_path):
    draw_strokes(window.canvas, DIGIT_STROKES[8])
    settle(qtbot, window)
    c3, c1 = window.maps.views["C3"], window.maps.views["C1"]
    window.maps.pin("C3", 9)
    send_mouse(c1, QEvent.Type.MouseMove, c1.tile_rects()[5].center(), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    assert c1.hover_index == 5 and c3.pinned_index == 9
    draw_stroke(window.canvas, wavy_stroke(60, seed=2), process_every=1)
    settle(qtbot, window)

    def same_frames(new):
        new.maps.pin("C3", 9)
        m1 = new.maps.views["C1"]
        send_mouse(
            m1, QEvent.Type.MouseMove, m1.tile_rects()[5].center(), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton
        )

    assert_screen_is_a_full_repaint(qtbot, window, tmp_path, same_frames)
    # The frames are there: the pinned one blue, the hovered one dark, just left of the map
    # (a 2-pixel line, so at least one pixel is fully covered whatever the fraction).
    dpr = window.devicePixelRatioF()
    for view, index, colour in ((c3, 9, 0xFF1C7ED6), (c1, 5, 0xFF212529)):
        r = view.tile_rects()[index]
        row = on_screen(window, view)[int(r.center().y() * dpr)]
        left_of_map = row[max(0, int((r.x() - 3) * dpr)) : int(r.x() * dpr) + 1]
        assert colour in left_of_map.tolist(), (view.name, [hex(int(v)) for v in left_of_map])
    send_mouse(c1, QEvent.Type.MouseMove, QPointF(1, 1), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    assert c1.hover_index == -1 and window.maps.detail.view is c3 and window.maps.detail.index == 9


@pytest.mark.parametrize("layer", ["C1", "C3", "C5", "output"])
def test_each_map_cell_shows_the_colour_of_its_value(qtbot, window, layer):
    draw_strokes(window.canvas, DIGIT_STROKES[6])
    settle(qtbot, window)
    view = window.maps.views[layer]
    shown = on_screen(window, view)
    dpr = window.devicePixelRatioF()
    th, tw = view.tile_shape
    checked = 0
    for index, r in enumerate(view.tile_rects()):
        values = view.tile(index)
        colours = diverging_rgb(values, view.vmax).astype(np.uint32)
        for i in range(th):
            for j in range(tw):
                x = r.x() + (j + 0.5) * r.width() / tw
                y = r.y() + (i + 0.5) * r.height() / th
                px = int(shown[int(y * dpr), int(x * dpr)])
                want = tuple(int(c) for c in colours[i, j])
                assert ((px >> 16) & 255, (px >> 8) & 255, px & 255) == want, (layer, index, i, j)
                checked += 1
    assert checked == int(np.prod(view.shape)) or (len(view.shape) == 1 and checked == th * tw)


def test_views_that_are_not_shown_do_no_work_and_catch_up_when_shown(qtbot, window, monkeypatch, tmp_path):
    import lenet_draw.gui.featuremaps as featuremaps
    import lenet_draw.gui.stages as stages

    images = []  # every map colouring and stage image made
    for module, name in ((featuremaps, "diverging_rgb32"), (stages, "gray_image")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, real=real, **k: images.append(1) or real(*a, **k))
    maps, tiles = list(window.maps.views.values()), list(window.stages.tiles.values())
    counter = PaintCounter(maps + tiles + [window.panel.bars])
    try:
        # The learned kernels in front of the feature maps; the stages and prediction docks closed.
        window.kernels_action.trigger()
        window.stages_dock.close()
        window.prediction_dock.close()
        QApplication.processEvents()
        counter.count = 0
        images.clear()
        draw_stroke(window.canvas, wavy_stroke(80, seed=7), process_every=1)
        settle(qtbot, window)
        QApplication.processEvents()
        assert window.predictor.inferences > 0
        assert counter.count == 0, "hidden views painted while the person drew"
        assert not images, "images were made for views nobody sees"
        pred = window.predictor.last
        np.testing.assert_array_equal(window.maps.views["C1"].activation, pred.activations["C1"])
        # Shown again, they paint the latest prediction.
        window.kernels_action.trigger()
        window.stages_dock.toggleViewAction().trigger()  # View > What the network sees
        window.prediction_dock.toggleViewAction().trigger()
        QApplication.processEvents()
        assert counter.count > 0 and images
        assert_screen_is_a_full_repaint(qtbot, window, tmp_path)
        np.testing.assert_array_equal(window.panel.shown_probabilities(), pred.probabilities)
    finally:
        counter.remove()
