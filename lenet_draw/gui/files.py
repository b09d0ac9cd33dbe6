"""The window's file handling: weights, images and drawings, by menu, Recent Weights,
drag-and-drop or the command line.

Every way of opening a file ends in ``open_weights`` or ``open_image``, and every dialog goes
through an attribute (``ask_open_path``, ``ask_save_path``, ``show_error``, ``show_info``) that
tests replace, so no test ever blocks on a modal dialog. Mixed into MainWindow, whose canvas,
engine, predictor and settings it uses.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton

from lenet_draw.atomic import write_bytes_atomic
from lenet_draw.errors import ImageError, LoadCancelled, WeightsError
from lenet_draw.gui import prefs
from lenet_draw.gui.background import Background
from lenet_draw.images import open_image as read_image
from lenet_draw.resources import bundled_weights_path

WEIGHT_SUFFIXES = (".pt", ".pth", ".safetensors")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm")


class FileHandling:
    """Opening weights and images, saving drawings, Recent Weights, drag-and-drop, dialogs."""

    def open_weights(self, path: str | Path, remember: bool = True) -> bool:
        """The one way weights get loaded (menu, Recent, drag-and-drop, command line).

        The file is read and checked on a worker thread while the window stays responsive; the
        status bar's Cancel button (or opening another file) stops waiting for it. On any
        problem: an error dialog with the reader's sentence; the old weights stay.
        """
        path = Path(path)
        if self.engine is None:
            self.show_error("Weights not loaded", "LeNet-5 is still starting; try again in a moment.")
            return False

        def read(cancelled):
            from lenet_draw.weights import load_weights  # torch is loaded by now: the engine runs

            return load_weights(path, cancel=cancelled)

        outcome = self._in_background(read, f"Loading {path.name}…")
        if outcome.replaced:  # another file was opened meanwhile: its message stands
            return False
        if outcome.cancelled or isinstance(outcome.error, LoadCancelled):
            self.statusBar().showMessage(f"Loading {path.name} was cancelled; the previous weights are in use.", 5000)
            return False
        try:
            if outcome.error is not None:
                raise outcome.error
            self.engine.use(outcome.value)
        except WeightsError as exc:
            self.show_error("Cannot use these weights", f"{exc}\n\nThe previous weights are still in use.")
            return False
        except Exception as exc:  # e.g. the device ran out of memory
            self.show_error(
                "Cannot use these weights",
                f"{path.name} could not be loaded: {exc}\n\nThe previous weights are still in use.",
            )
            return False
        if remember:
            self._remember(path)
        self._on_engine_changed()
        self.statusBar().showMessage(f"Loaded {path.name}", 5000)
        self.predictor.request()
        return True

    def reset_weights(self) -> bool:
        return self.open_weights(bundled_weights_path(), remember=False)

    # -- work off the GUI thread ------------------------------------------------------------
    def _in_background(self, fn, what: str):
        """Run ``fn(cancelled)`` off the GUI thread, a Cancel button in the status bar meanwhile."""
        if not hasattr(self, "_background"):
            self._background = Background()
            self.cancel_load_button = QPushButton("Cancel")
            self.cancel_load_button.setToolTip("Stop waiting for the file; the weights and the canvas stay as they are")
            self.cancel_load_button.clicked.connect(self.cancel_loading)
            # Beside the message, not under it: a temporary message hides and overdraws the
            # status bar's normal widgets, while permanent ones stand to its right.
            self.statusBar().insertPermanentWidget(0, self.cancel_load_button)
        self.statusBar().showMessage(what)
        self.cancel_load_button.show()
        try:
            return self._background.call(fn)
        finally:
            if not self._background.busy():
                self.cancel_load_button.hide()
            if self.statusBar().currentMessage() == what:  # not a newer file's news
                self.statusBar().clearMessage()

    def loading(self) -> bool:
        """True while a file is being read in the background."""
        return hasattr(self, "_background") and self._background.busy()

    def cancel_loading(self) -> None:
        if hasattr(self, "_background"):
            self._background.cancel()

    # -- recent weights ---------------------------------------------------------------------
    def recent_weights(self) -> list[str]:
        return prefs.recent_paths(self.settings)

    def _set_recent(self, items: list[str]) -> None:
        prefs.set_recent(self.settings, items)
        self._rebuild_recent_menu()

    def _remember(self, path: Path) -> None:
        prefs.remember_recent(self.settings, path)
        self._rebuild_recent_menu()

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
        # Looked at off the GUI thread: the entry may be on a network mount that hangs.
        outcome = self._in_background(lambda cancelled: Path(path).is_file(), f"Looking for {Path(path).name}…")
        if outcome.cancelled:
            return False
        if outcome.value is not True:
            prefs.forget_recent(self.settings, path)
            self._rebuild_recent_menu()
            self.show_error("Weights file missing", f"{path} no longer exists, so it was removed from Recent Weights.")
            return False
        return self.open_weights(path)

    # -- images and files -------------------------------------------------------------------
    def open_image(self, path: str | Path) -> bool:
        """Classify an image file: it replaces the drawing until you draw or clear.

        ``lenet_draw.images.open_image`` checks the file (size before decoding) and says in one
        sentence what is wrong with a bad one; then the drawing and the prediction stay as they were.
        The file is read off the GUI thread; Cancel (or opening another file) stops waiting for it.
        """
        path = Path(path)
        # Read and decoded on a worker thread, as weights are: a picture on a mount that does
        # not answer, or one that takes a second to decode, leaves the window drawing, and the
        # status bar's Cancel button ends the wait.
        outcome = self._in_background(lambda cancelled: read_image(path), f"Opening {path.name}…")
        if outcome.replaced:  # another file was opened meanwhile: its message stands
            return False
        if outcome.cancelled:
            self.statusBar().showMessage(f"Opening {path.name} was cancelled; the canvas is unchanged.", 5000)
            return False
        if isinstance(outcome.error, ImageError):
            self.show_error("Cannot open image", f"{outcome.error}\n\nThe canvas is unchanged.")
            return False
        if outcome.error is not None:
            raise outcome.error
        self.canvas.set_image(outcome.value, path.name)
        self.statusBar().showMessage(f"Classifying {path.name}; draw or clear to return to drawing", 6000)
        return True

    def save_drawing(self, path: str | Path) -> bool:
        """Save the drawing as PNG: written beside ``path`` and renamed over it, so a crash never
        leaves a half-written file. A suffix added here never replaces a file nobody confirmed."""
        path = Path(path)
        if path.suffix.lower() != ".png":
            path = path.with_name(path.name + ".png")
            if path.exists():
                self.show_error(
                    "Not saved",
                    f"{path.name} already exists; choose it by its full name to replace it, or another name.",
                )
                return False
        if self.canvas.is_empty():
            self.show_error("Nothing to save", "The canvas is empty: draw a digit first.")
            return False
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        ok = self.canvas.render_drawing().save(buf, "PNG")
        buf.close()
        try:
            if not ok:
                raise OSError(0, "the picture could not be encoded")
            write_bytes_atomic(path, bytes(data.data()))
        except OSError as exc:
            self.show_error("Cannot save", f"{path} could not be written: {exc.strerror or exc}.")
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
                self.show_error(
                    "Cannot open",
                    f"{Path(p).name} is neither a weights file (.pt, .pth, .safetensors) nor an image (.png, .jpg, …).",
                )

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
        dialog = QFileDialog(self, caption, start, filters)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("png")  # the dialog adds it, then asks before replacing that file
        if dialog.exec() and dialog.selectedFiles():
            return dialog.selectedFiles()[0]
        return None

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
