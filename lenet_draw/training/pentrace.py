"""Raster digits -> pen paths: thinning to a one-pixel skeleton, then tracing it as strokes.

This turns MNIST digits into what a person's pen would have produced: polylines. Replaying
them through the canvas at any size and place gives a test set shaped like real drawings
(the app never sees MNIST's own pixels), and the benchmark uses them as real-looking strokes.
Pure numpy.
"""

from __future__ import annotations

import numpy as np

# Neighbour offsets in Zhang-Suen order P2..P9 (N, NE, E, SE, S, SW, W, NW) as (dy, dx).
_RING = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def thin(images: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Zhang-Suen thinning of a batch (N, H, W) (or one (H, W) image) -> bool skeletons."""
    single = images.ndim == 2
    imgs = images[None] if single else images
    scale = 255.0 if imgs.dtype == np.uint8 else 1.0
    p = np.pad(imgs.astype(np.float32) / scale >= threshold, ((0, 0), (1, 1), (1, 1)))
    h, w = p.shape[1] - 2, p.shape[2] - 2
    while True:
        changed = False
        for step in (0, 1):
            n = [p[:, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in _RING]
            c = p[:, 1:-1, 1:-1]
            b = sum(x.astype(np.uint8) for x in n)
            a = sum((~n[i] & n[(i + 1) % 8]).astype(np.uint8) for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            if step == 0:
                cond = ~(p2 & p4 & p6) & ~(p4 & p6 & p8)
            else:
                cond = ~(p2 & p4 & p8) & ~(p2 & p6 & p8)
            remove = c & (b >= 2) & (b <= 6) & (a == 1) & cond
            if remove.any():
                changed = True
                p[:, 1:-1, 1:-1] = c & ~remove
        if not changed:
            break
    out = p[:, 1:-1, 1:-1]
    return out[0] if single else out


def _neighbours(skel: np.ndarray) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """8-connected adjacency, without the diagonal shortcuts that close tiny triangles."""
    pix = set(zip(*np.nonzero(skel)))
    adj: dict[tuple[int, int], list[tuple[int, int]]] = {q: [] for q in pix}
    for y, x in pix:
        for dy, dx in _RING:
            q = (y + dy, x + dx)
            if q not in pix:
                continue
            if dy and dx and ((y + dy, x) in pix or (y, x + dx) in pix):
                continue  # a 4-connected path exists through a shared neighbour
            adj[(y, x)].append(q)
    return adj


def trace(skel: np.ndarray, min_points: int = 2) -> list[np.ndarray]:
    """Cover every edge of a skeleton with as few polylines as a greedy walk finds.

    Walks start at line ends, then at junctions, then anywhere (closed loops such as a 0),
    and prefer to go straight on. Returns (N, 2) float arrays of (x, y) pixel centres.
    """
    adj = _neighbours(skel)
    used: set[frozenset] = set()

    def free(p):
        return [q for q in adj[p] if frozenset((p, q)) not in used]

    strokes: list[np.ndarray] = []
    while True:
        starts = [p for p in adj if free(p)]
        if not starts:
            break
        ends = [p for p in starts if len(adj[p]) == 1]
        odd = [p for p in starts if len(free(p)) % 2 == 1]
        start = min(ends or odd or starts)
        path = [start]
        cur, prev = start, None
        while True:
            options = free(cur)
            if not options:
                break
            if prev is not None:
                d = (cur[0] - prev[0], cur[1] - prev[1])
                options.sort(key=lambda q: -((q[0] - cur[0]) * d[0] + (q[1] - cur[1]) * d[1]))
            nxt = options[0]
            used.add(frozenset((cur, nxt)))
            prev, cur = cur, nxt
            path.append(cur)
        if len(path) >= min_points:
            arr = np.array([(x + 0.5, y + 0.5) for y, x in path], dtype=np.float64)
            strokes.append(_smooth(arr))
    if not strokes and skel.any():  # isolated pixels: a dot
        y, x = np.argwhere(skel)[0]
        strokes.append(np.array([[x + 0.5, y + 0.5]]))
    return strokes


def _smooth(path: np.ndarray) -> np.ndarray:
    """Soften the pixel staircase with a [1 2 1] filter, keeping both ends in place."""
    if len(path) < 3:
        return path
    closed = np.allclose(path[0], path[-1])
    out = path.copy()
    out[1:-1] = (path[:-2] + 2 * path[1:-1] + path[2:]) / 4.0
    if closed:
        out[0] = out[-1] = (path[-2] + 2 * path[0] + path[1]) / 4.0
    return out


def pen_paths(images: np.ndarray) -> list[list[np.ndarray]]:
    """Raster digits (N, H, W) -> each one's pen paths, in the image's pixel coordinates.

    The one way the project turns MNIST digits into drawings: training's drawn copies, the
    drawn-digit proxy and the benchmark's real-looking strokes all come from here.
    """
    return [trace(s) for s in thin(np.asarray(images))] if len(images) else []


def place(strokes: list[np.ndarray], size: float, centre: tuple[float, float], step: float = 2.0) -> list[np.ndarray]:
    """Scale strokes (any coordinates) so the drawing is ``size`` tall (or wide) around ``centre``,
    resampled to points about ``step`` apart, as pointer events arrive."""
    allpts = np.concatenate(strokes)
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    extent = max(float((hi - lo).max()), 1e-6)
    k = size / extent
    mid = (lo + hi) / 2
    out = []
    for s in strokes:
        pts = (s - mid) * k + np.asarray(centre, dtype=np.float64)
        if len(pts) > 1:
            seg = np.sqrt((np.diff(pts, axis=0) ** 2).sum(axis=1))
            arc = np.concatenate([[0.0], np.cumsum(seg)])
            n = max(2, int(arc[-1] / step) + 1)
            t = np.linspace(0, arc[-1], n)
            pts = np.stack([np.interp(t, arc, pts[:, 0]), np.interp(t, arc, pts[:, 1])], axis=1)
        out.append(pts)
    return out
