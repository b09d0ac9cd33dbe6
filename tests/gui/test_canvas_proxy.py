"""Drawings replayed through the real canvas with mouse events, as the product is judged:
MNIST test digits traced into pen paths, drawn large, small, in a corner and off-centre, in
a window of ordinary size and in a small one. What the person sees (the big digit) must be
the right answer.

The default run draws a few digits in each place; the accuracy over 40 digits a place is a
long suite (a few seconds a digit on a busy machine) and runs with ``-m slow`` (CI runs it)."""

import numpy as np
import pytest
from guihelpers import settle

from lenet_draw.bench import proxy
from lenet_draw.gui.testing import draw_strokes

COUNT = 40
#: Digits a place in the default run, and how many of them may be read wrong.
FEW, FEW_WRONG = 10, 1
#: (name, drawing height in pad units, centre in pad units)
PLACES = [
    ("large, centred", 0.8, (0.5, 0.5)),
    ("small, centred", 0.12, (0.5, 0.5)),
    ("small, top-left", 0.18, (0.15, 0.15)),
    ("medium, bottom-right", 0.35, (0.72, 0.7)),
]
REQUIRED = 0.95


@pytest.fixture(scope="module")
def drawings(mnist_test):
    # a spread of digits from the middle of the test set, away from the core proxy's slice
    return proxy.pen_paths(mnist_test, COUNT, start=5000)


def _read_right(window, qtbot, paths, labels, height, centre, **draw) -> list[bool]:
    """For each drawing, placed as asked and drawn through the canvas: is the big digit its label?"""
    correct = []
    for strokes, label in zip(paths, labels):
        window.canvas.clear()
        placed = proxy.place(strokes, height, centre, step=0.01)
        draw_strokes(window.canvas, [[tuple(p) for p in s] for s in placed], **draw)
        settle(qtbot, window)
        correct.append(window.panel.headline().startswith(str(int(label))))
    return correct


@pytest.mark.parametrize("name, height, centre", PLACES, ids=[p[0] for p in PLACES])
def test_a_few_drawn_digits_read_right_through_the_canvas(window, qtbot, drawings, name, height, centre):
    paths, labels = drawings
    correct = _read_right(window, qtbot, paths[:FEW], labels[:FEW], height, centre, process_every=3)
    assert correct.count(False) <= FEW_WRONG, f"{name}: {correct}"


@pytest.mark.slow
@pytest.mark.parametrize("name, height, centre", PLACES, ids=[p[0] for p in PLACES])
def test_drawn_digits_read_right_through_the_canvas(window, qtbot, drawings, name, height, centre):
    paths, labels = drawings
    correct = _read_right(window, qtbot, paths, labels, height, centre, process_every=3)
    assert np.mean(correct) >= REQUIRED, f"{name}: {np.mean(correct):.0%} read right"


def test_a_small_window_reads_the_same(window, qtbot, drawings):
    paths, labels = drawings
    window.resize(480, 360)
    settle(qtbot, window)
    correct = _read_right(window, qtbot, paths[:20], labels[:20], 0.5, (0.4, 0.6))
    assert correct.count(False) <= 1, correct
