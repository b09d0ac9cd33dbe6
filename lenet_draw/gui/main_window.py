"""The main window: canvas, answer, the network's view, feature maps; menus, docks, status bar.

The window only lays things out and routes them: the canvas owns the drawing, the Predictor
decides when to predict, the Engine predicts, and the views show what it returned. Every way
of opening a file (menu, Recent Weights, drag-and-drop, command line) ends in ``open_weights``
or ``open_image``, and every dialog goes through an attribute (``ask_open_path``,
``ask_save_path``, ``show_error``, ``show_info``) that tests replace, so no test ever blocks on
a modal dialog.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from lenet_draw.gui import prefs
from lenet_draw.gui.bars import PredictionPanel
from lenet_draw.gui.canvas import PEN_WIDTH, Canvas
from lenet_draw.gui.featuremaps import FeatureMapsView, KernelsView
from lenet_draw.gui.predictor import Predictor, Request
from lenet_draw.gui.stages import StagesStrip

WEIGHT_SUFFIXES = (".pt", ".pth", ".safetensors")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm")
MAX_RECENT = prefs.MAX_RECENT
#: Images larger than this (either side) are reduced on opening: the network sees 20x20 anyway.
MAX_IMAGE_SIDE = 2048
RECENT_KEY = prefs.RECENT_KEY
#: How long start-up notices (settings, device) stay in the status bar.
NOTICE_MS = 15000

SHORTCUTS = [
    ("Ctrl+O", "Open weights"),
    ("Ctrl+I", "Open an image of a digit"),
    ("Ctrl+S", "Save the drawing as PNG"),
    ("Ctrl+Z", "Undo"),
    ("Ctrl+Shift+Z / Ctrl+Y", "Redo"),
    ("Esc / Delete", "Clear"),
    ("P / E", "Pen / eraser (the right button and a pen's eraser end also erase)"),
    ("K", "Show the learned kernels / the feature maps"),
    ("F1", "Keyboard shortcuts"),
    ("Ctrl+Q", "Quit"),
]


def weights_label(weights, bundled: bool) -> tuple[str, str]:
    """(short name, accuracy text) for the title and status bar."""
    name = Path(weights.source).name if weights.source else "weights"
    if bundled:
        name += " (bundled)"
    acc = weights.test_accuracy
    return name, (f"{acc:.2f}% test accuracy" if acc is not None else "test accuracy not recorded")


class MainWindow(QMainWindow):
    #: Emitted after the views show a new prediction (a Prediction, or None for no ink).
    predictionShown = Signal(object)
    #: Emitted when weights or device changed.
    engineChanged = Signal()
    #: Emitted once, when the canvas has been painted for the first time (ready to draw).
    drawable = Signal()

    def __init__(self, engine=None, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("lenet-draw")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.settings = settings if settings is not None else QSettings()
        # Whatever the settings file holds, only usable values go on (see prefs.py).
        settings_notes = prefs.check(self.settings)
        self.engine = None
        # Dialogs, replaceable (tests set these to recorders).
        self.ask_open_path = self._ask_open_path
        self.ask_save_path = self._ask_save_path
        self.show_error = self._show_error
        self.show_info = self._show_info

        self.canvas = Canvas(self)
        self.predictor = Predictor(self._request, parent=self)
        self.panel = PredictionPanel(self)
        self.stages = StagesStrip(self)
        self.maps = FeatureMapsView(self)
        self.kernels = KernelsView(self)
        self._build_central()
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._build_status()
        self.canvas.changed.connect(self.predictor.request)
        self.canvas.historyChanged.connect(self._on_history)
        self.canvas.toolChanged.connect(self._on_tool)
        self.predictor.predicted.connect(self._on_predicted)
        self.predictor.failed.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
        self._painted = False
        self.canvas.installEventFilter(self)
        self._on_history(False, False)
        self.resize(1280, 800)
        self._announced = ""
        for note in settings_notes:
            self.announce(note)
        if engine is not None:
            self.set_engine(engine)

    # -- construction -----------------------------------------------------------------------
    def _build_central(self) -> None:
        central = QWidget(self)
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.canvas)
        self.setCentralWidget(central)

    def _dock(self, title: str, widget: QWidget, area, name: str) -> QDockWidget:
        d = QDockWidget(title, self)
        d.setObjectName(name)
        d.setWidget(widget)
        d.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable
                      | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, d)
        return d

    def _build_docks(self) -> None:
        right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        self.prediction_dock = self._dock("Prediction", self.panel, right, "predictionDock")
        self.stages_dock = self._dock("What the network sees", self.stages, right, "stagesDock")
        self.inside = QTabWidget(self)
        self.inside.setDocumentMode(True)
        self.inside.addTab(self.maps, "Feature maps")
        self.inside.addTab(self.kernels, "Learned kernels")
        self.inside.currentChanged.connect(lambda _i: self._refresh_kernels())
        self.maps_dock = self._dock("Inside the network", self.inside, bottom, "mapsDock")
        self.maps_dock.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea | Qt.DockWidgetArea.TopDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([self.prediction_dock], [340], Qt.Orientation.Horizontal)
        self.resizeDocks([self.prediction_dock, self.stages_dock], [330, 150], Qt.Orientation.Vertical)
        self.resizeDocks([self.maps_dock], [250], Qt.Orientation.Vertical)

    def _action(self, text: str, slot, shortcuts=(), tip: str = "", checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcuts:
            a.setShortcuts([QKeySequence(s) for s in shortcuts])
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(f"{tip} ({QKeySequence(shortcuts[0]).toString(QKeySequence.SequenceFormat.NativeText)})" if shortcuts else tip)
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.open_weights_action = self._action("Open &Weights…", self._open_weights_dialog, [K.Open], "Load LeNet-5 weights (.pt, .pth, .safetensors)")
        self.reset_weights_action = self._action("&Reset to Bundled Weights", self.reset_weights, (), "Go back to the weights that come with lenet-draw")
        self.open_image_action = self._action("Open &Image…", self._open_image_dialog, ["Ctrl+I"], "Classify an image of a digit")
        self.save_action = self._action("&Save Drawing as PNG…", self._save_dialog, [K.Save], "Save the drawing as a PNG image")
        self.quit_action = self._action("&Quit", self.close, [K.Quit])
        self.undo_action = self._action("&Undo", self.canvas.undo, ["Ctrl+Z"], "Undo the last stroke, erase or clear")
        self.redo_action = self._action("&Redo", self.canvas.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], "Redo")
        self.clear_action = self._action("&Clear", self.canvas.clear, ["Esc", "Delete"], "Clear the canvas")
        self.pen_action = self._action("&Pen", lambda: self.canvas.set_tool("pen"), ["P"], "Draw", checkable=True)
        self.eraser_action = self._action("&Eraser", lambda: self.canvas.set_tool("eraser"), ["E"], "Erase ink", checkable=True)
        tools = QActionGroup(self)
        tools.addAction(self.pen_action)
        tools.addAction(self.eraser_action)
        self.pen_action.setChecked(True)
        self.kernels_action = self._action("Show Learned &Kernels", self._toggle_kernels, ["K"], "Switch between feature maps and learned kernels")
        self.shortcuts_action = self._action("&Keyboard Shortcuts", self._show_shortcuts, ["F1"])
        self.about_action = self._action("&About lenet-draw", self._show_about)
        for a in (self.open_weights_action, self.reset_weights_action):
            a.setEnabled(False)  # until the engine is ready

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        f.addAction(self.open_weights_action)
        self.recent_menu = f.addMenu("Recent &Weights")
        f.addAction(self.reset_weights_action)
        f.addSeparator()
        f.addAction(self.open_image_action)
        f.addAction(self.save_action)
        f.addSeparator()
        f.addAction(self.quit_action)
        e = mb.addMenu("&Edit")
        for a in (self.undo_action, self.redo_action, self.clear_action):
            e.addAction(a)
        e.addSeparator()
        e.addAction(self.pen_action)
        e.addAction(self.eraser_action)
        v = mb.addMenu("&View")
        for d in (self.prediction_dock, self.stages_dock, self.maps_dock):
            v.addAction(d.toggleViewAction())
        v.addSeparator()
        v.addAction(self.kernels_action)
        self.device_menu = mb.addMenu("&Device")
        self.device_group = QActionGroup(self)
        self.device_group.setExclusive(True)
        h = mb.addMenu("&Help")
        h.addAction(self.shortcuts_action)
        h.addAction(self.about_action)
        self._rebuild_recent_menu()
        self._rebuild_device_menu()

        tb = QToolBar("Tools", self)
        tb.setObjectName("toolsBar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for a in (self.pen_action, self.eraser_action):
            tb.addAction(a)
        tb.addSeparator()
        for a in (self.undo_action, self.redo_action, self.clear_action):
            tb.addAction(a)
        tb.addSeparator()
        for a in (self.open_weights_action, self.open_image_action):
            tb.addAction(a)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.toolbar = tb

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.weights_status = QLabel("Loading LeNet-5…")
        self.device_status = QLabel("")
        self.timing_status = QLabel("")
        self._last_timing: tuple[float, float] | None = None
        self._timing_timer = QTimer(self)
        self._timing_timer.setSingleShot(True)
        self._timing_timer.setInterval(250)
        self._timing_timer.timeout.connect(self._show_timing)
        for w in (self.weights_status, self.device_status, self.timing_status):
            w.setContentsMargins(8, 0, 8, 0)
            sb.addPermanentWidget(w)

    # -- engine -----------------------------------------------------------------------------
    def set_engine(self, engine) -> None:
        """Start using ``engine`` (built elsewhere, possibly on another thread)."""
        self.engine = engine
        for a in (self.open_weights_action, self.reset_weights_action):
            a.setEnabled(engine is not None)
        self.panel.set_waiting(engine is None)
        self._rebuild_device_menu()
        self._on_engine_changed()
        self.predictor.set_engine(engine)

    def announce(self, text: str) -> None:
        """Say what the app did on the person's behalf in the status bar (settings, device).

        Notices given close together are shown together rather than hiding one another.
        """
        sb = self.statusBar()
        current = sb.currentMessage()
        if current and current == self._announced and text not in current:
            text = f"{current}  ·  {text}"
        self._announced = text
        sb.showMessage(text, NOTICE_MS)

    def _is_bundled(self) -> bool:
        from lenet_draw.resources import bundled_weights_path

        try:
            return Path(self.engine.weights.source).resolve() == bundled_weights_path().resolve()
        except (OSError, FileNotFoundError):
            return False

    def _on_engine_changed(self) -> None:
        if self.engine is None:
            self.setWindowTitle("lenet-draw")
            return
        name, acc = weights_label(self.engine.weights, self._is_bundled())
        self.setWindowTitle(f"lenet-draw — {name} · {acc}")
        self.weights_status.setText(f"Weights: {name} · {acc}")
        self.weights_status.setToolTip(self.engine.weights.source)
        from lenet_draw import devices

        self.device_status.setText(f"Device: {devices.describe(self.engine.device)}")
        for a in self.device_group.actions():
            a.setChecked(a.data() == self.engine.device)
        self._refresh_kernels()
        self.engineChanged.emit()

    def open_weights(self, path: str | Path, remember: bool = True) -> bool:
        """The one way weights get loaded (menu, Recent, drag-and-drop, command line).

        On any problem: an error dialog with the engine's sentence; the old weights stay.
        """
        path = Path(path)
        if self.engine is None:
            self.show_error("Weights not loaded", "LeNet-5 is still starting; try again in a moment.")
            return False
        from lenet_draw.weights import WeightsError

        try:
            self.engine.load(path)
        except WeightsError as exc:
            self.show_error("Cannot use these weights", f"{exc}\n\nThe previous weights are still in use.")
            return False
        except Exception as exc:  # e.g. the device ran out of memory
            self.show_error("Cannot use these weights", f"{path.name} could not be loaded: {exc}\n\nThe previous weights are still in use.")
            return False
        if remember:
            self._remember(path)
        self._on_engine_changed()
        self.statusBar().showMessage(f"Loaded {path.name}", 5000)
        self.predictor.request()
        return True

    def reset_weights(self) -> bool:
        from lenet_draw.resources import bundled_weights_path

        return self.open_weights(bundled_weights_path(), remember=False)

    def set_device(self, name: str) -> bool:
        """Move the model to ``name`` live; on failure say why and keep the current device."""
        if self.engine is None:
            return False
        try:
            self.engine.set_device(name)
        except Exception as exc:
            self.show_error("Cannot switch device", str(exc))
            self._on_engine_changed()
            return False
        self._on_engine_changed()
        self.statusBar().showMessage(f"Now running on {self.device_status.text().removeprefix('Device: ')}", 5000)
        self.predictor.request()
        return True

    def _rebuild_device_menu(self) -> None:
        m = self.device_menu
        m.clear()
        for a in self.device_group.actions():
            self.device_group.removeAction(a)
        if self.engine is None:
            a = m.addAction("Starting…")
            a.setEnabled(False)
            return
        from lenet_draw import devices

        avail = devices.available_devices()
        for dev in avail:
            a = m.addAction(devices.describe(dev) + ("" if dev == "cpu" else f"  [{dev}]"))
            a.setData(dev)
            a.setCheckable(True)
            a.setChecked(dev == self.engine.device)
            self.device_group.addAction(a)
            a.triggered.connect(lambda _checked=False, d=dev: self.set_device(d))
        if not any(d.startswith("cuda") for d in avail):
            m.addSeparator()
            a = m.addAction("CUDA: not available on this machine")
            a.setEnabled(False)

    # -- recent weights ---------------------------------------------------------------------
    def recent_weights(self) -> list[str]:
        return prefs.recent_paths(self.settings)

    def _set_recent(self, items: list[str]) -> None:
        if items:
            self.settings.setValue(RECENT_KEY, items[:MAX_RECENT])
        else:
            self.settings.remove(RECENT_KEY)
        self.settings.sync()
        self._rebuild_recent_menu()

    def _remember(self, path: Path) -> None:
        p = str(path.resolve())
        self._set_recent([p] + [x for x in self.recent_weights() if x != p])

    def _rebuild_recent_menu(self) -> None:
        m = self.recent_menu
        m.clear()
        items = self.recent_weights()
        for p in items:
            a = m.addAction(Path(p).name)
            a.setToolTip(p)
            a.setStatusTip(p)
            a.setData(p)
            a.triggered.connect(lambda _checked=False, path=p: self.open_recent(path))
        if items:
            m.addSeparator()
            m.addAction("Clear List", lambda: self._set_recent([]))
        else:
            a = m.addAction("No recent weights")
            a.setEnabled(False)

    def open_recent(self, path: str) -> bool:
        if not Path(path).is_file():
            self._set_recent([x for x in self.recent_weights() if x != path])
            self.show_error("Weights file missing", f"{path} no longer exists, so it was removed from Recent Weights.")
            return False
        return self.open_weights(path)

    # -- images and files -------------------------------------------------------------------
    def open_image(self, path: str | Path) -> bool:
        """Classify an image file: it replaces the drawing until you draw or clear.

        ``lenet_draw.images.open_image`` checks the file (size before decoding) and says in one
        sentence what is wrong with a bad one; then the drawing and the prediction stay as they were.
        """
        from lenet_draw.images import ImageError
        from lenet_draw.images import open_image as read_image

        path = Path(path)
        try:
            img = read_image(path)
        except ImageError as exc:
            self.show_error("Cannot open image", f"{exc}\n\nThe canvas is unchanged.")
            return False
        if max(img.size) > MAX_IMAGE_SIDE:
            img.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
        self.canvas.set_image(img, path.name)
        self.statusBar().showMessage(f"Classifying {path.name}; draw or clear to return to drawing", 6000)
        return True

    def save_drawing(self, path: str | Path) -> bool:
        path = Path(path)
        if path.suffix.lower() != ".png":
            path = path.with_name(path.name + ".png")
        if self.canvas.is_empty():
            self.show_error("Nothing to save", "The canvas is empty: draw a digit first.")
            return False
        if not self.canvas.render_drawing().save(str(path), "PNG"):
            self.show_error("Cannot save", f"{path} could not be written.")
            return False
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def open_paths(self, paths: list[str]) -> None:
        """Open dropped files by kind: weights or images."""
        for p in paths:
            suffix = Path(p).suffix.lower()
            if suffix in WEIGHT_SUFFIXES:
                self.open_weights(p)
            elif suffix in IMAGE_SUFFIXES:
                self.open_image(p)
            else:
                self.show_error("Cannot open", f"{Path(p).name} is neither a weights file (.pt, .pth, .safetensors) "
                                "nor an image (.png, .jpg, …).")

    @staticmethod
    def _local_paths(mime) -> list[str]:
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]

    def dragEnterEvent(self, ev: QDragEnterEvent) -> None:
        ok = any(Path(p).suffix.lower() in WEIGHT_SUFFIXES + IMAGE_SUFFIXES for p in self._local_paths(ev.mimeData()))
        if ok:
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dragMoveEvent(self, ev) -> None:
        self.dragEnterEvent(ev)

    def dropEvent(self, ev: QDropEvent) -> None:
        paths = self._local_paths(ev.mimeData())
        if paths:
            ev.acceptProposedAction()
            # After the drop returns: a dialog inside a drop handler blocks the source app.
            QTimer.singleShot(0, lambda: self.open_paths(paths))

    # -- dialogs (replaceable) --------------------------------------------------------------
    def _ask_open_path(self, caption: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, caption, prefs.last_dir(self.settings), filters)
        if path:
            self.settings.setValue(prefs.LAST_DIR_KEY, str(Path(path).parent))
        return path or None

    def _ask_save_path(self, caption: str, filters: str) -> str | None:
        start = str(Path(prefs.last_dir(self.settings)) / "digit.png")
        path, _ = QFileDialog.getSaveFileName(self, caption, start, filters)
        return path or None

    def _show_error(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def _show_info(self, title: str, text: str) -> None:
        QMessageBox.information(self, title, text)

    def _open_weights_dialog(self) -> None:
        path = self.ask_open_path("Open Weights", "LeNet-5 weights (*.pt *.pth *.safetensors);;All files (*)")
        if path:
            self.open_weights(path)

    def _open_image_dialog(self) -> None:
        pattern = " ".join("*" + s for s in IMAGE_SUFFIXES)
        path = self.ask_open_path("Open Image", f"Images ({pattern});;All files (*)")
        if path:
            self.open_image(path)

    def _save_dialog(self) -> None:
        path = self.ask_save_path("Save Drawing as PNG", "PNG image (*.png)")
        if path:
            self.save_drawing(path)

    def _show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in SHORTCUTS)
        self.show_info("Keyboard shortcuts", f"<table>{rows}</table>")

    def _show_about(self) -> None:
        from lenet_draw import __version__

        self.show_info("About lenet-draw", f"<b>lenet-draw {__version__}</b><br>Draw a digit and watch LeNet-5 "
                       "(LeCun et al., 1998) read it: probabilities, the network's input and every feature map.")

    # -- live views -------------------------------------------------------------------------
    def _request(self) -> Request:
        img = self.canvas.image()
        if img is not None:
            return Request(strokes=[], image=img)
        return Request(strokes=self.canvas.strokes(), pen_width=PEN_WIDTH)

    def _on_predicted(self, pred) -> None:
        self.panel.show_prediction(pred)
        self.stages.show_stages(None if pred is None else pred.stages)
        self.maps.show_activations(None if pred is None else pred.activations)
        if pred is not None:
            self._last_timing = (pred.preprocess_ms, pred.inference_ms)
            if not self._timing_timer.isActive():  # text refreshes a few times a second, not per move
                self._timing_timer.start()
            src = self.canvas.document.image_name if self.canvas.image() is not None else ""
            self.panel.source.setText(f"from {src}" if src else "")
        else:
            self.panel.source.setText("")
            if self.canvas.image() is not None:
                self.statusBar().showMessage("No ink found in this image: nothing to classify", 6000)
        self.predictionShown.emit(pred)

    def _show_timing(self) -> None:
        if self._last_timing is not None:
            pre, inf = self._last_timing
            self.timing_status.setText(f"preprocess {pre:.1f} ms · inference {inf:.1f} ms")

    def predict_now(self):
        """Run any pending prediction at once and return what the window shows."""
        self.predictor.flush()
        return self.panel.prediction

    def _refresh_kernels(self) -> None:
        if self.engine is None or self.inside.currentWidget() is not self.kernels:
            return
        sd = self.engine.weights.state_dict
        self.kernels.show_kernels({"C1": np.asarray(sd["c1.weight"]), "C3": np.asarray(sd["c3.weight"])})

    def _toggle_kernels(self) -> None:
        self.maps_dock.show()
        self.inside.setCurrentWidget(self.kernels if self.inside.currentWidget() is self.maps else self.maps)

    def _on_history(self, can_undo: bool, can_redo: bool) -> None:
        self.undo_action.setEnabled(can_undo)
        self.redo_action.setEnabled(can_redo)

    def _on_tool(self, tool: str) -> None:
        (self.eraser_action if tool == "eraser" else self.pen_action).setChecked(True)

    def eventFilter(self, obj, ev) -> bool:
        if obj is self.canvas and not self._painted and ev.type() == ev.Type.Paint:
            self._painted = True
            QTimer.singleShot(0, self.drawable.emit)
        return super().eventFilter(obj, ev)

    # -- persistence --------------------------------------------------------------------------
    def restore_layout(self) -> bool:
        """Put the window and docks where they were; a saved layout that was altered, or that Qt
        refuses, is forgotten.

        Returns False (and says so in the status bar) when a saved layout could not be used.
        """
        layout = prefs.saved_layout(self.settings)
        if layout is None:
            if not prefs.has_layout(self.settings):
                return True
            ok = False  # altered since it was saved: restoring it could crash Qt
        else:
            geo_ok = self.restoreGeometry(layout[0])
            ok = self.restoreState(layout[1]) and geo_ok
        if not ok:
            prefs.forget_layout(self.settings)
            self.announce(prefs.LAYOUT_NOTE)
        return ok

    def closeEvent(self, ev: QCloseEvent) -> None:
        prefs.save_layout(self.settings, self.saveGeometry(), self.saveState())
        self.settings.sync()
        super().closeEvent(ev)
