"""Explanations of each reading, wired into the window in one place: the evidence overlay
(View > Show Evidence, and the toolbar), the arithmetic of any unit (click a feature map's
cell) and what the reading tolerates (View > What It Tolerates)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt

from lenet_draw.gui.evidence import EvidenceOverlay
from lenet_draw.gui.invariance_view import InvarianceView
from lenet_draw.gui.unit_inspector import UnitInspector


class Explanations(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.evidence = EvidenceOverlay(window)
        self.units = UnitInspector(window, [self.evidence.canvas_overlay, self.evidence.tile_overlay])
        self.invariance = InvarianceView(window)
        self.invariance_dock = window._dock(
            "What it tolerates", self.invariance, Qt.DockWidgetArea.BottomDockWidgetArea, "invarianceDock", scroll=True
        )
        window.tabifyDockWidget(window.maps_dock, self.invariance_dock)
        self.invariance_dock.hide()
        self.invariance_dock.visibilityChanged.connect(self.invariance.set_shown)
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
