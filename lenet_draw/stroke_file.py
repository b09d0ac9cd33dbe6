"""Stroke files: a drawing saved as JSON, ``{"strokes": [[[x, y], ...], ...]}``.

Coordinates are in any consistent unit, x growing to the right and y down (readers normalise
the scale); points may carry more values after x and y (pressure, time), which are ignored, and
so are keys other than ``strokes``. Reading never runs code and never raises anything but
``StrokeFileError``, whose message is one sentence.

No Qt, no torch.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

#: Stroke files larger than this are refused before they are read.
MAX_STROKE_FILE_BYTES = 64 * 1024 * 1024


class StrokeFileError(ValueError):
    """A stroke file that cannot be read; the message says why in one sentence."""


def _point(p: object) -> tuple[float, float] | None:
    if not isinstance(p, (list, tuple)) or len(p) < 2:
        return None
    x, y = p[0], p[1]
    if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, (int, float)) or not isinstance(y, (int, float)):
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return float(x), float(y)


def parse_strokes(data: object) -> list[np.ndarray]:
    """The ``strokes`` of a decoded JSON document as (N, 2) float arrays."""
    if not isinstance(data, dict) or "strokes" not in data:
        raise StrokeFileError('it holds no "strokes" list')
    raw = data["strokes"]
    if not isinstance(raw, list):
        raise StrokeFileError('"strokes" is not a list of strokes')
    out: list[np.ndarray] = []
    for k, stroke in enumerate(raw):
        if not isinstance(stroke, list):
            raise StrokeFileError(f"stroke {k + 1} is not a list of points")
        pts = [_point(p) for p in stroke]
        if any(p is None for p in pts):
            raise StrokeFileError(f"stroke {k + 1} has a point that is not two finite numbers [x, y]")
        if pts:
            out.append(np.asarray(pts, dtype=np.float64))
    return out


def load_strokes(path: str | os.PathLike) -> list[np.ndarray]:
    """Read a stroke file; raise StrokeFileError with the reason when it cannot be used."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise StrokeFileError(f"{p.name} is a folder, not a stroke file")
        if size > MAX_STROKE_FILE_BYTES:
            raise StrokeFileError(f"{p.name} is {size // (1024 * 1024)} MB, larger than a stroke file can be")
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StrokeFileError(f"{p.name} does not exist") from None
    except PermissionError:
        raise StrokeFileError(f"{p.name} cannot be read (no permission)") from None
    except UnicodeDecodeError:
        raise StrokeFileError(f"{p.name} is not a text file, so not a stroke file") from None
    except OSError as exc:
        raise StrokeFileError(f"{p.name} cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise StrokeFileError(f"{p.name} is not valid JSON") from None
    try:
        return parse_strokes(data)
    except StrokeFileError as exc:
        raise StrokeFileError(f"{p.name}: {exc}") from None
