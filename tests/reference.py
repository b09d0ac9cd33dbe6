"""Reference values the tests compare the product with, computed without the product's code:
a LeNet-5 forward pass written from the weights with plain torch ops, and the colours and greys
a person is meant to see, as fixed numbers."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

#: The feature maps' colour scale (ColorBrewer RdBu, reversed): value -> RGB, linear between.
MAP_COLOURS = [
    (-1.0, (33, 102, 172)),  # -1: the maps' blue
    (-0.5, (103, 169, 207)),
    (-0.2, (209, 229, 240)),
    (0.0, (247, 247, 247)),  # 0: white
    (0.2, (253, 219, 199)),
    (0.5, (239, 138, 98)),
    (1.0, (178, 24, 43)),  # +1: the maps' red
]

#: The answer's colours: the big digit and the top bar when sure, when unsure; the other bars;
#: the bars' empty track.
SURE = (0x1C, 0x7E, 0xD6)
UNSURE = (0xF0, 0x8C, 0x00)
OTHER_BAR = (0xA5, 0xD8, 0xFF)
TRACK = (0xE9, 0xEC, 0xEF)


def map_colour(value: float) -> tuple[float, float, float]:
    """The colour a map cell of ``value`` (already divided by its scale) should have."""
    v = float(np.clip(value, -1.0, 1.0))
    pos = [p for p, _ in MAP_COLOURS]
    return tuple(float(np.interp(v, pos, [c[k] for _, c in MAP_COLOURS])) for k in range(3))


def stage_grey(value: float) -> int:
    """The grey of a stage pixel: ink 1 white (255), no ink black (0), linear between, halves
    rounded up."""
    return int(np.floor(float(np.clip(value, 0.0, 1.0)) * 255 + 0.5))


def independent_forward(weights, image: np.ndarray) -> dict[str, np.ndarray]:
    """LeNet-5 as the paper describes it, from the state_dict in float64: conv, tanh, 2x2 mean,
    conv, tanh, 2x2 mean, conv (5x5 on 5x5: a full connection), tanh, linear, tanh, linear."""
    sd = {k: v.detach().double().cpu() for k, v in weights.state_dict.items()}
    conv = weights.convention
    x = torch.as_tensor(np.asarray(image), dtype=torch.float64)[None, None]
    if conv.ink == "dark":
        x = 1.0 - x
    x = (x * conv.scale - conv.mean) / conv.std
    out = {}
    out["C1"] = x = torch.tanh(F.conv2d(x, sd["c1.weight"], sd["c1.bias"]))
    out["S2"] = x = F.avg_pool2d(x, 2)
    out["C3"] = x = torch.tanh(F.conv2d(x, sd["c3.weight"], sd["c3.bias"]))
    out["S4"] = x = F.avg_pool2d(x, 2)
    out["C5"] = x = torch.tanh(F.conv2d(x, sd["c5.weight"], sd["c5.bias"]).flatten(1))
    out["F6"] = x = torch.tanh(x @ sd["f6.weight"].T + sd["f6.bias"])
    out["output"] = x @ sd["output.weight"].T + sd["output.bias"]
    return {k: v[0].numpy() for k, v in out.items()}


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(np.asarray(logits, dtype=np.float64) - np.max(logits))
    return z / z.sum()
