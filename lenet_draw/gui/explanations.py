"""Explanations of each reading, wired into the window in one place: the evidence overlay
(View > Show Evidence, and the toolbar), the arithmetic of any unit (click a feature map's
cell) and what the reading tolerates (View > What It Tolerates).

The "What it tolerates" view (six plots, their sliders, and the core module that redraws the
inputs) is built when its dock is first shown, or first asked for: until then the dock holds an
empty placeholder, so the window opens without it. The view starts stale and computes nothing
until shown, so building it late changes nothing it shows.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QScrollArea, QWidget

from lenet_draw.gui.evidence import EvidenceOverlay
from lenet_draw.gui.unit_inspector import UnitInspector


class Explanations(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.evidence = EvidenceOverlay(window)
        self.units = UnitInspector(window, [self.evidence.canvas_overlay, self.evidence.tile_overlay])
        self._invariance = None
        self.invariance_dock = window._dock(
            "What it tolerates", QWidget(), Qt.DockWidgetArea.BottomDockWidgetArea, "invarianceDock", scroll=True
        )
        window.tabifyDockWidget(window.maps_dock, self.invariance_dock)
        self.invariance_dock.hide()
        self.invariance_dock.visibilityChanged.connect(self._invariance_shown)
        self.invariance_action = self.invariance_dock.toggleViewAction()
        self.invariance_action.setText("What It &Tolerates")
        self.invariance_action.setStatusTip("Each class's probability as the drawing is turned, scaled, moved, ...")
        self.invariance_action.triggered.connect(lambda on: on and self.invariance_dock.raise_())  # over the maps
        window.inside.currentChanged.connect(lambda _i: self.units.clear_kernel())
        v, tb = window.view_menu, window.modes_toolbar
        v.addSeparator()
        v.addAction(self.evidence.action)
        v.addAction(self.invariance_action)
        v.addAction(self.units.dock.toggleViewAction())
        self.evidence.action.setIconText("Evidence")
        tb.addAction(self.evidence.action)

    @property
    def invariance(self):
        """The "What it tolerates" view, built the first time it is needed."""
        if self._invariance is None:
            from lenet_draw.gui.invariance_view import InvarianceView

            self._invariance = InvarianceView(self.window)
            area = self.invariance_dock.widget()
            assert isinstance(area, QScrollArea)
            area.setWidget(self._invariance)  # the placeholder goes
        return self._invariance

    def _invariance_shown(self, shown: bool) -> None:
        if shown or self._invariance is not None:
            self.invariance.set_shown(shown)
