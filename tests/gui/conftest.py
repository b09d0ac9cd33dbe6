"""GUI tests: offscreen Qt, the real window and canvas, driven with real mouse events."""

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before anything imports Qt
os.environ.setdefault("OMP_NUM_THREADS", "1")  # as the app runs (see lenet_draw/gui/app.py)
# Handwriting samples go to a fresh folder, never the user's own (tests of them set their own).
os.environ["LENET_DRAW_DATA"] = __import__("tempfile").mkdtemp(prefix="lenet-draw-data-")

import pytest  # noqa: E402
from guihelpers import settle  # noqa: E402


@pytest.fixture(autouse=True)
def own_handwriting_folder(tmp_path_factory, monkeypatch):
    """Each test starts with no handwriting samples: a correction in one test must not
    personalise the weights another test reads with."""
    monkeypatch.setenv("LENET_DRAW_DATA", str(tmp_path_factory.mktemp("lenet-draw-data")))


@pytest.fixture
def fresh_engine():
    from lenet_draw.engine import Engine

    return Engine(device="cpu")


@pytest.fixture
def settings(tmp_path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


class Dialogs:
    """Stands in for the window's dialogs: records errors and infos, answers file prompts."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []
        self.infos: list[tuple[str, str]] = []
        self.open_answer: str | None = None
        self.save_answer: str | None = None

    def install(self, window):
        window.show_error = lambda title, text: self.errors.append((title, text))
        window.show_info = lambda title, text: self.infos.append((title, text))
        window.ask_open_path = lambda caption, filters: self.open_answer
        window.ask_save_path = lambda caption, filters: self.save_answer


@pytest.fixture
def dialogs():
    return Dialogs()


@pytest.fixture
def window(qtbot, fresh_engine, settings, dialogs):
    from lenet_draw.gui.main_window import MainWindow

    w = MainWindow(fresh_engine, settings=settings)
    dialogs.install(w)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    settle(qtbot, w)
    return w
