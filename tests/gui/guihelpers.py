"""Helpers shared by the GUI tests."""

import numpy as np
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication


def settle(qtbot, window):
    """Let the event loop run until no prediction is pending, nor the evidence overlay's
    explanation of the one shown (what the person waits for)."""
    evidence = window.explanations.evidence
    qtbot.waitUntil(lambda: not window.predictor.pending() and not evidence.pending(), timeout=5000)


def fresh_prediction(window):
    """What a new engine with the window's weights says about the canvas as it is now."""
    from lenet_draw.engine import Engine

    eng = Engine(window.engine.weights, device="cpu")
    img = window.canvas.image()
    if img is not None:
        return eng.predict_image(img)
    return eng.predict_strokes(window.canvas.strokes(), pen_width=window.canvas.pen_width)


def assert_views_show(window, pred):
    """Bars, big digit, stages and every feature map show exactly ``pred``."""
    panel = window.panel
    if pred is None:
        assert panel.state == "empty"
        assert panel.shown_probabilities() is None
        assert all(v.activation is None for v in window.maps.views.values())
        assert all(t.array is None for t in window.stages.tiles.values())
        return
    shown = panel.shown_probabilities()
    np.testing.assert_allclose(shown, pred.probabilities, atol=1e-6)
    assert panel.headline().startswith(str(pred.digit))
    for name, view in window.maps.views.items():
        np.testing.assert_allclose(view.activation, pred.activations[name], atol=1e-5)
    np.testing.assert_allclose(window.stages.tiles["input"].array, pred.stages.input, atol=1e-6)


def drop(window, paths, qtbot):
    """Drag files over the window and drop them, as a file manager does."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(
        QPoint(600, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    accepted = enter.isAccepted()
    if accepted:
        ev = QDropEvent(
            QPointF(600, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(window, ev)
    return accepted


def digit_png(tmp_path, qtbot, window, digit, name="digit.png"):
    """A PNG of a drawn digit, made with the window's own Save Drawing."""
    from lenet_draw.gui.testing import DIGIT_STROKES, draw_strokes

    draw_strokes(window.canvas, DIGIT_STROKES[digit])
    path = tmp_path / name
    window.ask_save_path = lambda caption, filters: str(path)
    window.save_action.trigger()
    window.clear_action.trigger()
    settle(qtbot, window)
    return path


def pixels(image) -> np.ndarray:
    """A QImage as (height, width) 0xAARRGGBB values, alpha forced to opaque."""
    img = image.convertToFormat(image.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), dtype=np.uint32).reshape(img.height(), img.bytesPerLine() // 4)
    return a[:, : img.width()].copy() | 0xFF000000


def crop(shot: np.ndarray, window, widget) -> np.ndarray:
    dpr = window.devicePixelRatioF()
    top_left = widget.mapTo(window, widget.rect().topLeft())
    x, y = round(top_left.x() * dpr), round(top_left.y() * dpr)
    return shot[y : y + round(widget.height() * dpr), x : x + round(widget.width() * dpr)]


def on_screen(window, widget) -> np.ndarray:
    """What the window shows where ``widget`` is: the window's backing store, the image Qt
    paints the widgets into and puts on screen (not a new paint), in device pixels."""
    QApplication.processEvents()
    return crop(pixels(window.backingStore().paintDevice().copy()), window, widget)


def rgb(shot: np.ndarray) -> np.ndarray:
    """0xAARRGGBB values -> (..., 3) int RGB."""
    return np.stack([(shot >> 16) & 255, (shot >> 8) & 255, shot & 255], axis=-1).astype(int)
