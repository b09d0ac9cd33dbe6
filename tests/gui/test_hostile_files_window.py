"""Hostile weights through the window: loading happens off the GUI thread (the window keeps
drawing and predicting, Cancel ends the wait), refusals are one dialog with the previous
weights still working, and NaN never reaches the screen as a reading or a crash."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import torch
from guihelpers import digit_png, settle
from PySide6.QtCore import QEvent, Qt, QTimer

import lenet_draw.gui.files as files_mod
import lenet_draw.weights as weights_mod
from lenet_draw.gui.testing import DIGIT_STROKES, draw_strokes, send_mouse
from lenet_draw.model import LeNet5
from lenet_draw.weights import save_weights


def _good(tmp_path, seed=11):
    torch.manual_seed(seed)
    return save_weights(tmp_path / "other.pt", LeNet5().state_dict())


def _open_while_the_read_hangs(qtbot, window, monkeypatch, module, reader: str, open_file) -> dict:
    """``open_file()`` while ``module.reader`` (what reads the file) hangs, as on a mount that
    does not answer. Meanwhile the person looks at the status bar, draws a 3 and sees it read,
    then presses Cancel. Returns what was seen, and what ``open_file`` returned as "opened"."""
    release = threading.Event()
    real = getattr(module, reader)

    def hung(*args, **kwargs):
        release.wait(60)
        return real(*args, **kwargs)

    seen: dict = {}

    def while_waiting():
        seen["loading"] = window.loading()
        seen["button"] = window.cancel_load_button.isVisible()
        seen["message"] = window.statusBar().currentMessage()
        # the message is readable: the button stands to its right, not over it
        left = window.cancel_load_button.geometry().left()
        seen["beside"] = left > window.statusBar().fontMetrics().horizontalAdvance(seen["message"])
        draw_strokes(window.canvas, DIGIT_STROKES[3])
        settle(qtbot, window)
        seen["prediction"] = window.panel.prediction
        qtbot.mouseClick(window.cancel_load_button, Qt.MouseButton.LeftButton)

    monkeypatch.setattr(module, reader, hung)
    QTimer.singleShot(300, while_waiting)
    try:
        seen["opened"] = open_file()
    finally:
        release.set()
        monkeypatch.setattr(module, reader, real)
    return seen


def test_a_load_that_hangs_leaves_the_window_drawing_and_cancel_ends_it(qtbot, window, dialogs, tmp_path, monkeypatch):
    """A weights file on a mount that does not answer: the window draws and predicts meanwhile,
    the status bar's Cancel button ends the wait, and the previous weights stay."""
    path = _good(tmp_path)
    before = window.engine.weights
    seen = _open_while_the_read_hangs(
        qtbot, window, monkeypatch, weights_mod, "load_weights", lambda: window.open_weights(path)
    )
    assert seen["opened"] is False
    assert seen["loading"] and seen["button"] and seen["message"] == "Loading other.pt…" and seen["beside"]
    assert seen["prediction"] is not None and seen["prediction"].digit == 3  # drawn and read during the load
    assert window.engine.weights is before and not dialogs.errors
    assert "cancelled" in window.statusBar().currentMessage()
    assert not window.loading() and not window.cancel_load_button.isVisible()
    assert window.open_weights(path) is True  # the next load works
    assert window.engine.weights.source == str(path)


def test_a_picture_that_hangs_leaves_the_window_drawing_and_cancel_ends_it(
    qtbot, window, dialogs, tmp_path, monkeypatch
):
    """A picture on a mount that does not answer (or one slow to decode) is read off the GUI
    thread: the person draws and sees the reading meanwhile, Cancel ends the wait, and the
    canvas keeps the drawing; the next picture opens."""
    path = digit_png(tmp_path, qtbot, window, 7)
    seen = _open_while_the_read_hangs(
        qtbot, window, monkeypatch, files_mod, "read_image", lambda: window.open_image(path)
    )
    assert seen["opened"] is False
    assert seen["loading"] and seen["button"] and seen["message"] == "Opening digit.png…" and seen["beside"]
    assert seen["prediction"] is not None and seen["prediction"].digit == 3  # drawn and read while it waited
    assert window.canvas.image() is None and len(window.canvas.strokes()) == len(DIGIT_STROKES[3])
    assert not dialogs.errors and "cancelled" in window.statusBar().currentMessage()
    assert not window.loading() and not window.cancel_load_button.isVisible()
    assert window.open_image(path) is True
    settle(qtbot, window)
    assert window.canvas.image() is not None and window.panel.prediction.digit == 7


def test_a_second_file_opened_during_a_load_replaces_it(qtbot, window, dialogs, tmp_path, monkeypatch):
    first, second = _good(tmp_path / "..", 1), _good(tmp_path, 2)
    release = threading.Event()
    real = weights_mod.load_weights

    def slow_first(p, cancel=None):
        if str(p) == str(first):
            release.wait(60)
        return real(p, cancel=cancel)

    monkeypatch.setattr(weights_mod, "load_weights", slow_first)
    results = {}
    QTimer.singleShot(300, lambda: results.setdefault("second", window.open_weights(second)))
    try:
        results["first"] = window.open_weights(first)
    finally:
        release.set()
    assert results == {"second": True, "first": False}
    assert window.engine.weights.source == str(second) and not dialogs.errors
    # what the status bar says is the second file's news, not that the first was cancelled
    assert window.statusBar().currentMessage() == "Loaded other.pt"


def test_weights_that_overflow_are_refused_by_a_dialog_and_the_old_ones_keep_reading(qtbot, window, dialogs, tmp_path):
    sd = LeNet5().state_dict()
    sd["c1.weight"] = torch.full((6, 1, 5, 5), 3e38)
    path = tmp_path / "huge.pt"
    torch.save(sd, path)
    draw_strokes(window.canvas, DIGIT_STROKES[7])
    settle(qtbot, window)
    before = window.panel.prediction.probabilities.copy()
    assert window.open_weights(path) is False
    ((title, text),) = dialogs.errors
    assert "'c1.weight' holds values up to 3e+38" in text and "previous weights are still in use" in text
    window.clear_action.trigger()
    draw_strokes(window.canvas, DIGIT_STROKES[7])
    settle(qtbot, window)
    np.testing.assert_allclose(window.panel.prediction.probabilities, before, atol=1e-6)


def test_nan_outputs_are_never_shown_as_a_reading_and_hovering_nan_maps_paints(qtbot, window):
    """Should a device still produce NaN, the window says there is no reading, and the map
    detail paints a map of NaN without failing (min() of no finite values)."""
    with torch.no_grad():
        window.engine.model.c1.weight.fill_(float("nan"))
    draw_strokes(window.canvas, DIGIT_STROKES[1])
    settle(qtbot, window)
    headline = window.panel.headline()
    assert "nan" not in headline.lower() and "confident" not in headline
    assert "No reading" in headline
    assert window.panel.shown_probabilities() is None
    c1 = window.maps.views["C1"]
    send_mouse(c1, QEvent.Type.MouseMove, c1.tile_rects()[0].center(), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    detail = window.maps.detail
    assert detail.view is c1 and np.isnan(detail.values()).all()
    detail.resize(400, 400)  # cells large enough for their values to be written
    detail.grab()  # paints; an exception in paintEvent fails the test (pytest-qt)
    window.panel.grab()
    window.maps.grab()


# --------------------------------------------------------------------------- images


def test_a_postscript_file_named_png_is_refused_by_a_dialog_and_nothing_is_started(
    qtbot, window, dialogs, tmp_path, monkeypatch
):
    import subprocess

    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail("an external program was started"))
    path = tmp_path / "digit.png"
    path.write_bytes(b"%!PS-Adobe-3.0\n%%BoundingBox: 0 0 28 28\n{ } loop\n")
    draw_strokes(window.canvas, DIGIT_STROKES[2])
    settle(qtbot, window)
    strokes = window.canvas.strokes()
    assert window.open_image(path) is False
    ((title, text),) = dialogs.errors
    assert "digit.png is a PostScript/EPS file, which this app does not open" in text
    assert window.canvas.image() is None and len(window.canvas.strokes()) == len(strokes)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads the resident size from /proc")
def test_opening_a_large_photo_many_times_keeps_the_history_within_its_memory_bound(qtbot, window, tmp_path):
    from PIL import Image

    from lenet_draw.gui.canvas import DISPLAY_SIDE, MAX_HISTORY_BYTES

    path = tmp_path / "photo.jpg"
    grad = np.tile(np.linspace(0, 255, 3000, dtype=np.uint8), (2400, 1))
    Image.fromarray(np.dstack([grad, grad.T[:2400, :2400].repeat(2, 1)[:, :3000], grad])).save(path, quality=80)
    window.open_image(path)
    settle(qtbot, window)
    one = window.canvas._doc.nbytes()
    start = _rss_mb()
    for _ in range(25):
        assert window.open_image(path)
        settle(qtbot, window)
    assert 25 * one > 2 * MAX_HISTORY_BYTES  # unbounded, the history would hold far more
    assert window.canvas.history_bytes() <= MAX_HISTORY_BYTES
    assert max(window.canvas._doc._qimage.width(), window.canvas._doc._qimage.height()) <= DISPLAY_SIDE
    assert _rss_mb() - start < MAX_HISTORY_BYTES / 2**20 + 150
    window.clear_action.trigger()
    window.undo_action.trigger()  # the last image is still one undo away
    assert window.canvas.image() is not None


# --------------------------------------------------------------------------- saving


def test_saving_as_scan_never_silently_replaces_scan_png(qtbot, window, dialogs, tmp_path):
    existing = tmp_path / "scan.png"
    existing.write_bytes(b"someone's scan")
    draw_strokes(window.canvas, DIGIT_STROKES[4])
    dialogs.save_answer = str(tmp_path / "scan")
    window.save_action.trigger()
    ((title, text),) = dialogs.errors
    assert "scan.png already exists" in text
    assert existing.read_bytes() == b"someone's scan"
    dialogs.save_answer = str(existing)  # named in full (the dialog asked): replaced
    window.save_action.trigger()
    from PIL import Image

    with Image.open(existing) as im:
        assert im.format == "PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan.png"]


def test_a_save_that_fails_keeps_the_old_png_whole(qtbot, window, dialogs, tmp_path, monkeypatch):
    from lenet_draw import atomic

    path = tmp_path / "digit.png"
    path.write_bytes(b"the old drawing")
    draw_strokes(window.canvas, DIGIT_STROKES[5])

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", full_disk)
    dialogs.save_answer = str(path)
    window.save_action.trigger()
    ((title, text),) = dialogs.errors
    assert "could not be written: No space left on device." in text
    assert path.read_bytes() == b"the old drawing"
    assert [p.name for p in tmp_path.iterdir()] == ["digit.png"]


# --------------------------------------------------------------------------- Recent Weights at start-up


def test_100000_recent_entries_are_cut_without_looking_at_each(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from lenet_draw.gui import prefs

    ini = tmp_path / "settings.ini"
    items = ", ".join(f"/nowhere/w{i}.pt" for i in range(100_000))
    ini.write_text(f"[General]\nrecentWeights={items}\n")
    looked = []
    real = prefs._kind
    monkeypatch.setattr(prefs, "_kind", lambda p: (looked.append(p), real(p))[1])
    s = QSettings(str(ini), QSettings.Format.IniFormat)
    notes = prefs.check(s)
    assert len(looked) <= prefs.MAX_RECENT_EXAMINED
    assert prefs.recent_paths(s) == []
    assert any("more entries than it looks at; they were removed" in n for n in notes)
    assert len(prefs._as_list(s.value(prefs.RECENT_KEY))) == 0


def test_a_recent_entry_on_a_mount_that_hangs_does_not_block_start_up(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from lenet_draw.gui import prefs

    release = threading.Event()
    real = prefs._kind

    def hanging(p):
        if p.startswith("/mnt/hung"):
            release.wait(60)
        return real(p)

    monkeypatch.setattr(prefs, "_kind", hanging)
    s = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    s.setValue(prefs.RECENT_KEY, ["/mnt/hung/w.pt"])
    try:
        notes = prefs.check(s)
        assert not release.is_set()  # check() returned while the file system still had not answered
        assert prefs.recent_paths(s) == ["/mnt/hung/w.pt"] and notes == []  # kept: checked when opened
    finally:
        release.set()
