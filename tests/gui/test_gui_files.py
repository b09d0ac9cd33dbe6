"""Weights, images and devices through the window: menus, drag-and-drop, recent files."""

import numpy as np
import pytest
from guihelpers import assert_views_show, digit_png, drop, fresh_prediction, settle
from PIL import Image
from PySide6.QtWidgets import QApplication

from lenet_draw.gui.testing import DIGIT_STROKES, draw_stroke, draw_strokes
from lenet_draw.images import ImageError, open_image
from lenet_draw.weights import WeightsError, load_weights, save_weights


@pytest.fixture
def other_weights(tmp_path, fresh_engine):
    """A valid weights file that predicts differently from the bundled one."""
    sd = {k: v.clone() for k, v in fresh_engine.weights.state_dict.items()}
    sd["output.bias"][2] += 4.0  # leans towards 2
    path = tmp_path / "leaning-two.pt"
    save_weights(path, sd, meta={"test_accuracy": 12.34})
    return path


@pytest.fixture
def bad_weights(tmp_path, fresh_engine):
    """Two kinds of bad file: not a weights file at all, and a tensor of the wrong shape."""
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"this is not a weights file")
    sd = {k: v.clone() for k, v in fresh_engine.weights.state_dict.items()}
    sd["c1.weight"] = sd["c1.weight"][:, :, :3, :3].clone()
    wrong = tmp_path / "wrong-shape.pt"
    save_weights_unvalidated(wrong, sd)
    return [junk, wrong]


def save_weights_unvalidated(path, sd):
    import torch

    torch.save({"state_dict": sd}, str(path))


def test_status_bar_and_title_name_the_weights_accuracy_and_device(window):
    acc = window.engine.weights.test_accuracy
    assert "lenet5.pt" in window.windowTitle()
    assert f"{acc:.2f}%" in window.windowTitle()
    assert f"{acc:.2f}%" in window.weights_status.text()
    assert window.device_status.text() == "Device: CPU"


def test_timing_shows_in_the_status_bar(qtbot, window):
    """The timing label is refreshed a few times a second, not on every prediction, so while a
    stroke is drawn it may show an earlier prediction's figures; once the drawing is settled it
    must come to show the last prediction's."""

    def text_for(pred):
        return f"preprocess {pred.preprocess_ms:.1f} ms · inference {pred.inference_ms:.1f} ms"

    assert window.timing_status.text() == ""
    for digit in (1, 7):
        draw_strokes(window.canvas, DIGIT_STROKES[digit])
        settle(qtbot, window)
        last = window.predictor.last
        assert last is not None
        qtbot.waitUntil(lambda last=last: window.timing_status.text() == text_for(last))


def test_number_mode_timing_names_the_number_reading(qtbot, window):
    """In Number mode the panels' digit was preprocessed while the number was read: the status
    bar gives the time the reading took, not a preprocessing time of 0.0 ms."""
    window.number_action.trigger()
    draw_strokes(window.canvas, [[(x * 0.5, y) for x, y in s] for s in DIGIT_STROKES[4]])
    settle(qtbot, window)
    last = window.predictor.last
    assert last is not None and last.preprocess_ms > 0.05  # segmentation, rendering and scoring: ms, not 0
    text = f"reading the number {last.preprocess_ms:.1f} ms · inference {last.inference_ms:.1f} ms"
    qtbot.waitUntil(lambda: window.timing_status.text() == text)


def test_open_weights_through_the_menu_dialog(qtbot, window, dialogs, other_weights):
    draw_strokes(window.canvas, DIGIT_STROKES[7])
    settle(qtbot, window)
    before = window.predictor.last.probabilities.copy()
    dialogs.open_answer = str(other_weights)
    window.open_weights_action.trigger()
    settle(qtbot, window)
    assert dialogs.errors == []
    assert window.engine.weights.source == str(other_weights)
    assert "leaning-two.pt" in window.windowTitle() and "12.34%" in window.windowTitle()
    assert_views_show(window, fresh_prediction(window))
    assert not np.allclose(window.panel.shown_probabilities(), before)
    assert window.recent_weights() == [str(other_weights.resolve())]
    assert [a.text() for a in window.recent_menu.actions()][0] == "leaning-two.pt"


@pytest.mark.parametrize("which", [0, 1], ids=["not-a-weights-file", "wrong-shape"])
def test_bad_weights_show_the_engine_sentence_and_keep_the_old_ones(qtbot, window, dialogs, bad_weights, which):
    bad = bad_weights[which]
    draw_strokes(window.canvas, DIGIT_STROKES[7])
    settle(qtbot, window)
    before = window.predictor.last.probabilities.copy()
    title = window.windowTitle()
    with pytest.raises(WeightsError) as expected:
        load_weights(bad)
    dialogs.open_answer = str(bad)
    window.open_weights_action.trigger()
    settle(qtbot, window)
    assert len(dialogs.errors) == 1
    assert str(expected.value) in dialogs.errors[0][1]
    assert "previous weights are still in use" in dialogs.errors[0][1]
    assert window.windowTitle() == title
    assert window.recent_weights() == []
    # The old weights still predict exactly as before.
    window.canvas.set_strokes(window.canvas.strokes())
    settle(qtbot, window)
    np.testing.assert_array_equal(window.panel.shown_probabilities(), before)


def test_recent_weights_are_remembered_and_a_missing_one_is_removed(
    qtbot, window, dialogs, settings, other_weights, tmp_path
):
    assert window.open_weights(other_weights)
    # A new window with the same settings (the next run) lists it.
    from lenet_draw.gui.main_window import MainWindow

    again = MainWindow(window.engine, settings=settings)
    qtbot.addWidget(again)
    dialogs.install(again)
    assert again.recent_weights() == [str(other_weights.resolve())]
    gone = tmp_path / "gone.pt"
    again._set_recent([str(gone)] + again.recent_weights())
    assert again.open_recent(str(gone)) is False
    assert "no longer exists" in dialogs.errors[-1][1] and str(gone) in dialogs.errors[-1][1]
    assert str(gone) not in again.recent_weights()
    assert str(gone) not in [a.data() for a in again.recent_menu.actions()]
    assert again.open_recent(again.recent_weights()[0])


def test_reset_to_bundled_weights(qtbot, window, other_weights):
    bundled = window.engine.weights.source
    window.open_weights(other_weights)
    window.reset_weights_action.trigger()
    assert window.engine.weights.source == bundled
    assert "(bundled)" in window.windowTitle()


def test_dropping_a_weights_file_loads_it(qtbot, window, other_weights):
    assert drop(window, [other_weights], qtbot)
    qtbot.waitUntil(lambda: window.engine.weights.source == str(other_weights))
    assert "leaning-two.pt" in window.weights_status.text()


def test_dropping_a_bad_weights_file_keeps_the_old_one(qtbot, window, dialogs, bad_weights):
    source = window.engine.weights.source
    assert drop(window, [bad_weights[0]], qtbot)
    qtbot.waitUntil(lambda: len(dialogs.errors) == 1)
    assert window.engine.weights.source == source


def test_dropping_an_unknown_file_is_refused(qtbot, window, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    assert not drop(window, [other], qtbot)


def test_save_drawing_writes_a_png_that_reads_back_as_the_same_digit(qtbot, window, tmp_path):
    path = digit_png(tmp_path, qtbot, window, 3)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size == (560, 560)
        pred = window.engine.predict_image(im)
    assert pred.digit == 3


def test_saving_an_empty_canvas_says_so(qtbot, window, dialogs, tmp_path):
    window.ask_save_path = lambda caption, filters: str(tmp_path / "x.png")
    window.save_action.trigger()
    assert "empty" in dialogs.errors[-1][1]
    assert not (tmp_path / "x.png").exists()


def test_open_image_classifies_it_and_clear_returns_to_drawing(qtbot, window, dialogs, tmp_path):
    path = digit_png(tmp_path, qtbot, window, 7)
    dialogs.open_answer = str(path)
    window.open_image_action.trigger()
    settle(qtbot, window)
    assert window.canvas.image() is not None
    with Image.open(path) as im:
        expected = window.engine.predict_image(im)
    np.testing.assert_allclose(window.panel.shown_probabilities(), expected.probabilities, atol=1e-6)
    assert_views_show(window, expected)
    assert window.panel.prediction.digit == 7
    assert "digit.png" in window.panel.source.text()

    window.clear_action.trigger()
    settle(qtbot, window)
    assert window.canvas.image() is None and window.canvas.is_empty()
    assert_views_show(window, None)
    window.undo_action.trigger()  # the image comes back
    settle(qtbot, window)
    assert window.canvas.image() is not None


def test_drawing_over_an_opened_image_starts_a_fresh_drawing(qtbot, window, tmp_path):
    path = digit_png(tmp_path, qtbot, window, 7)
    window.open_image(path)
    settle(qtbot, window)
    draw_strokes(window.canvas, DIGIT_STROKES[1])
    settle(qtbot, window)
    assert window.canvas.image() is None and len(window.canvas.strokes()) == 1
    assert_views_show(window, fresh_prediction(window))


def test_dropping_an_image_classifies_it(qtbot, window, tmp_path):
    path = digit_png(tmp_path, qtbot, window, 0, "zero.png")
    assert drop(window, [path], qtbot)
    qtbot.waitUntil(lambda: window.canvas.image() is not None)
    settle(qtbot, window)
    assert window.panel.prediction.digit == 0
    assert_views_show(window, fresh_prediction(window))


def test_a_bad_image_is_refused_and_changes_nothing(qtbot, window, dialogs, tmp_path):
    draw_strokes(window.canvas, DIGIT_STROKES[1])
    settle(qtbot, window)
    before = window.panel.shown_probabilities()
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(ImageError) as expected:
        open_image(bad)
    assert window.open_image(bad) is False
    assert dialogs.errors[-1][0] == "Cannot open image"
    assert dialogs.errors[-1][1].startswith(str(expected.value))
    assert "broken.png" in dialogs.errors[-1][1]
    assert window.canvas.image() is None and len(window.canvas.strokes()) == 1
    np.testing.assert_array_equal(window.panel.shown_probabilities(), before)


def test_a_blank_image_gets_no_prediction(qtbot, window, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(blank)
    assert window.open_image(blank)
    settle(qtbot, window)
    assert_views_show(window, None)


def test_device_menu_on_cpu(qtbot, window, dialogs):
    from lenet_draw import devices

    actions = window.device_menu.actions()
    choices = [a for a in actions if a.data()]
    assert [a.data() for a in choices] == devices.available_devices()
    cpu = next(a for a in choices if a.data() == "cpu")
    assert cpu.isCheckable() and cpu.isChecked() and cpu.text() == "CPU"
    if not any(d.startswith("cuda") for d in devices.available_devices()):
        note = [a for a in actions if "CUDA" in a.text()]
        assert len(note) == 1 and not note[0].isEnabled() and "not available" in note[0].text()
        assert window.set_device("cuda") is False
        assert "CUDA" in dialogs.errors[-1][1]
        assert window.engine.device == "cpu" and cpu.isChecked()
    draw_strokes(window.canvas, DIGIT_STROKES[4])
    settle(qtbot, window)
    before = window.predictor.inferences
    cpu.trigger()
    settle(qtbot, window)
    assert window.engine.device == "cpu"
    assert window.predictor.inferences == before + 1  # the drawing is predicted again on the new device
    assert window.device_status.text() == "Device: CPU"


@pytest.mark.parametrize("weights_arg", ["none", "bad"])
def test_run_app_shows_a_window_before_the_engine_and_predicts_once_it_is_ready(qtbot, tmp_path, weights_arg):
    from PySide6.QtCore import QSettings, QTimer

    from lenet_draw.gui import app as app_module

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    seen = {}

    def watch():
        wins = [w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow" and w.isVisible()]
        if not wins:
            QTimer.singleShot(5, watch)
            return
        w = wins[0]
        w.show_error = lambda title, text: seen.setdefault("errors", []).append(text)
        if "drawn" not in seen:
            seen["engine_at_first_look"] = w.engine
            draw_stroke(w.canvas, DIGIT_STROKES[1][0])
            seen["drawn"] = True
        if w.engine is None or w.predictor.pending():
            QTimer.singleShot(10, watch)
            return
        seen["digit"] = w.panel.prediction.digit if w.panel.prediction else None
        seen["title"] = w.windowTitle()
        w.close()

    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not weights")
    QTimer.singleShot(0, watch)
    assert app_module.run_app(weights=str(bad) if weights_arg == "bad" else None, device="cpu") == 0
    assert seen["drawn"] and seen["digit"] == 1
    assert "lenet5.pt" in seen["title"]  # a bad file on the command line leaves the bundled weights
    if weights_arg == "bad":
        with pytest.raises(WeightsError) as expected:
            load_weights(bad)
        assert len(seen["errors"]) == 1 and str(expected.value) in seen["errors"][0]
    else:
        assert seen.get("errors") is None


def test_a_16_bit_image_is_shown_with_its_own_grey_range(window, tmp_path):
    import numpy as np
    from PIL import Image

    from lenet_draw.gui.canvas import pil_to_qimage

    a = np.full((40, 40), 300, dtype=np.uint16)  # dark paper on a 0..65535 scale
    a[5:35, 18:22] = 60000  # a bright 1
    shown = pil_to_qimage(Image.fromarray(a))
    assert shown.pixelColor(2, 2).red() == 0
    assert shown.pixelColor(20, 20).red() == 255


def test_the_application_has_the_icon():
    from lenet_draw.gui.app import make_application

    assert not make_application().windowIcon().isNull()
