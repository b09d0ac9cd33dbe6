"""LeNet-5's layer table and the reading thresholds: plain constants, no torch, no Qt.

The GUI imports this at the top (its start-up must not wait for torch); the model checks
itself against it.
"""

from __future__ import annotations

#: Layer names in forward order, as the paper labels them.
LAYER_NAMES = ("C1", "S2", "C3", "S4", "C5", "F6", "output")

#: Shape of each layer's output for one image (batch dimension left out).
LAYER_SHAPES: dict[str, tuple[int, ...]] = {
    "C1": (6, 28, 28),
    "S2": (6, 14, 14),
    "C3": (16, 10, 10),
    "S4": (16, 5, 5),
    "C5": (120,),
    "F6": (84,),
    "output": (10,),
}

INPUT_SHAPE = (1, 32, 32)
NUM_CLASSES = 10
PARAMETER_COUNT = 61_706

#: Below this top probability a prediction is shown as unsure. Chosen on drawn digits (MNIST
#: test digits traced into strokes, 4 placements) and the style test set together: at 0.85 the
#: bundled weights show 0.5% of their sure readings wrong, and 3.3% of their right ones unsure.
UNSURE_BELOW = 0.85
