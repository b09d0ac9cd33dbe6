"""Simulated writers: people whose handwriting the base weights misread in the same way each time.

A writer is a name and a sequence of (strokes, label) in pad units, in the order they write
them. Writers come from *sources*, registered by name in ``SOURCES``: a function of a seed that
returns writers. Two sources live here:

- ``traced``: MNIST test digits traced into pen strokes (``pentrace``), each writer with one
  consistent slant and width and one habit the base weights read wrong on some digits
  (European ones with a long flag, crossed sevens, slashed zeros, ...);
- ``hand``: the hand-authored digits of ``sample_digits`` drawn with the same habits and each
  writer's own small variations.

Another module can add a source (``register("styles", fn)``) without touching this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from lenet_draw.personalise import vary
from lenet_draw.sample_digits import DIGIT_STROKES

Strokes = list[np.ndarray]


@dataclass(frozen=True)
class Writer:
    name: str
    digits: list[tuple[Strokes, int]]  # in writing order; strokes in pad units


# ----------------------------------------------------------------------------- habits


def _box(strokes: Strokes) -> tuple[np.ndarray, np.ndarray]:
    a = np.concatenate(strokes)
    return a.min(axis=0), a.max(axis=0)


def _line(p, q, n: int = 24) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    return np.asarray(p, dtype=np.float64) * (1 - t) + np.asarray(q, dtype=np.float64) * t


def european_one(strokes: Strokes) -> Strokes:
    """A 1 with a long flag down to the left from its top."""
    lo, hi = _box(strokes)
    h = hi[1] - lo[1]
    top = min((s[np.argmin(s[:, 1])] for s in strokes), key=lambda p: p[1])
    return [_line(top + (-0.45 * h, 0.38 * h), top)] + strokes


def crossed_seven(strokes: Strokes) -> Strokes:
    """A 7 with a bar across its stem at mid-height."""
    lo, hi = _box(strokes)
    w, h = hi - lo
    y = lo[1] + 0.55 * h
    pts = np.concatenate(strokes)
    near = pts[np.abs(pts[:, 1] - y) < 0.12 * h]
    x = float(near[:, 0].mean()) if len(near) else (lo[0] + hi[0]) / 2
    return strokes + [_line((x - 0.35 * max(w, 0.5 * h), y), (x + 0.35 * max(w, 0.5 * h), y))]


def slashed_zero(strokes: Strokes) -> Strokes:
    """A 0 with a slash from bottom left to top right."""
    lo, hi = _box(strokes)
    w, h = hi - lo
    return strokes + [_line((lo[0] - 0.05 * w, hi[1] + 0.05 * h), (hi[0] + 0.05 * w, lo[1] - 0.05 * h))]


def underlined_four(strokes: Strokes) -> Strokes:
    """A 4 with a closed top: a stroke joining the arm's top to the stem's top."""
    lo, hi = _box(strokes)
    w, h = hi - lo
    return strokes + [_line((lo[0] + 0.1 * w, lo[1] + 0.1 * h), (hi[0] - 0.15 * w, lo[1]))]


def hooked_nine(strokes: Strokes) -> Strokes:
    """A 9 whose tail curls to the left at the bottom."""
    lo, hi = _box(strokes)
    w, h = hi - lo
    bottom = max((s[np.argmax(s[:, 1])] for s in strokes), key=lambda p: p[1])
    t = np.linspace(0, np.pi * 0.9, 20)
    r = 0.25 * max(w, 0.4 * h)
    curl = np.stack([bottom[0] - r + r * np.cos(t), bottom[1] - 0.6 * r * np.sin(t)], axis=1)
    return strokes + [curl]


#: A habit: which digit it changes and how.
HABITS: dict[str, tuple[int, Callable[[Strokes], Strokes]]] = {
    "European 1": (1, european_one),
    "crossed 7": (7, crossed_seven),
    "slashed 0": (0, slashed_zero),
    "closed 4": (4, underlined_four),
    "hooked 9": (9, hooked_nine),
}


#: The habits the bundled weights read wrong (a crossed 7 and a hooked 9 they mostly read right).
MISREAD = ("European 1", "slashed 0", "closed 4")


def _hand(strokes: Strokes, slant: float, aspect: float) -> Strokes:
    """One writer's consistent slant and width, about the drawing's centre, in pad units."""
    lo, hi = _box(strokes)
    c = (lo + hi) / 2
    m = np.array([[aspect, -slant], [0.0, 1.0]])
    return [(s - c) @ m.T + c for s in strokes]


def _to_pad(strokes: Strokes, size: float, centre: tuple[float, float]) -> Strokes:
    lo, hi = _box(strokes)
    k = size / max(float((hi - lo).max()), 1e-6)
    mid = (lo + hi) / 2
    return [(s - mid) * k + np.asarray(centre) for s in strokes]


# ----------------------------------------------------------------------------- sources


def traced_writers(seed: int = 0, count: int = 10, per_writer: int = 40, habits_each: int = 2) -> list[Writer]:
    """Writers made of traced MNIST test digits (from index 5,000 on, away from the proxy's)."""
    from lenet_draw.training.data import default_data_dir, load_split
    from lenet_draw.training.pentrace import thin, trace

    folder = default_data_dir()
    if folder is None:
        raise FileNotFoundError("MNIST not found: the traced writers need its test digits.")
    split = load_split(folder, "test")
    rng = np.random.default_rng([seed, 2])
    names = list(MISREAD)
    writers = []
    for w in range(count):
        habits = [names[(w + k) % len(names)] for k in range(habits_each)]
        styled = {HABITS[h][0]: HABITS[h][1] for h in habits}
        # Half the writer's digits show a habit, the rest are ordinary digits.
        labels = [int(d) for d in rng.choice(list(styled), per_writer // 2)] + [
            int(d) for d in rng.integers(0, 10, per_writer - per_writer // 2)
        ]
        rng.shuffle(labels)
        slant, aspect = rng.uniform(-0.25, 0.25), rng.uniform(0.8, 1.15)
        pool = {d: list(np.flatnonzero(split.labels[5000:] == d) + 5000) for d in set(labels)}
        digits = []
        for d in labels:
            idx = int(pool[d].pop(int(rng.integers(len(pool[d])))))
            strokes = trace(thin(split.images[idx]))
            if not strokes:
                continue
            if d in styled:
                strokes = styled[d](strokes)
            strokes = _hand(_to_pad(strokes, rng.uniform(0.45, 0.7), (0.5, 0.5)), slant, aspect)
            digits.append((strokes, d))
        writers.append(Writer(f"traced writer {w + 1} ({', '.join(habits)})", digits))
    return writers


def hand_writers(seed: int = 0, count: int = 5, per_writer: int = 40) -> list[Writer]:
    """Writers made of the hand-authored digits, each with one habit and their own variation."""
    rng = np.random.default_rng([seed, 3])
    names = list(MISREAD)
    writers = []
    for w in range(count):
        habit = names[w % len(names)]
        digit, fn = HABITS[habit]
        slant, aspect = rng.uniform(-0.25, 0.25), rng.uniform(0.8, 1.15)
        labels = [digit] * (per_writer // 2) + [int(d) for d in rng.integers(0, 10, per_writer - per_writer // 2)]
        rng.shuffle(labels)
        digits = []
        for d in labels:
            strokes = [np.asarray(s, dtype=np.float64) for s in DIGIT_STROKES[d]]
            if d == digit:
                strokes = fn(strokes)
            strokes = _hand(vary(strokes, rng, strength=0.8), slant, aspect)
            digits.append((strokes, d))
        writers.append(Writer(f"hand-drawn writer {w + 1} ({habit})", digits))
    return writers


SOURCES: dict[str, Callable[..., list[Writer]]] = {"traced": traced_writers, "hand": hand_writers}


def register(name: str, source: Callable[..., list[Writer]]) -> None:
    """Add a source of writers (a function of ``seed`` returning a list of Writer)."""
    SOURCES[name] = source
