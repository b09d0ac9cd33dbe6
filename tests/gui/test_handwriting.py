"""Teaching the app a handwriting, through the real window: draw, misread, correct with a key or
a click on the bar, draw again and read right; take a correction back; restart; export."""

import json
import zipfile

import pytest
from guihelpers import settle
from PySide6.QtCore import Qt

from lenet_draw.gui.testing import draw_strokes
from lenet_draw.sample_digits import resample
from lenet_draw.samples import MAX_PROBLEMS_SHOWN

#: One writer's 1: a long, nearly flat flag (about 20 degrees) up to the top, then the downstroke.
#: Flatter than most people's flagged ones, it lies where a 1 and a 7 meet: the bundled weights
#: read a 7 (measured: 7 at 85%, shifted and shrunk 7 at 75%), which this writer corrects.
#: Hostile samples (a huge integer) beside a good one, for the start-up and import tests.
ONE = {"label": 1, "strokes": [[[0.5, 0.1], [0.5, 0.9]]]}
HUGE_SAMPLE = '{"label":1,"strokes":[[[0.5,0.1],[1' + "0" * 400 + ",0.9]]]}"
EURO_ONE = [resample([(0.20, 0.27), (0.53, 0.17)]), resample([(0.53, 0.17), (0.47, 0.83)])]


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
        wait_adapted(qtbot, w)
        return w

    return make


def wait_adapted(qtbot, w):
    qtbot.waitUntil(lambda: w.handwriting.idle(), timeout=60000)
    settle(qtbot, w)


def draw(qtbot, w, strokes=EURO_ONE):
    qtbot.keyClick(w.canvas, Qt.Key.Key_Escape)
    draw_strokes(w.canvas, strokes)
    settle(qtbot, w)
    return w.panel.headline()


def test_a_key_corrects_a_misreading_and_the_same_drawing_then_reads_right(qtbot, make_window, data_dir):
    w = make_window()
    assert not draw(qtbot, w).startswith("1"), "the base weights should misread this 1"
    with qtbot.waitSignal(w.handwriting.adapted, timeout=60000):
        qtbot.keyClick(w.canvas, Qt.Key.Key_1)
    settle(qtbot, w)
    # The drawing still on the pad is read again, and the window says what it learned.
    assert w.panel.headline().startswith("1")
    assert w.statusBar().currentMessage() == "Learned: this is a 1 (1 sample)"
    assert w.handwriting_status.text() == "personalised: 1 sample"
    files = list(data_dir.glob("*.json"))
    assert len(files) == 1
    doc = json.loads(files[0].read_text())
    assert doc["label"] == 1 and len(doc["strokes"]) == 2 and len(doc["strokes"][0][0]) == 3
    # Drawn again, a little differently: still a 1.
    shifted = [[(x * 0.9 + 0.06, y * 0.95 + 0.03) for x, y in s] for s in EURO_ONE]
    assert draw(qtbot, w, shifted).startswith("1")
    # An ordinary 7 is still a 7.
    from lenet_draw.sample_digits import DIGIT_STROKES

    assert draw(qtbot, w, DIGIT_STROKES[7]).startswith("7")


def test_clicking_a_bar_corrects_and_ctrl_z_takes_it_back(qtbot, make_window, data_dir):
    w = make_window()
    first = draw(qtbot, w)
    bars = w.panel.bars
    centre = bars.bar_rects()[1].center()
    with qtbot.waitSignal(w.handwriting.adapted, timeout=60000):
        qtbot.mouseClick(bars, Qt.MouseButton.LeftButton, pos=centre.toPoint())
    settle(qtbot, w)
    assert w.panel.headline().startswith("1")
    assert len(list(data_dir.glob("*.json"))) == 1
    # Ctrl+Z: the sample and its effect are gone; the drawing stays and reads as before.
    with qtbot.waitSignal(w.handwriting.adapted, timeout=60000):
        qtbot.keyClick(w.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, w)
    assert list(data_dir.glob("*.json")) == []
    assert w.handwriting.count() == 0 and not w.canvas.is_empty()
    assert w.panel.headline() == first
    assert not w.handwriting_status.isVisible()
    # The next Ctrl+Z undoes on the canvas again.
    qtbot.keyClick(w.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, w)
    assert len(w.canvas.strokes()) == 1


def test_samples_survive_a_restart_and_a_damaged_file_is_named(qtbot, make_window, data_dir):
    w = make_window()
    draw(qtbot, w)
    with qtbot.waitSignal(w.handwriting.adapted, timeout=60000):
        qtbot.keyClick(w.canvas, Qt.Key.Key_1)
    w.close()
    (data_dir / "zz-damaged.json").write_text('{"label": 3, "strokes": [[[0.1, 0.2], [0.3')
    assert (data_dir / "personalised.pt").is_file()
    again = make_window()
    assert again.handwriting.count() == 1
    # The adapted weights saved last time went straight in: nothing was adapted again.
    assert again.handwriting.current is not None and again.handwriting.current.seconds == 0.0
    assert "zz-damaged.json" in again.statusBar().currentMessage()
    assert draw(qtbot, again).startswith("1")
    assert again.handwriting_panel.list.count() == 1
    assert (data_dir / "zz-damaged.json").exists()  # skipped, not deleted


def test_exported_weights_load_in_the_window_and_the_command_line(qtbot, make_window, dialogs, tmp_path, capsys):
    from lenet_draw.cli import main
    from lenet_draw.weights import load_weights

    w = make_window()
    w.export_personal_action.trigger()
    assert dialogs.errors and dialogs.errors[-1][0] == "Nothing to export"
    draw(qtbot, w)
    with qtbot.waitSignal(w.handwriting.adapted, timeout=60000):
        qtbot.keyClick(w.canvas, Qt.Key.Key_1)
    out = tmp_path / "mine.safetensors"
    dialogs.save_answer = str(out)
    w.export_personal_action.trigger()
    loaded = load_weights(out)
    assert sum(t.numel() for t in loaded.state_dict.values()) == 61_706
    assert loaded.meta["note"] == "adapted from lenet5.pt with 1 samples"
    assert loaded.convention == w.engine.weights.convention
    # The drawing as a PNG, read by `lenet-draw predict --weights` with the exported file.
    png = tmp_path / "one.png"
    dialogs.save_answer = str(png)
    w.save_action.trigger()
    capsys.readouterr()

    def chance_of_one(*weights: str) -> float:
        assert main(["predict", str(png), *weights]) == 0
        tops = capsys.readouterr().out.strip().split(": ", 1)[1].split("  [")[0].split(", ")
        return dict((t.split(" ")[0], float(t.split("(")[1].rstrip("%)"))) for t in tops).get("1", 0.0)

    # The exported weights carry the correction: the drawing, even as a picture (read through
    # the image path, not the strokes it was learned from), leans further to 1 than with the
    # bundled weights (measured: 22.3% against 13.1%; unadapted weights give the same figure).
    assert chance_of_one("--weights", str(out)) > chance_of_one() + 5
    # Opened as weights: they become the base, and the sample is re-applied to them.
    said = []
    w.statusBar().messageChanged.connect(said.append)
    assert w.open_weights(out)
    wait_adapted(qtbot, w)
    assert "Loaded mine.safetensors  ·  Your handwriting (1 sample) is kept and re-applied to mine.safetensors." in said
    assert w.statusBar().currentMessage() == "Re-applied your 1 sample to mine.safetensors"
    assert w.panel.headline().startswith("1")
    assert w.handwriting.base.source == str(out)


def test_the_panel_deletes_samples_and_compares_readings(qtbot, make_window, data_dir):
    w = make_window()
    draw(qtbot, w)
    with qtbot.waitSignal(w.handwriting.adapted, timeout=60000):
        qtbot.keyClick(w.canvas, Qt.Key.Key_1)
    settle(qtbot, w)
    panel = w.handwriting_panel
    w.handwriting_dock.raise_()
    panel.compare.click()
    lines = panel.comparison.text().splitlines()
    assert lines[0].startswith("Yours (personalised): 1") and not lines[1].startswith("Base weights: 1")
    assert panel.list.count() == 1 and panel.list.item(0).text() == "1"
    panel.list.item(0).setSelected(True)
    with qtbot.waitSignal(w.handwriting.adapted, timeout=60000):
        qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    settle(qtbot, w)
    assert panel.list.count() == 0 and list(data_dir.glob("*.json")) == []
    assert not w.panel.headline().startswith("1")


def test_a_correction_needs_a_drawing(qtbot, make_window, data_dir):
    w = make_window()
    said = []
    w.statusBar().messageChanged.connect(said.append)
    qtbot.keyClick(w.canvas, Qt.Key.Key_4)
    w.statusBar().clearMessage()
    qtbot.keyClick(w.canvas, Qt.Key.Key_7, Qt.KeyboardModifier.KeypadModifier)  # the number pad's keys too
    assert w.handwriting.count() == 0 and not data_dir.exists()
    assert sum("Draw a digit first" in m for m in said) == 2


def test_an_adaptation_waits_while_the_pen_is_down_and_finishes_once_it_lifts(qtbot, make_window, data_dir):
    """Adapting beside a stroke being drawn would take the interpreter from its live update:
    the adaptation pauses between its steps while the pen is down (at most PEN_DOWN_WAIT_S at a
    time) and goes on when it lifts."""
    from PySide6.QtCore import QEvent

    from lenet_draw.gui.handwriting import PEN_DOWN_WAIT_S
    from lenet_draw.gui.testing import send_mouse

    w = make_window()
    draw(qtbot, w)
    done = []
    w.handwriting.adapted.connect(done.append)
    qtbot.keyClick(w.canvas, Qt.Key.Key_1)  # the correction: an adaptation starts in the background
    assert not w.handwriting.idle()
    left = Qt.MouseButton.LeftButton
    stroke = [w.canvas.to_widget(0.1 + 0.8 * i / 60, 0.9) for i in range(61)]
    send_mouse(w.canvas, QEvent.Type.MouseButtonPress, stroke[0], left, left)
    # A stroke held down for 1.2 s (under PEN_DOWN_WAIT_S): an adaptation takes about 0.3 s of
    # work, yet none finishes while the pen is down.
    assert PEN_DOWN_WAIT_S > 1.2
    for p in stroke[1:]:
        send_mouse(w.canvas, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, left)
        qtbot.wait(20)
    assert w.canvas.is_drawing() and not done and not w.handwriting.idle()
    send_mouse(w.canvas, QEvent.Type.MouseButtonRelease, stroke[-1], left, Qt.MouseButton.NoButton)
    qtbot.waitUntil(lambda: bool(done), timeout=60000)
    assert w.handwriting.count() == 1


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
