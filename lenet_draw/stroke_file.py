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

from lenet_draw.regular_file import NotRegular, TooLarge, read_regular, refusal

#: Stroke files larger than this are refused before they are read: a written number of eight
#: digits sampled finely is well under 1 MB, and 8 MB of JSON points already decode to about
#: 150 MB of Python objects.
MAX_STROKE_FILE_BYTES = 8 * 1024 * 1024
#: Points in one file, all strokes together (the canvas keeps at most 100,000 per drawing).
MAX_FILE_POINTS = 400_000
#: JSON lists and objects in one file: each point is a list, each stroke one more, the strokes one
#: and the file one. Extra keys are ignored, but decoded all the same: 8 MB of empty objects
#: (``{}``, 3 bytes of text, about 60 once decoded) took 180 MB to decode before this bound.
MAX_FILE_CONTAINERS = 2 * MAX_FILE_POINTS + 2


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
    total = 0
    for k, stroke in enumerate(raw):
        if not isinstance(stroke, list):
            raise StrokeFileError(f"stroke {k + 1} is not a list of points")
        total += len(stroke)
        if total > MAX_FILE_POINTS:
            raise StrokeFileError(f"it holds more than {MAX_FILE_POINTS:,} points, far more than any drawing")
        try:
            pts = [_point(p) for p in stroke]
        except OverflowError:  # an integer beyond any float: JSON sets no limit on digits
            raise StrokeFileError(f"stroke {k + 1} has a coordinate too large to be a number") from None
        if any(p is None for p in pts):
            raise StrokeFileError(f"stroke {k + 1} has a point that is not two finite numbers [x, y]")
        if pts:
            out.append(np.asarray(pts, dtype=np.float64))
    return out


def load_strokes(path: str | os.PathLike) -> list[np.ndarray]:
    """Read a stroke file; raise StrokeFileError with the reason when it cannot be used."""
    p = Path(path)
    try:
        text = read_regular(p, MAX_STROKE_FILE_BYTES).decode("utf-8")
    except (NotRegular, TooLarge) as exc:
        raise StrokeFileError(refusal(exc, p.name, "a stroke file")) from None
    except FileNotFoundError:
        raise StrokeFileError(f"{p.name} does not exist.") from None
    except PermissionError:
        raise StrokeFileError(f"{p.name} cannot be read (no permission).") from None
    except UnicodeDecodeError:
        raise StrokeFileError(f"{p.name} is not a text file, so not a stroke file.") from None
    except OSError as exc:
        raise StrokeFileError(f"{p.name} cannot be read ({exc.strerror or exc}).") from None
    # Counted before decoding, which costs far more (a bracket inside a string counts too, which
    # only makes the count larger).
    lists = text.count("[")
    if lists > 2 * MAX_FILE_POINTS + 1:
        raise StrokeFileError(f"{p.name}: it holds more than {MAX_FILE_POINTS:,} points, far more than any drawing.")
    if lists + text.count("{") > MAX_FILE_CONTAINERS:
        raise StrokeFileError(
            f"{p.name}: it holds more than {MAX_FILE_CONTAINERS:,} JSON lists and objects, far more than any drawing."
        )
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise StrokeFileError(f"{p.name} is not valid JSON.") from None
    except ValueError:  # an integer of more digits than Python converts (4,300 by default)
        raise StrokeFileError(f"{p.name}: it holds a number too large to be a coordinate.") from None
    try:
        return parse_strokes(data)
    except StrokeFileError as exc:
        raise StrokeFileError(f"{p.name}: {exc}.") from None
