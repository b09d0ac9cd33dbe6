"""Random scribbles: drawings that are no digit.

Training shows them to the network with "no class" as the target (outlier exposure), so a
scribble ends in a low top probability, which the app shows as unsure, instead of a
confident digit.
"""

from __future__ import annotations

import numpy as np

from lenet_draw.preprocess import preprocess_strokes


def _walk(rng: np.random.Generator) -> list[np.ndarray]:
    """A pen wandering with sharp turns."""
    n = int(rng.integers(12, 40))
    angles = np.cumsum(rng.uniform(-2.6, 2.6, n))
    steps = rng.uniform(0.3, 1.0, n)[:, None] * np.c_[np.cos(angles), np.sin(angles)]
    return [np.cumsum(steps, axis=0)]


def _hatch(rng: np.random.Generator) -> list[np.ndarray]:
    """Back-and-forth strokes, as when crossing something out."""
    m = int(rng.integers(5, 12))
    slope = rng.uniform(-1, 1)
    ys = np.linspace(0, 1, m) + rng.normal(0, 0.03, m)
    xs = np.where(np.arange(m) % 2 == 0, 0.0, 1.0) + rng.normal(0, 0.05, m)
    return [np.c_[xs, ys + slope * xs * 0.3]]


def _splash(rng: np.random.Generator) -> list[np.ndarray]:
    """Many short dashes in random directions."""
    out = []
    for _ in range(int(rng.integers(6, 15))):
        p = rng.uniform(0, 1, 2)
        d = rng.normal(0, 0.15, 2)
        out.append(np.stack([p, p + d]))
    return out


# (Loops are left out: two of them already make an 8.)
_KINDS = (_walk, _hatch, _splash)


def scribble(rng: np.random.Generator) -> list[np.ndarray]:
    return _KINDS[int(rng.integers(len(_KINDS)))](rng)


def scribble_images(count: int, seed: int = 0) -> np.ndarray:
    """(count, 28, 28) uint8 scribbles rendered as the app renders a drawing."""
    rng = np.random.default_rng(seed)
    out = np.zeros((count, 28, 28), dtype=np.uint8)
    for i in range(count):
        stages = preprocess_strokes(scribble(rng), crop_view=False)
        if stages is not None:
            out[i] = np.round(stages.centred * 255).astype(np.uint8)
    return out
