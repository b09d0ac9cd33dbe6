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

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from lenet_draw.gui import prefs
from lenet_draw.gui.bars import PredictionPanel
from lenet_draw.gui.canvas import PEN_WIDTH, Canvas
from lenet_draw.gui.featuremaps import FeatureMapsView, KernelsView
from lenet_draw.gui.files import FileHandling
from lenet_draw.gui.menus import WindowMenus
from lenet_draw.gui.predictor import Predictor, Request
from lenet_draw.gui.stages import StagesStrip
from lenet_draw.resources import bundled_weights_path

#: How long start-up notices (settings, device) stay in the status bar.
NOTICE_MS = 15000


def weights_label(weights, bundled: bool) -> tuple[str, str]:
    """(short name, accuracy text) for the title and status bar."""
    name = Path(weights.source).name if weights.source else "weights"
    if bundled:
        name += " (bundled)"
    acc = weights.test_accuracy
    return name, (f"{acc:.2f}% test accuracy" if acc is not None else "test accuracy not recorded")


class MainWindow(FileHandling, WindowMenus, QMainWindow):
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
        d.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
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

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.weights_status = QLabel("Loading LeNet-5…")
        self.device_status = QLabel("")
        self.timing_status = QLabel("")
        #: Between which digits an unsure reading is ("Unsure: 7 or 1?"); empty when sure.
        self.reading_status = QLabel("")
        self._last_timing: tuple[float, float] | None = None
        self._timing_timer = QTimer(self)
        self._timing_timer.setSingleShot(True)
        self._timing_timer.setInterval(250)
        self._timing_timer.timeout.connect(self._show_timing)
        for w in (self.reading_status, self.weights_status, self.device_status, self.timing_status):
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
        self.device_status.setText(f"Device: {self.engine.describe_device()}")
        for a in self.device_group.actions():
            a.setChecked(a.data() == self.engine.device)
        self._refresh_kernels()
        self.engineChanged.emit()

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
        avail = self.engine.available_devices()
        for dev, described in avail:
            a = m.addAction(described + ("" if dev == "cpu" else f"  [{dev}]"))
            a.setData(dev)
            a.setCheckable(True)
            a.setChecked(dev == self.engine.device)
            self.device_group.addAction(a)
            a.triggered.connect(lambda _checked=False, d=dev: self.set_device(d))
        if not any(d.startswith("cuda") for d, _ in avail):
            m.addSeparator()
            a = m.addAction("CUDA: not available on this machine")
            a.setEnabled(False)

    # -- live views -------------------------------------------------------------------------
    def _request(self) -> Request:
        img = self.canvas.image()
        if img is not None:
            return Request(strokes=[], image=img)
        return Request(strokes=self.canvas.strokes(), pen_width=PEN_WIDTH)

    def _on_predicted(self, pred) -> None:
        self.panel.show_prediction(pred)
        unsure = self.panel.state == "unsure"
        self.reading_status.setText(f"Unsure: {self.panel.digit_view.text()}" if unsure else "")
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
        self.kernels.show_kernels(self.engine.kernels())

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
