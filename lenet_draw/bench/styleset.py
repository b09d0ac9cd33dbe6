"""How well the network reads the ways of writing digits that MNIST hardly has.

Two sources, both kept apart from training: drawings from the style generators with other
seeds and wider parameter ranges (``styles.TEST``), and digits drawn by hand, kept as stroke
files (``{"label": 7, "style": "crossed seven", "strokes": [[[x, y], ...], ...]}`` in pad units,
(0, 0) top left, (1, 1) bottom right). Each drawing is placed on the canvas as the proxy places
MNIST's traced digits (large, small, in a corner, off-centre, in turn) and read through the
app's own preprocessing. Besides accuracy per style, the report says how honest the unsure
state is: how many readings shown as sure are wrong, and how many right ones are shown unsure.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from lenet_draw.bench.proxy import PLACEMENTS
from lenet_draw.samples import SampleError, read_sample
from lenet_draw.training import styles
from lenet_draw.training.pentrace import place

#: Seed of the generated style test set (training draws its pool from the training seed + 2).
TEST_SEED = 1_000_003


@dataclass
class Tally:
    total: int = 0
    right: int = 0
    sure_wrong: int = 0  # shown as sure, and wrong
    right_unsure: int = 0  # right, but shown unsure
    sure: int = 0
    mistaken_for: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, label: int, pred) -> None:
        self.total += 1
        ok = pred is not None and pred.digit == label
        unsure = pred is None or pred.unsure
        self.right += ok
        self.sure += not unsure
        self.sure_wrong += (not ok) and (not unsure)
        self.right_unsure += ok and unsure
        if not ok and pred is not None:
            self.mistaken_for[pred.digit] += 1

    def absorb(self, other: Tally) -> None:
        """Count ``other``'s drawings in this tally too."""
        self.total += other.total
        self.right += other.right
        self.sure += other.sure
        self.sure_wrong += other.sure_wrong
        self.right_unsure += other.right_unsure
        for d, n in other.mistaken_for.items():
            self.mistaken_for[d] += n

    @property
    def accuracy(self) -> float:
        return 100.0 * self.right / max(1, self.total)


@dataclass
class StyleReport:
    source: str
    per_style: dict[str, Tally]

    def overall(self) -> Tally:
        t = Tally()
        for s in self.per_style.values():
            t.absorb(s)
        return t

    def text(self) -> str:
        lines = [
            f"{self.source}:",
            f"  {'style':<28}{'n':>6}{'right':>9}{'sure, wrong':>13}{'right, unsure':>15}  read as",
        ]
        for name, t in [*self.per_style.items(), ("all", self.overall())]:
            wrong = ", ".join(f"{d}: {n}" for d, n in sorted(t.mistaken_for.items(), key=lambda kv: -kv[1])[:3])
            lines.append(
                f"  {name:<28}{t.total:>6}{t.accuracy:>8.1f}%{t.sure_wrong:>13}{t.right_unsure:>15}  {wrong}".rstrip()
            )
        return "\n".join(lines)


def generated(per_style: int, seed: int = TEST_SEED) -> list[styles.Sample]:
    """The generated style test set (test ranges, a seed training never uses)."""
    return styles.style_set(per_style, seed, styles.TEST)


#: A style name longer than this is refused: the report prints it in a column of 28.
MAX_STYLE_NAME = 80
#: Points of all the drawings together, at most (the hand-drawn set has under 2,000; each
#: file is bounded by the sample reader, and this bounds a folder of many).
MAX_DRAWING_POINTS = 2_000_000


def load_drawings(folder: str | Path) -> list[styles.Sample]:
    """Hand-drawn digits from the stroke files in ``folder`` (pad units), by name.

    Each file is read as a sample file, by ``samples.read_sample``, the reader the window and
    ``lenet-draw adapt`` use: only a regular file is opened (a pipe named ``a.json`` would block
    the read, a link to ``/dev/zero`` never end), at most ``MAX_SAMPLE_BYTES`` of it, its points
    counted before the JSON is decoded, the label a whole number 0 to 9 and every point finite.
    It must also name its ``style`` in a line of text. The first file that is not a usable
    drawing ends the reading with a ValueError of one sentence naming it: a measurement on
    part of a set would pass for one on all of it; so does passing ``MAX_DRAWING_POINTS``.
    """
    out = []
    points = 0
    for path in sorted(Path(folder).glob("*.json")):
        try:
            sample = read_sample(path)
        except SampleError as exc:
            raise ValueError(_refusal(path, str(exc))) from None
        style = sample.extra.get("style")
        if not isinstance(style, str) or not style.strip() or len(style) > MAX_STYLE_NAME or not style.isprintable():
            raise ValueError(
                f"{path} is not a stroke file: its style must be a name of 1 to {MAX_STYLE_NAME} characters on one line."
            )
        points += sum(len(s) for s in sample.strokes)
        if points > MAX_DRAWING_POINTS:
            raise ValueError(
                f"The drawings in {folder} hold more than {MAX_DRAWING_POINTS:,} points by {path.name}; "
                "a set of hand-drawn digits has far fewer."
            )
        out.append(styles.Sample(style, sample.label, sample.xy()))
    return out


def _refusal(path: Path, reason: str) -> str:
    """The reader's sentence about ``path``, naming it in full (the reader names the file alone)."""
    if reason.startswith(f"{path.name}: "):  # "a.json: its label must be ..."
        return f"{path} is not a stroke file: {reason[len(path.name) + 2 :]}"
    if reason.startswith(f"{path.name} "):  # "a.json is a named pipe (FIFO), ..."
        return f"{path}{reason[len(path.name) :]}"
    return f"{path} is not a stroke file: {reason}"


def measure(engine, samples: list[styles.Sample], source: str) -> StyleReport:
    """Read every drawing, the i-th placed as the proxy's placement i mod 4."""
    per_style: dict[str, Tally] = {}
    for i, s in enumerate(samples):
        where = PLACEMENTS[i % len(PLACEMENTS)]
        strokes = place(s.strokes, where.size, where.centre)
        pred = engine.predict_strokes(strokes, pen_width=where.pen_width, activations=False)
        per_style.setdefault(s.style, Tally()).add(s.label, pred)
    order = {st.name: i for i, st in enumerate(styles.STYLES)}
    ordered = dict(sorted(per_style.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    return StyleReport(source, ordered)
