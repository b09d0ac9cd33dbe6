"""A stand-in for real people's drawings: MNIST test digits as pen paths, replayed at
different sizes and places on a canvas.

Each digit is thinned to its skeleton and traced into strokes (``pentrace``); the strokes are
then placed on a canvas large, small, in a corner or off-centre, and resampled to the spacing
at which pointer events arrive. The app's own preprocessing turns them back into network
input, so the figure measures the whole bridge from a drawing to LeNet-5, not MNIST's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lenet_draw.training import pentrace
from lenet_draw.training.data import Split
from lenet_draw.training.evaluate import percent_right
from lenet_draw.training.pentrace import place

#: Canvas the placements refer to (logical pixels).
CANVAS = (400.0, 400.0)


@dataclass(frozen=True)
class Placement:
    name: str
    size: float  # height (or width) of the drawing on the canvas
    centre: tuple[float, float]
    pen_width: float  # width of the pen the canvas shows


PLACEMENTS = (
    Placement("large, centred, thin pen", 320.0, (200.0, 200.0), 3.0),
    Placement("small, centred", 36.0, (200.0, 200.0), 6.0),
    Placement("small, top-left corner", 60.0, (45.0, 45.0), 10.0),
    Placement("medium, off-centre, thick pen", 150.0, (290.0, 120.0), 24.0),
)


def pen_paths(split: Split, count: int, start: int = 0) -> tuple[list[list[np.ndarray]], np.ndarray]:
    """The first ``count`` digits of a split as strokes in 28x28 pixel coordinates."""
    return pentrace.pen_paths(split.images[start : start + count]), split.labels[start : start + count]


def replay(paths: list[list[np.ndarray]], where: Placement) -> list[list[np.ndarray]]:
    return [place(p, where.size, where.centre) for p in paths]


def accuracy(engine, paths: list[list[np.ndarray]], labels: np.ndarray, where: Placement) -> float:
    """Percent of the drawings, placed as ``where`` says, that the engine reads right."""
    read = [engine.predict_strokes(s, pen_width=where.pen_width, activations=False) for s in replay(paths, where)]
    return percent_right(np.array([-1 if p is None else p.digit for p in read], dtype=np.int64), labels)


def main(argv: list[str] | None = None) -> int:
    """``python -m lenet_draw.bench.proxy``: the share of traced digits read right, per placement."""
    import argparse

    from lenet_draw.engine import Engine
    from lenet_draw.errors import WeightsError
    from lenet_draw.training.data import IdxError, default_data_dir, load_split

    ap = argparse.ArgumentParser(prog="python -m lenet_draw.bench.proxy", description=main.__doc__)
    ap.add_argument("--data", help="the MNIST folder (default: $LENET_DRAW_MNIST or ../shared/data/mnist)")
    ap.add_argument("--split", choices=("test", "train"), default="test")
    ap.add_argument("--start", type=int, default=0, help="first digit of the split")
    ap.add_argument("--count", type=int, default=1000, help="digits traced")
    ap.add_argument("--weights", help="a weights file (default: the bundled weights)")
    args = ap.parse_args(argv)
    folder = args.data or default_data_dir()
    if folder is None:
        ap.error("no MNIST folder found; give one with --data")
    try:
        split = load_split(folder, args.split)
    except (IdxError, OSError) as exc:
        ap.error(str(exc))
    if not 0 <= args.start < len(split) or args.count < 1:
        ap.error(f"--start must be 0 to {len(split) - 1} and --count at least 1")
    try:
        engine = Engine(args.weights, device="cpu")
    except WeightsError as exc:
        ap.error(str(exc))
    paths, labels = pen_paths(split, args.count, args.start)
    print(f"{args.split} digits {args.start} to {args.start + len(labels) - 1}, traced into pen strokes:")
    figures = []
    for where in PLACEMENTS:
        figures.append(accuracy(engine, paths, labels, where))
        print(f"  {where.name:<32}{figures[-1]:6.2f}%")
    print(f"  {'all four':<32}{sum(figures) / len(figures):6.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
