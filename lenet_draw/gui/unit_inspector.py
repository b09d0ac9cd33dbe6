"""How any unit got its value: click a cell of any feature map and see its receptive field on
the 32x32 input and on the canvas, and the arithmetic with the real numbers; hover a cell to
see the field alone. In the Learned kernels tab, clicking a C1 or C3 kernel outlines where in
the current drawing it responds most.

The numbers come from ``lenet_draw.unit_arithmetic`` (the weights and the layer below, in
float64) and are checked against the engine's activations by the tests. The feature maps'
own hover and pin behaviour is left as it is: this only watches their mouse events.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget, QTextBrowser, QTextEdit

from lenet_draw.gui.overlays import InputOverlay


def _n(x: float) -> str:
    return f"{x:+.3f}".replace("-", "−")


def _grid(a: np.ndarray, title: str) -> str:
    rows = "".join(
        "<tr>" + "".join(f"<td align=right style='white-space:nowrap'>{_n(v)}</td>" for v in row) + "</tr>" for row in a
    )
    return (
        f"<td valign=top><small><b>{html.escape(title)}</b></small>"
        f"<table cellspacing=0 cellpadding=2 style='font-family:monospace;font-size:10px'>{rows}</table></td>"
    )


def arithmetic_html(a) -> str:
    """The arithmetic of one unit (an ``Arithmetic``) as rich text."""
    u = a.unit
    top, bottom, left, right = a.receptive_field
    out = [
        f"<h3 style='margin:2px'>{html.escape(u.label())} = {_n(a.value)}</h3>",
        f"<p style='margin:2px;color:#495057'>receptive field: input rows {top}–{bottom - 1}, "
        f"columns {left}–{right - 1} ({bottom - top}×{right - left} of 32×32)</p>",
    ]
    if a.kind == "conv":
        below = "the input (normalised)" if u.layer == "C1" else "S2"
        for part in a.conv_parts:
            head = f"{below}" if u.layer == "C1" else f"S2 map {part.input_map + 1}"
            out.append(
                "<table cellspacing=6><tr>"
                + _grid(part.window, f"{head}, 5×5 window")
                + _grid(part.kernel, "× kernel")
                + _grid(part.products, "= products")
                + f"<td valign=middle>sum {_n(part.partial)}</td></tr></table>"
            )
        if len(a.conv_parts) > 1:
            out.append("<p>partial sums: " + " + ".join(_n(p.partial) for p in a.conv_parts) + "</p>")
        partials = sum(p.partial for p in a.conv_parts)
        out.append(
            f"<p><b>{_n(partials)}</b> + bias {_n(a.bias)} = {_n(a.total)}; "
            f"tanh({_n(a.total)}) = <b>{_n(a.value)}</b></p>"
        )
    elif a.kind == "pool":
        below = {"S2": "C1", "S4": "C3"}[u.layer]
        out.append("<table><tr>" + _grid(a.pool_window, f"{below} map {u.map + 1}, 2×2 window") + "</tr></table>")
        vals = " + ".join(_n(v) for v in a.pool_window.reshape(-1))
        out.append(f"<p>({vals}) ÷ 4 = <b>{_n(a.value)}</b></p>")
    else:
        rows = "".join(
            f"<tr><td>{html.escape(c.label)}</td><td align=right>{_n(c.value)}</td>"
            f"<td align=right>× {_n(c.weight)}</td><td align=right>= {_n(c.product)}</td></tr>"
            for c in a.contributions
        )
        rows += (
            f"<tr><td>the other {a.rest_count}</td><td></td><td></td><td align=right>= {_n(a.rest)}</td></tr>"
            f"<tr><td>bias</td><td></td><td></td><td align=right>{_n(a.bias)}</td></tr>"
            f"<tr><td><b>sum</b></td><td></td><td></td><td align=right><b>{_n(a.total)}</b></td></tr>"
        )
        out.append(
            "<p>largest contributions (input value × weight):</p>"
            f"<table cellspacing=0 cellpadding=2 style='font-family:monospace'>{rows}</table>"
        )
        if a.activation == "tanh":
            out.append(f"<p>tanh({_n(a.total)}) = <b>{_n(a.value)}</b></p>")
        else:
            out.append("<p>the output layer has no tanh: this is the logit; softmax turns the ten into the bars.</p>")
    return "".join(out)


_MOUSE = frozenset((QEvent.Type.MouseMove, QEvent.Type.Leave, QEvent.Type.MouseButtonPress))


class UnitInspector(QObject):
    def __init__(self, window, overlays: list[InputOverlay]) -> None:
        super().__init__(window)
        self.window = window
        self.overlays = overlays
        self.selected = None  # the clicked Unit
        self.hovered = None
        self.kernel = None  # (layer, kernel, input map) clicked in the Learned kernels tab
        self.arithmetic = None  # the Arithmetic shown
        self.kernel_unit = None  # where that kernel responds most
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        self.text.setLineWrapMode(QTextEdit.LineWrapMode.NoWrap)  # a table of numbers scrolls, never wraps
        self.text.setPlaceholderText("Click a cell of any feature map to see how it got its value.")
        self.dock = QDockWidget("How this value was computed", window)
        self.dock.setObjectName("arithmeticDock")
        self.dock.setWidget(self.text)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        self.dock.hide()
        self.dock.toggleViewAction().toggled.connect(lambda shown: shown or self.deselect())
        for view in window.maps.views.values():
            view.installEventFilter(self)
        for view in window.kernels.views.values():
            view.installEventFilter(self)
        window.predictionShown.connect(self._on_prediction)

    # -- what a cell is -----------------------------------------------------------------------
    def unit_at(self, view, pos):
        from lenet_draw.unit_arithmetic import Unit

        h = view.hit(pos)
        if h is None:
            return None
        tile, r, c = h
        if len(view.shape) == 3:
            return Unit(view.name, tile, r, c)
        index = r * view.tile_shape[1] + c
        return Unit(view.name, index) if index < view.shape[0] else None

    def _set_outline(self, name: str, unit) -> None:
        from lenet_draw.unit_arithmetic import receptive_field

        field = None if unit is None else receptive_field(unit)
        for o in self.overlays:
            o.set_outline(name, field)

    # -- events -------------------------------------------------------------------------------
    def eventFilter(self, obj, ev) -> bool:
        t = ev.type()
        if t not in _MOUSE:  # paints and the rest: at once, they come with every pointer move
            return False
        if obj in self.window.maps.views.values():
            if t == QEvent.Type.MouseMove:
                self.hover(self.unit_at(obj, ev.position()))
            elif t == QEvent.Type.Leave:
                self.hover(None)
            elif t == QEvent.Type.MouseButtonPress and ev.button() == Qt.MouseButton.LeftButton:
                unit = self.unit_at(obj, ev.position())
                if unit is not None:
                    self.select(unit)
        elif obj in self.window.kernels.views.values():
            if t == QEvent.Type.MouseButtonPress and ev.button() == Qt.MouseButton.LeftButton:
                h = obj.hit(ev.position())
                if h is not None:
                    tile = h[0]
                    if obj.name == "C1":
                        self.show_kernel("C1", tile, 0)
                    else:
                        self.show_kernel("C3", tile % 16, tile // 16)  # row: input map; column: output map
        return False

    def hover(self, unit) -> None:
        if unit != self.hovered:
            self.hovered = unit
            self._set_outline("hovered", unit if self.window.panel.prediction is not None else None)

    def select(self, unit) -> None:
        self.selected = unit
        if not self.dock.isVisible():
            self.dock.show()
            self.window.resizeDocks([self.dock], [470], Qt.Orientation.Horizontal)
        self.dock.raise_()
        self._explain(self.window.panel.prediction)

    def deselect(self) -> None:
        """The panel was closed: no unit is followed any more."""
        self.selected = self.arithmetic = None
        self._set_outline("selected", None)

    def _on_prediction(self, pred) -> None:
        if self.selected is not None:
            self._explain(pred)
        if self.kernel is not None:
            self.show_kernel(*self.kernel)

    def _explain(self, pred) -> None:
        from lenet_draw import unit_arithmetic as ua

        engine = self.window.engine
        if pred is None or engine is None or self.selected is None:
            self.arithmetic = None
            self._set_outline("selected", None)
            if self.selected is not None:
                self.text.setHtml(f"<p>{html.escape(self.selected.label())}: draw a digit to see its value.</p>")
            return
        x = ua.normalised_input(engine.convention, pred.stages.input)
        self.arithmetic = ua.explain(engine.model, x, pred.activations, self.selected)
        self._set_outline("selected", self.selected)
        bar = self.text.verticalScrollBar().value()
        self.text.setHtml(arithmetic_html(self.arithmetic))
        self.text.verticalScrollBar().setValue(bar)

    def show_kernel(self, layer: str, kernel: int, input_map: int) -> None:
        from lenet_draw import unit_arithmetic as ua

        self.kernel = (layer, kernel, input_map)
        pred, engine = self.window.panel.prediction, self.window.engine
        if pred is None or engine is None:
            self.kernel_unit = None
            self._set_outline("kernel", None)
            self.window.statusBar().showMessage("Draw a digit to see where this kernel responds most", 5000)
            return
        x = ua.normalised_input(engine.convention, pred.stages.input)
        unit, resp = ua.strongest_response(engine.model, x, pred.activations, layer, kernel, input_map)
        self.kernel_unit = unit
        self._set_outline("kernel", unit)
        which = f"C1 kernel {kernel + 1}" if layer == "C1" else f"C3 kernel {input_map + 1}→{kernel + 1}"
        top, bottom, left, right = ua.receptive_field(unit)
        self.window.statusBar().showMessage(
            f"{which} responds most at input rows {top}–{bottom - 1}, columns {left}–{right - 1} "
            f"(window × kernel = {resp:.3f}), outlined in purple",
            8000,
        )

    def clear_kernel(self) -> None:
        self.kernel = self.kernel_unit = None
        self._set_outline("kernel", None)
