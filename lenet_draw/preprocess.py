"""From a drawing to what the network sees, by the recipe that made MNIST.

MNIST's digits were size-normalised so that their ink fits a 20x20 box (aspect ratio kept,
anti-aliased), then placed in a 28x28 field with the ink's centre of mass at the centre.
LeNet-5 takes that field padded to 32x32. This module reproduces each step and keeps every
stage, so a viewer can show why a digit drawn small in a corner is still read right.

Strokes are rendered from their vectors *after* the size is fixed, with a pen as wide as
MNIST's, so the thickness the network sees never depends on how large the person drew or on
the width of the pen the canvas shows. (Shrinking a canvas bitmap would turn a thin line drawn
large into a faint grey one, a classic cause of wrong answers.)

Pure numpy and pillow: no Qt, no torch.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

import numpy as np
from PIL import Image, ImageDraw

#: Side of the box the ink is fitted into, of the centred field and of the network input.
FIT_SIZE = 20
FIELD_SIZE = 28
INPUT_SIZE = 32
#: Where MNIST puts the ink's centre of mass, in pixel-index coordinates (measured on the
#: 10,000 test digits: mean 14.01 across, 13.99 down).
CENTRE = 14.0
#: Width of the pen, in pixels of the 28x28 field, that strokes are rendered with. Chosen so a
#: digit traced along MNIST skeletons has the same ink mass as the MNIST digit it came from.
MNIST_PEN_WIDTH = 2.4
#: Supersampling factor of the stroke rasteriser (anti-aliasing).
SUPERSAMPLE = 4
#: Side, in pixels, of the "cropped ink" stage shown to the user.
CROP_VIEW_SIZE = 56
#: A raster pixel counts as ink above this fraction of the image's ink range.
INK_THRESHOLD = 0.1
#: Drawings smaller than this (in any unit) are read as a dot.
_MIN_EXTENT = 1e-9
#: Coordinates beyond this are scaled down before any arithmetic, so nothing overflows.
_COORD_LIMIT = 1e9


Stroke = np.ndarray  # (N, 2) or (N, 3) float: x, y[, pressure], canvas coordinates


@dataclass(frozen=True)
class Stages:
    """Every stage from the drawing to the network input, as float32 arrays, ink = 1."""

    cropped: np.ndarray  # the ink cropped to its bounding box (any size, for display)
    fitted: np.ndarray  # 20x20: the ink box fitted into 20x20, aspect ratio kept
    centred: np.ndarray  # 28x28: fitted ink placed with its centre of mass at the centre
    input: np.ndarray  # 32x32: the centred field padded by 2, values 0..1
    centre_of_mass: tuple[float, float] = field(default=(CENTRE, CENTRE))  # (x, y) in `centred`
    #: (scale, dx, dy): a point of the drawing (x, y) lands at (x * scale + dx, y * scale + dy)
    #: in `input`, in continuous pixel coordinates (pixel (i, j) covers [j, j+1) x [i, i+1)).
    #: None for pictures: they have no drawing to line up with.
    to_input: tuple[float, float, float] | None = None


# --------------------------------------------------------------------------- strokes


def clean_strokes(strokes: Iterable[Sequence]) -> list[np.ndarray]:
    """Strokes as float64 (N, 2) arrays, non-finite points dropped, huge values tamed.

    Accepts any iterable of polylines whose points are (x, y) or (x, y, pressure).
    Pressure is read past: the network input is drawn with MNIST's pen, whatever the pressure.
    """
    out: list[np.ndarray] = []
    for stroke in strokes:
        try:
            arr = np.asarray(stroke, dtype=np.float64)
        except ValueError:  # points of mixed lengths: (x, y) beside (x, y, pressure)
            arr = np.asarray([tuple(p)[:2] for p in stroke], dtype=np.float64)
        if arr.size == 0:
            continue
        if arr.ndim != 2 or arr.shape[1] < 2:
            arr = arr.reshape(-1, 2) if arr.size % 2 == 0 and arr.ndim == 1 else arr.reshape(len(arr), -1)
        arr = arr[:, :2]
        arr = arr[np.isfinite(arr).all(axis=1)]
        if len(arr):
            out.append(arr)
    if not out:
        return out
    biggest = max(float(np.abs(a).max()) for a in out)
    if biggest > _COORD_LIMIT:  # keep differences finite: 1e308 - (-1e308) would be inf
        out = [a * (_COORD_LIMIT / biggest) for a in out]
    return out


def _resample(points: np.ndarray, step: float) -> np.ndarray:
    """Keep about one point per ``step`` of arc length (plus both ends).

    Bounds the work for strokes of thousands of points; at the steps used here the chord
    stays within a few hundredths of a pixel of the original path.
    """
    return _resampled(points, step)[0]


def _resampled(points: np.ndarray, step: float) -> tuple[np.ndarray, float]:
    """``_resample(points, step)`` and the length of the path (the resampled one is no longer)."""
    if len(points) < 2:
        return points, 0.0
    seg = np.sqrt((np.diff(points, axis=0) ** 2).sum(axis=1))
    if len(points) < 3:
        return points, float(seg[0])
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    bucket = np.floor(arc / step)
    keep = np.ones(len(points), dtype=bool)
    keep[1:] = bucket[1:] != bucket[:-1]
    keep[-1] = True
    return points[keep], float(arc[-1])


def _corners(points: np.ndarray, min_cos: float = 0.9) -> np.ndarray:
    """Interior vertices where the path turns by more than ~25 degrees."""
    if len(points) < 3:
        return points[:0]
    d = np.diff(points, axis=0)
    n = np.sqrt((d**2).sum(axis=1))
    n[n == 0] = 1.0
    u = d / n[:, None]
    cos = (u[1:] * u[:-1]).sum(axis=1)
    return points[1:-1][cos < min_cos]


#: Each stroke of a drawing, ready to render: its polyline resampled in supersampled pixels, the
#: points that need a round cap, and the length of the path (the polyline is no longer).
Outline = list[tuple[np.ndarray, np.ndarray, float]]


def _outline(strokes: Sequence[np.ndarray], ss: int) -> Outline:
    """Each polyline resampled in supersampled pixels, with the points that need a round cap
    (both ends and sharp turns) and its length. Computed once, drawn at any offset."""
    out = []
    for stroke in strokes:
        pts, length = _resampled(stroke * ss, step=ss / 2.0)
        out.append((pts, np.concatenate([pts[:1], pts[-1:], _corners(pts)]), length))
    return out


#: Drawing a segment costs PIL about _SEGMENT_COST pixels plus those of its band (its length
#: plus a pen, times the pen). Lines that would cost more than _MAX_SWEEP times the pixels of
#: the supersampled image are no drawing of a digit but thousands of points zigzagging over the
#: same pixels: measured on the sample digits at any size, the hand-drawn files, the training
#: scribbles and noisy wavy strokes of up to 2,000 points, at up to twice MNIST's pen and 1.6
#: times the size, a drawing costs at most 17 times. Only above it are segments drawn once each
#: (the same pixels), and only above it even then are they thinned; at it, PIL takes ~4 ms.
_SEGMENT_COST = 32
_MAX_SWEEP = 128
#: Round caps drawn one PIL call each up to this many (a drawing has a handful, a long wavy
#: stroke about 150); more are merged where they fall on the same pixels and, if still this
#: many, set together by ``_cover``: the same pixels, in time bounded by the image.
_FEW_CAPS = 256
#: Most PIL line calls a render makes once it has fallen back to distinct segments.
_MAX_LINE_CALLS = 2048


def _render(
    outline: Outline,
    size: int,
    width: float,
    ss: int,
    offset: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """An outline (from _outline) moved by ``offset`` pixels -> (size*ss)^2 uint8 ink.

    The work is bounded by the image, not by the number of points. A drawing is drawn with
    one line call a stroke and one ellipse a cap; a render that would cost more (_MAX_SWEEP,
    _FEW_CAPS) draws each segment and each cap that PIL would draw on other pixels than an
    earlier one once (PIL truncates both to whole pixels, so that is the same image), and only
    lines that would cost too much even then are thinned (every k-th distinct segment).
    """
    big = size * ss
    img = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(img)
    w = max(width * ss, 1.0)
    r = w / 2.0
    pen = int(round(w))
    # PIL puts integer coordinates at pixel centres; shift by half a supersampled pixel.
    shift = np.asarray(offset, dtype=np.float64) * ss - 0.5
    cost, caps_count = _cost(outline, pen)
    if cost <= _MAX_SWEEP * big * big:
        for pts, _, _ in outline:
            if len(pts) > 1:
                draw.line((pts + shift).ravel().tolist(), fill=255, width=pen)
    else:
        for xy in _distinct_lines([pts + shift for pts, _, _ in outline if len(pts) > 1], big, pen):
            draw.line(xy, fill=255, width=pen)
    if caps_count <= _FEW_CAPS:
        for _, caps, _ in outline:
            for x, y in (caps + shift).tolist():
                draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
        return np.asarray(img)
    boxes = _distinct_boxes(np.concatenate([caps for _, caps, _ in outline]) + shift, big, r)
    if len(boxes) > _FEW_CAPS:
        return np.maximum(np.asarray(img), _cover(np.asarray(boxes, dtype=np.int64), big))
    for box in boxes:
        draw.ellipse(box, fill=255)
    return np.asarray(img)


def _cost(outline: Outline, pen: int) -> tuple[float, int]:
    """What drawing an outline's lines with a pen ``pen`` wide costs PIL, in pixels (each
    segment _SEGMENT_COST and a band its length plus a pen, plus 2 for the truncation of its
    ends to whole pixels, long and a pen wide), and how many caps it has."""
    segments = caps_count = 0
    length = 0.0
    for pts, caps, stroke_length in outline:
        segments += len(pts) - 1
        length += stroke_length
        caps_count += len(caps)
    return (length + segments * (pen + 2)) * pen + segments * _SEGMENT_COST, caps_count


def _distinct_lines(lines: Sequence[np.ndarray], big: int, pen: int) -> list[list[int]]:
    """Polylines that draw the pixels ``lines`` draw, each distinct segment once, in at most
    _MAX_LINE_CALLS calls and _MAX_SWEEP sweeps of the image; thinned (every k-th distinct
    segment) only where that cannot be.

    PIL draws a polyline segment by segment, each from its ends truncated to whole pixels: a
    segment met again (a zigzag over the same two points) adds nothing, nor does one whose
    band misses the image.
    """
    seg = np.concatenate(
        [np.concatenate([q[:-1], q[1:]], axis=1) for q in (np.trunc(p).astype(np.int64) for p in lines)]
    )
    reach = pen + 2  # a band reaches at most half a pen (rounded up) past its ends
    lo = np.minimum(seg[:, :2], seg[:, 2:]) - reach
    hi = np.maximum(seg[:, :2], seg[:, 2:]) + reach
    seg = _distinct_rows(seg[((hi >= 0) & (lo < big)).all(axis=1)])
    if not len(seg):
        return []
    # Within the image a band is at most about 2 * big long, whatever its ends.
    work = (np.minimum(np.abs(seg[:, 2:] - seg[:, :2]).sum(axis=1), 2 * big) + pen + 2) * pen + _SEGMENT_COST
    budget = _MAX_SWEEP * big * big
    starts = np.flatnonzero(np.r_[True, (seg[1:, :2] != seg[:-1, 2:]).any(axis=1)])
    if float(work.sum()) <= budget and len(starts) <= _MAX_LINE_CALLS:
        # Runs of segments end to end are one polyline again.
        return [np.concatenate([run[0, :2], run[:, 2:].ravel()]).tolist() for run in np.split(seg, starts[1:])]
    k = max(2, -(-len(seg) // _MAX_LINE_CALLS))
    while k < len(seg) and float(work[::k].sum()) > budget:  # one segment is drawn whatever it costs
        k *= 2
    return seg[::k].tolist()


def _distinct_rows(rows: np.ndarray) -> np.ndarray:
    """The distinct rows of an int64 array, in the order they first appear."""
    if len(rows) < 2:
        return rows
    lo = int(rows.min())
    span = int(rows.max()) - lo + 1
    if span ** rows.shape[1] < 2**62:  # one integer a row: a faster sort
        key = np.zeros(len(rows), dtype=np.int64)
        for col in (rows - lo).T:
            key = key * span + col
        _, first = np.unique(key, return_index=True)
    else:
        _, first = np.unique(rows, axis=0, return_index=True)
    return rows[np.sort(first)]


def _distinct_boxes(centres: np.ndarray, big: int, r: float) -> list[list[int]]:
    """The boxes of PIL ellipses of radius ``r`` at ``centres`` as PIL fills them (truncated to
    whole pixels), each once, without those that miss a (big, big) image: the same pixels."""
    box = np.trunc(np.concatenate([centres - r, centres + r], axis=1)).astype(np.int64)
    box = box[((box[:, 2:] >= 0) & (box[:, :2] < big)).all(axis=1)]
    return _distinct_rows(box).tolist()


def _cover(boxes: np.ndarray, big: int) -> np.ndarray:
    """A (big, big) uint8 image, 255 inside the PIL ellipse of each box (x0, y0, x1, y1), all of
    them within reach of the image: for each size of box, its disc's pixels are set wherever a
    box of that size begins, one array operation a pixel of the disc: time bounded by the image
    and the pen, however many boxes."""
    out = np.zeros((big, big), dtype=bool)
    corner = boxes[:, :2]
    size = boxes[:, 2:] - corner
    pad = int(size.max()) + 1  # corners lie in [-pad, big): marks[y + pad, x + pad]
    for w, h in _distinct_rows(size).tolist():
        at = corner[(size == (w, h)).all(axis=1)] + pad
        marks = np.zeros((big + pad, big + pad), dtype=bool)
        marks[at[:, 1], at[:, 0]] = True
        ys, xs = _disc(w, h)
        for dy, dx in zip(ys.tolist(), xs.tolist()):
            out |= marks[pad - dy : pad - dy + big, pad - dx : pad - dx + big]
    return out.astype(np.uint8) * np.uint8(255)


def _reduce(big: np.ndarray, ss: int) -> np.ndarray:
    """Box-filter a supersampled uint8 image down by ``ss`` (in C) -> float32, ink = 1."""
    img = Image.fromarray(big)
    small = img.reduce(ss) if ss > 1 else img
    return np.asarray(small, dtype=np.float32) * (1.0 / 255.0)


def rasterise(strokes: Sequence[np.ndarray], size: int, width: float, supersample: int = SUPERSAMPLE) -> np.ndarray:
    """Anti-aliased rendering of polylines (already in pixel coordinates) with a round pen.

    Coordinates are continuous: pixel (i, j) covers [j, j+1) x [i, i+1). Returns float32
    (size, size) with ink = 1. Segments are drawn in one call; round caps and joins are
    added only at the ends and at sharp turns, where a gap could show.
    """
    return _reduce(_render(_outline(strokes, supersample), size, width, supersample), supersample)


def _bbox(strokes: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    allpts = np.concatenate(strokes)
    return allpts.min(axis=0), allpts.max(axis=0)


def centre_of_mass(img: np.ndarray) -> tuple[float, float] | None:
    """(x, y) in pixel-index coordinates, or None for an image without ink."""
    total = float(img.sum())
    if not np.isfinite(total) or total <= 1e-6:
        return None
    ys, xs = np.indices(img.shape)
    return float((img * xs).sum() / total), float((img * ys).sum() / total)


def preprocess_strokes(
    strokes: Iterable[Sequence], display_pen_width: float | None = None, crop_view: bool = True
) -> Stages | None:
    """Strokes in canvas coordinates -> every stage, or None when there is no ink.

    ``display_pen_width`` is the width of the pen the canvas shows, in canvas units; it only
    affects the "cropped" stage, which shows the ink as the person drew it.
    """
    clean = clean_strokes(strokes)
    if not clean:
        return None
    lo, hi = _bbox(clean)
    extent = float((hi - lo).max())
    pen = MNIST_PEN_WIDTH
    # Scale so that the ink box (centre-line box plus the pen) is FIT_SIZE on its long side.
    # A drawing narrower than _MIN_EXTENT is a dot: its size is rounding noise, and dividing
    # by it would overflow.
    scale = (FIT_SIZE - pen) / extent if extent > _MIN_EXTENT else 0.0
    mid = (lo + hi) / 2.0

    def placed(offset: np.ndarray) -> list[np.ndarray]:
        return [(s - mid) * scale + offset for s in clean]

    box_centre = np.array([FIELD_SIZE / 2.0, FIELD_SIZE / 2.0])
    ss = SUPERSAMPLE
    outline = _outline(placed(box_centre), ss)
    first = _reduce(_render(outline, FIELD_SIZE, pen, ss), ss)
    margin = (FIELD_SIZE - FIT_SIZE) // 2
    fitted = first[margin : margin + FIT_SIZE, margin : margin + FIT_SIZE].copy()
    com = centre_of_mass(first)
    if com is None:  # cannot happen with a positive pen, but never divide by zero
        return None
    # Render again, moved so that the centre of mass lands on CENTRE (exact, no resampling blur).
    centred = _reduce(_render(outline, FIELD_SIZE, pen, ss, offset=(CENTRE - com[0], CENTRE - com[1])), ss)
    final_com = centre_of_mass(centred) or (CENTRE, CENTRE)

    cropped = _crop_view(clean, lo, hi, display_pen_width) if crop_view else np.zeros((0, 0), np.float32)
    return Stages(
        cropped=cropped,
        fitted=fitted,
        centred=centred,
        input=_pad(centred),
        centre_of_mass=final_com,
        to_input=_placement(scale, mid, com) if scale > 0 else None,  # a dot has no size to undo
    )


def with_crop_view(stages: Stages, strokes: Iterable[Sequence], display_pen_width: float | None = None) -> Stages:
    """``stages`` of ``strokes`` made with ``crop_view=False``, given their "cropped" view: what
    ``preprocess_strokes(strokes, display_pen_width)`` gives, without rendering the input again."""
    clean = clean_strokes(strokes)
    if not clean:
        return stages
    lo, hi = _bbox(clean)
    return replace(stages, cropped=_crop_view(clean, lo, hi, display_pen_width))


def _placement(scale: float, mid: np.ndarray, com: tuple[float, float]) -> tuple[float, float, float]:
    """The affine map from drawing to input that preprocess_strokes applied: fit about the box's
    middle, move the centre of mass to CENTRE, pad."""
    pad = (INPUT_SIZE - FIELD_SIZE) // 2
    dx = FIELD_SIZE / 2.0 + CENTRE - com[0] + pad - float(mid[0]) * scale
    dy = FIELD_SIZE / 2.0 + CENTRE - com[1] + pad - float(mid[1]) * scale
    return float(scale), float(dx), float(dy)


def _crop_view(clean: list[np.ndarray], lo: np.ndarray, hi: np.ndarray, pen: float | None) -> np.ndarray:
    """The ink as drawn, cropped to its box, scaled to CROP_VIEW_SIZE on the long side."""
    ext = hi - lo
    extent = float(ext.max())
    if pen is None or not np.isfinite(pen) or pen <= 0:
        pen = max(extent, 1.0) * MNIST_PEN_WIDTH / (FIT_SIZE - MNIST_PEN_WIDTH)
    pen = max(pen, 1e-3 * max(extent, 1.0))  # a vanishing pen would blow the scale up
    scale = (CROP_VIEW_SIZE - 1) / (extent + pen)
    w = max(1, int(np.ceil((ext[0] + pen) * scale)))
    h = max(1, int(np.ceil((ext[1] + pen) * scale)))
    side = max(w, h)
    offset = np.array([pen / 2.0 * scale, pen / 2.0 * scale])
    return _stamp([(s - lo) * scale + offset for s in clean], side, pen * scale)[:h, :w].copy()


#: Most pen stamps pressed for the "cropped" view (a scribble of 100,000 points stays cheap).
_MAX_STAMPS = 6000


def _stamp(strokes: Sequence[np.ndarray], size: int, width: float, ss: int = 2) -> np.ndarray:
    """Polylines (pixel coordinates) drawn as a round pen of ``width`` pressed along them.

    For the "cropped" view, whose pen is often wider than the segments between points are
    long (a small drawing made with the canvas's pen): PIL draws a wide line between close
    points as thin slivers that spill horizontal streaks through the image. Here the pen is
    pressed as discs a third of its radius apart (the outline is off by r/72 at most), and
    segments are added only where the points lie further apart than that. The discs are
    pressed all at once (``_press``): one PIL call per disc cost several milliseconds a move.
    """
    big = size * ss
    r = max(width * ss, 1.0) / 2.0
    pts = [s * ss - 0.5 for s in strokes]  # integer coordinates at pixel centres, as PIL's
    length = sum(float(np.sqrt((np.diff(p, axis=0) ** 2).sum(axis=1)).sum()) for p in pts)
    step = max(r / 3.0, length / _MAX_STAMPS, 0.5)
    lines = None
    centres = []
    for p in pts:
        dense = _densify_path(p, step)
        crowded = len(dense) > _MAX_STAMPS  # thousands of points closer than a step: keep one per step
        if crowded:
            dense = _resample(dense, step)
        if (crowded or step > r / 2.0) and len(dense) > 1:  # discs too far apart to join: segments join them
            if lines is None:
                lines = Image.new("L", (big, big), 0)
            ImageDraw.Draw(lines).line(dense.ravel().tolist(), fill=255, width=int(round(2 * r)))
        centres.append(dense)
    ink = _press(np.concatenate(centres), big, r)
    if lines is not None:
        ink = np.maximum(ink, np.asarray(lines))
    return _reduce(ink, ss)


#: Discs whose box is at most this many pixels (a radius up to about 4.5 pixels), and at most
#: _PRESS_PIXELS of them in all, are pressed in a few array operations; larger ones PIL draws
#: one by one, which is faster for them (measured: 0.4 against 1.6 ms for 430 discs of radius
#: 2, 1.1 against 0.7 ms for 140 of radius 6.6).
_PRESS_BOX = 100
_PRESS_PIXELS = 200_000


def _press(centres: np.ndarray, size: int, r: float) -> np.ndarray:
    """A (size, size) uint8 image, 255 inside any of the discs of radius ``r`` at ``centres``:
    the pixels PIL's ``ellipse`` fills for each (its box truncated to whole pixels, as PIL
    does). The many small discs of a drawing are set together, by array operations instead
    of one PIL call each."""
    corner = np.trunc(centres - r).astype(np.int64)  # PIL truncates the box to whole pixels
    box = np.trunc(centres + r).astype(np.int64) - corner  # (width, height) of each disc's box
    span = int(box.max()) + 1 if len(box) else 0
    if span * span <= _PRESS_BOX and len(corner) * span * span <= _PRESS_PIXELS:
        sizes, which = np.unique(box[:, 0] * span + box[:, 1], return_inverse=True)
        ys, xs = _discs(tuple(divmod(key, span) for key in sizes.tolist()))
        which = which.reshape(-1)
        py, px = corner[:, 1:] + ys[which], corner[:, :1] + xs[which]
        ok = (py >= 0) & (py < size) & (px >= 0) & (px < size)
        out = np.zeros((size, size), dtype=np.uint8)
        out[py[ok], px[ok]] = 255
        return out
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    for x0, y0, x1, y1 in np.concatenate([corner, corner + box], axis=1).tolist():
        draw.ellipse((x0, y0, x1, y1), fill=255)
    return np.asarray(img)


@functools.lru_cache(maxsize=64)
def _discs(boxes: tuple[tuple[int, int], ...]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns), one row per box: the pixels of each ``_disc``, a smaller disc's (or an
    empty one's) padded with a pixel far outside any image."""
    discs = [_disc(w, h) for w, h in boxes]
    most = max(1, max(len(ys) for ys, _ in discs))
    far = -(1 << 40)
    ys = np.full((len(discs), most), far, dtype=np.int64)
    xs = np.full((len(discs), most), far, dtype=np.int64)
    for i, (y, x) in enumerate(discs):
        ys[i, : len(y)], xs[i, : len(x)] = y, x
    return ys, xs


@functools.lru_cache(maxsize=64)
def _disc(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the pixels PIL's ``ellipse`` fills in the box (0, 0, w, h)."""
    img = Image.new("L", (w + 1, h + 1), 0)
    ImageDraw.Draw(img).ellipse((0, 0, w, h), fill=255)
    ys, xs = np.nonzero(np.asarray(img))
    return ys.astype(np.int64), xs.astype(np.int64)


def _densify_path(points: np.ndarray, step: float) -> np.ndarray:
    """Points inserted so that no segment is longer than ``step``."""
    if len(points) < 2:
        return points
    seg = np.sqrt((np.diff(points, axis=0) ** 2).sum(axis=1))
    parts = np.maximum(1, np.ceil(seg / step).astype(np.int64))
    if int(parts.max()) == 1:
        return points
    first = np.cumsum(parts) - parts  # where each segment's points begin
    n = np.repeat(parts, parts)
    t = (np.arange(int(parts.sum())) - np.repeat(first, parts)) / n  # 0, 1/n, ..., (n-1)/n per segment
    start = np.repeat(points[:-1], parts, axis=0)
    delta = np.repeat(np.diff(points, axis=0), parts, axis=0)
    return np.concatenate([start + delta * t[:, None], points[-1:]])


def _pad(field28: np.ndarray) -> np.ndarray:
    pad = (INPUT_SIZE - FIELD_SIZE) // 2
    return np.pad(field28, pad).astype(np.float32)


# --------------------------------------------------------------------------- images


#: Pictures longer than this on a side are box-reduced first: the ink ends up 20 pixels tall,
#: and a 50-megapixel photo would otherwise take seconds and most of a gigabyte.
MAX_IMAGE_SIDE = 2048


def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])


def _convert(image: Image.Image, mode: str) -> Image.Image:
    """``image.convert(mode)`` for every PIL mode, including those without a direct path."""
    if image.mode == "LAB" and mode == "L":
        return image.getchannel("L")  # lightness; PIL cannot convert LAB to L
    try:
        return image.convert(mode)
    except ValueError:
        via = {"La": "LA", "RGBa": "RGBA", "LAB": "RGB"}.get(image.mode, "RGBA")
        if image.mode == "LAB":
            return image.getchannel("L").convert(mode)
        return image.convert(via).convert(mode)


def shrink(image: Image.Image) -> Image.Image:
    """Box-reduce a picture larger than MAX_IMAGE_SIDE (by a whole factor, like the later fit)."""
    k = -(-max(image.size) // MAX_IMAGE_SIDE)
    if k <= 1:
        return image
    try:
        return image.reduce(k)
    except ValueError:  # modes reduce() lacks: 1, P, I;16
        if image.mode.startswith("I;16"):
            wider = "I"
        elif image.mode == "P":
            wider = "RGBA" if "transparency" in image.info else "RGB"
        else:
            wider = "L" if image.mode == "1" else "RGBA"
        return _convert(image, wider).reduce(k)


def image_to_ink(image: Image.Image | np.ndarray) -> np.ndarray:
    """A picture of a digit -> float32 ink map (ink = 1), whatever its mode and polarity.

    Transparent backgrounds use the alpha channel as ink; otherwise the border's brightness
    tells dark-on-light from light-on-dark.
    """
    if isinstance(image, np.ndarray):
        arr = np.asarray(image)
        if arr.dtype == np.uint8:
            gray = arr.astype(np.float32) / 255.0
        else:
            gray = arr.astype(np.float64)
            gray = np.nan_to_num(gray, nan=0.0, posinf=0.0, neginf=0.0)
            top = float(gray.max()) if gray.size else 0.0
            gray = (gray / top if top > 1.0 else gray).astype(np.float32)
        if gray.ndim == 3:
            if gray.shape[2] == 0:
                return np.zeros((0, 0), dtype=np.float32)
            gray = gray[..., :3].mean(axis=2) if gray.shape[2] >= 3 else gray[..., 0]
    else:
        image.load()
        image = shrink(image)
        has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
            image.mode == "P" and "transparency" in image.info
        )
        gray = None
        if has_alpha:
            rgba = _convert(image, "RGBA")
            px = np.asarray(rgba, dtype=np.float32) / 255.0
            alpha = px[..., 3]
            if alpha.size and alpha.min() < 0.99:
                if float(np.median(_border(alpha))) < 0.5:
                    # A transparent background: whatever is opaque is ink, in any colour.
                    return alpha.astype(np.float32)
                # An opaque background with transparent bits (rounded corners, a cut-out):
                # flatten onto the background's own shade so they read as background.
                lum = px[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
                bg = float(np.median(_border(lum)[_border(alpha) > 0.5]))
                gray = lum * alpha + bg * (1.0 - alpha)
            else:
                image = rgba.convert("RGB")
        if gray is not None:
            pass
        elif image.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(image, dtype=np.float64)
            top = float(arr.max())
            gray = (arr / top if top > 0 else arr).astype(np.float32)
        elif image.mode == "F":
            gray = np.nan_to_num(np.asarray(image, dtype=np.float32))
            top = float(gray.max())
            gray = gray / top if top > 1.0 else gray
        else:
            gray = np.asarray(_convert(image, "L"), dtype=np.float32) / 255.0
    assert gray is not None  # every branch above sets it
    if gray.ndim != 2 or gray.size == 0:
        return np.zeros((0, 0), dtype=np.float32)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if float(np.median(border)) > 0.5:
        gray = 1.0 - gray
    return np.clip(gray, 0.0, 1.0).astype(np.float32)


def preprocess_image(image: Image.Image | np.ndarray) -> Stages | None:
    """A picture of a digit -> every stage, or None when it holds no ink."""
    ink = image_to_ink(image)
    if ink.size == 0:
        return None
    ink = ink - float(np.median(ink))  # a grey background is no ink
    top = float(ink.max())
    if top < 0.05:
        return None
    ink = np.clip(ink / top, 0.0, 1.0)
    mask = ink > INK_THRESHOLD
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = ink[y0:y1, x0:x1]
    h, w = crop.shape
    scale = FIT_SIZE / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = np.asarray(
        Image.fromarray(crop.astype(np.float32), mode="F").resize((nw, nh), Image.Resampling.BOX),
        dtype=np.float32,
    )
    # Thin lines drawn large fade when shrunk: stretch so the strongest ink is full ink again.
    peak = float(np.percentile(small[small > 0.05], 95)) if (small > 0.05).any() else 1.0
    small = np.clip(small / max(peak, 1e-3), 0.0, 1.0)
    fitted = np.zeros((FIT_SIZE, FIT_SIZE), dtype=np.float32)
    oy, ox = (FIT_SIZE - nh) // 2, (FIT_SIZE - nw) // 2
    fitted[oy : oy + nh, ox : ox + nw] = small

    field28 = np.zeros((FIELD_SIZE, FIELD_SIZE), dtype=np.float32)
    m = (FIELD_SIZE - FIT_SIZE) // 2
    field28[m : m + FIT_SIZE, m : m + FIT_SIZE] = fitted
    com = centre_of_mass(field28)
    if com is None:
        return None
    dx, dy = CENTRE - com[0], CENTRE - com[1]
    shifted = Image.fromarray(field28, mode="F").transform(
        (FIELD_SIZE, FIELD_SIZE), Image.Transform.AFFINE, (1, 0, -dx, 0, 1, -dy), resample=Image.Resampling.BILINEAR
    )
    centred = np.clip(np.asarray(shifted, dtype=np.float32), 0.0, 1.0)
    cropped = crop
    if max(crop.shape) > 4 * CROP_VIEW_SIZE:  # keep the display copy small
        f = 4 * CROP_VIEW_SIZE / max(crop.shape)
        cropped = np.asarray(
            Image.fromarray(crop, mode="F").resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX),
            dtype=np.float32,
        )
    return Stages(
        cropped=cropped.astype(np.float32),
        fitted=fitted,
        centred=centred,
        input=_pad(centred),
        centre_of_mass=centre_of_mass(centred) or (CENTRE, CENTRE),
    )
