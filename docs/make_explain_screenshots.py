"""Regenerate the explanation screenshots in docs/: the real window, a handwritten MNIST test
digit traced into pen strokes and drawn through the canvas with mouse events, then the
explanations opened with mouse clicks as a person would.

xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python docs/make_explain_screenshots.py
(needs MNIST in ../shared/data/mnist or $LENET_DRAW_MNIST)
"""

from __future__ import annotations

from pathlib import Path

from shots import save_png, settle, shown_window

DOCS = Path(__file__).resolve().parent
#: The MNIST test digit drawn: a 6 whose reading turns into another digit when rotated.
TEST_INDEX = 11


def traced_strokes(index: int) -> tuple[list, int]:
    """A test digit as pen strokes in pad units (about 70% of the pad, centred)."""
    from lenet_draw.training.data import default_data_dir, load_split
    from lenet_draw.training.pentrace import place, thin, trace

    split = load_split(default_data_dir(), "test")
    strokes = trace(thin(split.images[index]))
    placed = place(strokes, 0.7, (0.5, 0.5), step=0.008)
    return [[(float(x), float(y)) for x, y in s[:, :2]] for s in placed], int(split.labels[index])


def main() -> int:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest

    from lenet_draw.gui.testing import draw_strokes

    def click(widget, pos: QPointF) -> None:
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos.toPoint())
        settle()

    with shown_window(1280, 860) as window:
        strokes, label = traced_strokes(TEST_INDEX)
        draw_strokes(window.canvas, strokes)
        pred = window.predict_now()
        settle()
        print(f"drew MNIST test digit {TEST_INDEX} (a {label}); read as {window.panel.headline()!r}")
        ex = window.explanations
        button = window.modes_toolbar.widgetForAction(ex.evidence.action)
        click(button, QPointF(button.rect().center()))
        print(save_png(window, DOCS / "explain-evidence.png"))

        bars = window.panel.bars
        runner_up = pred.top(2)[1][0]
        click(bars, bars.bar_rects()[runner_up].center())
        print(save_png(window, DOCS / "explain-why-not.png"))
        click(bars, bars.bar_rects()[pred.digit].center())
        button = window.modes_toolbar.widgetForAction(ex.evidence.action)
        click(button, QPointF(button.rect().center()))  # overlay off again

        view = window.maps.views["C3"]
        r = view.tile_rects()[6]
        click(view, QPointF(r.x() + 4.5 * r.width() / 10, r.y() + 5.5 * r.height() / 10))
        window.resizeDocks([ex.units.dock], [520], Qt.Orientation.Horizontal)
        settle()
        print(save_png(window, DOCS / "explain-arithmetic.png"))
        ex.units.dock.toggleViewAction().trigger()  # close the panel (its outline goes with it)

        ex.invariance_action.trigger()
        settle()
        window.resizeDocks([ex.invariance_dock], [330], Qt.Orientation.Vertical)
        settle()
        ex.invariance.compute_now()
        ex.invariance.set_value("rotation", -50)  # turned this far, the 6 reads as a 0
        settle()
        print(save_png(window, DOCS / "explain-tolerates.png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
