"""A corrupt or foreign settings file never stops the app: the window is built over it, works
(a digit drawn with the mouse is read), and the status bar says what was done about it.

Every case writes a real settings file in tmp_path the way it would be found on disk (raw
bytes, or text Qt itself wrote for values of the wrong type), then builds the window over it.
"""

import itertools
import os

import numpy as np
import pytest
from guihelpers import assert_views_show, fresh_prediction, settle
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PySide6.QtCore import QByteArray, QSettings, QSize

from lenet_draw.gui import prefs
from lenet_draw.gui.main_window import MainWindow
from lenet_draw.gui.testing import DIGIT_STROKES, draw_strokes
from lenet_draw.weights import save_weights


def ini_file(path, content: bytes) -> QSettings:
    path.write_bytes(content)
    return QSettings(str(path), QSettings.Format.IniFormat)


def qt_written(tmp_path, values: dict) -> bytes:
    """The bytes Qt writes for ``values`` (typed values are stored as @Variant/@ByteArray)."""
    scratch = tmp_path / "qt-wrote-this.ini"
    s = QSettings(str(scratch), QSettings.Format.IniFormat)
    for k, v in values.items():
        s.setValue(k, v)
    s.sync()
    del s
    return scratch.read_bytes()


def build(qtbot, engine, settings, dialogs, restore=True):
    """The window as run_app builds it: over these settings, layout restored, shown."""
    w = MainWindow(engine, settings=settings)
    dialogs.install(w)
    qtbot.addWidget(w)
    if restore:
        w.restore_layout()
    w.show()
    qtbot.waitExposed(w)
    settle(qtbot, w)
    return w


def assert_works(qtbot, w):
    """A person can draw a digit and sees it read; the views show exactly that prediction."""
    assert w.canvas.isVisible() and w.canvas.width() >= 160 and w.canvas.height() >= 160
    w.canvas.clear()
    draw_strokes(w.canvas, DIGIT_STROKES[1])
    settle(qtbot, w)
    assert w.panel.prediction is not None and w.panel.prediction.digit == 1
    assert_views_show(w, fresh_prediction(w))


def message(w) -> str:
    return w.statusBar().currentMessage()


def recent_menu_paths(w) -> list[str]:
    return [a.data() for a in w.recent_menu.actions() if a.data()]


@pytest.fixture
def weights_file(tmp_path, fresh_engine):
    path = tmp_path / "mine.pt"
    save_weights(path, fresh_engine.weights.state_dict, meta={"test_accuracy": 98.76})
    return path


# --------------------------------------------------------------------------- unreadable files

# What Qt cannot parse (it reports a FormatError once it has read every section).
UNREADABLE = {
    "random bytes": lambda: np.random.default_rng(0).bytes(4096),
    "random bytes with a valid entry among them": lambda: (
        np.random.default_rng(1).bytes(500)
        + b"\n[General]\nrecentWeights=RECENT\n"
        + np.random.default_rng(2).bytes(500)
    ),
    "a Windows registry export": lambda: (
        b"Windows Registry Editor Version 5.00\r\n\r\n"
        b"[HKEY_CURRENT_USER\\Software\\lenet-draw]\r\n"
        b'"recentWeights"="RECENT"\r\n'
    ),
    "UTF-16 text": lambda: "[General]\nrecentWeights=RECENT\n".encode("utf-16"),
    "an unclosed section": lambda: b"[General]\nrecentWeights=RECENT\n[lenet-draw\ngeometry=1\n",
    "JSON": lambda: b'{\n  "recentWeights": [\n    "RECENT"\n  ]\n}\n',
    "an XML property list": lambda: (
        b'<?xml version="1.0"?>\n<plist><dict><key>recentWeights</key><string>RECENT</string></dict></plist>\n'
    ),
}


@pytest.mark.parametrize("kind", list(UNREADABLE), ids=list(UNREADABLE))
def test_an_unreadable_settings_file_starts_with_defaults_and_says_so(
    qtbot, tmp_path, fresh_engine, dialogs, weights_file, kind
):
    content = UNREADABLE[kind]().replace(b"RECENT", str(weights_file).encode())
    path = tmp_path / "settings.ini"
    s = ini_file(path, content)
    w = build(qtbot, fresh_engine, s, dialogs)
    assert message(w) == (
        "The settings file settings.ini could not be read, so lenet-draw started with default "
        "settings (the unreadable file was kept as settings.ini.unreadable)."
    )
    assert (tmp_path / "settings.ini.unreadable").read_bytes() == content
    # Defaults: nothing from the unreadable file is used, even what looked like a good entry.
    assert w.recent_weights() == []
    assert [a.text() for a in w.recent_menu.actions()] == ["No recent weights"]
    assert dialogs.errors == []
    assert_works(qtbot, w)
    # The app keeps working with its settings: the next run finds a clean file and says nothing.
    assert w.open_weights(weights_file)
    w.close()
    again = ini_file(path, path.read_bytes())
    assert again.status() == QSettings.Status.NoError and not prefs.unreadable(again)
    w2 = build(qtbot, fresh_engine, again, dialogs)
    assert message(w2) == ""
    assert w2.recent_weights() == [str(weights_file.resolve())]


def test_random_bytes_are_unreadable_though_qt_says_no_error_until_it_has_parsed_them(tmp_path):
    """Why ``prefs.unreadable`` makes Qt parse everything first: its status starts out NoError."""
    no_error_at_first = 0
    for seed in range(20):
        s = ini_file(tmp_path / f"r{seed}.ini", np.random.default_rng(seed).bytes(2000))
        no_error_at_first += s.status() == QSettings.Status.NoError
        assert prefs.unreadable(s)
    assert no_error_at_first > 0


def test_a_settings_file_of_another_program_in_ini_form_gives_defaults_without_alarm(
    qtbot, tmp_path, fresh_engine, dialogs
):
    """An INI file with none of our keys is readable: nothing of it is used, and there is nothing to report."""
    s = ini_file(tmp_path / "settings.ini", b"[servers]\nname = x\nport = 80\n[General]\ntheme=dark\n")
    w = build(qtbot, fresh_engine, s, dialogs)
    assert message(w) == ""
    assert w.recent_weights() == []
    assert_works(qtbot, w)


def test_a_settings_path_that_is_a_folder_says_changes_will_not_be_remembered(
    qtbot, tmp_path, fresh_engine, dialogs, weights_file
):
    folder = tmp_path / "settings.ini"
    folder.mkdir()
    s = QSettings(str(folder), QSettings.Format.IniFormat)
    w = build(qtbot, fresh_engine, s, dialogs)
    assert message(w) == (
        "The settings file settings.ini cannot be read or written, so changes made now will not be remembered."
    )
    assert_works(qtbot, w)
    assert w.open_weights(weights_file)  # still works for this session
    assert w.recent_weights() == [str(weights_file.resolve())]
    w.close()
    assert folder.is_dir() and list(folder.iterdir()) == []


# --------------------------------------------------------------------------- values of the wrong type


ONE_NOT_A_PATH = "Recent Weights held 1 entry that was not a file path; it was removed."

# (what the file holds for recentWeights, the type Qt reads it as, the status bar's words).
# Qt writes an integer as plain text, so the integer is written as Qt encodes one inside a
# @Variant (as another version or tool could have; the registry and macOS property lists hold
# numbers natively). In a list Qt writes numbers as text: they read as names of missing files.
WRONG_TYPES = {
    "an integer": (b"[General]\nrecentWeights=@Variant(\\0\\0\\0\\x2\\0\\0\\0\\x5)\n", int, ONE_NOT_A_PATH),
    "a byte array": ({"recentWeights": QByteArray(b"\x00\x01/not/a/path\xff")}, QByteArray, ONE_NOT_A_PATH),
    "a map": ({"recentWeights": {"path": "x.pt"}}, dict, ONE_NOT_A_PATH),
    "a list of numbers, bytes and nothing around a real path": (
        {"recentWeights": [7, QByteArray(b"abc"), "GOOD", "", 2.5]},
        list,
        "Recent Weights: 7, 2.5 no longer exist, so they were removed from the list.  ·  "
        "Recent Weights held 2 entries that were not file paths; they were removed.",
    ),
}


@pytest.mark.parametrize("kind", list(WRONG_TYPES), ids=list(WRONG_TYPES))
def test_recent_weights_of_the_wrong_type_are_dropped(qtbot, tmp_path, fresh_engine, dialogs, weights_file, kind):
    stored, python_type, words = WRONG_TYPES[kind]
    if isinstance(stored, dict):
        value = stored["recentWeights"]
        if isinstance(value, list):
            value = [str(weights_file) if v == "GOOD" else v for v in value]
        stored = qt_written(tmp_path, {"recentWeights": value})
    path = tmp_path / "settings.ini"
    s = ini_file(path, stored)
    raw = s.value("recentWeights")
    assert type(raw) is python_type  # the file really holds that type
    assert python_type is not list or not all(isinstance(x, str) for x in raw)
    w = build(qtbot, fresh_engine, s, dialogs)
    expected_recent = [str(weights_file)] if python_type is list else []
    assert w.recent_weights() == expected_recent
    assert recent_menu_paths(w) == expected_recent
    assert message(w) == words
    assert_works(qtbot, w)
    # The file was repaired: the next run has nothing to say.
    w2 = build(qtbot, fresh_engine, ini_file(path, path.read_bytes()), dialogs)
    assert message(w2) == "" and w2.recent_weights() == expected_recent
    if expected_recent:
        assert w2.open_recent(expected_recent[0]) and w2.engine.weights.test_accuracy == pytest.approx(98.76)


def test_other_values_of_the_wrong_type_are_ignored(qtbot, tmp_path, fresh_engine, dialogs):
    """A folder for the file dialogs that is a number, a layout that is text: defaults, window fine."""
    s = ini_file(
        tmp_path / "settings.ini",
        qt_written(tmp_path, {"lastDir": 12, "geometry": "wide", "windowState": 3, "layoutDigest": ["x"]}),
    )
    w = build(qtbot, fresh_engine, s, dialogs)
    assert message(w) == prefs.LAYOUT_NOTE
    assert prefs.last_dir(w.settings) == ""
    assert not w.settings.contains("lastDir") and not prefs.has_layout(w.settings)
    assert w.size().width() == 1280 and w.size().height() == 800  # the default size
    assert_works(qtbot, w)


# --------------------------------------------------------------------------- recent files that went away


def test_a_deleted_recent_file_and_a_folder_are_removed_and_named(qtbot, tmp_path, fresh_engine, dialogs, weights_file):
    gone = tmp_path / "deleted.pt"
    gone.write_bytes(b"x")
    folder = tmp_path / "models"
    folder.mkdir()
    path = tmp_path / "settings.ini"
    ini_file(path, qt_written(tmp_path, {"recentWeights": [str(gone), str(weights_file), str(folder)]}))
    gone.unlink()
    s = QSettings(str(path), QSettings.Format.IniFormat)
    w = build(qtbot, fresh_engine, s, dialogs)
    assert message(w) == (
        "Recent Weights: deleted.pt no longer exists, so it was removed from the list.  ·  "
        "Recent Weights: models is a folder, not a weights file, so it was removed from the list."
    )
    assert w.recent_weights() == [str(weights_file)]
    assert recent_menu_paths(w) == [str(weights_file)]
    assert dialogs.errors == []
    assert_works(qtbot, w)
    assert w.open_recent(str(weights_file))
    assert w.engine.weights.source == str(weights_file)


def test_several_missing_recent_files_are_named_together(tmp_path):
    names = [f"old{i}.pt" for i in range(5)]
    s = ini_file(tmp_path / "settings.ini", qt_written(tmp_path, {"recentWeights": [str(tmp_path / n) for n in names]}))
    assert prefs.check(s) == [
        "Recent Weights: old0.pt, old1.pt, old2.pt and 2 more no longer exist, so they were removed from the list."
    ]
    assert prefs.recent_paths(s) == [] and prefs.check(s) == []


# --------------------------------------------------------------------------- window layouts


def saved_by_a_window(qtbot, fresh_engine, settings, dialogs):
    """Settings holding a real layout: a window made smaller (it fits the offscreen 800 x 600
    screen, so Qt restores it as it was) with its maps dock hidden, then closed."""
    w = build(qtbot, fresh_engine, settings, dialogs, restore=False)
    w.resize(720, 650)
    w.maps_dock.hide()
    assert w.size() != QSize(1280, 800)
    saved_size = w.size()
    w.close()
    return settings.fileName(), saved_size


def test_an_intact_saved_layout_is_restored(qtbot, tmp_path, fresh_engine, dialogs):
    path, size = saved_by_a_window(
        qtbot, fresh_engine, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), dialogs
    )
    w = build(qtbot, fresh_engine, QSettings(path, QSettings.Format.IniFormat), dialogs)
    assert message(w) == ""
    assert not w.maps_dock.isVisible() and w.stages_dock.isVisible()
    assert w.size() == size
    assert_works(qtbot, w)


def _flip(data: QByteArray, offsets) -> QByteArray:
    b = bytearray(bytes(data.data()))
    for i in offsets:
        b[i % len(b)] ^= 0xA5
    return QByteArray(bytes(b))


@pytest.mark.parametrize("damage", ["state bytes changed", "geometry bytes changed", "random bytes", "cut short"])
def test_a_damaged_saved_layout_is_not_restored(qtbot, tmp_path, fresh_engine, dialogs, damage):
    """Qt trusts the counts inside a saved state (a few changed bytes can crash it), so a layout
    that is not exactly what the app saved is forgotten, with a word in the status bar."""
    path, _ = saved_by_a_window(
        qtbot, fresh_engine, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), dialogs
    )
    s = QSettings(path, QSettings.Format.IniFormat)
    geo, state = prefs.saved_layout(s)
    if damage == "state bytes changed":
        s.setValue("windowState", _flip(state, [125, 126]))
    elif damage == "geometry bytes changed":
        s.setValue("geometry", _flip(geo, [20]))
    elif damage == "random bytes":
        s.setValue("geometry", QByteArray(np.random.default_rng(3).bytes(66)))
        s.setValue("windowState", QByteArray(np.random.default_rng(4).bytes(253)))
    else:
        s.setValue("windowState", QByteArray(bytes(state.data())[:40]))
    s.sync()
    del s
    w = build(qtbot, fresh_engine, QSettings(path, QSettings.Format.IniFormat), dialogs)
    assert message(w) == prefs.LAYOUT_NOTE
    assert w.maps_dock.isVisible() and w.size() == QSize(1280, 800)  # the default layout, not the saved one
    assert not prefs.has_layout(w.settings)
    assert_works(qtbot, w)


def test_a_layout_qt_refuses_is_forgotten(qtbot, tmp_path, fresh_engine, dialogs):
    """Even an intact record is checked by Qt: one it cannot restore is dropped, the window keeps its default."""
    s = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    prefs.save_layout(s, QByteArray(b"not a geometry"), QByteArray(b"not a state"))
    s.sync()
    w = build(qtbot, fresh_engine, s, dialogs, restore=False)
    assert message(w) == ""
    assert w.restore_layout() is False
    assert message(w) == prefs.LAYOUT_NOTE
    assert not prefs.has_layout(w.settings)
    assert w.maps_dock.isVisible()
    assert_works(qtbot, w)


#: A start in a child process: the window built over the settings file at argv[1], its saved
#: layout restored as run_app does, with Qt's restoreState made to crash (a segmentation fault,
#: as a forged state with a matching digest did in Qt 6.11.3) or never return.
DYING_START = """
import os, signal, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from lenet_draw.gui import layout_guard
from lenet_draw.gui.main_window import MainWindow
if sys.argv[2] == "crash":
    MainWindow.restoreState = lambda self, state: os.kill(os.getpid(), signal.SIGSEGV)
else:
    layout_guard.GIVE_UP_S = 1.0
    MainWindow.restoreState = lambda self, state: time.sleep(600)
if sys.argv[2] == "hang, no stderr":  # a windowed build whose log could not be opened
    sys.stderr = None
app = QApplication([])
w = MainWindow(None, settings=QSettings(sys.argv[1], QSettings.Format.IniFormat))
w.restore_layout()
print("restored")
"""


@pytest.mark.parametrize("how", ["crash", "hang", "hang, no stderr"])
def test_a_start_that_died_restoring_the_layout_forgets_it(qtbot, tmp_path, fresh_engine, dialogs, how):
    """A saved state that kills Qt (the digest keeps out accidents, not a forger) costs one start:
    the next one finds the attempt unfinished, forgets the layout and says so. A restore that
    never returns ends the process after ``layout_guard.GIVE_UP_S`` instead of freezing it."""
    import subprocess
    import sys

    path, _ = saved_by_a_window(
        qtbot, fresh_engine, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), dialogs
    )
    child = subprocess.run([sys.executable, "-c", DYING_START, path, how], capture_output=True, text=True, timeout=120)
    assert child.returncode != 0 and "restored" not in child.stdout
    w = build(qtbot, fresh_engine, QSettings(path, QSettings.Format.IniFormat), dialogs)
    assert message(w) == prefs.LAYOUT_DIED_NOTE
    assert w.maps_dock.isVisible() and w.size() == QSize(1280, 800)  # the default layout
    assert not prefs.has_layout(w.settings) and not prefs.died_restoring_layout(w.settings)
    assert_works(qtbot, w)


def test_a_layout_restored_to_the_end_leaves_no_mark(qtbot, tmp_path, fresh_engine, dialogs):
    path, size = saved_by_a_window(
        qtbot, fresh_engine, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), dialogs
    )
    w = build(qtbot, fresh_engine, QSettings(path, QSettings.Format.IniFormat), dialogs)
    assert w.size() == size and not QSettings(path, QSettings.Format.IniFormat).contains(prefs.LAYOUT_RESTORING_KEY)


# --------------------------------------------------------------------------- anything at all

_file_numbers = itertools.count()


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.one_of(
        st.binary(max_size=3000),
        st.text(max_size=300).map(lambda t: ("[General]\nrecentWeights=" + t + "\ngeometry=" + t).encode()),
        st.lists(
            st.sampled_from(
                [
                    b"[General]\n",
                    b"[",
                    b"]",
                    b"=",
                    b"\n",
                    b"@Variant(",
                    b"@ByteArray(",
                    b")",
                    b"\\0",
                    b"\\x",
                    b"ff",
                    b"recentWeights",
                    b"geometry",
                    b"windowState",
                    b"lastDir",
                    b",",
                    b'"',
                    b"/tmp",
                    b"\xff",
                ]
            ),
            max_size=60,
        ).map(b"".join),
    )
)
def test_any_settings_file_reads_as_safe_values(tmp_path, content):
    """Whatever the file holds, checking and reading it never raises and gives usable values (no window)."""
    path = tmp_path / f"h{next(_file_numbers)}.ini"  # a new name each time: Qt caches files by name
    s = ini_file(path, content)
    notes = prefs.check(s)
    assert all(isinstance(n, str) and n.endswith(".") for n in notes)
    recent = prefs.recent_paths(s)
    assert all(isinstance(p, str) and os.path.isfile(p) for p in recent)
    assert prefs.last_dir(s) == "" or os.path.isdir(prefs.last_dir(s))
    assert prefs.saved_layout(s) is None
    assert prefs.check(s) == []  # once checked, the file is clean


def test_a_window_over_a_settings_file_is_still_a_window(qtbot, tmp_path, fresh_engine, dialogs, weights_file):
    """Everything at once, wrong in every way: the window is built, works, and the recent menu is usable."""
    content = qt_written(
        tmp_path,
        {
            "recentWeights": [str(weights_file), QByteArray(b"\0\1"), str(tmp_path)],
            "geometry": 1,
            "lastDir": QByteArray(b"\xff"),
        },
    )
    w = build(qtbot, fresh_engine, ini_file(tmp_path / "settings.ini", content), dialogs)
    notes = message(w).split("  ·  ")
    assert notes == [
        f"Recent Weights: {tmp_path.name} is a folder, not a weights file, so it was removed from the list.",
        "Recent Weights held 1 entry that was not a file path; it was removed.",
        prefs.LAYOUT_NOTE,
    ]
    assert_works(qtbot, w)
    w.recent_menu.actions()[0].trigger()
    assert w.engine.weights.source == str(weights_file) and dialogs.errors == []
    assert w.windowTitle().endswith("98.76% test accuracy")
