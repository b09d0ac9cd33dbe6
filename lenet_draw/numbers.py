"""Reading a number: segmentation (``segment``) with LeNet-5 scoring every candidate segment.

Each candidate is rendered by the app's own preprocessing (``preprocess_strokes`` for
strokes, ``preprocess_image`` for pictures), so a digit in a number is read exactly as the
same digit drawn alone. Scores are cached by the ink they came from: while a stroke is being
drawn only the candidates that hold it are scored again, which keeps a live update of a
6-digit number to a few segments' work.

No Qt.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from PIL import Image

from lenet_draw import preprocess, segment
from lenet_draw.engine import Engine, Prediction, Reading
from lenet_draw.preprocess import Stages, clean_strokes, image_to_ink, preprocess_image, preprocess_strokes
from lenet_draw.segment import Box, Piece

#: A digit read from one whole pen stroke this unsurely, and at least RECUT_WIDTH line heights
#: wide, may be two digits written without lifting the pen (a joined "11" or "71", narrower
#: than the strokes ``segment`` cuts at once): the stroke is cut and the number read again.
RECUT_BELOW = 0.6
RECUT_WIDTH = 0.45
#: Ink in more pieces than this is not looked at for another cut (one more path per digit, each
#: over all the pieces: a second at 200 pieces): over 30 digits, far more than a number has.
JUDGE_PIECES = 100
#: Candidates the network scores in one batch.
SCORE_BATCH = 128
#: Scores kept between updates (a few thousand candidates: a long number drawn and redrawn).
CACHE_SIZE = 4096


@dataclass(frozen=True)
class Digit(Reading):
    """One digit of a number: where it is, what the network read, and the ink it read."""

    box: Box  # in the input's coordinates (stroke units or picture pixels)
    probabilities: np.ndarray
    stages: Stages
    strokes: tuple[np.ndarray, ...] = ()  # stroke input only
    #: Where the ink may be cut another way nearly as well: (what the stretch of the number
    #: holding this digit reads, what it reads cut the other way), e.g. ("8", "16") for a 1
    #: and a 6 overlapping, read as one 8; () when no other cut comes close.
    doubt: tuple[str, str] | tuple[()] = ()
    #: Written in one pen stroke with a neighbour (or with the pen's way to it): where the
    #: stroke parts is the reader's guess, and joined writing is read right far less often.
    joined: bool = False

    @property
    def unsure(self) -> bool:
        """Unsure what it is, or where it ends."""
        return super().unsure or bool(self.doubt) or self.joined


@dataclass(frozen=True)
class NumberReading:
    digits: tuple[Digit, ...]
    candidates: int = 0  # candidate segments considered
    scored: int = 0  # of which the network had to score now (the rest came from the cache)
    ms: float = 0.0

    @property
    def text(self) -> str:
        return "".join(str(d.digit) for d in self.digits)

    @property
    def unsure(self) -> bool:
        return any(d.unsure for d in self.digits)


@dataclass(frozen=True)
class _Score:
    probabilities: np.ndarray
    stages: Stages


class NumberReader:
    """Reads numbers with one engine; keeps the scores of segments it has seen."""

    def __init__(self, engine: Engine, cache_size: int = CACHE_SIZE) -> None:
        self.engine = engine
        self._cache: OrderedDict[tuple, _Score] = OrderedDict()
        self._cache_size = cache_size
        self._weights = engine.weights
        self._contacts: dict[tuple[int, int, float], bool] = {}  # see segment.contacts
        self._pieces: dict[tuple[int, int, float], list[Piece]] = {}  # see segment.pieces_from_strokes
        self._recut: dict[tuple[int, int, float], list[Piece]] = {}  # see segment.recut
        self._doubts: dict[tuple, tuple] = {}  # Digit.doubt by the ink of a digit last judged

    def _cached(self, key: tuple) -> _Score | None:
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
        return hit

    def _store(self, key: tuple, score: _Score) -> None:
        self._cache[key] = score
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def read_strokes(self, strokes: Iterable[Any], drawing: bool = False) -> NumberReading | None:
        """Strokes (x right, y down, any unit) -> the number, or None when there is no ink.
        ``drawing``: the last stroke is still being drawn, and is not cut for reading badly
        (a digit half written reads badly; it is judged when the pen lifts)."""
        t0 = time.perf_counter()
        clean = clean_strokes(strokes)
        if not clean:
            return None
        if len(self._pieces) > CACHE_SIZE:
            self._pieces.clear()
        pieces = segment.pieces_from_strokes(clean, self._pieces)
        found = self._read_path(pieces, judge=not drawing)
        if found is None:
            return None
        reading, ordered, path = found
        height = segment.line_height(ordered)
        doubtful = [
            stroke for stroke in _read_badly_whole(reading, ordered, path) if not (drawing and stroke == len(clean) - 1)
        ]
        if not doubtful:
            return reading
        if len(self._recut) > CACHE_SIZE:
            self._recut.clear()
        for stroke in doubtful:
            pieces = segment.recut(pieces, stroke, height, self._recut)
        if len(pieces) > segment.MAX_INK_PIECES:  # scribbles cut at every turn: keep the first reading
            return reading
        again = self._read_path(pieces, judge=not drawing)
        assert again is not None
        return replace(again[0], ms=(time.perf_counter() - t0) * 1e3)

    def read_image(self, image: Image.Image | np.ndarray) -> NumberReading | None:
        """A picture of a written number -> the number, or None when it holds no ink."""
        ink = image_to_ink(image)
        if ink.size == 0:
            return None
        ink = ink - float(np.median(ink))
        if float(ink.max()) < 0.05:
            return None
        pieces, (x0, y0, f) = segment.framed_pieces_from_ink(np.clip(ink / float(ink.max()), 0.0, 1.0))
        # Boxes in the picture's own pixels (image_to_ink may have shrunk a large picture).
        w, h = image.size if isinstance(image, Image.Image) else (ink.shape[1], ink.shape[0])
        kx, ky = w / ink.shape[1], h / ink.shape[0]

        def place(b: Box) -> Box:
            return ((x0 + b[0] / f) * kx, (y0 + b[1] / f) * ky, (x0 + b[2] / f) * kx, (y0 + b[3] / f) * ky)

        found = self._read_path(pieces, place)
        if found is None:
            return None
        reading, ordered, path = found
        # As for a pen stroke: a whole blob narrower than the line that reads badly may be two
        # digits touching (two 1s, a 1 and a 9), which are only cut when the blob is wide.
        doubtful = _read_badly_whole(reading, ordered, path)
        if not doubtful:
            return reading
        for blob in doubtful:
            pieces = segment.recut_blob(pieces, blob)
        if len(pieces) > segment.MAX_INK_PIECES:
            return reading
        again = self._read_path(pieces, place)
        return reading if again is None else again[0]

    def _render(self, pieces: Sequence[Piece]) -> Stages | None:
        if pieces[0].ink is not None:
            return preprocess_image(segment.compose_ink(pieces))
        strokes: list[Any] = [s for p in pieces for s in p.strokes]
        return preprocess_strokes(strokes, crop_view=False)

    def _read(self, pieces: list[Piece], place: Callable[[Box], Box] = lambda b: b) -> NumberReading | None:
        found = self._read_path(pieces, place)
        return None if found is None else found[0]

    def _read_path(
        self, pieces: list[Piece], place: Callable[[Box], Box] = lambda b: b, judge: bool = True
    ) -> tuple[NumberReading, list[Piece], list[tuple[int, int]]] | None:
        """The reading, the ordered pieces, and the segments (i, j) of them the digits are.
        ``judge``: look for another cut nearly as good for each digit (one more path each;
        otherwise a digit keeps what the last judged reading found for the same ink)."""
        t0 = time.perf_counter()
        if self.engine.weights is not self._weights:  # new weights: old scores mean nothing
            self._cache.clear()
            self._doubts.clear()
            self._weights = self.engine.weights
        ordered = segment.order(pieces)
        if not ordered:
            return None
        height = segment.line_height(ordered)
        cands = [
            c
            for c in segment.candidates(ordered, height)
            if c[1] == c[0] + 1 or segment.prior_cost(ordered[c[0] : c[1]], height) < segment.PRUNE
        ]
        keys = {c: tuple(sorted(p.key for p in ordered[c[0] : c[1]])) for c in cands}
        scores: dict[tuple[int, int], _Score] = {}
        todo: list[tuple[tuple[int, int], Stages]] = []
        for c in cands:
            hit = self._cached(keys[c])
            if hit is not None:
                scores[c] = hit
                continue
            stages = self._render(ordered[c[0] : c[1]])
            if stages is not None:
                todo.append((c, stages))
            elif c[1] == c[0] + 1:  # ink too faint to render alone: no digit, but the path needs it
                blank = np.zeros((32, 32), np.float32)
                scores[c] = _Score(np.full(10, 0.1, np.float32), Stages(blank, blank[:20, :20], blank[:28, :28], blank))
        if todo:
            # In batches: a long number's first reading has hundreds of candidates, and one
            # batch would hold every layer's activations for all of them at once.
            probs = np.concatenate(
                [
                    self.engine.probabilities_live(np.stack([s.input for _, s in todo[k : k + SCORE_BATCH]]))
                    for k in range(0, len(todo), SCORE_BATCH)
                ]
            )
            for (c, stages), p in zip(todo, probs):
                scores[c] = _Score(p, stages)
                self._store(keys[c], scores[c])
        if len(self._contacts) > CACHE_SIZE:
            self._contacts.clear()
        touching = segment.contacts(ordered, height, self._contacts)
        top = {c: float(s.probabilities.max()) for c, s in scores.items()}
        # While drawing, digits keep the doubt last judged for their ink; with the pen up, a
        # doubt is only what this reading found (never one judged beside other neighbours).
        recall = not judge
        if judge and len(ordered) <= JUDGE_PIECES:
            path, doubts = segment.contested(ordered, top, height, touching)
            if len(self._doubts) > CACHE_SIZE:
                self._doubts.clear()
            for c, (mine, theirs) in zip(path, doubts):
                said = tuple(
                    "".join(str(int(np.argmax(scores[a].probabilities))) for a in cut) for cut in (mine, theirs)
                )
                # The same digits cut a little differently: no doubt about what the number says.
                self._doubts[keys[c]] = said if said[0] != said[1] and all(said) else ()
            recall = True
        else:
            path = segment.read_path(ordered, top, height, touching)
        joined = _joined(ordered, path)
        digits = tuple(
            Digit(
                box=place(segment.union_box([p.box for p in ordered[i:j]])),
                probabilities=scores[(i, j)].probabilities,
                stages=scores[(i, j)].stages,
                strokes=tuple(s for p in ordered[i:j] for s in p.strokes),
                doubt=self._doubts.get(keys[(i, j)], ()) if recall else (),
                joined=k in joined,
            )
            for k, (i, j) in enumerate(path)
        )
        return NumberReading(digits, len(cands), len(todo), (time.perf_counter() - t0) * 1e3), ordered, path

    def explain(self, digit: Digit, pen_width: float | None = None) -> Prediction:
        """The full prediction of one digit (every activation, every stage) for the views, from
        the stages it was read with (a drawing's digit gets its "cropped" view drawn now)."""
        stages = (
            preprocess.with_crop_view(digit.stages, list[Any](digit.strokes), pen_width)
            if digit.strokes
            else digit.stages
        )
        return self.engine.predict_stages(stages)


def _joined(pieces: Sequence[Piece], path: Sequence[tuple[int, int]]) -> set[int]:
    """The digits of ``path`` (by index) holding part of a pen stroke that another digit also
    holds, or that runs on into ink no digit holds (the pen's way between joined digits)."""
    owner: dict[int, set[int]] = {}  # stroke -> digits holding a part of it (-1: none)
    held = {i: k for k, (a, b) in enumerate(path) for i in range(a, b)}
    for i, p in enumerate(pieces):
        if p.strokes and p.link is not None:
            owner.setdefault(p.link[0], set()).add(held.get(i, -1))
    return {k for digits in owner.values() if len(digits) > 1 for k in digits if k >= 0}


def _read_badly_whole(reading: NumberReading, ordered: Sequence[Piece], path: Sequence[tuple[int, int]]) -> list[int]:
    """The whole pen strokes or blobs (by number) read alone as a digit under RECUT_BELOW while
    at least RECUT_WIDTH line heights wide: two digits joined in one stroke, or touching in one
    blob, read so."""
    height = segment.line_height(ordered)
    return [
        n
        for (i, j), d in zip(path, reading.digits)
        if j == i + 1
        and d.confidence < RECUT_BELOW
        and ordered[i].box[2] - ordered[i].box[0] >= RECUT_WIDTH * height
        and (n := _whole(ordered, i)) is not None
    ]


def _whole(pieces: Sequence[Piece], i: int) -> int | None:
    """The stroke or blob number of piece ``i`` when it is a whole pen stroke or a whole blob of
    a picture (not cut into parts)."""
    link = pieces[i].link
    if link is None or (not pieces[i].strokes and pieces[i].ink is None):
        return None
    if any(p.link is not None and p.link[0] == link[0] and p is not pieces[i] for p in pieces):
        return None
    return link[0]


def describe(reading: NumberReading) -> str:
    """``2026  (2 99.8%, 0 97.1%, 2 91.0%, 6 52.3% unsure)``; a digit whose ink may be cut
    another way says how it then reads: ``8 97.0% unsure (8 or 16?)``."""
    parts = ", ".join(
        f"{d.digit} {d.confidence * 100:.1f}%{' unsure' if d.unsure else ''}"
        + (f" ({d.doubt[0]} or {d.doubt[1]}?)" if d.doubt else "")
        + (" (joined)" if d.joined else "")
        for d in reading.digits
    )
    return f"{reading.text}  ({parts})"


def print_numbers(engine: Engine, names: Sequence[str]) -> int:
    """``lenet-draw predict --number``: one line per file; 1 when a file could not be read."""
    from lenet_draw.errors import NumberError
    from lenet_draw.images import ImageError, open_image
    from lenet_draw.stroke_file import StrokeFileError, load_strokes

    reader = NumberReader(engine)
    status = 0
    for name in names:
        try:
            if name.lower().endswith(".json"):
                reading = reader.read_strokes(load_strokes(name))
            else:
                reading = reader.read_image(open_image(name))
        except (ImageError, StrokeFileError, NumberError) as exc:
            print(f"{name}: cannot read: {exc}")
            status = 1
            continue
        print(f"{name}: {describe(reading) if reading is not None else 'no ink found, no number'}")
    return status
