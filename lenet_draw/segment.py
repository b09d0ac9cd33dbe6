"""Cutting a written number into digits: candidate pieces, candidate segments, the best path.

Heuristic over-segmentation as in LeCun et al. (1998, section on graph transformer networks):
the ink is cut into *pieces* more finely than into digits (strokes, parts of strokes that run
on into the next digit, columns of touching blobs in a picture); every run of neighbouring
pieces narrow enough to be one digit is a candidate segment; the network scores every
candidate; dynamic programming picks the run of segments that covers all pieces at the lowest
total cost. A piece of a digit read alone (a 5's flag, half of a 0) looks unlike any digit and
gets a low top probability, which is what keeps it with the rest of its digit.

Pure numpy: no torch, no Qt. The network's scores come in as numbers.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from lenet_draw.errors import NumberError

#: Most pieces in one candidate segment.
MAX_PIECES = 8
#: Ink that falls into more pieces than this is not read as a number: that is over 50 digits,
#: more than any number a person writes, while a picture of dots or of a page of text falls
#: into thousands of pieces, each a handful of candidates for the network, and would take
#: minutes and gigabytes to read.
MAX_INK_PIECES = 200
#: Widest candidate segment, in line heights (a wide 2 or 7 is about 0.9).
MAX_WIDTH = 1.5
#: A segment lower than this share of the line height is unlikely to be a digit by itself.
SHORT = 0.5
#: Cost added to a segment lower than SHORT line heights (a bar, a flag, a slash).
SHORT_COST = 3.0
#: Cost of every segment: a bias against cutting a digit into confident-looking pieces.
SEGMENT_COST = 0.1
#: Two neighbouring segments may overlap this share of the narrower one for free...
OVERLAP_FREE = 0.35
#: ...and pay this per unit of overlap beyond it (a flag over its 5 overlaps it fully).
OVERLAP_COST = 6.0
#: Overlap side by side is measured against segments at least this many line heights wide.
JOIN_FLOOR = 0.4
#: A stroke wider than this many times its own height may hold more than one digit.
WIDE_STROKE = 1.1
#: Cut points inside a stroke are at least this many of its heights apart, and from its ends.
CUT_SPACING = 0.18
#: A high or low point of a stroke counts as a turning point when the stroke moves this many
#: line heights away from it.
TURN = 0.08
#: A segment wider than this many line heights is unlikely to be one digit...
WIDE = 0.9
#: ...and pays this per line height beyond it.
WIDE_COST = 3.0
#: Cost of keeping in one segment two pieces with a vertical gap between them (no overlap side
#: by side and not parts of one stroke): separate digits look like that, parts of one rarely.
GAP_COST = 2.0
#: Pieces overlapping side by side less than this share of the line height count as apart.
GAP_OVERLAP = 0.05
#: Pieces this many line heights apart or more are taken for separate digits: a run holding
#: them costs FAR_COST, at least PRUNE, so it is not even scored.
FAR_GAP = 0.25
FAR_COST = 8.0
PRUNE = 8.0
#: ...except when the ink on one side of the gap is too low to be a digit (SHORT: a 5's flag
#: or a 7's bar written apart from the rest): up to this many line heights it pays GAP_COST,
#: so the network is asked which neighbour it belongs to.
MARK_GAP = 0.5
#: A segment wider than this many times the writing's usual digit width (the median of a
#: first reading, at least WIDTH_FLOOR line heights) may be two digits taken for one.
RELATIVE_WIDE = 1.1
WIDTH_FLOOR = 0.5
#: ...and pays this per line height beyond RELATIVE_WIDE of the usual width...
RELATIVE_COST = 4.0
#: ...unless the digits are written apart: the usual gap between them (the median of a first
#: reading's) is more than this many line heights.
SPACED = 0.08
#: Two strokes ending this many line heights apart meet...
CONTACT = 0.05
#: ...and a cut between two segments costs this for each pair of pieces meeting across it: the
#: strokes of one digit meet (a 5's flag and body, the strokes of a traced digit at a junction),
#: while digits written apart do not, and neighbours that touch or overlap touch or cross
#: mid-stroke.
CONTACT_COST = 0.5
#: A digit is shown as unsure when cutting its ink another way costs less than this more in
#: all: most numbers read wrong and shown as sure were two overlapping digits read as one sure
#: digit (or one cut in two), with the right cut a few hundredths behind (``contested``).
CONTESTED = 0.2
#: Cost of each place where a segment's edge cuts a pen stroke (between parts k and k+1 of one
#: stroke): most people lift the pen between digits, so a stroke is mostly one digit's, and the
#: halves of a wide 0 or 5 must read far better apart to be taken for two digits.
STROKE_CUT_COST = 0.5
#: The same for a cut through a blob of ink in a picture (at a minimum of its column sums): a
#: wide 2, 8 or 0 scanned was cut into two sure digits, while touching digits are one blob that
#: must be cut. Measured on MNIST's own scans set side by side (``bench.number_pictures``).
BLOB_CUT_COST = 0.75


Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Piece:
    """The smallest unit of ink the segmentation moves: never split, only grouped."""

    box: Box
    key: int  # identifies the ink (equal ink, equal key), for caching scores
    strokes: tuple[np.ndarray, ...] = ()  # stroke input: (N, 2) polylines
    ink: np.ndarray | None = field(default=None, compare=False)  # image input: ink inside ``box``
    link: tuple[int, int] | None = None  # (stroke, part): parts k and k+1 of a stroke are joined


def union_box(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _box(points: np.ndarray) -> Box:
    lo, hi = points.min(axis=0), points.max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _key(a: np.ndarray) -> int:
    return hash(np.ascontiguousarray(a, dtype=np.float64).tobytes())


# --------------------------------------------------------------------------- strokes


def _resample(points: np.ndarray, step: float) -> np.ndarray:
    seg = np.sqrt((np.diff(points, axis=0) ** 2).sum(axis=1))
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    step = max(step, arc[-1] / 20000.0)  # a bounded number of points, whatever the shape
    if arc[-1] <= step:
        return points
    t = np.linspace(0.0, arc[-1], int(arc[-1] / step) + 1)
    return np.stack([np.interp(t, arc, points[:, 0]), np.interp(t, arc, points[:, 1])], axis=1)


def _turning_points(values: np.ndarray, prominence: float) -> list[int]:
    """Indices of the highs and lows of ``values`` that stand out by ``prominence`` (a zigzag)."""
    out: list[int] = []
    hi = lo = 0
    direction = 0  # +1 rising, -1 falling, 0 not yet known
    for i in range(1, len(values)):
        v = values[i]
        if v > values[hi]:
            hi = i
        if v < values[lo]:
            lo = i
        if direction >= 0 and values[hi] - v > prominence:
            if direction > 0 or hi > 0:
                out.append(hi)
            direction, lo = -1, i
        elif direction <= 0 and v - values[lo] > prominence:
            if direction < 0 or lo > 0:
                out.append(lo)
            direction, hi = 1, i
    return sorted(set(out))


def stroke_cuts(points: np.ndarray, height: float, narrow: bool = False) -> list[int]:
    """Where a stroke wide enough to hold several digits may be cut: its turning points
    (highest and lowest points, sharp corners), as indices into ``points``. ``height`` is the
    line's height. With ``narrow``, a stroke narrower than WIDE_STROKE line heights is cut too.
    """
    if len(points) < 5:
        return []
    lo, hi = points.min(axis=0), points.max(axis=0)
    if float(hi[0] - lo[0]) <= WIDE_STROKE * height and not narrow:
        return []
    d = np.diff(points, axis=0)
    n = np.sqrt((d**2).sum(axis=1))
    arc = np.concatenate([[0.0], np.cumsum(n)])
    cand: list[tuple[float, int]] = [(1.0, i) for i in _turning_points(points[:, 1], TURN * height)]
    cand += [(2.0, i) for i in _turning_points(points[:, 0], TURN * height)]
    nz = np.where(n > 0, n, 1.0)
    u = d / nz[:, None]
    cos = (u[1:] * u[:-1]).sum(axis=1)
    cand += [(0.0, int(i) + 1) for i in np.flatnonzero(cos < math.cos(math.radians(60)))]  # corners first
    spacing = CUT_SPACING * height
    chosen: list[int] = []
    taken: list[float] = []  # the chosen cuts' arc lengths, sorted: a zigzag has thousands
    for _, i in sorted(cand):
        if arc[i] < spacing or arc[-1] - arc[i] < spacing:
            continue
        k = bisect.bisect_left(taken, arc[i])
        if (k == len(taken) or taken[k] - arc[i] >= spacing) and (k == 0 or arc[i] - taken[k - 1] >= spacing):
            chosen.append(i)
            taken.insert(k, float(arc[i]))
    return sorted(chosen)


def pieces_from_strokes(
    strokes: Sequence[np.ndarray], cache: dict[tuple[int, int, float], list[Piece]] | None = None
) -> list[Piece]:
    """Strokes ((N, 2) arrays, y down) -> pieces: whole strokes, and strokes wider than
    WIDE_STROKE line heights cut at their turning points. ``cache`` keeps each stroke's pieces
    (by its ink, its place and the line height) for the next call."""
    strokes = [np.asarray(s, dtype=np.float64)[:, :2] for s in strokes if len(s)]
    if not strokes:
        return []
    _check_count(len(strokes), "pen strokes")
    lo = np.min([s.min(axis=0) for s in strokes], axis=0)
    hi = np.max([s.max(axis=0) for s in strokes], axis=0)
    height = _height(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
    out: list[Piece] = []
    for k, pts in enumerate(strokes):
        key = (_key(pts), k, height)
        hit = cache.get(key) if cache is not None else None
        if hit is None:
            hit = _stroke_pieces(pts, k, height)
            if cache is not None:
                cache[key] = hit
        out += hit
    _check_count(len(out), "pieces")
    return out


def _check_count(n: int, what: str) -> None:
    if n > MAX_INK_PIECES:
        raise NumberError(
            f"the ink falls into {n:,} {what}; a number is read from at most {MAX_INK_PIECES}, "
            "so this is not read as a number"
        )


def recut(
    pieces: Sequence[Piece], stroke: int, height: float, cache: dict[tuple[int, int, float], list[Piece]] | None = None
) -> list[Piece]:
    """``pieces`` with the whole stroke number ``stroke`` cut at its turning points however
    narrow it is: a joined "11" or "71" is narrower than WIDE_STROKE, and is cut only when it
    reads badly whole (see ``numbers.NumberReader``). ``cache`` keeps the parts for the next call."""
    out: list[Piece] = []
    for p in pieces:
        if p.link is not None and p.link[0] == stroke and len(p.strokes) == 1:
            key = (p.key, stroke, height)
            hit = cache.get(key) if cache is not None else None
            if hit is None:
                hit = _stroke_pieces(p.strokes[0], stroke, height, narrow=True)
                if cache is not None:
                    cache[key] = hit
            out += hit
        else:
            out.append(p)
    return out


def _stroke_pieces(pts: np.ndarray, k: int, height: float, narrow: bool = False) -> list[Piece]:
    wide = narrow or float(pts[:, 0].max() - pts[:, 0].min()) > WIDE_STROKE * height
    cuts = stroke_cuts(_resample(pts, 0.03 * height), height, narrow) if wide and len(pts) > 1 else []
    if not cuts:
        return [Piece(box=_box(pts), key=_key(pts), strokes=(pts,), link=(k, 0))]
    pts = _resample(pts, 0.03 * height)
    bounds = [0, *cuts, len(pts) - 1]
    out = []
    for part, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        seg = pts[a : b + 1]
        out.append(Piece(box=_box(seg), key=_key(seg), strokes=(seg,), link=(k, part)))
    return out


# --------------------------------------------------------------------------- images


def label_components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """8-connected components of a boolean mask -> (labels 1..n, 0 = background), n.

    Over runs of ink along rows, joined with a union-find: its cost grows with the number of
    runs, not with how far a label must travel (a picture of one long serpentine line took
    thousands of passes over the whole picture when labels were spread pixel by pixel)."""
    mask = np.asarray(mask, dtype=bool)
    h, w = mask.shape
    out = np.zeros((h, w), dtype=np.int32)
    if not mask.any():
        return out, 0
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # one past each run's last pixel, in the same order
    first = np.searchsorted(rows, np.arange(h + 1))  # runs of row y: first[y] .. first[y + 1]
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    s_list, e_list = starts.tolist(), ends.tolist()
    for y in range(h - 1):
        a, a_end = int(first[y]), int(first[y + 1])
        b, b_end = a_end, int(first[y + 2])
        while a < a_end and b < b_end:
            # 8-connected: runs touch when they overlap or meet at a corner.
            if s_list[a] <= e_list[b] and s_list[b] <= e_list[a]:
                ra, rb = root(a), root(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            if e_list[a] < e_list[b]:
                a += 1
            else:
                b += 1
    roots = np.array([root(i) for i in range(len(parent))], dtype=np.int64)
    _, inverse = np.unique(roots, return_inverse=True)
    label = inverse.reshape(-1).astype(np.int32) + 1
    lengths = ends - starts
    run_of = np.repeat(np.arange(len(rows)), lengths)  # each ink pixel's run, row by row
    cols = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths) + starts[run_of]
    out[rows[run_of], cols] = label[run_of]
    return out, int(label.max())


def _column_cuts(ink: np.ndarray, narrow: bool = False) -> list[int]:
    """Columns where a blob wider than tall may be cut: minima of its vertical projection.
    With ``narrow``, a narrower blob is cut too (see ``recut_blob``)."""
    h, w = ink.shape
    if (w <= WIDE_STROKE * h and not narrow) or w < 6:
        return []
    col = ink.sum(axis=0)
    col = np.convolve(col, np.ones(3) / 3.0, mode="same")
    spacing = max(2, int(round(CUT_SPACING * h)))
    cand = [(float(col[i]), i) for i in range(spacing, w - spacing) if col[i] <= col[i - 1] and col[i] <= col[i + 1]]
    chosen: list[int] = []
    for _, i in sorted(cand):
        if all(abs(i - j) >= spacing for j in chosen):
            chosen.append(i)
    return sorted(chosen)


#: Working height of a picture's ink, in pixels: enough for 20x20 digits, small enough to label fast.
IMAGE_LINE_HEIGHT = 64
#: Blobs with less ink than this share of the largest are specks, not digits.
SPECK = 0.02


def pieces_from_ink(ink: np.ndarray) -> list[Piece]:
    """An ink map (float, ink = 1, y down) -> pieces: connected blobs, wide ones cut into columns."""
    return framed_pieces_from_ink(ink)[0]


def framed_pieces_from_ink(ink: np.ndarray) -> tuple[list[Piece], tuple[float, float, float]]:
    """``pieces_from_ink``, and where their boxes lie in ``ink``: (x0, y0, f), a box point
    (x, y) is at (x0 + x / f, y0 + y / f) in ``ink``'s pixels."""
    from PIL import Image

    mask0 = ink > 0.1 * float(ink.max()) if ink.size and float(ink.max()) > 0 else np.zeros((0, 0), bool)
    if not mask0.any():
        return [], (0.0, 0.0, 1.0)
    ys, xs = np.nonzero(mask0)
    frame = (float(xs.min()), float(ys.min()), 1.0)
    ink = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = ink.shape
    if h > IMAGE_LINE_HEIGHT:
        f = IMAGE_LINE_HEIGHT / h
        frame = (frame[0], frame[1], f)
        size = (max(1, round(w * f)), IMAGE_LINE_HEIGHT)
        ink = np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX))
    mask = ink > 0.1 * float(ink.max())
    labels, n = label_components(mask)
    mass = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=n + 1)[1:]
    kept = np.flatnonzero(mass >= SPECK * mass.max()) + 1
    _check_count(len(kept), "separate marks")
    # Each blob's bounding box, in one pass over the ink.
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs]
    top, left = np.full(n + 1, h, np.int64), np.full(n + 1, w, np.int64)
    bottom, right = np.zeros(n + 1, np.int64), np.zeros(n + 1, np.int64)
    np.minimum.at(top, lab, ys)
    np.minimum.at(left, lab, xs)
    np.maximum.at(bottom, lab, ys + 1)
    np.maximum.at(right, lab, xs + 1)
    out: list[Piece] = []
    for c in kept:
        y0, y1, x0, x1 = top[c], bottom[c], left[c], right[c]
        blob = np.where(labels[y0:y1, x0:x1] == c, ink[y0:y1, x0:x1], 0.0).astype(np.float32)
        out += _blob_parts(blob, float(x0), float(y0), int(c))
    _check_count(len(out), "pieces")
    return out, frame


def _blob_parts(blob: np.ndarray, x0: float, y0: float, c: int, narrow: bool = False) -> list[Piece]:
    """A blob's ink (its box at x0, y0) cut at its column minima into pieces of blob ``c``."""
    bounds = [0, *_column_cuts(blob, narrow), blob.shape[1]]
    out = []
    for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        part = blob[:, a:b]
        rows = np.flatnonzero(part.any(axis=1))
        if len(rows) == 0:
            continue
        part = part[rows[0] : rows[-1] + 1]
        box = (x0 + a, y0 + float(rows[0]), x0 + b, y0 + float(rows[-1] + 1))
        out.append(Piece(box=box, key=_key(part) ^ hash(box), ink=part, link=(c, k)))
    return out


def recut_blob(pieces: Sequence[Piece], blob: int) -> list[Piece]:
    """``pieces`` with the whole blob number ``blob`` cut at its column minima however narrow it
    is: two 1s or a 1 and a 9 touching in a scan are narrower than WIDE_STROKE, and are cut
    only when they read badly whole (see ``numbers.NumberReader``)."""
    out: list[Piece] = []
    for p in pieces:
        if p.link is not None and p.link[0] == blob and p.ink is not None:
            out += _blob_parts(p.ink, p.box[0], p.box[1], blob, narrow=True)
        else:
            out.append(p)
    return out


def compose_ink(pieces: Sequence[Piece]) -> np.ndarray:
    """The image pieces drawn together, centred in a square of background (a thin 1 alone
    would otherwise fill its own box, and preprocessing would take it for background)."""
    x0, y0, x1, y1 = union_box([p.box for p in pieces])
    w, h = int(round(x1 - x0)), int(round(y1 - y0))
    side = max(w, h) + 4
    ox, oy = (side - w) // 2, (side - h) // 2
    out = np.zeros((side, side), dtype=np.float32)
    for p in pieces:
        assert p.ink is not None
        px, py = int(round(p.box[0] - x0)) + ox, int(round(p.box[1] - y0)) + oy
        h, w = p.ink.shape
        np.maximum(out[py : py + h, px : px + w], p.ink, out=out[py : py + h, px : px + w])
    return out


# --------------------------------------------------------------------------- the best path


def order(pieces: Sequence[Piece]) -> list[Piece]:
    """Pieces left to right by the middle of their boxes."""
    return sorted(pieces, key=lambda p: ((p.box[0] + p.box[2]) / 2.0, p.box[1]))


def line_height(pieces: Sequence[Piece]) -> float:
    if not pieces:
        return 1.0
    return _height(*union_box([p.box for p in pieces]))


def _height(x0: float, y0: float, x1: float, y1: float) -> float:
    """The line height of ink in this box; a flat line counts as a twentieth of its length."""
    return max(y1 - y0, (x1 - x0) / 20.0, 1e-9)


def candidates(pieces: Sequence[Piece], height: float) -> list[tuple[int, int]]:
    """Runs (i, j) of ordered pieces that may form one digit: each piece alone, and runs of up
    to MAX_PIECES no wider than MAX_WIDTH line heights."""
    out = []
    n = len(pieces)
    for i in range(n):
        x0, x1 = pieces[i].box[0], pieces[i].box[2]
        out.append((i, i + 1))
        for j in range(i + 2, min(n, i + MAX_PIECES) + 1):
            x0, x1 = min(x0, pieces[j - 1].box[0]), max(x1, pieces[j - 1].box[2])
            if x1 - x0 > MAX_WIDTH * height:
                break
            out.append((i, j))
    return out


def segment_cost(top_probability: float, box: Box, height: float) -> float:
    """How unlike one digit a segment is: the network's doubt plus shape."""
    cost = -math.log(max(top_probability, 1e-6)) + SEGMENT_COST
    if box[3] - box[1] < SHORT * height:
        cost += SHORT_COST
    cost += WIDE_COST * max(0.0, (box[2] - box[0]) / height - WIDE)
    return cost


def _joined(a: Piece, b: Piece) -> bool:
    return a.link is not None and b.link is not None and a.link[0] == b.link[0] and abs(a.link[1] - b.link[1]) == 1


def _closed(a: Piece, b: Piece, near: float) -> bool:
    """Whether two parts of one pen stroke meet end to end though not neighbours in it: the
    stroke closes on itself there (a 0 written in one stroke with the next digit, cut at its
    top, bottom and sides: its last part ends where its first began)."""
    if a.link is None or b.link is None or a.link[0] != b.link[0] or not a.strokes or not b.strokes:
        return False
    ends_a = np.asarray(a.strokes[0])[[0, -1], :2]
    ends_b = np.asarray(b.strokes[0])[[0, -1], :2]
    return bool((np.hypot(*(ends_a[:, None] - ends_b[None]).transpose(2, 0, 1)) <= near).any())


def gap_cost(pieces: Sequence[Piece], height: float) -> float:
    """GAP_COST for each place inside a run of pieces where the ink falls apart side by side."""
    ordered = sorted(pieces, key=lambda p: p.box[0])
    cost = 0.0
    right = ordered[0].box[2]
    top, bottom = ordered[0].box[1], ordered[0].box[3]
    for k in range(1, len(ordered)):
        p = ordered[k]
        if right - p.box[0] < GAP_OVERLAP * height and not any(
            _joined(p, q) or _closed(p, q, CONTACT * height) for q in ordered[:k]
        ):
            mark = min(bottom - top, p.box[3] - p.box[1]) < SHORT * height
            far = (MARK_GAP if mark else FAR_GAP) * height
            cost += FAR_COST if p.box[0] - right > far else GAP_COST
        right = max(right, p.box[2])
        top, bottom = min(top, p.box[1]), max(bottom, p.box[3])
    return cost


def prior_cost(pieces: Sequence[Piece], height: float) -> float:
    """What a run of pieces costs as one digit before the network has seen it (shape alone).

    Runs at PRUNE or more are not worth scoring: they never beat reading their pieces apart.
    """
    box = union_box([p.box for p in pieces])
    return gap_cost(pieces, height) + WIDE_COST * max(0.0, (box[2] - box[0]) / height - WIDE)


def join_cost(left: Box, right: Box, height: float) -> float:
    """Cost of a cut between two neighbouring segments that overlap side by side."""
    floor = JOIN_FLOOR * height  # a 1 is thin: its overlap is measured against a wider digit
    narrower = max(min(left[2] - left[0], right[2] - right[0]), floor)
    overlap = (left[2] - right[0]) / narrower
    return OVERLAP_COST * max(0.0, overlap - OVERLAP_FREE)


def _ends(piece: Piece) -> np.ndarray:
    return np.concatenate([s[[0, -1]] for s in piece.strokes])


def _meet(p: Piece, q: Piece, near: float) -> bool:
    """Whether an end of one piece's strokes meets an end of the other's: where the strokes of
    one digit are joined (a 5's flag at the top of its body, the strokes of a traced digit at a
    junction). Neighbouring digits that overlap cross mid-stroke or end on a stroke instead."""
    d = _ends(p)[:, None, :] - _ends(q)[None, :, :]
    return float((d**2).sum(axis=2).min()) <= near * near


def contacts(
    pieces: Sequence[Piece], height: float, cache: dict[tuple[int, int, float], bool] | None = None
) -> set[tuple[int, int]]:
    """Pairs (a, b), a < b, of ordered pieces of a drawing whose strokes end at the same place
    (within CONTACT line heights). Parts of one stroke, and the blobs of a picture, are left
    out: a stroke or a blob is cut where it may hold two digits.

    ``cache`` keeps the answers for pairs of pieces by their keys (a live update asks again
    about every pair but those holding the newest ink)."""
    out: set[tuple[int, int]] = set()
    near = CONTACT * height
    for a in range(len(pieces)):
        for b in range(a + 1, min(len(pieces), a + MAX_PIECES)):
            p, q = pieces[a], pieces[b]
            if not p.strokes or not q.strokes or (p.link is not None and q.link is not None and p.link[0] == q.link[0]):
                continue  # parts of one stroke (or blob) were cut apart on purpose
            if p.box[0] > q.box[2] + near or q.box[0] > p.box[2] + near:
                continue
            if p.box[1] > q.box[3] + near or q.box[1] > p.box[3] + near:
                continue
            key = (min(p.key, q.key), max(p.key, q.key), near)
            hit = cache.get(key) if cache is not None else None
            if hit is None:
                hit = _meet(p, q, near)
                if cache is not None:
                    cache[key] = hit
            if hit:
                out.add((a, b))
    return out


def stroke_cut_cost(pieces: Sequence[Piece], c: tuple[int, int]) -> float:
    """STROKE_CUT_COST for each part of a pen stroke in segment ``c`` whose neighbouring part
    lies before it (at a lower index): the segment's start cuts that stroke, whatever the path
    before it. Counted at the later segment, so each cut stroke is paid for once."""
    if not STROKE_CUT_COST and not BLOB_CUT_COST:
        return 0.0
    cost = 0.0
    for b in range(c[0], c[1]):
        if not pieces[b].strokes and pieces[b].ink is None:
            continue
        each = STROKE_CUT_COST if pieces[b].strokes else BLOB_CUT_COST
        cost += each * sum(1 for a in range(max(0, c[0] - 2 * MAX_PIECES), c[0]) if _joined(pieces[a], pieces[b]))
    return cost


#: Cost of leaving out a piece as the pen's way from one digit into the next (joined writing:
#: the line from the foot of a 7 up to the top of the 1 after it belongs to neither digit).
LIGATURE_COST = 0.3
#: A ligature is nearly straight: its chord is at least this share of its length...
LIGATURE_STRAIGHT = 0.9
#: ...it runs to the right at least this share of its chord...
LIGATURE_RIGHTWARD = 0.3
#: ...and is at least this many line heights long.
LIGATURE_LENGTH = 0.1


def is_ligature(piece: Piece, parts: int, height: float) -> bool:
    """Whether a piece may be the pen's way between two digits: a middle part of a stroke that
    was cut (``parts`` is how many parts its stroke has), nearly straight, running right."""
    if not LIGATURE_COST or not piece.strokes or piece.link is None or not 0 < piece.link[1] < parts - 1:
        return False
    pts = piece.strokes[0]
    length = float(np.sqrt((np.diff(pts, axis=0) ** 2).sum(axis=1)).sum())
    chord = pts[-1] - pts[0]
    span = float(np.hypot(chord[0], chord[1]))
    return (
        span >= LIGATURE_LENGTH * height
        and span >= LIGATURE_STRAIGHT * length
        and float(chord[0]) >= LIGATURE_RIGHTWARD * span
    )


#: What each candidate costs before the cuts around it: boxes by (i, j), and costs by
#: (i, j, kind), kind 1 for a piece left out as a ligature.
Costs = tuple[dict[tuple[int, int], Box], dict[tuple[int, int, int], float]]


def segment_costs(pieces: Sequence[Piece], scores: dict[tuple[int, int], float], height: float) -> Costs:
    """Each candidate's box and own cost (the network's doubt, shape, gaps, strokes it cuts),
    and LIGATURE_COST for each piece that may be left out."""
    n = len(pieces)
    boxes = {c: union_box([p.box for p in pieces[c[0] : c[1]]]) for c in scores}
    seg = {
        (*c, 0): segment_cost(p, boxes[c], height) + gap_cost(pieces[c[0] : c[1]], height) + stroke_cut_cost(pieces, c)
        for c, p in scores.items()
    }
    parts: dict[int, int] = {}
    for p in pieces:
        if p.strokes and p.link is not None:
            parts[p.link[0]] = max(parts.get(p.link[0], 0), p.link[1] + 1)
    for i, p in enumerate(pieces):
        if 0 < i < n - 1 and p.link is not None and is_ligature(p, parts.get(p.link[0], 0), height):
            seg[(i, i + 1, 1)] = LIGATURE_COST
    return boxes, seg


class Path(list[tuple[int, int]]):
    """The segments (i, j) of a path through the pieces, and what the path costs in all."""

    def __init__(self, segments: Sequence[tuple[int, int]] = (), cost: float = 0.0) -> None:
        super().__init__(segments)
        self.cost = cost


def best_path(
    pieces: Sequence[Piece],
    scores: dict[tuple[int, int], float],
    height: float,
    touching: set[tuple[int, int]] | None = None,
    digit_width: float | None = None,
    costs: Costs | None = None,
    forbid: frozenset[tuple[int, int]] = frozenset(),
) -> Path:
    """The segments (i, j) covering every ordered piece at the lowest total cost (``.cost``;
    infinite when ``forbid`` leaves no path).

    ``scores`` maps each candidate (from ``candidates``) to the network's top probability;
    ``touching`` holds the pairs of pieces whose ink touches (``contacts``), each of which a
    cut between them pays CONTACT_COST for; with ``digit_width`` (the writing's usual digit
    width), a segment wider than RELATIVE_WIDE of it pays WIDE_COST per line height beyond.
    A piece that may be a ligature (``is_ligature``) may be left out of every segment for
    LIGATURE_COST; the segments returned then do not cover it. ``costs``: ``segment_costs`` of
    the same arguments, when the caller has them already. ``forbid``: segments no path may hold.
    """
    touching = touching or set()

    def _digit_before(prev: tuple[int, int, int]) -> tuple[int, int, int] | None:
        """The segment a cut before ``c`` is between: across a ligature, the digit before it."""
        return best[prev][1] if prev[2] else prev

    def cut_cost(prev: tuple[int, int, int] | None, c: tuple[int, int, int]) -> float:
        if prev is None or c[2]:  # a ligature's cost is paid by the digit after it
            return 0.0
        across = sum(1 for a in range(prev[0], prev[1]) for b in range(c[0], c[1]) if (a, b) in touching)
        return join_cost(boxes[prev[:2]], boxes[c[:2]], height) + CONTACT_COST * across

    n = len(pieces)
    if n == 0:
        return Path()
    boxes, seg = costs if costs is not None else segment_costs(pieces, scores, height)
    if forbid:
        seg = {c: v for c, v in seg.items() if c[2] or c[:2] not in forbid}
    if digit_width is not None:
        seg = dict(seg)  # the caller's costs serve the first path too
        for c in seg:
            if not c[2]:
                seg[c] += (
                    RELATIVE_COST * max(0.0, boxes[c[:2]][2] - boxes[c[:2]][0] - RELATIVE_WIDE * digit_width) / height
                )
    ending: dict[int, list[tuple[int, int, int]]] = {}
    for c in seg:
        ending.setdefault(c[1], []).append(c)
    best: dict[tuple[int, int, int], tuple[float, tuple[int, int, int] | None]] = {}
    for j in range(1, n + 1):
        for c in ending.get(j, []):
            i = c[0]
            if i == 0:
                best[c] = (seg[c], None)
                continue
            options = [
                (best[prev][0] + cut_cost(_digit_before(prev), c), prev)
                for prev in ending.get(i, [])
                if prev in best and not (prev[2] and c[2])  # one ligature between two digits
            ]
            if options:
                cost, prev = min(options, key=lambda t: t[0])
                best[c] = (cost + seg[c], prev)
    finals = [c for c in ending.get(n, []) if c in best]
    if not finals:
        return Path(cost=math.inf)
    end = min(finals, key=lambda c: best[c][0])
    total = best[end][0]
    last: tuple[int, int, int] | None = end
    path = []
    while last is not None:
        if not last[2]:
            path.append(last[:2])
        last = best[last][1]
    return Path(path[::-1], total)


def read_path(
    pieces: Sequence[Piece],
    scores: dict[tuple[int, int], float],
    height: float,
    touching: set[tuple[int, int]] | None = None,
) -> list[tuple[int, int]]:
    """``best_path``, and again with the digit width the first path shows when one of its
    segments is wider than the others: two touching or overlapping digits read as one sure
    digit (a 6 and a 7 taken for a 0, a crossed 7 over a 9 taken for a 7) stand out by their
    width beside their neighbours. Not when the first path's digits are written apart (their
    usual gap over SPACED line heights): then a wide segment is a wide digit."""
    return _read_path(pieces, scores, height, touching)[0]


def _read_path(
    pieces: Sequence[Piece],
    scores: dict[tuple[int, int], float],
    height: float,
    touching: set[tuple[int, int]] | None = None,
) -> tuple[Path, float | None, Costs | None]:
    """``read_path``, the digit width it used (None: none) and the segments' costs."""
    costs = segment_costs(pieces, scores, height) if pieces else None
    path = best_path(pieces, scores, height, touching, costs=costs)
    if not path:
        return path, None, costs
    boxes = [union_box([p.box for p in pieces[i:j]]) for i, j in path]
    w = [b[2] - b[0] for b in boxes]
    usual = max(float(np.median(w)), WIDTH_FLOOR * height)
    gaps = [b[0] - a[2] for a, b in zip(boxes, boxes[1:])]
    if gaps and float(np.median(gaps)) > SPACED * height:
        return path, None, costs  # written apart: two digits are not one wide segment, and wide digits are left whole
    if max(w) > RELATIVE_WIDE * usual:
        return best_path(pieces, scores, height, touching, usual, costs), usual, costs
    return path, None, costs


def contested(
    pieces: Sequence[Piece],
    scores: dict[tuple[int, int], float],
    height: float,
    touching: set[tuple[int, int]] | None = None,
) -> tuple[list[tuple[int, int]], list[tuple[list[tuple[int, int]], list[tuple[int, int]]]]]:
    """``read_path``, and for each of its segments whether its ink may be cut another way: the
    best path without that segment, when it costs less than CONTESTED more, differs from the
    best path over a stretch of pieces; for each segment of that stretch, (the best path's
    segments there, the other path's segments there), else ([], []). Two overlapping 1s read as
    one sure 4, or a 6 over a 7 read as one 0, look like that. One more path for each segment."""
    path, width, costs = _read_path(pieces, scores, height, touching)
    none: tuple[list[tuple[int, int]], list[tuple[int, int]]] = ([], [])
    doubts = [none] * len(path)
    if not path:
        return path, doubts

    def blob_cuts(p: Sequence[tuple[int, int]]) -> float:
        """What a path pays for cutting blobs of a picture: a prior against cutting, not
        evidence that the cut is right, so left out when two paths are weighed for doubt."""
        return sum(stroke_cut_cost(pieces, c) for c in p) if pieces[0].ink is not None else 0.0

    mine_cuts = blob_cuts(path)
    for i, j in path:
        alt = best_path(pieces, scores, height, touching, width, costs, frozenset([(i, j)]))
        margin = alt.cost - path.cost - (blob_cuts(alt) - mine_cuts)
        # Written "not <" so that a NaN cost (weights that answer NaN) or no other path at all
        # (inf - inf) is no doubt about the cut.
        if not alt or not (margin < CONTESTED):
            continue
        lo, hi = i, j
        while True:  # the smallest stretch both paths cut at its ends
            inside = [c for c in (*path, *alt) if c[0] < hi and c[1] > lo]
            grown = min(c[0] for c in inside), max(c[1] for c in inside)
            if grown == (lo, hi):
                break
            lo, hi = grown
        mine = [c for c in path if c[0] < hi and c[1] > lo]
        theirs = [c for c in alt if c[0] < hi and c[1] > lo]
        for k, c in enumerate(path):
            if c in mine and not doubts[k][0]:
                doubts[k] = (mine, theirs)
    return path, doubts
