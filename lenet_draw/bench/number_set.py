"""A test set of written numbers, and the string accuracy the number reader reaches on it.

Numbers of 2-8 digits are made from four sources of digits, written with spacing from
separated to overlapping, and with the pen running on from one digit into the next ("joined"):

- ``mnist``: MNIST test digits traced into pen strokes (``pentrace``);
- ``sample``: the app's sample drawings, slanted, stretched and turned at random;
- ``styles``: the style set's test drawings (``training.styles``: slashed zeros, flagged ones,
  crossed sevens, open and closed fours, nines, looped twos), so numbers hold only 0 1 2 4 7 9;
- ``handdrawn``: digits drawn by hand on the canvas (``tests/data/handdrawn``, the same six).

A number is right only when every digit is (string accuracy). Beside it: "alone", the share of
numbers whose digits are all read right when each is read by itself (what a perfect segmentation
would reach with these weights), "cut", the share cut into the right digits (as many segments as
digits, each segment's ink its own digit's, see ``cut_right``), and "right | cut",
string accuracy among the numbers cut right. A wrong number that was cut right is a misreading;
one cut wrong is a segmentation error. "sure|wrong": the share of numbers read wrong with no
digit shown unsure (the window showed a wrong number as sure), and "unsure|right": the share
read right with some digit shown unsure.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lenet_draw.sample_digits import DIGIT_STROKES

#: Gap between neighbouring digits' boxes, in digit heights; "overlapping": the boxes overlap
#: by a fifth of the narrower digit's width (0.12 of the height for most digits, little for a 1).
SPACINGS: dict[str, float] = {
    "separated": 0.5,
    "close": 0.15,
    "touching": 0.0,
    "overlapping": -0.2,
    "joined": 0.15,  # the pen runs on from one digit into the next
}
SOURCES = ("mnist", "sample", "styles", "handdrawn")
#: Hand-drawn digits, as the canvas stored them (``{"label": d, "strokes": ...}``).
HAND_DRAWN = Path(__file__).resolve().parents[2] / "tests" / "data" / "handdrawn"
#: A segment is cut right when this share of its ink near some digit's is its own digit's...
CUT_SHARE = 0.9
#: ...where "near" is within this many line heights.
CUT_NEAR = 0.04


@dataclass(frozen=True)
class WrittenNumber:
    text: str
    strokes: list[np.ndarray]
    digits: list[list[np.ndarray]]  # each digit's own strokes, as placed
    source: str  # one of SOURCES
    spacing: str


def style_digit(digit: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A sample drawing of ``digit``, slanted, stretched and turned a little at random."""
    shear = rng.uniform(-0.25, 0.25)
    sx = rng.uniform(0.8, 1.15)
    turn = math.radians(rng.uniform(-8, 8))
    c, s = math.cos(turn), math.sin(turn)
    m = np.array([[sx, shear], [0.0, 1.0]]) @ np.array([[c, -s], [s, c]])
    out = []
    for stroke in DIGIT_STROKES[digit]:
        a = np.asarray(stroke, dtype=np.float64) - 0.5
        out.append(a @ m.T + rng.normal(0, 0.002, a.shape))
    return out


def load_handdrawn(folder: Path = HAND_DRAWN) -> dict[int, list[list[np.ndarray]]]:
    """The hand-drawn digits in ``folder`` by label (empty when the folder is not there)."""
    out: dict[int, list[list[np.ndarray]]] = {}
    for f in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        d = json.loads(f.read_text())
        out.setdefault(int(d["label"]), []).append([np.asarray(s, dtype=np.float64)[:, :2] for s in d["strokes"]])
    return out


def styles_digits(per_style: int = 40, seed: int = 11) -> dict[int, list[list[np.ndarray]]]:
    """The style set's test drawings by label."""
    from lenet_draw.training.styles import style_set

    out: dict[int, list[list[np.ndarray]]] = {}
    for s in style_set(per_style, seed):
        out.setdefault(s.label, []).append([np.asarray(p, dtype=np.float64) for p in s.strokes])
    return out


def _normalised(strokes: list[np.ndarray], height: float) -> list[np.ndarray]:
    allpts = np.concatenate(strokes)
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    k = height / max(float(hi[1] - lo[1]), 1e-6)
    return [(s - lo) * k for s in strokes]


def write(digit_strokes: list[list[np.ndarray]], spacing: str, rng: np.random.Generator) -> list[list[np.ndarray]]:
    """Place digits left to right, each about one unit tall, ``spacing`` apart."""
    gap = SPACINGS[spacing]
    placed: list[list[np.ndarray]] = []
    right = 0.0
    for strokes in digit_strokes:
        height = rng.uniform(0.9, 1.1)
        d = _normalised(strokes, height)
        width = max(float(s[:, 0].max()) for s in d)
        x = right + gap
        if spacing == "overlapping" and placed:
            before = max(float(s[:, 0].max()) for s in placed[-1]) - min(float(s[:, 0].min()) for s in placed[-1])
            x = right + gap * min(width, before)
        dy = 1.0 - height + rng.uniform(-0.05, 0.05)
        d = [s + (x if placed else 0.0, dy) for s in d]
        placed.append(d)
        right = max(float(s[:, 0].max()) for s in d)
    return placed


def join(placed: list[list[np.ndarray]]) -> list[np.ndarray]:
    """All strokes, the last stroke of each digit running on into the first of the next."""
    out: list[np.ndarray] = []
    for strokes in placed:
        if out:
            out[-1] = np.concatenate([out[-1], strokes[0]])
            out += strokes[1:]
        else:
            out += list(strokes)
    return out


def _resampled(s: np.ndarray, step: float = 0.02) -> np.ndarray:
    if len(s) < 2:
        return s
    seg = np.sqrt((np.diff(s, axis=0) ** 2).sum(axis=1))
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.linspace(0, arc[-1], max(2, int(arc[-1] / step) + 1))
    return np.stack([np.interp(t, arc, s[:, 0]), np.interp(t, arc, s[:, 1])], axis=1)


def make_numbers(
    mnist_paths: list[list[np.ndarray]],
    mnist_labels: np.ndarray,
    count: int,
    lengths: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8),
    seed: int = 0,
    pools: dict[str, dict[int, list[list[np.ndarray]]]] | None = None,
    spacings: tuple[str, ...] = tuple(SPACINGS),
) -> list[WrittenNumber]:
    """``count`` numbers per (source, spacing, length). MNIST digits are drawn at random from
    the traced ones given; ``pools`` holds other sources' digits by label (``styles``,
    ``handdrawn``), picked at random; the sample drawings are always there."""
    out: list[WrittenNumber] = []
    sources = (["mnist"] if len(mnist_labels) else []) + ["sample"] + [k for k in (pools or {}) if (pools or {})[k]]
    for source in sources:
        for spacing in spacings:
            for length in lengths:
                # Each (source, spacing, length) draws its own numbers: asking for fewer
                # spacings or lengths leaves the others' numbers as they were.
                rng = np.random.default_rng([seed, SOURCES.index(source), list(SPACINGS).index(spacing), length])
                for _ in range(count):
                    if source == "mnist":
                        idx = [int(i) for i in rng.choice(len(mnist_labels), length, replace=False)]
                        digits = [int(mnist_labels[i]) for i in idx]
                        shapes = [[np.asarray(s, dtype=np.float64) for s in mnist_paths[i]] for i in idx]
                    elif source == "sample":
                        digits = [int(d) for d in rng.integers(0, 10, length)]
                        shapes = [style_digit(d, rng) for d in digits]
                    else:
                        pool = (pools or {})[source]
                        labels = sorted(pool)
                        digits = [labels[int(k)] for k in rng.integers(0, len(labels), length)]
                        shapes = [[s.copy() for s in pool[d][int(rng.integers(len(pool[d])))]] for d in digits]
                    placed = write(shapes, spacing, rng)
                    flat = join(placed) if spacing == "joined" else [s for d in placed for s in d]
                    out.append(
                        WrittenNumber(
                            "".join(map(str, digits)),
                            [_resampled(s) for s in flat],
                            placed,
                            source,
                            spacing,
                        )
                    )
    return out


def cut_right(segments: list[tuple[np.ndarray, ...]], number: WrittenNumber) -> bool:
    """Whether the segments (each one's strokes) are the digits: as many, and each segment's
    ink is its own digit's. Every point of a segment near some digit's ink belongs to the
    nearest digit; ink near none (the pen's way from one digit into the next, in joined
    writing) belongs to no digit. A cut is right when at least CUT_SHARE of each segment's
    points are its digit's."""
    if len(segments) != len(number.digits):
        return False
    truth = [np.concatenate([_resampled(s, 0.01) for s in d]) for d in number.digits]
    allpts = np.concatenate(truth)
    near = CUT_NEAR * float(allpts[:, 1].max() - allpts[:, 1].min())
    for k, strokes in enumerate(segments):
        pts = np.concatenate([np.asarray(s, dtype=np.float64)[:, :2] for s in strokes])
        dist = np.stack([np.sqrt(((pts[:, None] - t[None]) ** 2).sum(axis=2)).min(axis=1) for t in truth])
        inked = dist.min(axis=0) < near
        if not inked.any() or float((dist.argmin(axis=0)[inked] == k).mean()) < CUT_SHARE:
            return False
    return True


@dataclass
class Tally:
    right: int = 0
    alone: int = 0
    cut: int = 0
    right_cut: int = 0  # right and cut right
    sure_wrong: int = 0  # wrong, and no digit shown unsure
    unsure_right: int = 0  # right, and some digit shown unsure
    total: int = 0

    def add(self, right: bool, alone: bool, cut: bool = False, unsure: bool = False) -> None:
        self.right += int(right)
        self.alone += int(alone)
        self.cut += int(cut)
        self.right_cut += int(right and cut)
        self.sure_wrong += int(not right and not unsure)
        self.unsure_right += int(right and unsure)
        self.total += 1

    def __iadd__(self, other: "Tally") -> "Tally":
        self.right += other.right
        self.alone += other.alone
        self.cut += other.cut
        self.right_cut += other.right_cut
        self.sure_wrong += other.sure_wrong
        self.unsure_right += other.unsure_right
        self.total += other.total
        return self


def evaluate(engine, numbers: list[WrittenNumber]) -> dict[tuple[str, str, int], Tally]:
    """String accuracy by (source, spacing, length), what each digit read alone reaches, and
    how often the cut is right."""
    from lenet_draw.numbers import NumberReader

    reader = NumberReader(engine)
    tallies: dict[tuple[str, str, int], Tally] = {}
    for n in numbers:
        got = reader.read_strokes(n.strokes)
        alone = all(
            (p := engine.predict_strokes(d, activations=False)) is not None and p.digit == int(t)
            for d, t in zip(n.digits, n.text)
        )
        cut = got is not None and cut_right([d.strokes for d in got.digits], n)
        tallies.setdefault((n.source, n.spacing, len(n.text)), Tally()).add(
            got is not None and got.text == n.text, alone, cut, got is None or got.unsure
        )
    return tallies


def _pc(a: int, b: int) -> str:
    return f"{100.0 * a / b:5.1f}%" if b else "   -  "


def report(tallies: dict[tuple[str, str, int], Tally]) -> str:
    """A table by source and spacing: for 4-digit numbers and for every length, string accuracy,
    "alone", the share cut right, and string accuracy given a right cut."""
    head = "right  alone    cut  right|cut  sure|wrong unsure|right"
    lines = [f"{'source':10} {'spacing':12} 4 digits: {head}   {'n':>4}   all lengths: {head}   {'n':>4}"]
    for source in SOURCES:
        for spacing in SPACINGS:
            four = tallies.get((source, spacing, 4), Tally())
            every = Tally()
            for (s, sp, _n), t in tallies.items():
                if s == source and sp == spacing:
                    every += t
            if not every.total:
                continue

            def cols(t: Tally) -> str:
                return (
                    f"{_pc(t.right, t.total)} {_pc(t.alone, t.total)} {_pc(t.cut, t.total)} "
                    f"{_pc(t.right_cut, t.cut)}     {_pc(t.sure_wrong, t.total)}      {_pc(t.unsure_right, t.total)}"
                    f"   {t.total:4d}"
                )

            lines.append(f"{source:10} {spacing:12}           {cols(four)}                {cols(every)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    from lenet_draw.engine import Engine
    from lenet_draw.training.data import default_data_dir, load_split
    from lenet_draw.training.pentrace import thin, trace

    ap = argparse.ArgumentParser(prog="python -m lenet_draw.bench.number_set")
    ap.add_argument("--count", type=int, default=20, help="numbers per source, spacing and length")
    ap.add_argument("--lengths", default="2,3,4,5,6,7,8", help="number lengths, comma-separated")
    ap.add_argument("--sources", default=",".join(SOURCES), help="digit sources, comma-separated")
    ap.add_argument("--spacings", default=",".join(SPACINGS), help="spacings, comma-separated")
    ap.add_argument("--mnist", type=int, default=2000, help="MNIST test digits traced, to draw numbers from")
    ap.add_argument("--weights")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    lengths = tuple(int(n) for n in args.lengths.split(","))
    sources = args.sources.split(",")
    spacings = tuple(args.spacings.split(","))
    if not set(sources) <= set(SOURCES) or not set(spacings) <= set(SPACINGS):
        raise SystemExit(f"Sources are {', '.join(SOURCES)}; spacings {', '.join(SPACINGS)}.")
    paths: list[list[np.ndarray]] = []
    labels = np.zeros(0, dtype=np.int64)
    if "mnist" in sources:
        data = default_data_dir()
        if data is None:
            raise SystemExit("No MNIST data found: set LENET_DRAW_MNIST.")
        split = load_split(data, "test")
        need = min(args.mnist, len(split.labels))
        paths = [trace(s) for s in thin(split.images[:need])]
        labels = split.labels[:need]
    pools = {}
    if "styles" in sources:
        pools["styles"] = styles_digits()
    if "handdrawn" in sources:
        pools["handdrawn"] = load_handdrawn()
    numbers = make_numbers(paths, labels, args.count, lengths, args.seed, pools, spacings)
    numbers = [n for n in numbers if n.source in sources]
    engine = Engine(args.weights, device="cpu")
    print(report(evaluate(engine, numbers)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
