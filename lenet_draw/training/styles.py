"""Ways of writing digits that MNIST hardly has, drawn as pen strokes with random geometry.

MNIST's digits were written by American census staff and students. Much of the world writes
some digits otherwise: a zero with a slash through it (programmers, Scandinavia), a one with a
long up-stroke flag (most of continental Europe) or with a flag and a base serif (the printed
form), a seven with a crossbar through its stem (continental Europe, often with a hooked top),
a four closed at the top or written open in two strokes, a nine with a straight stem or a curled
tail, a two with a loop at its foot. Each style here is a named generator of pen strokes in a
unit box (x right, y down, the digit about 1 tall); the drawings are rendered by the app's own
preprocessing, exactly as a drawing on the canvas is, and mixed into training.

The line between a one with a flag and a seven is drawn on purpose. A one's flag rises steeply
(at least 35 degrees from the horizontal) to the top of an upright stem; a seven's top bar is
near level (within 12 degrees) and longer. Between the two (a flag at 16-28 degrees to an upright
stem) a reader cannot tell, and the ``one or seven`` drawings teach the network to say so: their
target is half 1, half 7, so the app shows them as unsure instead of confidently wrong.

Two parameter sets: ``TRAIN`` and ``TEST``. The test set uses other seeds *and* other ranges:
wider slant, width and wobble, and each style's own parameters drawn from intervals reaching
beyond training's (except the bounds that separate one digit from another), so it measures
whether the network learned the style, not the generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from lenet_draw.preprocess import preprocess_strokes

Strokes = list[np.ndarray]


@dataclass(frozen=True)
class Ranges:
    """How a whole drawing varies: the hand's slant, the digit's width, the pen's wobble."""

    name: str
    slant: tuple[float, float]  # shear of x per unit of height (positive leans right)
    width: tuple[float, float]  # scale of x
    rotate_deg: float
    wobble: tuple[float, float]  # amplitude of the pen's low-frequency tremor, in digit heights
    #: Style parameters are drawn from their interval widened by this share on each side
    #: (bounds that separate two digits are never widened).
    widen: float = 0.0

    def u(self, rng: np.random.Generator, lo: float, hi: float, hard: bool = False) -> float:
        """A style parameter in [lo, hi], widened unless ``hard``."""
        if not hard and self.widen:
            pad = (hi - lo) * self.widen
            lo, hi = lo - pad, hi + pad
        return float(rng.uniform(lo, hi))


TRAIN = Ranges("train", slant=(-0.15, 0.35), width=(0.8, 1.2), rotate_deg=8.0, wobble=(0.0, 0.015))
TEST = Ranges("test", slant=(-0.25, 0.45), width=(0.7, 1.3), rotate_deg=12.0, wobble=(0.005, 0.025), widen=0.2)


# --------------------------------------------------------------------------- pen primitives
def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 40) -> np.ndarray:
    """Points on an ellipse from angle a0 to a1 (degrees, 0 = right, 90 = down)."""
    t = np.radians(np.linspace(a0, a1, n))
    return np.c_[cx + rx * np.cos(t), cy + ry * np.sin(t)]


def _line(*points: tuple[float, float]) -> np.ndarray:
    return np.asarray(points, dtype=np.float64)


def _join(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate([np.atleast_2d(p) for p in parts])


def _sign(rng: np.random.Generator) -> int:
    return 1 if rng.random() < 0.5 else -1


# --------------------------------------------------------------------------- the styles
def slashed_zero(rng: np.random.Generator, r: Ranges) -> Strokes:
    """An oval with a separate slash through it, crossing beyond the ring at both ends."""
    rx, ry = r.u(rng, 0.24, 0.38), 0.5
    start = r.u(rng, -120, -60)
    direction = _sign(rng)
    ring = _arc(0.5, 0.5, rx, ry, start, start + direction * r.u(rng, 360, 385), 60)
    ang = math.radians(r.u(rng, 35, 80)) * (1 if rng.random() < 0.8 else -1)
    out1, out2 = r.u(rng, 0.0, 0.25), r.u(rng, 0.0, 0.25)
    d = np.array([math.cos(ang), -math.sin(ang)])
    # the ring's "radius" along d, so the slash reaches its edge whatever the angle
    reach = 1.0 / math.sqrt((d[0] / rx) ** 2 + (d[1] / ry) ** 2)
    c = np.array([0.5, 0.5])
    slash = _line(tuple(c - d * reach * (1 + out1)), tuple(c + d * reach * (1 + out2)))
    if rng.random() < 0.3:
        slash = slash[::-1]
    return [ring, slash]


def zero_slash_in_one_stroke(rng: np.random.Generator, r: Ranges) -> Strokes:
    """An oval drawn from its top right, closed, then carried on straight through itself and out."""
    rx, ry = r.u(rng, 0.24, 0.38), 0.5
    start = r.u(rng, -60, -30)
    ring = _arc(0.5, 0.5, rx, ry, start, start - 360, 60)  # counter-clockwise, as most people
    end = ring[-1]
    through = np.array([0.5, 0.5]) + (np.array([0.5, 0.5]) - end) * (1 + r.u(rng, 0.05, 0.3))
    return [_join(ring, through)]


def flagged_one(rng: np.random.Generator, r: Ranges) -> Strokes:
    """A one with a long up-stroke flag rising steeply to the top of an upright stem."""
    length = r.u(rng, 0.22, 0.55)
    ang = math.radians(r.u(rng, 35, 70, hard=True))
    top = np.array([0.5, 0.0])
    flag_start = top + np.array([-math.cos(ang), math.sin(ang)]) * length
    stem = _line(tuple(top), (0.5 + r.u(rng, -0.05, 0.05), 1.0))
    return [_join(flag_start, stem)]


def serif_one(rng: np.random.Generator, r: Ranges) -> Strokes:
    """The printed one: a short flag, an upright stem and a bar across its foot."""
    length = r.u(rng, 0.15, 0.4)
    ang = math.radians(r.u(rng, 30, 65, hard=True))
    top = np.array([0.5, 0.0])
    flag_start = top + np.array([-math.cos(ang), math.sin(ang)]) * length
    stem = _join(flag_start, top, _line((0.5, 1.0)))
    half = r.u(rng, 0.15, 0.35)
    shift = r.u(rng, -0.05, 0.05)
    base = _line((0.5 - half + shift, 1.0 + r.u(rng, -0.02, 0.02)), (0.5 + half + shift, 1.0 + r.u(rng, -0.02, 0.02)))
    if rng.random() < 0.25:  # flag, stem and base in one stroke: down, then left, then right
        return [_join(stem, _line((0.5 - half + shift, 1.0), (0.5 + half + shift, 1.0)))]
    return [stem, base]


def crossed_seven(rng: np.random.Generator, r: Ranges) -> Strokes:
    """A seven with a bar across its stem, with or without a hooked top."""
    left, right = 0.5 - r.u(rng, 0.22, 0.35), 0.5 + r.u(rng, 0.2, 0.32)
    tilt = math.tan(math.radians(r.u(rng, -5, 10, hard=True))) * (right - left)
    foot = (r.u(rng, 0.3, 0.55), 1.0)
    parts = []
    if rng.random() < 0.5:  # hooked top: a short down-tick before the bar
        parts.append(_line((left + r.u(rng, -0.02, 0.03), r.u(rng, 0.08, 0.2) + tilt)))
    parts.append(_line((left, tilt), (right, 0.0)))
    bend = r.u(rng, -0.05, 0.05)
    mid = ((right + foot[0]) / 2 + bend, 0.5)
    parts.append(_line(mid, foot))
    top = [_join(*parts)]
    y = r.u(rng, 0.4, 0.6)
    t = y  # where the stem is at that height (it runs from (right, 0) to the foot)
    sx = right + (foot[0] - right) * t
    half = r.u(rng, 0.12, 0.25)
    cross = _line((sx - half, y + r.u(rng, -0.03, 0.03)), (sx + half * r.u(rng, 0.7, 1.2), y + r.u(rng, -0.03, 0.03)))
    return top + [cross]


def closed_four(rng: np.random.Generator, r: Ranges) -> Strokes:
    """A four whose diagonal meets the stem at the top: a closed triangle."""
    sx = 0.5 + r.u(rng, 0.05, 0.2)
    bar_y = r.u(rng, 0.55, 0.72)
    left = sx - r.u(rng, 0.4, 0.6)
    right = sx + r.u(rng, 0.1, 0.25)
    tri = _line((sx, 0.0), (left, bar_y), (right, bar_y + r.u(rng, -0.03, 0.03)))
    stem = _line((sx + r.u(rng, -0.02, 0.02), r.u(rng, -0.05, 0.02)), (sx + r.u(rng, -0.06, 0.04), 1.0))
    if rng.random() < 0.3:  # stem first, then the triangle
        return [stem, tri]
    return [tri, stem]


def open_four(rng: np.random.Generator, r: Ranges) -> Strokes:
    """A four in two strokes, open at the top: an L, then the stem down through its bar."""
    lx = 0.5 - r.u(rng, 0.2, 0.35)
    bar_y = r.u(rng, 0.5, 0.65)
    sx = 0.5 + r.u(rng, 0.05, 0.2)
    right = sx + r.u(rng, 0.08, 0.22)
    ell = _line((lx + r.u(rng, -0.05, 0.08), r.u(rng, 0.0, 0.08)), (lx, bar_y), (right, bar_y + r.u(rng, -0.04, 0.03)))
    stem = _line((sx + r.u(rng, -0.04, 0.04), r.u(rng, 0.0, 0.2)), (sx + r.u(rng, -0.06, 0.04), 1.0))
    return [ell, stem]


def _nine_loop(rng: np.random.Generator, r: Ranges) -> tuple[np.ndarray, float, float]:
    rx, ry = r.u(rng, 0.2, 0.3), r.u(rng, 0.17, 0.25)
    cx, cy = 0.5, ry
    loop = _arc(cx, cy, rx, ry, r.u(rng, -20, 20), -340, 50)  # from the right, counter-clockwise
    return loop, cx + rx, cy


def straight_nine(rng: np.random.Generator, r: Ranges) -> Strokes:
    """A loop, then a straight upright stem from its right side down."""
    loop, sx, sy = _nine_loop(rng, r)
    stem = _line((sx, sy), (sx + r.u(rng, -0.06, 0.03), 1.0))
    return [_join(loop, stem)]


def curled_nine(rng: np.random.Generator, r: Ranges) -> Strokes:
    """A loop, then a stem that curls to the left at its foot."""
    loop, sx, sy = _nine_loop(rng, r)
    curl_r = r.u(rng, 0.1, 0.2)
    stem = _line((sx, sy), (sx, 1.0 - curl_r))
    curl = _arc(sx - curl_r, 1.0 - curl_r, curl_r, curl_r, 0, r.u(rng, 110, 170), 20)
    return [_join(loop, stem, curl)]


def looped_two(rng: np.random.Generator, r: Ranges) -> Strokes:
    """A two with a small loop where the diagonal meets the base."""
    rx, ry = r.u(rng, 0.25, 0.35), r.u(rng, 0.2, 0.28)
    top = _arc(0.5, ry, rx, ry, r.u(rng, 180, 215), 360 + r.u(rng, 10, 40), 30)
    loop_r = r.u(rng, 0.08, 0.15)
    lx = 0.5 - r.u(rng, 0.15, 0.3)
    # down the diagonal to the loop's upper left, round it (left, foot, right, top), out along the base
    loop = _arc(lx, 1.0 - loop_r, loop_r, loop_r * 1.1, 225, -270, 24)
    base = _line((lx + loop_r, 1.0), (0.5 + r.u(rng, 0.2, 0.35), 1.0 + r.u(rng, -0.04, 0.02)))
    return [_join(top, loop, base)]


def one_or_seven(rng: np.random.Generator, r: Ranges) -> Strokes:
    """The ambiguous middle: a flag between a one's steep one and a seven's level bar, to an
    upright stem. No reader can tell; the target is half 1, half 7."""
    length = r.u(rng, 0.3, 0.5, hard=True)
    ang = math.radians(r.u(rng, 16, 28, hard=True))
    top = np.array([0.5, 0.0])
    flag_start = top + np.array([-math.cos(ang), math.sin(ang)]) * length
    stem = _line(tuple(top), (0.5 + r.u(rng, -0.1, 0.0, hard=True), 1.0))
    return [_join(flag_start, stem)]


@dataclass(frozen=True)
class Style:
    name: str
    label: int  # the digit it is; -1 for the ambiguous middle (target in ``target``)
    make: Callable[[np.random.Generator, Ranges], Strokes]
    target: tuple[tuple[int, float], ...] = ()

    def target_vector(self) -> np.ndarray:
        v = np.zeros(10, dtype=np.float32)
        for d, p in self.target or ((self.label, 1.0),):
            v[d] = p
        return v


STYLES: tuple[Style, ...] = (
    Style("slashed zero", 0, slashed_zero),
    Style("zero, slash in one stroke", 0, zero_slash_in_one_stroke),
    Style("one with a long flag", 1, flagged_one),
    Style("one with flag and base", 1, serif_one),
    Style("crossed seven", 7, crossed_seven),
    Style("closed four", 4, closed_four),
    Style("open four", 4, open_four),
    Style("nine, straight stem", 9, straight_nine),
    Style("nine, curled tail", 9, curled_nine),
    Style("looped two", 2, looped_two),
)
#: Drawings no reader can assign; trained towards their mixed target, never tested for a digit.
AMBIGUOUS: tuple[Style, ...] = (Style("one or seven", -1, one_or_seven, target=((1, 0.5), (7, 0.5))),)
BY_NAME = {s.name: s for s in STYLES + AMBIGUOUS}


# --------------------------------------------------------------------------- a person's hand
def _densify(stroke: np.ndarray, step: float = 0.01) -> np.ndarray:
    if len(stroke) < 2:
        return stroke
    seg = np.sqrt((np.diff(stroke, axis=0) ** 2).sum(axis=1))
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(2, int(arc[-1] / step) + 1)
    t = np.linspace(0, arc[-1], n)
    return np.c_[np.interp(t, arc, stroke[:, 0]), np.interp(t, arc, stroke[:, 1])]


def hand(strokes: Strokes, rng: np.random.Generator, r: Ranges) -> Strokes:
    """Slant, width, a small rotation and a wobbling pen, as a person's hand gives a shape."""
    slant = rng.uniform(*r.slant)
    width = rng.uniform(*r.width)
    a = math.radians(rng.uniform(-r.rotate_deg, r.rotate_deg))
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    amp = rng.uniform(*r.wobble)
    out = []
    for s in strokes:
        p = _densify(np.asarray(s, dtype=np.float64))
        p = p - 0.5
        p[:, 0] = p[:, 0] * width - slant * p[:, 1]
        p = p @ rot.T
        if amp > 0 and len(p) > 1:
            t = np.linspace(0, 1, len(p))[:, None]
            freq = rng.uniform(0.5, 2.5, (1, 2))
            phase = rng.uniform(0, 2 * math.pi, (1, 2))
            p = p + amp * np.sin(2 * math.pi * freq * t + phase)
        out.append(p + 0.5)
    return out


def draw(style: Style, rng: np.random.Generator, r: Ranges = TRAIN) -> Strokes:
    return hand(style.make(rng, r), rng, r)


def render(strokes: Strokes) -> np.ndarray:
    """A drawing as the app renders it: the 28x28 field, uint8, ink 255."""
    stages = preprocess_strokes(strokes, crop_view=False)
    if stages is None:
        return np.zeros((28, 28), dtype=np.uint8)
    return np.round(stages.centred * 255).astype(np.uint8)


@dataclass(frozen=True)
class Sample:
    style: str
    label: int
    strokes: Strokes


def style_set(per_style: int, seed: int, r: Ranges = TEST) -> list[Sample]:
    """``per_style`` drawings of each (non-ambiguous) style, for measuring."""
    rng = np.random.default_rng(seed)
    return [Sample(s.name, s.label, draw(s, rng, r)) for s in STYLES for _ in range(per_style)]


def style_images(count: int, seed: int, ambiguous_share: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """(count, 28, 28) uint8 drawings in the styles, and their (count, 10) target distributions.

    Every style equally often, and ``ambiguous_share`` of them from the ambiguous middle."""
    rng = np.random.default_rng(seed)
    images = np.zeros((count, 28, 28), dtype=np.uint8)
    targets = np.zeros((count, 10), dtype=np.float32)
    for i in range(count):
        if rng.random() < ambiguous_share:
            style = AMBIGUOUS[int(rng.integers(len(AMBIGUOUS)))]
        else:
            style = STYLES[int(rng.integers(len(STYLES)))]
        images[i] = render(draw(style, rng, TRAIN))
        targets[i] = style.target_vector()
    return images, targets
