"""Random scribbles and letters: drawings that are no digit.

Training shows them to the network with "no class" as the target (outlier exposure), so a
scribble or a letter ends in a low top probability, which the app shows as unsure, instead
of a confident digit. Letters that are also a way of writing a digit (O, I, S, Z, T, B, H ...) are
left out: teaching the network to doubt them would teach it to doubt those digits.
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


#: Capital letters as pen strokes in a unit box (x right, y down).
LETTERS: dict[str, list[list[tuple[float, float]]]] = {
    "A": [[(0.0, 1.0), (0.5, 0.0), (1.0, 1.0)], [(0.22, 0.6), (0.78, 0.6)]],
    "E": [[(0.9, 0.0), (0.1, 0.0), (0.1, 1.0), (0.9, 1.0)], [(0.1, 0.5), (0.7, 0.5)]],
    "F": [[(0.9, 0.0), (0.1, 0.0), (0.1, 1.0)], [(0.1, 0.48), (0.7, 0.48)]],
    "K": [[(0.1, 0.0), (0.1, 1.0)], [(0.85, 0.0), (0.1, 0.6)], [(0.35, 0.42), (0.9, 1.0)]],
    "M": [[(0.0, 1.0), (0.08, 0.0), (0.5, 0.7), (0.92, 0.0), (1.0, 1.0)]],
    "N": [[(0.1, 1.0), (0.1, 0.0), (0.9, 1.0), (0.9, 0.0)]],
    "R": [
        [(0.15, 1.0), (0.15, 0.0), (0.65, 0.0), (0.85, 0.12), (0.85, 0.35), (0.65, 0.5), (0.15, 0.5)],
        [(0.45, 0.5), (0.9, 1.0)],
    ],
    "W": [[(0.0, 0.0), (0.22, 1.0), (0.5, 0.35), (0.78, 1.0), (1.0, 0.0)]],
    "X": [[(0.0, 0.0), (1.0, 1.0)], [(1.0, 0.0), (0.0, 1.0)]],
    "Y": [[(0.0, 0.0), (0.5, 0.5), (1.0, 0.0)], [(0.5, 0.5), (0.5, 1.0)]],
}


def _letter(rng: np.random.Generator) -> list[np.ndarray]:
    """A capital letter as a person might draw it: wobbly corners, any width and slant."""
    name = list(LETTERS)[int(rng.integers(len(LETTERS)))]
    width, slant = rng.uniform(0.5, 1.2), rng.uniform(-0.3, 0.3)
    out = []
    for stroke in LETTERS[name]:
        pts = np.asarray(stroke, dtype=np.float64) + rng.normal(0, 0.04, (len(stroke), 2))
        pts[:, 0] = pts[:, 0] * width + slant * (1 - pts[:, 1])
        out.append(pts)
    return out


# (Loops are left out: two of them already make an 8.)
_KINDS = (_walk, _hatch, _splash, _letter, _letter, _letter)


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
