"""Simulated writers: people whose handwriting the base weights misread in the same way each time.

A writer is a name and a sequence of (strokes, label) in pad units, in the order they write
them. Writers come from *sources*, registered by name in ``SOURCES``: a function of a seed (and
of the base weights the writers are chosen against) that returns writers. Three live here:

- ``traced``: MNIST test digits traced into pen strokes (``pentrace``), each writer with one
  consistent slant and width and habits the base weights read wrong on some digits (European
  ones with a long flag, slashed zeros, closed fours);
- ``styles``: the style generators of ``training.styles`` (test ranges, other seeds), each
  writer writing one style in a hand the base misreads it in;
- ``hand``: the digits drawn by hand in ``tests/data/handdrawn``, each writer writing one
  style's files, every file once, in a hand the base misreads them in.

Half of a ``styles`` or ``hand`` writer's digits are in their style, the other half ordinary
digits (traced MNIST test digits) in the same hand. None of the sources draws on what the
adaptation trains on: its anchors are the shapes of ``sample_digits`` and its variants come
from ``personalise.vary``, and a hand-drawn writer's drawings of the same shape all fall in the
same half, so a correction never teaches the very drawing a later digit is.

Another module can add a source (``register("styles", fn)``) without touching this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    from lenet_draw.engine import Engine
    from lenet_draw.training.styles import Ranges
    from lenet_draw.weights import Weights

Strokes = list[np.ndarray]


@dataclass(frozen=True)
class Writer:
    name: str
    digits: list[tuple[Strokes, int]]  # in writing order; strokes in pad units
    origins: tuple[str, ...] = ()  # where each digit's drawing came from (a file, an MNIST index, a generator)


# ----------------------------------------------------------------------------- habits


def _box(strokes: Strokes) -> tuple[np.ndarray, np.ndarray]:
    a = np.concatenate(strokes)
    return a.min(axis=0), a.max(axis=0)


def _line(p, q, n: int = 24) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    return np.asarray(p, dtype=np.float64) * (1 - t) + np.asarray(q, dtype=np.float64) * t


def european_one(strokes: Strokes) -> Strokes:
    """A 1 with a long flag down to the left from its top."""
    lo, hi = _box(strokes)
    h = hi[1] - lo[1]
    top = min((s[np.argmin(s[:, 1])] for s in strokes), key=lambda p: p[1])
    return [_line(top + (-0.45 * h, 0.38 * h), top)] + strokes


def crossed_seven(strokes: Strokes) -> Strokes:
    """A 7 with a bar across its stem at mid-height."""
    lo, hi = _box(strokes)
    w, h = hi - lo
    y = lo[1] + 0.55 * h
    pts = np.concatenate(strokes)
    near = pts[np.abs(pts[:, 1] - y) < 0.12 * h]
    x = float(near[:, 0].mean()) if len(near) else (lo[0] + hi[0]) / 2
    return strokes + [_line((x - 0.35 * max(w, 0.5 * h), y), (x + 0.35 * max(w, 0.5 * h), y))]


def slashed_zero(strokes: Strokes) -> Strokes:
    """A 0 with a slash from bottom left to top right."""
    lo, hi = _box(strokes)
    w, h = hi - lo
    return strokes + [_line((lo[0] - 0.05 * w, hi[1] + 0.05 * h), (hi[0] + 0.05 * w, lo[1] - 0.05 * h))]


def underlined_four(strokes: Strokes) -> Strokes:
    """A 4 with a closed top: a stroke joining the arm's top to the stem's top."""
    lo, hi = _box(strokes)
    w, h = hi - lo
    return strokes + [_line((lo[0] + 0.1 * w, lo[1] + 0.1 * h), (hi[0] - 0.15 * w, lo[1]))]


def hooked_nine(strokes: Strokes) -> Strokes:
    """A 9 whose tail curls to the left at the bottom."""
    lo, hi = _box(strokes)
    w, h = hi - lo
    bottom = max((s[np.argmax(s[:, 1])] for s in strokes), key=lambda p: p[1])
    t = np.linspace(0, np.pi * 0.9, 20)
    r = 0.25 * max(w, 0.4 * h)
    curl = np.stack([bottom[0] - r + r * np.cos(t), bottom[1] - 0.6 * r * np.sin(t)], axis=1)
    return strokes + [curl]


#: A habit: which digit it changes and how.
HABITS: dict[str, tuple[int, Callable[[Strokes], Strokes]]] = {
    "European 1": (1, european_one),
    "crossed 7": (7, crossed_seven),
    "slashed 0": (0, slashed_zero),
    "closed 4": (4, underlined_four),
    "hooked 9": (9, hooked_nine),
}


#: The habits the bundled weights read wrong (a crossed 7 and a hooked 9 they mostly read right).
MISREAD = ("European 1", "slashed 0", "closed 4")


def _hand(strokes: Strokes, slant: float, aspect: float) -> Strokes:
    """One writer's consistent slant and width, about the drawing's centre, in pad units."""
    lo, hi = _box(strokes)
    c = (lo + hi) / 2
    m = np.array([[aspect, -slant], [0.0, 1.0]])
    return [(s - c) @ m.T + c for s in strokes]


def _to_pad(strokes: Strokes, size: float, centre: tuple[float, float]) -> Strokes:
    lo, hi = _box(strokes)
    k = size / max(float((hi - lo).max()), 1e-6)
    mid = (lo + hi) / 2
    return [(s - mid) * k + np.asarray(centre) for s in strokes]


# ----------------------------------------------------------------------------- sources


def traced_writers(
    seed: int = 0, base: Weights | None = None, count: int = 10, per_writer: int = 40, habits_each: int = 2
) -> list[Writer]:
    """Writers made of traced MNIST test digits (from index 5,000 on, away from the proxy's)."""
    from lenet_draw.training.data import default_data_dir, load_split
    from lenet_draw.training.pentrace import thin, trace

    folder = default_data_dir()
    if folder is None:
        raise FileNotFoundError("MNIST not found: the traced writers need its test digits.")
    split = load_split(folder, "test")
    rng = np.random.default_rng([seed, 2])
    names = list(MISREAD)
    writers = []
    for w in range(count):
        habits = [names[(w + k) % len(names)] for k in range(habits_each)]
        styled = {HABITS[h][0]: HABITS[h][1] for h in habits}
        # Half the writer's digits show a habit, the rest are ordinary digits.
        labels = [int(d) for d in rng.choice(list(styled), per_writer // 2)] + [
            int(d) for d in rng.integers(0, 10, per_writer - per_writer // 2)
        ]
        rng.shuffle(labels)
        slant, aspect = rng.uniform(-0.25, 0.25), rng.uniform(0.8, 1.15)
        pool = {d: list(np.flatnonzero(split.labels[5000:] == d) + 5000) for d in set(labels)}
        digits, origins = [], []
        for d in labels:
            idx = int(pool[d].pop(int(rng.integers(len(pool[d])))))
            strokes = trace(thin(split.images[idx]))
            if not strokes:
                continue
            if d in styled:
                strokes = styled[d](strokes)
            strokes = _hand(_to_pad(strokes, rng.uniform(0.45, 0.7), (0.5, 0.5)), slant, aspect)
            digits.append((strokes, d))
            origins.append(f"mnist-test/{idx}")
        writers.append(Writer(f"traced writer {w + 1} ({', '.join(habits)})", digits, tuple(origins)))
    return writers


# ----------------------------------------------------------------------------- hands the base misreads
#
# The style generators and the hand-drawn digits are in ways of writing the bundled weights
# were trained on, and read almost all of them right in an ordinary hand. A writer the base
# reads wrong writes one of these styles in a hand far outside training's slant and width
# (training: slant -0.15 to 0.35, width 0.8 to 1.2). Which hand makes which style misread
# depends on the weights, so the writers are chosen against the base being measured: for each
# style, the hands in which the base misreads at least ``MIN_MISREAD`` of the style's drawings.


@dataclass(frozen=True)
class Hand:
    """One writer's consistent slant (x shear per unit of height, positive leans right) and width."""

    name: str
    slant: float
    width: float

    def ranges(self) -> Ranges:
        """The digit-to-digit variation of this hand: a little slant, width, turn and tremor."""
        from lenet_draw.training.styles import Ranges

        return Ranges(
            self.name,
            slant=(self.slant - 0.05, self.slant + 0.05),
            width=(self.width * 0.95, self.width * 1.05),
            rotate_deg=3.0,
            wobble=(0.0, 0.01),
        )


HANDS = (
    Hand("leaning far right", 0.6, 1.0),
    Hand("leaning far back", -0.6, 1.0),
    Hand("narrow", 0.0, 0.5),
    Hand("wide", 0.0, 1.7),
    Hand("narrow, leaning right", 0.5, 0.6),
    Hand("wide, leaning back", -0.4, 1.4),
)

#: A style and hand make a writer when the base misreads at least this share of its drawings.
MIN_MISREAD = 0.2


def _unit(strokes: Strokes) -> Strokes:
    """Strokes scaled into the unit box (the larger side 1) around (0.5, 0.5)."""
    return _to_pad([np.asarray(s, dtype=np.float64)[:, :2] for s in strokes], 1.0, (0.5, 0.5))


def in_hand(strokes: Strokes, hand: Hand, rng: np.random.Generator) -> Strokes:
    """A drawing (any units) written in ``hand`` on the pad, at the writer's size for that digit."""
    from lenet_draw.training.styles import hand as written

    out = written(_unit(strokes), rng, hand.ranges())
    return _to_pad(out, float(rng.uniform(0.45, 0.7)), tuple(0.5 + rng.uniform(-0.08, 0.08, 2)))


def _base_engine(base: Weights | None) -> Engine:
    from lenet_draw.engine import Engine
    from lenet_draw.resources import bundled_weights_path
    from lenet_draw.weights import load_weights

    return Engine(base or load_weights(bundled_weights_path()), device="cpu")


def misread_hands(
    engine: Engine, drawings: dict[str, list[tuple[Strokes, int]]], seed: int, per_style: int = 2
) -> list[tuple[str, Hand, float]]:
    """(style, hand, share the base misreads) for the hands in which ``engine`` misreads at least
    ``MIN_MISREAD`` of a style's ``drawings``; at most ``per_style`` per style, worst first."""
    from lenet_draw.preprocess import preprocess_strokes

    out = []
    for style, items in drawings.items():
        rates = []
        for k, h in enumerate(HANDS):
            rng = np.random.default_rng([seed, 7, k])
            inputs, labels = [], []
            for strokes, label in items:
                st = preprocess_strokes(in_hand(strokes, h, rng))  # as ``Engine.predict_strokes`` reads it
                if st is not None:
                    inputs.append(st.input)
                    labels.append(label)
            read = engine.probabilities(np.stack(inputs)).argmax(1) if inputs else np.zeros(0)
            wrong = len(items) - int((read == np.asarray(labels)).sum())
            rates.append((wrong / max(1, len(items)), k))
        rates.sort(key=lambda r: (-r[0], r[1]))
        out += [(style, HANDS[k], rate) for rate, k in rates[:per_style] if rate >= MIN_MISREAD]
    return sorted(out, key=lambda r: -r[2])


@lru_cache(maxsize=2)
def _mnist_test(folder: str):
    from lenet_draw.training.data import load_split

    return load_split(folder, "test")


def _ordinary(labels: list[int], rng: np.random.Generator) -> list[tuple[Strokes, int, str]]:
    """Ordinary digits (MNIST test digits from index 5,000 on, traced into strokes), one
    different digit each: (strokes, label, origin)."""
    from lenet_draw.training.data import default_data_dir
    from lenet_draw.training.pentrace import thin, trace

    folder = default_data_dir()
    if folder is None:
        raise FileNotFoundError("MNIST not found: the writers' ordinary digits are traced MNIST test digits.")
    split = _mnist_test(str(folder))
    pool = {d: list(np.flatnonzero(split.labels[5000:] == d) + 5000) for d in range(10)}
    out = []
    for d in labels:
        while True:
            idx = int(pool[d].pop(int(rng.integers(len(pool[d])))))
            strokes = trace(thin(split.images[idx]))
            if strokes:
                out.append((strokes, d, f"mnist-test/{idx}"))
                break
    return out


def _writer(name: str, hand: Hand, first, later, rng: np.random.Generator) -> Writer:
    """A writer from the drawings of each half (strokes, label, origin), each half shuffled."""
    digits, origins = [], []
    for part in (first, later):
        for i in rng.permutation(len(part)):
            strokes, label, origin = part[i]
            digits.append((in_hand(strokes, hand, rng), label))
            origins.append(origin)
    return Writer(name, digits, tuple(origins))


def style_writers(seed: int = 0, base: Weights | None = None, count: int | None = None, per_writer: int = 40):
    """Writers of the styles of ``training.styles`` (test ranges: wider than training's, other
    seeds), each in a hand the base misreads that style in; half their digits in that style,
    half ordinary digits in the same hand."""
    from lenet_draw.training.styles import STYLES, TEST

    engine = _base_engine(base)
    rng = np.random.default_rng([seed, 11])
    trial = {s.name: [(s.make(rng, TEST), s.label) for _ in range(24)] for s in STYLES}  # to choose hands
    picked = misread_hands(engine, trial, seed)[:count]
    by_name = {s.name: s for s in STYLES}
    writers = []
    for w, (name, h, _rate) in enumerate(picked):
        style = by_name[name]
        rng = np.random.default_rng([seed, 12, w])
        n = per_writer // 2
        styled = [(style.make(rng, TEST), style.label, f"styles/{name}/{seed}/{w}/{i}") for i in range(n)]
        both = styled + _ordinary([int(d) for d in rng.integers(0, 10, per_writer - n)], rng)
        mixed = [both[i] for i in rng.permutation(len(both))]
        writers.append(_writer(f"style writer {w + 1} ({name}, {h.name})", h, mixed[:n], mixed[n:], rng))
    return writers


#: The hand-drawn digits (stroke files in pad units) of the style test set.
HANDDRAWN = Path(__file__).resolve().parents[2] / "tests" / "data" / "handdrawn"


def same_shape(a: Strokes, b: Strokes, tol: float = 0.03) -> bool:
    """Whether two drawings are the same shape (same strokes, points within ``tol`` of the
    drawing's size once both are scaled to one box): the same drawing placed elsewhere."""
    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b)):
        return False
    return all(np.abs(x - y).max() < tol for x, y in zip(_unit(a), _unit(b)))


def _split_apart(items: list, rng: np.random.Generator) -> tuple[list, list]:
    """Two halves of ``items`` ((strokes, label, origin)) with no drawing in one the same shape as
    one in the other: a correction never teaches the very drawing a later digit is."""
    n = len(items)
    group = list(range(n))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if same_shape(items[i][0], items[j][0]):
                group[root(j)] = root(i)
    clusters: dict[int, list] = {}
    for i in range(n):
        clusters.setdefault(root(i), []).append(items[i])
    first: list = []
    later: list = []
    order = sorted(clusters.values(), key=lambda c: (-len(c), c[0][2]))
    for k in rng.permutation(len(order)) if len(order) > 1 else range(len(order)):
        (first if len(first) <= len(later) else later).extend(order[k])
    return first, later


def hand_writers(
    seed: int = 0, base: Weights | None = None, count: int | None = None, folder: Path | str = HANDDRAWN
) -> list[Writer]:
    """Writers of the hand-drawn digits (``tests/data/handdrawn``), each writing one style's
    files, every file once, in a hand the base misreads them in, and as many ordinary digits.
    Drawings of the same shape all go to the same half of a writer's digits."""
    from lenet_draw.bench.styleset import load_drawings

    paths = sorted(Path(folder).glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"No hand-drawn digits in {folder}: the hand-drawn writers write them.")
    drawn: dict[str, list[tuple[Strokes, int, str]]] = {}
    for path, d in zip(paths, load_drawings(folder)):
        drawn.setdefault(d.style, []).append((d.strokes, d.label, path.name))
    engine = _base_engine(base)
    picked = misread_hands(engine, {k: [(s, lab) for s, lab, _ in v] for k, v in drawn.items()}, seed)[:count]
    writers = []
    for w, (name, h, _rate) in enumerate(picked):
        rng = np.random.default_rng([seed, 13, w])
        first, later = _split_apart(drawn[name], rng)
        # As many ordinary digits as styled ones, so each half holds half the writer's digits.
        plain = _ordinary([int(d) for d in rng.integers(0, 10, len(first) + len(later))], rng)
        first_all = first + plain[: len(later)]
        later_all = later + plain[len(later) :]
        writers.append(_writer(f"hand-drawn writer {w + 1} ({name}, {h.name})", h, first_all, later_all, rng))
    return writers


SOURCES: dict[str, Callable[..., list[Writer]]] = {
    "traced": traced_writers,
    "styles": style_writers,
    "hand": hand_writers,
}


def register(name: str, source: Callable[..., list[Writer]]) -> None:
    """Add a source of writers (a function of ``seed`` and ``base``, the weights the writers are
    chosen against, returning a list of Writer)."""
    SOURCES[name] = source
