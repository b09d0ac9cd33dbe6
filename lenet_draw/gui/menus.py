"""The window's actions, menus and toolbar, and the Help texts. Mixed into MainWindow."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QToolBar

from lenet_draw import __version__
from lenet_draw.gui import explain

SHORTCUTS = [
    ("Ctrl+O", "Open weights"),
    ("Ctrl+I", "Open an image of a digit"),
    ("Ctrl+S", "Save the drawing as PNG"),
    ("Ctrl+Z", "Undo"),
    ("Ctrl+Shift+Z / Ctrl+Y", "Redo"),
    ("Esc / Delete", "Clear"),
    ("P / E", "Pen / eraser (the right button and a pen's eraser end also erase)"),
    ("K", "Show the learned kernels / the feature maps"),
    ("N", "Number mode: write several digits in a wide pad / one digit"),
    ("L", "Show where the network looked (evidence overlay)"),
    ("F1", "Keyboard shortcuts"),
    ("Ctrl+Q", "Quit"),
]


class WindowMenus:
    """Builds every QAction once, then the menus and the toolbar that show them."""

    def _action(self, text: str, slot, shortcuts=(), tip: str = "", checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcuts:
            a.setShortcuts([QKeySequence(s) for s in shortcuts])
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(
                f"{tip} ({QKeySequence(shortcuts[0]).toString(QKeySequence.SequenceFormat.NativeText)})"
                if shortcuts
                else tip
            )
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.open_weights_action = self._action(
            "Open &Weights…", self._open_weights_dialog, [K.Open], "Load LeNet-5 weights (.pt, .pth, .safetensors)"
        )
        self.reset_weights_action = self._action(
            "&Reset to Bundled Weights", self.reset_weights, (), "Go back to the weights that come with lenet-draw"
        )
        self.open_image_action = self._action(
            "Open &Image…", self._open_image_dialog, ["Ctrl+I"], "Classify an image of a digit"
        )
        self.save_action = self._action(
            "&Save Drawing as PNG…", self._save_dialog, [K.Save], "Save the drawing as a PNG image"
        )
        self.quit_action = self._action("&Quit", self.close, [K.Quit])
        self.undo_action = self._action("&Undo", self.canvas.undo, ["Ctrl+Z"], "Undo the last stroke, erase or clear")
        self.redo_action = self._action("&Redo", self.canvas.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], "Redo")
        self.clear_action = self._action("&Clear", self.canvas.clear, ["Esc", "Delete"], "Clear the canvas")
        self.pen_action = self._action("&Pen", lambda: self.canvas.set_tool("pen"), ["P"], "Draw", checkable=True)
        self.eraser_action = self._action(
            "&Eraser", lambda: self.canvas.set_tool("eraser"), ["E"], "Erase ink", checkable=True
        )
        tools = QActionGroup(self)
        tools.addAction(self.pen_action)
        tools.addAction(self.eraser_action)
        self.pen_action.setChecked(True)
        self.pen_width_group = QActionGroup(self)
        self.pen_width_actions = {}
        for name, text in (("thin", "&Thin"), ("medium", "&Medium"), ("thick", "T&hick")):
            a = self._action(
                text, lambda _c=False, n=name: self.canvas.set_pen(n), (), f"Draw with a {name} pen", checkable=True
            )
            a.setData(name)
            self.pen_width_group.addAction(a)
            self.pen_width_actions[name] = a
        self.kernels_action = self._action(
            "Show Learned &Kernels", self._toggle_kernels, ["K"], "Switch between feature maps and learned kernels"
        )
        self.reset_layout_action = self._action(
            "Reset &Layout", self.reset_layout, (), "Put every panel back where it starts, at its usual size"
        )
        self.tour_action = self._action(
            "&What Am I Looking At?", self._show_tour, (), "What each part of the window shows, in plain words"
        )
        self.shortcuts_action = self._action("&Keyboard Shortcuts", self._show_shortcuts, ["F1"])
        self.about_action = self._action("&About lenet-draw", self._show_about)
        self.number_action = self._action(
            "&Number Mode",
            lambda checked=False: self.set_number_mode(bool(checked)),
            ["N"],
            "Write a number in a wide pad; click a digit to see it in the panels",
            checkable=True,
        )
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
        widths = e.addMenu("Pen &Width")
        for a in self.pen_width_actions.values():
            widths.addAction(a)
        v = mb.addMenu("&View")
        for d in (self.prediction_dock, self.stages_dock, self.maps_dock):
            v.addAction(d.toggleViewAction())
        v.addSeparator()
        v.addAction(self.kernels_action)
        v.addAction(self.number_action)
        v.addSeparator()
        v.addAction(self.reset_layout_action)
        self.view_menu = v
        self.device_menu = mb.addMenu("&Device")
        self.device_group = QActionGroup(self)
        self.device_group.setExclusive(True)
        h = mb.addMenu("&Help")
        h.addAction(self.tour_action)
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
        # Short toolbar names, so that every button fits in the narrowest window (400 px).
        self.open_weights_action.setIconText("Weights")
        self.open_image_action.setIconText("Image")
        for a in (self.open_weights_action, self.open_image_action):
            tb.addAction(a)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.toolbar = tb

        # The modes (Number mode, and the explanations' evidence) on a toolbar of their own: beside
        # the tools when the window is wide enough, on a second row when it is not (see
        # arrange_toolbars), so no button ever hides behind an overflow arrow.
        vb = QToolBar("Modes", self)
        vb.setObjectName("modesBar")
        vb.setMovable(False)
        vb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.number_action.setIconText("Number")
        vb.addAction(self.number_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, vb)
        self.modes_toolbar = vb

    def arrange_toolbars(self) -> None:
        """The modes toolbar beside the tools when both fit in the window's width, else below."""
        needed = self.toolbar.sizeHint().width() + self.modes_toolbar.sizeHint().width() + 12
        below = self.toolBarBreak(self.modes_toolbar)
        if self.width() < needed and not below:
            self.insertToolBarBreak(self.modes_toolbar)
        elif self.width() >= needed and below:
            self.removeToolBarBreak(self.modes_toolbar)

    def _show_tour(self) -> None:
        self.show_info("What am I looking at?", explain.tour_html())

    def _show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in SHORTCUTS)
        self.show_info("Keyboard shortcuts", f"<table>{rows}</table>")

    def _show_about(self) -> None:
        self.show_info(
            "About lenet-draw",
            f"<b>lenet-draw {__version__}</b><br>Draw a digit and watch LeNet-5 "
            "(LeCun et al., 1998) read it: probabilities, the network's input and every feature map.",
        )
