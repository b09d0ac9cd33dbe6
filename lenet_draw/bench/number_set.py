"""A test set of written numbers, and the string accuracy the number reader reaches on it.

Numbers of 2-8 digits are made from MNIST test digits traced into pen strokes (``pentrace``)
and from the style set (the app's sample drawings, slanted, stretched and turned at random),
written with spacing from wide to overlapping, and with the pen running on from one digit into
the next ("joined"). A number is right only when every digit is (string accuracy). Beside it,
"alone" is the share of numbers whose digits are all read right when each is read by itself:
what a perfect segmentation would reach with these weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lenet_draw.sample_digits import DIGIT_STROKES

#: Gap between neighbouring digits' boxes, in digit heights; "overlapping": the boxes overlap
#: by a fifth of the narrower digit's width (0.12 of the height for most digits, little for a 1).
SPACINGS: dict[str, float] = {
    "wide": 0.5,
    "close": 0.15,
    "touching": 0.0,
    "overlapping": -0.2,
    "joined": 0.15,  # the pen runs on from one digit into the next
}


@dataclass(frozen=True)
class WrittenNumber:
    text: str
    strokes: list[np.ndarray]
    digits: list[list[np.ndarray]]  # each digit's own strokes, as placed
    source: str  # "mnist" or "style"
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
) -> list[WrittenNumber]:
    """``count`` numbers per (source, spacing, length); MNIST digits drawn without replacement
    while they last."""
    rng = np.random.default_rng(seed)
    out: list[WrittenNumber] = []
    next_mnist = 0
    for source in ("mnist", "style") if len(mnist_labels) else ("style",):
        for spacing in SPACINGS:
            for length in lengths:
                for _ in range(count):
                    if source == "mnist":
                        idx = [(next_mnist + k) % len(mnist_labels) for k in range(length)]
                        next_mnist += length
                        digits = [int(mnist_labels[i]) for i in idx]
                        shapes = [[np.asarray(s, dtype=np.float64) for s in mnist_paths[i]] for i in idx]
                    else:
                        digits = [int(d) for d in rng.integers(0, 10, length)]
                        shapes = [style_digit(d, rng) for d in digits]
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


@dataclass
class Tally:
    right: int = 0
    alone: int = 0
    total: int = 0

    def add(self, right: bool, alone: bool) -> None:
        self.right += int(right)
        self.alone += int(alone)
        self.total += 1


def evaluate(engine, numbers: list[WrittenNumber]) -> dict[tuple[str, str, int], Tally]:
    """String accuracy by (source, spacing, length), and what each digit read alone reaches."""
    from lenet_draw.numbers import NumberReader

    reader = NumberReader(engine)
    tallies: dict[tuple[str, str, int], Tally] = {}
    for n in numbers:
        got = reader.read_strokes(n.strokes)
        alone = all(
            (p := engine.predict_strokes(d, activations=False)) is not None and p.digit == int(t)
            for d, t in zip(n.digits, n.text)
        )
        tallies.setdefault((n.source, n.spacing, len(n.text)), Tally()).add(
            got is not None and got.text == n.text, alone
        )
    return tallies


def report(tallies: dict[tuple[str, str, int], Tally]) -> str:
    """A table: string accuracy by spacing (rows) for 4 digits and for 2-8 digits, each source."""
    lines = ["source  spacing      4 digits (alone)      2-8 digits (alone)      numbers"]
    for source in ("mnist", "style"):
        for spacing in SPACINGS:
            four = tallies.get((source, spacing, 4), Tally())
            every = Tally()
            for (s, sp, _n), t in tallies.items():
                if s == source and sp == spacing:
                    every.right += t.right
                    every.alone += t.alone
                    every.total += t.total
            if not every.total:
                continue

            def pc(a: int, b: int) -> str:
                return f"{100.0 * a / b:5.1f}%" if b else "   -  "

            lines.append(
                f"{source:7} {spacing:12} {pc(four.right, four.total)} ({pc(four.alone, four.total)})"
                f"      {pc(every.right, every.total)} ({pc(every.alone, every.total)})      {every.total}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    from lenet_draw.engine import Engine
    from lenet_draw.training.data import default_data_dir, load_split
    from lenet_draw.training.pentrace import thin, trace

    ap = argparse.ArgumentParser(prog="python -m lenet_draw.bench.number_set")
    ap.add_argument("--count", type=int, default=20, help="numbers per source, spacing and length")
    ap.add_argument("--weights")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    data = default_data_dir()
    if data is None:
        raise SystemExit("No MNIST data found: set LENET_DRAW_MNIST.")
    split = load_split(data, "test")
    need = args.count * len(SPACINGS) * 35
    need = min(need, len(split.labels))
    paths = [trace(s) for s in thin(split.images[:need])]
    numbers = make_numbers(paths, split.labels[:need], args.count, seed=args.seed)
    engine = Engine(args.weights, device="cpu")
    print(report(evaluate(engine, numbers)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
