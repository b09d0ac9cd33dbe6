"""Pictures of written numbers: MNIST test digits as they were scanned, set side by side.

The number set (``number_set``) writes its numbers as pen strokes. A photo or scan of a number
is read another way (blobs of ink, cut at minima of their column sums), and MNIST's own images are
real handwriting, not traced: each picture here is ``length`` MNIST test images, cropped to their
ink and set on one line at a spacing given in digit heights (their 20-pixel box): "separated" half
a digit apart, "close" 0.15, "touching" 0 (the boxes abut, and the ink of neighbours often meets),
"overlapping" -0.15. The picture is scaled up 4 times (a scan's resolution), dark ink on white.

Reported per spacing: string accuracy (every digit right), "alone" (each digit's own image read
by itself: what a perfect cut reaches), "sure|wrong" (read wrong with no digit shown unsure) and
"unsure|right" (read right with some digit shown unsure).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

#: Gap between neighbouring digits' ink boxes, in digit heights.
SPACINGS: dict[str, float] = {"separated": 0.5, "close": 0.15, "touching": 0.0, "overlapping": -0.15}
#: MNIST digits' ink fits a 20-pixel box; the picture is scaled up this many times.
DIGIT_BOX, SCALE = 20, 4


def _ink_box(image: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(image > 30)
    return image[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def picture(images: list[np.ndarray], spacing: float) -> Image.Image:
    """MNIST images (white ink on black, 28x28) set left to right ``spacing`` digit heights
    apart, each centred on the line -> a picture of the number, dark ink on white."""
    parts = [_ink_box(a) for a in images]
    gap = int(round(spacing * DIGIT_BOX))
    width = sum(p.shape[1] for p in parts) + max(0, gap) * (len(parts) - 1) + 20
    line = np.zeros((DIGIT_BOX * 2, width), np.float32)
    x = 10
    for p in parts:
        h, w = p.shape
        y = DIGIT_BOX // 2 + (DIGIT_BOX - h) // 2
        x = max(0, x)
        line[y : y + h, x : x + w] = np.maximum(line[y : y + h, x : x + w], p)
        x += w + gap
    line = line[:, : x - gap + 10]
    img = Image.fromarray((255 - line).astype(np.uint8))
    return img.resize((img.width * SCALE, img.height * SCALE), Image.Resampling.BILINEAR)


def evaluate(engine, images: np.ndarray, labels: np.ndarray, count: int, length: int, seed: int) -> dict[str, dict]:
    """Per spacing: how many of ``count`` numbers were read right, right alone, sure and wrong,
    unsure and right."""
    from lenet_draw.numbers import NumberReader

    reader = NumberReader(engine)
    out = {}
    for k, (name, spacing) in enumerate(SPACINGS.items()):
        rng = np.random.default_rng([seed, k, length])
        tally = {"right": 0, "alone": 0, "sure_wrong": 0, "unsure_right": 0, "n": count}
        for _ in range(count):
            idx = rng.choice(len(labels), length, replace=False)
            text = "".join(str(int(labels[i])) for i in idx)
            got = reader.read_image(picture([images[i] for i in idx], spacing))
            right = got is not None and got.text == text
            unsure = got is None or got.unsure
            tally["right"] += right
            tally["sure_wrong"] += not right and not unsure
            tally["unsure_right"] += right and unsure
            tally["alone"] += all(
                (p := engine.predict_image(Image.fromarray(255 - np.pad(_ink_box(images[i]), 4)), activations=False))
                is not None
                and p.digit == int(labels[i])
                for i in idx
            )
        out[name] = tally
    return out


def report(res: dict[str, dict], length: int) -> str:
    lines = [f"{'spacing':12} {length} digits: right   alone  sure|wrong  unsure|right     n"]
    for name, t in res.items():
        n = max(1, t["n"])
        lines.append(
            f"{name:12} {'':10}{100 * t['right'] / n:6.1f}% {100 * t['alone'] / n:6.1f}%"
            f"     {100 * t['sure_wrong'] / n:5.1f}%        {100 * t['unsure_right'] / n:5.1f}%  {t['n']:4d}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m lenet_draw.bench.number_pictures [--count N] [--length L] [--seed S]``"""
    import argparse

    from lenet_draw.engine import Engine
    from lenet_draw.training.data import default_data_dir, load_split

    ap = argparse.ArgumentParser(prog="python -m lenet_draw.bench.number_pictures")
    ap.add_argument("--count", type=int, default=200, help="numbers per spacing")
    ap.add_argument("--length", type=int, default=4, help="digits per number")
    ap.add_argument("--weights")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    data = default_data_dir()
    if data is None:
        raise SystemExit("No MNIST data found: set LENET_DRAW_MNIST.")
    split = load_split(data, "test")
    engine = Engine(args.weights, device="cpu")
    print(report(evaluate(engine, split.images, split.labels, args.count, args.length, args.seed), args.length))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
