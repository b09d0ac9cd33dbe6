"""Teaching the app one person's handwriting: corrections, background adaptation, the panel.

When the reading is wrong the person presses the digit's key (0-9) or clicks its bar: the
drawing and its label become a sample file in the user's data folder, the network adapts in a
worker thread (``lenet_draw.personalise``, the same function ``lenet-draw adapt`` runs), and
the drawing still on the pad is read again. Ctrl+Z right after a correction takes it back.
The "My handwriting" dock lists the samples by digit, deletes them, and compares the
personalised reading with the base weights' on the current drawing.

Wired into the window by ``attach(window)``; the window's own code knows nothing else of it.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSize, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from lenet_draw.gui.canvas import PEN_WIDTH, paint_strokes

#: Names a folder to keep samples in instead of the user's data folder (tests, portable use).
DATA_ENV = "LENET_DRAW_DATA"
#: The adapted weights, kept beside the samples so a restart needs no adaptation.
STATE_FILE = "personalised.pt"
THUMB = 44
#: Longest the adaptation waits at a time for the pen to lift (then it takes one step and waits again).
PEN_DOWN_WAIT_S = 2.0


def data_folder() -> Path:
    """Where samples live: $LENET_DRAW_DATA, else the app's data folder, in "handwriting"."""
    env = os.environ.get(DATA_ENV)
    root = Path(env) if env else Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    return root / "handwriting"


def _lower_priority() -> None:
    """Let the drawing's live update have the CPU first: the adaptation thread runs niced."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)
    except (AttributeError, OSError):  # not on this system: the adaptation still runs
        pass


def thumbnail(sample, side: int = THUMB) -> QPixmap:
    """The sample's strokes drawn on white, fitted to a square."""
    import numpy as np

    pm = QPixmap(side, side)
    pm.fill(QColor("#ffffff"))
    xy = sample.xy()
    allpts = np.concatenate(xy)
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    extent = max(float((hi - lo).max()), 1e-3)
    scale = (side - 8) / extent
    off = (side - (hi - lo) * scale) / 2 - lo * scale
    p = QPainter(pm)
    paint_strokes(p, xy, scale, float(off[0]), float(off[1]), max(1.5 / scale, PEN_WIDTH * 0.5), QColor("#1b1f24"))
    p.end()
    return pm


class Handwriting(QObject):
    """The samples, the base weights they adapt, and the worker that adapts them."""

    #: Emitted on the GUI thread after personalised weights (or the base, with no samples) went in.
    adapted = Signal(object)
    #: Emitted whenever the list of samples changed.
    samplesChanged = Signal()
    _finished = Signal(int, object)  # generation, Adapted or an exception (from the worker)

    def __init__(self, window, folder: Path | None = None) -> None:
        super().__init__(window)
        from lenet_draw.samples import read_folder

        self.window = window
        self.folder = folder or data_folder()
        self.samples, self.problems = read_folder(self.folder)
        self.base = None  # the weights the samples adapt (what was loaded last)
        self.current = None  # the Adapted now installed, or None
        self._installed = None  # the Weights object this put into the engine
        self._generation = 0
        self._running = False
        self._again = False
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="lenet-adapt")
        self.dock = None  # the "My handwriting" dock (attach makes it)
        self._panel: HandwritingPanel | None = None
        self._cache = None
        self._lock = threading.Lock()
        self._undoable = None  # the last correction, while nothing was drawn since
        self._pending_note = ""  # said in the status bar once the adaptation is in
        self._finished.connect(self._on_finished)

    # -- state --------------------------------------------------------------------------
    def count(self) -> int:
        return len(self.samples)

    def idle(self) -> bool:
        return not self._running and not self._again

    def on_engine_changed(self) -> None:
        """New weights loaded (not ours): they become the base, and the samples are re-applied."""
        engine = self.window.engine
        if engine is None or engine.weights is self._installed:
            return
        first = self.base is None
        if first:  # the anchor drawings, made once, before the first correction needs them
            from lenet_draw.personalise import anchor_inputs

            self._pool.submit(anchor_inputs, pause=self._while_drawing)
        self.base = engine.weights
        self.current = None
        self._installed = None
        if self.samples:
            if not first:
                name = Path(self.base.source).name or "the new weights"
                text = f"Your handwriting ({self._count_text()}) is kept and re-applied to {name}."
                self._pending_note = f"Re-applied your {self._count_text()} to {name}"
                # After the window's own "Loaded ..." (said once this returns), not instead of it.
                QTimer.singleShot(0, lambda: self._say_also(text))
            elif self._restore():
                return
            self.schedule()

    def _say_also(self, text: str) -> None:
        sb = self.window.statusBar()
        current = sb.currentMessage()
        sb.showMessage(f"{current}  ·  {text}" if current else text, 8000)

    def _restore(self) -> bool:
        """Install the adapted weights saved last time, if they were made from these samples and base."""
        from lenet_draw.errors import WeightsError
        from lenet_draw.personalise import Adapted, fingerprint
        from lenet_draw.weights import load_weights

        path = self.folder / STATE_FILE
        if not path.is_file():
            return False
        try:
            saved = load_weights(path)
        except WeightsError:
            return False  # adapted again, and saved over
        if saved.meta.get("fingerprint") != fingerprint(self.base, self.samples):
            return False
        saved.source = self.base.source
        self._install(Adapted(saved, self.count(), 0.0))
        return True

    # -- corrections ----------------------------------------------------------------------
    def correct(self, label: int) -> bool:
        """The drawing on the pad is a ``label``: keep it as a sample and adapt."""
        from lenet_draw.samples import SampleError, make_sample, write_sample

        w = self.window
        if w.engine is None or self.base is None:
            w.statusBar().showMessage("LeNet-5 is still starting; try again in a moment.", 5000)
            return False
        if w.canvas.image() is not None or w.canvas.is_empty():
            w.statusBar().showMessage("Draw a digit first: corrections teach the app your drawings.", 5000)
            return False
        strokes = [s for s in w.canvas.strokes() if len(s)]
        read = w.panel.prediction.digit if w.panel.prediction is not None else None
        try:
            sample = make_sample(
                label, strokes, read_as=read, created=datetime.now(timezone.utc).isoformat(timespec="seconds")
            )
            sample = write_sample(self.folder, sample)
        except (SampleError, OSError) as exc:
            w.show_error("Cannot keep this sample", f"{exc}")
            return False
        self.samples = sorted([*self.samples, sample], key=lambda s: s.name)  # as the folder lists them
        self._undoable = sample
        w.undo_action.setEnabled(True)
        self.samplesChanged.emit()
        w.statusBar().showMessage(f"Learning: this is a {label}…")
        self._pending_note = f"Learned: this is a {label} ({self._count_text()})"
        self.schedule()
        return True

    def _count_text(self) -> str:
        n = self.count()
        return f"{n} sample{'s' if n != 1 else ''}"

    def undo(self) -> None:
        """Ctrl+Z: take back the correction just made, else undo on the canvas."""
        if self._undoable is not None and self._undoable in self.samples:
            s = self._undoable
            self._undoable = None
            self.remove([s])
            self.window.statusBar().showMessage(f"Took back the correction to {s.label} ({self._count_text()})", 5000)
            self.window.undo_action.setEnabled(self.window.canvas.can_undo())
            return
        self.window.canvas.undo()

    def forget_undo(self) -> None:
        """The drawing changed: Ctrl+Z goes back to undoing strokes."""
        if not self.window.canvas.is_drawing():
            self._undoable = None

    def remove(self, samples) -> None:
        gone = {id(s) for s in samples}
        for s in samples:
            try:
                (self.folder / s.name).unlink(missing_ok=True)
            except OSError as exc:
                self.window.show_error("Cannot delete the sample", f"{s.name}: {exc.strerror or exc}")
        self.samples = [s for s in self.samples if id(s) not in gone]
        self._pending_note = f"Personalised with {self._count_text()}" if self.samples else "Back to the base weights"
        self.samplesChanged.emit()
        self.schedule()

    def add_imported(self, samples) -> None:
        from lenet_draw.samples import Sample, write_sample

        for s in samples:
            self.samples.append(write_sample(self.folder, Sample(s.label, s.strokes, s.extra, "")))
        self.samples.sort(key=lambda s: s.name)
        self._pending_note = f"Imported {len(samples)} samples ({self._count_text()})"
        self.samplesChanged.emit()
        self.schedule()

    # -- adaptation in the background ------------------------------------------------------
    def schedule(self) -> None:
        self._generation += 1
        if self._running:
            self._again = True
            return
        self._start()

    def _start(self) -> None:
        if self.base is None:
            return
        self._running, self._again = True, False
        gen, base, samples = self._generation, self.base, list(self.samples)
        self._pool.submit(self._work, gen, base, samples)

    def _while_drawing(self) -> None:
        """Called by the adaptation between its steps: while the pen is down, wait (up to
        PEN_DOWN_WAIT_S at a time), so the live update of the stroke has the interpreter to
        itself; the adaptation goes on between strokes."""
        deadline = time.monotonic() + PEN_DOWN_WAIT_S
        canvas = getattr(self.window, "canvas", None)
        while canvas is not None and canvas.is_drawing() and time.monotonic() < deadline:
            time.sleep(0.01)

    def _work(self, gen: int, base, samples) -> None:
        _lower_priority()
        try:
            from lenet_draw.personalise import VariantCache, adapt

            if self._cache is None:
                self._cache = VariantCache()
            result: object = adapt(base, samples, cache=self._cache, pause=self._while_drawing)
            self._save(base, samples, result)
        except Exception as exc:  # reported on the GUI thread
            result = exc
        try:
            self._finished.emit(gen, result)
        except RuntimeError:  # the window closed meanwhile: nobody is left to tell
            pass

    def _save(self, base, samples, result) -> None:
        """Keep the adapted weights beside the samples (none: remove them); a failure only costs
        an adaptation at the next start."""
        from lenet_draw.personalise import fingerprint
        from lenet_draw.weights import save_weights

        path = self.folder / STATE_FILE
        try:
            if not samples:
                path.unlink(missing_ok=True)
                return
            w = result.weights
            meta = dict(w.meta, fingerprint=fingerprint(base, samples))
            tmp = path.with_name(path.name + ".tmp")
            save_weights(tmp, w.state_dict, w.convention, meta)
            os.replace(tmp, path)
        except OSError:
            pass

    def _install(self, result) -> None:
        w = self.window
        self.current = result if result.samples else None
        self._installed = result.weights
        w.engine.use(result.weights)
        w.predictor.request()  # the drawing still on the pad, read again
        self.adapted.emit(result)

    def _on_finished(self, gen: int, result) -> None:
        self._running = False
        if self._again:
            self._start()
            return
        if gen != self._generation:
            return
        w = self.window
        if isinstance(result, Exception):
            w.statusBar().showMessage(f"Could not adapt to your handwriting: {result}", 8000)
            return
        if w.engine is None or self.base is None:
            return
        if self._pending_note:
            w.statusBar().showMessage(self._pending_note, 6000)
            self._pending_note = ""
        self._install(result)

    @property
    def panel(self) -> HandwritingPanel:
        """The "My handwriting" panel, built when its dock is first shown (or it is first asked
        for): the window opens without making a thumbnail of every sample."""
        if self._panel is None:
            panel = self._panel = HandwritingPanel(self, self.window)
            if self.dock is not None:
                area = self.dock.widget()
                if isinstance(area, QScrollArea):
                    area.setWidget(panel)  # the placeholder goes
            self.window.predictionShown.connect(panel.show_comparison)
            self.adapted.connect(lambda _r: panel.show_comparison(None))
        return self._panel

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- files ----------------------------------------------------------------------------
    def export_weights(self, path: str | Path) -> Path:
        from lenet_draw.personalise import export

        if self.current is None:
            raise ValueError("There is nothing personalised to export yet: correct a reading first.")
        return export(self.current.weights, path)


class HandwritingPanel(QWidget):
    """The samples as thumbnails by digit, delete one or all, and the side-by-side comparison."""

    def __init__(self, hw: Handwriting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hw = hw
        self.list = QListWidget(self)
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.delete_button = QPushButton("Delete", self)
        self.delete_all_button = QPushButton("Delete All", self)
        self.compare = QCheckBox("Compare with the base weights", self)
        self.comparison = QLabel(self)
        self.comparison.setTextFormat(Qt.TextFormat.PlainText)
        row = QHBoxLayout()
        row.addWidget(self.delete_button)
        row.addWidget(self.delete_all_button)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.summary)
        lay.addWidget(self.list, 1)
        lay.addLayout(row)
        lay.addWidget(self.compare)
        lay.addWidget(self.comparison)
        self.delete_button.clicked.connect(self.delete_selected)
        self.delete_all_button.clicked.connect(self.delete_all)
        self.list.itemSelectionChanged.connect(self._buttons)
        self.compare.toggled.connect(lambda _on: self.show_comparison(None))
        hw.samplesChanged.connect(self.refresh)
        self._base_engine = None
        self._base_for = None
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        for s in sorted(self.hw.samples, key=lambda s: (s.label, s.name)):
            item = QListWidgetItem(QIcon(thumbnail(s)), str(s.label))
            item.setData(Qt.ItemDataRole.UserRole, s)
            item.setToolTip(f"a {s.label} ({s.name})")
            self.list.addItem(item)
        counts = {}
        for s in self.hw.samples:
            counts[s.label] = counts.get(s.label, 0) + 1
        if counts:
            by = ", ".join(f"{d}: {n}" for d, n in sorted(counts.items()))
            self.summary.setText(f"{self.hw.count()} samples ({by})")
        else:
            self.summary.setText(
                "No samples yet. When a reading is wrong, press the right digit's key or click its bar."
            )
        self._buttons()

    def _buttons(self) -> None:
        self.delete_button.setEnabled(bool(self.list.selectedItems()))
        self.delete_all_button.setEnabled(self.hw.count() > 0)

    def delete_selected(self) -> None:
        chosen = [i.data(Qt.ItemDataRole.UserRole) for i in self.list.selectedItems()]
        if chosen:
            self.hw.remove(chosen)

    def delete_all(self) -> None:
        if self.hw.samples:
            self.hw.remove(list(self.hw.samples))

    def show_comparison(self, pred) -> None:
        """Beside the reading the window shows, what the base weights read on the same drawing."""
        w = self.hw.window
        if not self.compare.isChecked():
            self.comparison.setText("")
            return
        pred = pred if pred is not None else w.panel.prediction
        if pred is None or self.hw.base is None or w.canvas.image() is not None:
            self.comparison.setText("Draw a digit to compare the readings.")
            return
        if self._base_for is not self.hw.base:
            from lenet_draw.engine import Engine

            self._base_engine, self._base_for = Engine(self.hw.base, device="cpu"), self.hw.base
        other = self._base_engine.predict_strokes(w.canvas.strokes(), activations=False)
        if other is None:
            return
        mine = "personalised" if self.hw.current is not None else "no samples yet"
        self.comparison.setText(
            f"Yours ({mine}): {pred.digit}  {pred.confidence:.0%}\nBase weights: {other.digit}  {other.confidence:.0%}"
        )


class _BarClicks(QObject):
    """A click on a digit's bar says the drawing is that digit (except while the evidence
    overlay is on: then the click asks "why not that digit?", see gui/evidence.py)."""

    def __init__(self, hw: Handwriting, bars) -> None:
        super().__init__(bars)
        self.hw, self.bars = hw, bars

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() == QEvent.Type.MouseButtonPress and ev.button() == Qt.MouseButton.LeftButton:
            explanations = getattr(self.hw.window, "explanations", None)
            if explanations is not None and explanations.evidence.enabled:
                return False
            pos = ev.position()
            for d, r in enumerate(self.bars.bar_rects()):
                if r.contains(pos) and self.bars.probabilities is not None:
                    self.hw.correct(d)
                    return True
        return False


def attach(window) -> Handwriting:
    """Add corrections, the "My handwriting" dock, the menu entries and the status count."""
    from lenet_draw.samples import MAX_PROBLEMS_SHOWN, SampleError, export_samples, import_samples, shown_problems

    hw = Handwriting(window)
    window.handwriting = hw
    # The panel itself is built when the dock is first shown (Handwriting.panel).
    dock = window._dock(
        "My handwriting", QWidget(), Qt.DockWidgetArea.RightDockWidgetArea, "handwritingDock", scroll=True
    )
    hw.dock = dock
    dock.visibilityChanged.connect(lambda shown: shown and hw.panel)
    window.tabifyDockWidget(window.stages_dock, dock)
    window.stages_dock.raise_()
    window.handwriting_dock = dock

    # Digit keys: the drawing is this digit.
    window.teach_actions = []
    for d in range(10):
        a = QAction(f"This Is a {d}", window)
        a.setShortcut(QKeySequence(str(d)))
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.setStatusTip(f"The drawing is a {d}: keep it as a sample and adapt to it")
        a.triggered.connect(lambda _c=False, d=d: hw.correct(d))
        window.addAction(a)
        window.teach_actions.append(a)
    window.panel.bars.installEventFilter(_BarClicks(hw, window.panel.bars))
    # Ctrl+Z takes back a correction made since the drawing last changed.
    window.undo_action.triggered.disconnect()
    window.undo_action.triggered.connect(hw.undo)
    window.canvas.changed.connect(hw.forget_undo)

    status = QLabel("")
    status.setContentsMargins(8, 0, 8, 0)
    window.statusBar().addPermanentWidget(status)
    window.handwriting_status = status

    def show_count() -> None:
        n = hw.count()
        status.setText(f"personalised: {n} sample{'s' if n != 1 else ''}" if n else "")
        status.setVisible(bool(n))

    hw.samplesChanged.connect(show_count)
    show_count()
    window.engineChanged.connect(hw.on_engine_changed)

    def export_weights() -> None:
        if hw.current is None:
            window.show_error("Nothing to export", "There are no personalised weights yet: correct a reading first.")
            return
        path = window.ask_save_path("Export Personalised Weights", "Weights (*.pt *.safetensors)")
        if not path:
            return
        if Path(path).suffix.lower() not in (".pt", ".pth", ".safetensors"):
            path = str(path) + ".pt"
        try:
            out = hw.export_weights(path)
        except (OSError, ValueError) as exc:
            window.show_error("Cannot export the weights", str(exc))
            return
        window.statusBar().showMessage(f"Saved {Path(out).name}: {hw.current.weights.meta['note']}", 6000)

    def export_sample_files() -> None:
        if not hw.samples:
            window.show_error("Nothing to export", "There are no handwriting samples yet.")
            return
        path = window.ask_save_path("Export Samples (a .zip, or a folder name)", "Zip (*.zip)")
        if not path:
            return
        try:
            out = export_samples(hw.samples, path)
        except OSError as exc:
            window.show_error("Cannot export the samples", f"{exc.strerror or exc}")
            return
        window.statusBar().showMessage(f"Exported {hw.count()} samples to {out}", 6000)

    def import_sample_files() -> None:
        path = window.ask_open_path("Import Samples (a .zip or a folder)", "Samples (*.zip *.json)")
        if not path:
            return
        src = Path(path)
        if src.suffix.lower() == ".json":
            src = src.parent
        try:
            got, problems = import_samples(src)
        except SampleError as exc:
            window.show_error("Cannot import samples", str(exc))
            return
        if problems:
            window.show_error("Some samples were skipped", "\n".join(shown_problems(problems)))
        if got:
            hw.add_imported(got)

    window.export_personal_action = window._action(
        "Export &Personalised Weights…", export_weights, (), "Save the weights adapted to your handwriting"
    )
    window.export_samples_action = window._action("E&xport Samples…", export_sample_files, (), "")
    window.import_samples_action = window._action("I&mport Samples…", import_sample_files, (), "")
    file_menu = window.menuBar().actions()[0].menu()
    file_menu.insertAction(window.open_image_action, window.export_personal_action)
    file_menu.insertSeparator(window.open_image_action)
    menu = QMenu("&Handwriting", window)
    window.menuBar().insertMenu(window.menuBar().actions()[-1], menu)  # before Help
    menu.addActions(window.teach_actions)
    menu.addSeparator()
    for a in (window.export_samples_action, window.import_samples_action):
        menu.addAction(a)
    menu.addAction(dock.toggleViewAction())

    for p in hw.problems[:MAX_PROBLEMS_SHOWN]:
        window.announce(f"Skipped a damaged sample file: {p}")
    if len(hw.problems) > MAX_PROBLEMS_SHOWN:
        window.announce(shown_problems(hw.problems)[-1])
    return hw
