"""Hostile sample files through the window: a sample with an integer too large for a float in the
handwriting folder is skipped at start (the window opens, the good samples are kept), and a zip of
many bad samples gets a dialog of at most ``MAX_PROBLEMS_SHOWN`` sentences and a count."""

from __future__ import annotations

import json
import zipfile

import pytest
from guihelpers import settle

from lenet_draw.samples import MAX_PROBLEMS_SHOWN

ONE = {"label": 1, "strokes": [[[0.5, 0.1], [0.5, 0.9]]]}
HUGE_SAMPLE = '{"label":1,"strokes":[[[0.5,0.1],[1' + "0" * 400 + ",0.9]]]}"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("LENET_DRAW_DATA", str(folder))
    return folder / "handwriting"


@pytest.fixture
def make_window(qtbot, settings, dialogs, data_dir):
    from lenet_draw.engine import Engine
    from lenet_draw.gui.main_window import MainWindow

    def make():
        w = MainWindow(Engine(device="cpu"), settings=settings)
        dialogs.install(w)
        qtbot.addWidget(w)
        w.resize(1280, 800)
        w.show()
        qtbot.waitExposed(w)
        qtbot.waitUntil(lambda: w.handwriting.idle(), timeout=60000)
        settle(qtbot, w)
        return w

    return make


def test_a_sample_with_a_huge_integer_is_skipped_when_the_window_starts(qtbot, make_window, dialogs, data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "a-good.json").write_text(json.dumps(ONE))
    (data_dir / "b-huge.json").write_text(HUGE_SAMPLE)
    w = make_window()
    assert [s.name for s in w.handwriting.samples] == ["a-good.json"]
    assert w.handwriting.problems == ["b-huge.json: stroke 1 holds a number too large to be a coordinate."]
    assert "b-huge.json: stroke 1 holds a number too large" in w.statusBar().currentMessage()
    assert not dialogs.errors
    assert (data_dir / "b-huge.json").read_text() == HUGE_SAMPLE  # skipped, not deleted or rewritten


def test_importing_a_zip_of_many_bad_samples_shows_a_bounded_list(qtbot, make_window, dialogs, tmp_path):
    w = make_window()
    src = tmp_path / "many.zip"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("good.json", json.dumps(ONE))
        for i in range(100):
            z.writestr(f"bad{i:03d}.json", '{"strokes": []}')
    dialogs.open_answer = str(src)
    before = w.handwriting.count()
    w.import_samples_action.trigger()
    qtbot.waitUntil(lambda: w.handwriting.idle(), timeout=60000)
    assert len(dialogs.errors) == 1
    title, text = dialogs.errors[0]
    lines = text.split("\n")
    assert title == "Some samples were skipped"
    assert lines[:MAX_PROBLEMS_SHOWN] == [
        f"bad{i:03d}.json: its label must be a digit 0 to 9, not None." for i in range(MAX_PROBLEMS_SHOWN)
    ]
    assert lines[MAX_PROBLEMS_SHOWN:] == [f"{100 - MAX_PROBLEMS_SHOWN} more files were skipped as well."]
    assert w.handwriting.count() == before + 1  # the good one was still imported
