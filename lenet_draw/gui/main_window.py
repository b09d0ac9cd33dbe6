"""The main window: canvas, answer, the network's view, feature maps; menus, docks, status bar.

The window only lays things out and routes them: the canvas owns the drawing, the Predictor
decides when to predict, the Engine predicts, and the views show what it returned. Every way
of opening a file (menu, Recent Weights, drag-and-drop, command line) ends in ``open_weights``
or ``open_image``, and every dialog goes through an attribute (``ask_open_path``,
``ask_save_path``, ``show_error``, ``show_info``) that tests replace, so no test ever blocks on
a modal dialog.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from lenet_draw.gui import explain, handwriting, layout_guard, prefs
from lenet_draw.gui.bars import PredictionPanel
from lenet_draw.gui.canvas import Canvas
from lenet_draw.gui.explanations import Explanations
from lenet_draw.gui.featuremaps import FeatureMapsView, KernelsView
from lenet_draw.gui.files import FileHandling
from lenet_draw.gui.menus import WindowMenus
from lenet_draw.gui.number_mode import NumberMode
from lenet_draw.gui.predictor import Predictor, Request
from lenet_draw.gui.stages import StagesStrip
from lenet_draw.gui.statusbar import ElidedLabel, StatusBar
from lenet_draw.resources import bundled_weights_path

#: How long start-up notices (settings, device) stay in the status bar.
NOTICE_MS = 15000

#: The drawing pad keeps priority: while its side is under this, panels larger than their
#: share (``panel_shares``) give way to it.
PAD_COMFORT = 360
#: The prediction column's width and the feature maps' height: narrowest and widest share.
RIGHT_SHARE = (170, 480)
MAPS_SHARE = (130, 400)
#: A docked panel below this fraction of its share is too small to use: a saved layout that
#: leaves one so is not restored, and growing the window gives it its share back.
CRAMPED = 0.75
CRAMPED_NOTE = "The saved window layout left the panels too small to use, so the default layout is shown."


def panel_shares(width: int, height: int) -> tuple[int, int]:
    """(prediction column width, feature maps height) the default layout gives a window this size."""
    right = int(min(RIGHT_SHARE[1], max(RIGHT_SHARE[0], 0.3 * width)))
    maps = int(min(MAPS_SHARE[1], max(MAPS_SHARE[0], 0.3 * height)))
    return right, maps


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
        self.number_mode = NumberMode(self.canvas, self)
        self.number_mode.request = self.predictor.request
        self._build_central()
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._build_status()
        self.explanations = Explanations(self)  # evidence overlay, unit arithmetic, what it tolerates
        self.canvas.changed.connect(self.predictor.request)
        self.canvas.historyChanged.connect(self._on_history)
        self.canvas.toolChanged.connect(self._on_tool)
        self.canvas.set_pen(prefs.pen(self.settings))
        self.pen_width_actions[self.canvas.pen].setChecked(True)
        self.canvas.penChanged.connect(self._on_pen)
        self.predictor.predicted.connect(self._on_predicted)
        self.predictor.failed.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
        self._painted = False
        self.canvas.installEventFilter(self)
        self._on_history(False, False)
        self.resize(1280, 800)
        self._fit_panels(force=True)  # the shares of this size, before anything is drawn
        self._announced = ""
        for note in settings_notes:
            self.announce(note)
        self.handwriting = handwriting.attach(self)  # corrections, "My handwriting", personalised weights
        for dock in self.findChildren(QDockWidget):  # a panel asked for comes to the front of its tabs
            dock.toggleViewAction().triggered.connect(lambda on, d=dock: on and d.raise_())
        if prefs.number_mode(self.settings):
            self.set_number_mode(True)
        if engine is not None:
            self.set_engine(engine)

    @property
    def painted(self) -> bool:
        """Whether the canvas has been painted (``drawable`` was or is about to be emitted)."""
        return self._painted

    @property
    def handwriting_panel(self):
        """The "My handwriting" panel (built the first time it is shown or asked for)."""
        return self.handwriting.panel

    # -- construction -----------------------------------------------------------------------
    def _build_central(self) -> None:
        central = QWidget(self)
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.number_mode.strip)
        lay.addWidget(self.canvas)
        self.setCentralWidget(central)

    def _dock(self, title: str, widget: QWidget, area, name: str, scroll: bool = False) -> QDockWidget:
        """A dock holding ``widget``; with ``scroll``, inside a scroll area, so a panel with much
        to show never sets a minimum size that keeps the window from getting small."""
        d = QDockWidget(title, self)
        d.setObjectName(name)
        if scroll:
            area_widget = QScrollArea(d)
            area_widget.setWidgetResizable(True)
            area_widget.setFrameShape(QFrame.Shape.NoFrame)
            area_widget.setMinimumSize(60, 40)  # scrolls rather than holding the window's size up
            area_widget.setWidget(widget)
            d.setWidget(area_widget)
        else:
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
        self.panel.setToolTip(explain.PREDICTION)
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
        self._fit_panels(force=True)
        self.resizeDocks([self.prediction_dock, self.stages_dock], [330, 150], Qt.Orientation.Vertical)
        self._layout_restored = False  # a saved layout was put on (checked once the window shows)
        self._fitting = False  # panels follow the window's size (from its first showing on)

    # -- layout: the pad first, panels give way ---------------------------------------------
    def _docked(self, dock: QDockWidget, *areas) -> bool:
        return dock.isVisibleTo(self) and not dock.isFloating() and self.dockWidgetArea(dock) in areas

    def _right_column(self) -> QDockWidget | None:
        right = (Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea)
        return next((d for d in (self.prediction_dock, self.stages_dock) if self._docked(d, *right)), None)

    def _maps_docked(self) -> bool:
        return self._docked(self.maps_dock, Qt.DockWidgetArea.BottomDockWidgetArea, Qt.DockWidgetArea.TopDockWidgetArea)

    def pad_side(self) -> int:
        return int(self.canvas.pad_rect().width())

    def _fit_panels(self, force: bool = False) -> None:
        """Give each docked panel its share of the window when it is cramped, or when it holds
        more than its share while the drawing pad is under PAD_COMFORT (``force``: always)."""
        if not (force or self._fitting):
            return
        if self.canvas.is_drawing():  # never move the pad under the pen: once the stroke ends
            QTimer.singleShot(250, self, lambda: self._fit_panels(force))
            return
        right, maps = panel_shares(self.width(), self.height())
        pad = self.pad_side()
        column = self._right_column()
        if column is not None:
            w = column.width()
            room = pad - (right - w) >= PAD_COMFORT  # the pad stays comfortable if it grows back
            if force or w < CRAMPED * right or (pad < PAD_COMFORT and w > right) or (w < right and room):
                self.resizeDocks([column], [right], Qt.Orientation.Horizontal)
                pad = self.pad_side()
        if self._maps_docked():
            h = self.maps_dock.height()
            room = pad - (maps - h) >= PAD_COMFORT
            if force or h < CRAMPED * maps or (pad < PAD_COMFORT and h > maps) or (h < maps and room):
                self.resizeDocks([self.maps_dock], [maps], Qt.Orientation.Vertical)

    def cramped_panels(self) -> list[str]:
        """Titles of the docked panels smaller than CRAMPED of their share of this window."""
        right, maps = panel_shares(self.width(), self.height())
        out = []
        column = self._right_column()
        if column is not None and column.width() < CRAMPED * right:
            out.append(column.windowTitle())
        if self._maps_docked() and self.maps_dock.height() < CRAMPED * maps:
            out.append(self.maps_dock.windowTitle())
        return out

    def reset_layout(self) -> None:
        """Every panel back where it starts: docked, shown, at its share of the window."""
        right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        for dock, area in ((self.prediction_dock, right), (self.stages_dock, right), (self.maps_dock, bottom)):
            dock.setFloating(False)
            self.addDockWidget(area, dock)
            dock.show()
        self.splitDockWidget(self.prediction_dock, self.stages_dock, Qt.Orientation.Vertical)
        self.resizeDocks([self.prediction_dock, self.stages_dock], [330, 150], Qt.Orientation.Vertical)
        self._fit_panels(force=True)
        QTimer.singleShot(0, self, lambda: self._fit_panels(force=True))  # again once the docks have moved

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        if not self._fitting:
            QTimer.singleShot(0, self._first_shown)

    def _first_shown(self) -> None:
        """Once laid out: a restored layout whose panels came out cramped is replaced."""
        if self._fitting:
            return
        self._fitting = True
        if self._layout_restored and self.cramped_panels():
            prefs.forget_layout(self.settings)
            self.reset_layout()
            self.announce(CRAMPED_NOTE)
        elif not self._layout_restored:
            self._fit_panels(force=True)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self.arrange_toolbars()
        if self._fitting:
            QTimer.singleShot(0, self._fit_panels)

    def _build_status(self) -> None:
        sb = StatusBar(self)
        self.setStatusBar(sb)
        self.weights_status = ElidedLabel("Loading LeNet-5…")
        self.device_status = ElidedLabel("")
        self.timing_status = ElidedLabel("")
        #: Between which digits an unsure reading is ("Unsure: 7 or 1?"); empty when sure.
        self.reading_status = ElidedLabel("")
        self._last_timing: tuple[float, float, bool] | None = None
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
        self.number_mode.set_engine(engine)
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
        self.weights_status.setToolTip(f"{self.weights_status.text()}\n{self.engine.weights.source}")
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
        if self.number_mode.active:  # read the number; the panels show its selected digit, as read
            t0 = time.perf_counter()
            self.number_mode.read()
            ms = (time.perf_counter() - t0) * 1e3
            self._paint_now()
            return Request(strokes=[], stages=self.number_mode.selected_stages(), preprocess_ms=ms)
        if img is not None:
            return Request(strokes=[], image=img)
        return Request(strokes=self.canvas.strokes(), pen_width=self.canvas.pen_width)

    def _paint_now(self) -> None:
        """Paint what is waiting to be painted (the number, its boxes, the ink) now, not after
        the selected digit's panels: the number is what the person watches while writing, and
        the panels follow in the next repaint pass."""
        QCoreApplication.sendPostedEvents(self, QEvent.Type.UpdateRequest)

    def _on_predicted(self, pred) -> None:
        self.panel.show_prediction(pred, self.number_mode.selected_doubt() if self.number_mode.active else "")
        unsure = self.panel.state == "unsure"
        self.reading_status.setText(f"Unsure: {self.panel.digit_view.text()}" if unsure else "")
        self.stages.show_stages(None if pred is None else pred.stages)
        self.maps.show_activations(None if pred is None else pred.activations)
        if pred is not None:
            self._last_timing = (pred.preprocess_ms, pred.inference_ms, self.number_mode.active)
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
            pre, inf, number = self._last_timing
            first = f"reading the number {pre:.1f} ms" if number else f"preprocess {pre:.1f} ms"
            self.timing_status.setText(f"{first} · inference {inf:.1f} ms")

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

    def _on_pen(self, name: str) -> None:
        self.pen_width_actions[name].setChecked(True)
        prefs.set_pen(self.settings, name)

    def _on_tool(self, tool: str) -> None:
        (self.eraser_action if tool == "eraser" else self.pen_action).setChecked(True)

    def eventFilter(self, obj, ev) -> bool:
        if obj is self.canvas and not self._painted and ev.type() == ev.Type.Paint:
            self._painted = True
            QTimer.singleShot(0, self.drawable.emit)
        return super().eventFilter(obj, ev)

    def set_number_mode(self, on: bool) -> None:
        """Switch between one digit (square pad) and a number (wide pad); each keeps its drawing."""
        self.number_mode.set_active(on)
        self.number_action.setChecked(on)
        prefs.set_number_mode(self.settings, on)

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
            ok = layout_guard.restore(self, self.settings, layout)
            self._layout_restored = ok
        if not ok:
            prefs.forget_layout(self.settings)
            self.announce(prefs.LAYOUT_NOTE)
        return ok

    def closeEvent(self, ev: QCloseEvent) -> None:
        prefs.save_layout(self.settings, self.saveGeometry(), self.saveState())
        self.settings.sync()
        super().closeEvent(ev)
