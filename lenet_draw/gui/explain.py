"""What each view shows, in plain words: the tooltips of the views and the Help page
"What am I looking at?". Text only; the views take their tooltips from here."""

from __future__ import annotations

from lenet_draw.spec import UNSURE_BELOW

#: The colour of every map, said once.
COLOUR = "Colour: each value between −1 and +1 (the tanh the layer ends with), blue below 0, white at 0, red above."

#: Layer name -> what it is and what its maps show.
LAYERS = {
    "C1": "Convolution: six learned 5×5 patterns (kernels) slid over the 32×32 input. Each map is "
    "28×28 and is red where its pattern is in the ink (an edge, a stroke at one slant, an end) and "
    "blue where its opposite is. Every pixel of a map uses the same 6×5×5 = 25 weights.",
    "S2": "Pooling (subsampling): each C1 map with every 2×2 block averaged into one value, so 14×14. "
    "The same features at half the resolution, less sensitive to exactly where a stroke lies.",
    "C3": "Convolution again: sixteen 5×5 patterns, each looking at several of the S2 maps at once, "
    "so they respond to combinations of C1's features: corners, curves, crossings. 10×10 each.",
    "S4": "Pooling: each C3 map averaged over 2×2 blocks, 5×5 each: where, roughly, each combination was found.",
    "C5": "120 units, each connected to every value of S4 (16 maps of 5×5): one number per unit, with "
    "no position any more. Drawn as a strip, one row per unit.",
    "F6": "Fully connected: 84 units, each a weighted sum of all 120 C5 values, then tanh. One row per unit.",
    "output": "Ten scores, one per digit, each a weighted sum of the 84 F6 values. The largest wins; "
    "the bars turn the scores into probabilities (softmax). Here each score is divided by the "
    "largest, so the winner is full red.",
}

#: Stage -> what the "What the network sees" tile shows.
STAGES = {
    "cropped": "Your ink, cut to its bounding box, drawn with the pen you see.",
    "fitted": "The ink fitted into 20×20 pixels, keeping its proportions, and redrawn with a pen as thick "
    "as MNIST's: the size you drew at no longer matters.",
    "centred": "The 20×20 placed in a 28×28 field so that the ink's centre of mass (the red cross) is in "
    "the middle, as in every MNIST digit.",
    "input": "The 28×28 field with a 2-pixel border: the 32×32 image LeNet-5 reads. The red cross is "
    "the ink's centre of mass.",
}

#: Under the colour bar (its tooltip is COLOUR).
LEGEND = "unit values; output: score ÷ largest"

PREDICTION = (
    "The digit the network reads, how sure it is, and the probability of each of the ten digits "
    f"(they add up to 100%). In orange with a “?” when the network is unsure: its best guess has "
    f"less than {UNSURE_BELOW:.0%}, as for a scribble or a digit written unlike any it learned."
)

KERNELS = (
    "The learned weights themselves: C1's six 5×5 kernels, and C3's sixteen kernels over each of "
    "the six S2 maps (row: input map, column: output map). Red weights add where the input is ink, "
    "blue ones subtract."
)


def tour_html() -> str:
    """The Help page "What am I looking at?"."""
    rows = "".join(f"<li><b>{name}</b>: {text}</li>" for name, text in LAYERS.items())
    stages = "".join(
        f"<li><b>{title}</b>: {STAGES[key]}</li>"
        for key, title in (
            ("cropped", "Ink cropped"),
            ("fitted", "Fitted 20×20"),
            ("centred", "Centred 28×28"),
            ("input", "Input 32×32"),
        )
    )
    return (
        "<p>Draw a digit in the white pad. LeNet-5 reads it while you draw.</p>"
        f"<p><b>Prediction</b>: {PREDICTION}</p>"
        f"<p><b>What the network sees</b>: your drawing made into the kind of image LeNet-5 was "
        f"trained on (MNIST):</p><ul>{stages}</ul>"
        "<p><b>Inside the network</b>: what each layer computes from that image, left to right. "
        f"{COLOUR}</p><ul>{rows}</ul>"
        "<p>Hover over a map to see it enlarged with its values; click it to keep it there. "
        f"<b>Learned kernels</b> (K): {KERNELS}</p>"
    )
