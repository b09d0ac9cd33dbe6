"""Synthetic digits drawn as a person draws them: strokes in pad units ((0, 0) top left, (1, 1)
bottom right, y down), densely sampled like a mouse following a steady hand.

The one library of such shapes: the self-test, the GUI tests, the bench and the screenshot all
draw these. No torch, no Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

Point = tuple[float, float]


def resample(points: Sequence[Point], step: float = 0.008) -> list[Point]:
    """Points along the polyline about ``step`` apart, like a mouse sampling a steady hand."""
    a = np.asarray(points, dtype=np.float64)
    out = [a[0]]
    for p, q in zip(a[:-1], a[1:]):
        n = max(1, int(math.ceil(np.hypot(*(q - p)) / step)))
        out += [p + (q - p) * (k / n) for k in range(1, n + 1)]
    return [(float(x), float(y)) for x, y in out]


def arc(cx: float, cy: float, rx: float, ry: float, start_deg: float, end_deg: float, n: int = 60) -> list[Point]:
    """An elliptic arc; angles in degrees, 0 = right, 90 = down (screen coordinates)."""
    t = np.radians(np.linspace(start_deg, end_deg, n))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in t]


@dataclass(frozen=True)
class Drawing:
    digit: int
    how: str  # how a person draws it, for reports
    strokes: tuple[tuple[Point, ...], ...]


def _shapes() -> dict[int, tuple[str, list[list[Point]]]]:
    eight_t = np.linspace(0, 2 * np.pi, 120)
    return {
        0: ("one oval stroke", [arc(0.5, 0.5, 0.21, 0.32, -90, 275)]),
        1: ("one slanted downstroke", [[(0.53, 0.17), (0.47, 0.83)]]),
        2: ("arc, diagonal, base", [arc(0.5, 0.35, 0.19, 0.16, 190, 370) + [(0.3, 0.8), (0.72, 0.8)]]),
        3: ("two bows", [arc(0.47, 0.34, 0.2, 0.15, 210, 450) + arc(0.47, 0.65, 0.22, 0.17, -90, 145)]),
        4: ("open four, two strokes", [[(0.35, 0.18), (0.29, 0.56), (0.72, 0.56)], [(0.62, 0.2), (0.61, 0.84)]]),
        5: (
            "stem and bowl, flag added last",
            [[(0.36, 0.2), (0.33, 0.47)] + arc(0.49, 0.62, 0.19, 0.18, -130, 150), [(0.36, 0.2), (0.7, 0.2)]],
        ),
        6: (
            "one stroke, loop at the bottom",
            [[(0.64, 0.17), (0.48, 0.3), (0.37, 0.48)] + arc(0.52, 0.64, 0.17, 0.18, 180, 540)],
        ),
        7: ("bar and diagonal, one stroke", [[(0.28, 0.2), (0.72, 0.2), (0.44, 0.84)]]),
        8: (
            "one figure-of-eight stroke",
            [[(0.5 + 0.17 * math.sin(2 * t), 0.5 + 0.31 * math.sin(t)) for t in eight_t]],
        ),
        9: ("loop, then the stem", [arc(0.48, 0.35, 0.17, 0.16, 0, -360) + [(0.65, 0.35), (0.62, 0.84)]]),
    }


#: One drawing per digit, 0 to 9.
DRAWINGS: tuple[Drawing, ...] = tuple(
    Drawing(d, how, tuple(tuple(resample(s)) for s in strokes)) for d, (how, strokes) in sorted(_shapes().items())
)

#: The same, as lists of strokes by digit.
DIGIT_STROKES: dict[int, list[list[Point]]] = {d.digit: [list(s) for s in d.strokes] for d in DRAWINGS}


def wavy_stroke(n: int = 400, seed: int = 0) -> list[Point]:
    """A long, real-looking scribble of ``n`` points (for latency and coalescing checks)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n)
    x = 0.5 + 0.3 * np.sin(2 * np.pi * 1.5 * t) + rng.normal(0, 0.002, n)
    y = 0.2 + 0.6 * t + 0.05 * np.sin(2 * np.pi * 5 * t)
    return [(float(a), float(b)) for a, b in zip(x, y)]


def pressure_wiggle(n: int, waves: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
    """A long pen stroke of ``n`` points across the pad, ``waves`` radians of sine up and down,
    its pressure rising and falling between 0.3 and 0.9: points (n, 2) and pressures (n,)."""
    t = np.linspace(0, 1, n)
    return np.column_stack([0.2 + 0.6 * t, 0.5 + 0.3 * np.sin(t * waves)]), 0.3 + 0.6 * np.abs(np.sin(t * 17))
