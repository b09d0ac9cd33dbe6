"""What a reading tolerates: the current drawing changed step by step, and each class's
probability against the change.

Changes:

- ``rotation``: the drawing turned by -60..60 degrees (clockwise on the screen for positive
  angles) before preprocessing, as if drawn so;
- ``scale``: 0.4..1.6 of the fitted size, about the centre of mass, in the 28x28 field (after
  the 20x20 fit, which would undo any scaling of the drawing itself);
- ``shift_x``, ``shift_y``: moved by -6..6 pixels in the 28x28 field (after centring, which
  would undo it);
- ``thickness``: the pen the network sees, 0.3..2 times MNIST's width;
- ``noise``: Gaussian noise of standard deviation 0..0.6 added to the 32x32 input (one fixed
  pattern, scaled), clipped to 0..1.

A drawing (strokes) is redrawn from its vectors for each step, with the preprocessing's own
renderer, so the unchanged step is exactly the input the app shows. A picture has no vectors:
its 28x28 field is turned, scaled and moved by resampling, and thickened or thinned by blending
towards the 3x3 maximum or minimum. Every curve is one batched prediction. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
from PIL import Image, ImageFilter

from lenet_draw import preprocess as pp

if TYPE_CHECKING:
    from lenet_draw.engine import Engine
    from lenet_draw.preprocess import Stages


@dataclass(frozen=True)
class Change:
    name: str
    label: str
    lo: float
    hi: float
    neutral: float
    unit: str


CHANGES: dict[str, Change] = {
    c.name: c
    for c in (
        Change("rotation", "Rotation", -60.0, 60.0, 0.0, "°"),
        Change("scale", "Scale", 0.4, 1.6, 1.0, "×"),
        Change("shift_x", "Shift right", -6.0, 6.0, 0.0, " px"),
        Change("shift_y", "Shift down", -6.0, 6.0, 0.0, " px"),
        Change("thickness", "Pen width", 0.3, 2.0, 1.0, "×"),
        Change("noise", "Noise", 0.0, 0.6, 0.0, " σ"),
    )
}
#: Steps per curve.
STEPS = 25
#: The noise pattern's seed: the same noise for every drawing and every step.
NOISE_SEED = 1998


@dataclass(frozen=True)
class Curve:
    change: str
    values: np.ndarray  # (n,) the change's values
    probabilities: np.ndarray  # (n, 10)
    images: np.ndarray  # (n, 32, 32) what the network saw at each step


def _noise() -> np.ndarray:
    return np.random.default_rng(NOISE_SEED).standard_normal((32, 32)).astype(np.float32)


_NOISE = _noise()


class Source:
    """The drawing (strokes) or picture (its centred 28x28 field) to change."""

    def __init__(self, strokes: Sequence | None = None, field: np.ndarray | None = None) -> None:
        self.strokes = pp.clean_strokes(strokes) if strokes is not None else []
        self.field = None if field is None else np.asarray(field, dtype=np.float32)
        if not self.strokes and self.field is None:
            raise ValueError("nothing to change: no strokes and no picture")
        self._fitted: dict[tuple[float, float], tuple[list, np.ndarray, float]] = {}
        self._base: dict[tuple, np.ndarray] = {}

    @classmethod
    def from_prediction(cls, strokes: Sequence | None, stages: Stages) -> "Source":
        """Strokes when there are any (a drawing), else the picture's centred field."""
        clean = pp.clean_strokes(strokes or [])
        return cls(strokes=clean) if clean else cls(field=stages.centred)

    def image(self, **change: float) -> np.ndarray:
        """The 32x32 input with the given changes (names from CHANGES, missing ones neutral)."""
        unknown = set(change) - set(CHANGES)
        if unknown:
            raise ValueError(f"unknown change {sorted(unknown)[0]!r}: one of {', '.join(CHANGES)}")
        c = {k: float(change.get(k, v.neutral)) for k, v in CHANGES.items()}
        key = tuple(v for k, v in c.items() if k != "noise")
        field = self._base.get(key)
        if field is None:  # noise alone reuses the rendering; a curve needs a handful of them
            field = self._field_from_strokes(c) if self.strokes else self._field_from_picture(c)
            if len(self._base) > 64:
                self._base.clear()
            self._base[key] = field
        out = np.pad(field, 2).astype(np.float32)
        if c["noise"] > 0:
            out = np.clip(out + c["noise"] * _NOISE, 0.0, 1.0).astype(np.float32)
        return out

    def _fit(self, rotation: float, thickness: float) -> tuple[list, np.ndarray, float]:
        """The strokes turned and fitted as preprocess_strokes fits them, their centre of mass
        (continuous coordinates) and the pen: computed once per rotation and pen width."""
        key = (rotation, thickness)
        if key not in self._fitted:
            if len(self._fitted) > 64:
                self._fitted.clear()
            self._fitted[key] = self._compute_fit(rotation, thickness)
        return self._fitted[key]

    def _field_from_strokes(self, c: dict[str, float]) -> np.ndarray:
        placed, com_pt, pen = self._fit(c["rotation"], c["thickness"])
        ss = pp.SUPERSAMPLE
        target = np.array([pp.CENTRE, pp.CENTRE]) + 0.5 + np.array([c["shift_x"], c["shift_y"]])
        k = c["scale"]
        moved = [(s - com_pt) * k + target for s in placed]
        return pp._reduce(pp._render(pp._outline(moved, ss), pp.FIELD_SIZE, pen, ss), ss)

    def _compute_fit(self, rotation: float, thickness: float) -> tuple[list, np.ndarray, float]:
        strokes = self.strokes
        lo, hi = pp._bbox(strokes)
        mid = (lo + hi) / 2.0
        if rotation:
            t = np.radians(rotation)
            rot = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])  # y down: clockwise
            strokes = [(s - mid) @ rot + mid for s in strokes]
            lo, hi = pp._bbox(strokes)
            mid = (lo + hi) / 2.0
        pen = pp.MNIST_PEN_WIDTH * thickness
        extent = float((hi - lo).max())
        # The fit as preprocess_strokes does it: the ink box (centre lines plus the pen) to 20.
        fit = max(pp.FIT_SIZE - pen, 1.0) / extent if extent > 1e-9 else 0.0
        ss = pp.SUPERSAMPLE
        box = np.array([pp.FIELD_SIZE / 2.0, pp.FIELD_SIZE / 2.0])
        placed = [(s - mid) * fit + box for s in strokes]
        first = pp._reduce(pp._render(pp._outline(placed, ss), pp.FIELD_SIZE, pen, ss), ss)
        com = pp.centre_of_mass(first) or (pp.CENTRE, pp.CENTRE)
        return placed, np.array(com) + 0.5, pen  # centre of mass: index -> continuous coordinates

    def _field_from_picture(self, c: dict[str, float]) -> np.ndarray:
        f = self.field
        assert f is not None
        com = pp.centre_of_mass(f) or (pp.CENTRE, pp.CENTRE)
        cx, cy = com[0] + 0.5, com[1] + 0.5
        t = np.radians(c["rotation"])
        k = c["scale"]
        # Output point q maps back to source point p = R^-1 (q - target) / k + com.
        tx, ty = pp.CENTRE + 0.5 + c["shift_x"], pp.CENTRE + 0.5 + c["shift_y"]
        cos, sin = np.cos(t) / k, np.sin(t) / k
        a, b = cos, sin
        d, e = -sin, cos
        coeffs = (a, b, cx - a * tx - b * ty, d, e, cy - d * tx - e * ty)
        img = Image.fromarray(f, mode="F").transform(
            f.shape[::-1], Image.Transform.AFFINE, coeffs, resample=Image.Resampling.BILINEAR
        )
        out = np.asarray(img, dtype=np.float32)
        th = c["thickness"]
        if th != 1.0:
            src = Image.fromarray(out, mode="F")
            if th > 1.0:
                other = np.asarray(src.filter(ImageFilter.MaxFilter(3)), dtype=np.float32)
                w = min(1.0, th - 1.0)
            else:
                other = np.asarray(src.filter(ImageFilter.MinFilter(3)), dtype=np.float32)
                w = min(1.0, (1.0 - th) / 0.7)
            out = out + w * (other - out)
        return np.clip(out, 0.0, 1.0)


def values_for(change: str, steps: int = STEPS) -> np.ndarray:
    c = CHANGES[change]
    vals = np.linspace(c.lo, c.hi, steps)
    if c.neutral not in vals:  # the unchanged drawing is always one of the points
        vals = np.sort(np.append(vals, c.neutral))
    return vals


def curve(engine: Engine, source: Source, change: str, steps: int = STEPS) -> Curve:
    """Each class's probability along one change: ``steps`` images, one batched prediction."""
    if change not in CHANGES:
        raise ValueError(f"unknown change {change!r}: one of {', '.join(CHANGES)}")
    vals = values_for(change, steps)
    images = np.stack([source.image(**{change: float(v)}) for v in vals])
    return Curve(change, vals, engine.probabilities(images), images)


def crossing(curve_: Curve, digit: int) -> float | None:
    """The first value, going out from the unchanged point in either direction, at which
    ``digit`` stops being the reading (None if it stays the reading throughout)."""
    c = CHANGES[curve_.change]
    top = np.argmax(curve_.probabilities, axis=1)
    i0 = int(np.argmin(np.abs(curve_.values - c.neutral)))
    best: float | None = None
    for step in (1, -1):
        i = i0
        while 0 <= i < len(top) and top[i] == digit:
            i += step
        if 0 <= i < len(top):
            v = float(curve_.values[i])
            if best is None or abs(v - c.neutral) < abs(best - c.neutral):
                best = v
    return best
