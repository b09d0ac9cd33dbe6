"""Which evidence method agrees with what happens when ink is actually removed.

On MNIST test digits traced into pen strokes and replayed through the app's preprocessing
(the project's stand-in for drawings, see ``proxy``): for each method, remove the inked input
pixels it ranks highest (10%, 20%, 30% of the ink) and note how far the shown digit's
probability falls; do the same with the same amount of ink chosen at random (the mean of a few
draws). A faithful method makes the reading fall further than random removal, on most digits.

``lenet-draw bench --explain`` prints the table; the README quotes it.
"""

from __future__ import annotations

import time

import numpy as np

from lenet_draw import attribution
from lenet_draw.bench import proxy

FRACTIONS = (0.1, 0.2, 0.3)
RANDOM_DRAWS = 5


def drawn_inputs(engine, split, count: int, start: int = 0) -> list[tuple[np.ndarray, int]]:
    """(32x32 input, shown digit) of ``count`` traced test digits drawn large and centred."""
    paths, _ = proxy.pen_paths(split, count, start)
    where = proxy.PLACEMENTS[0]
    out = []
    for strokes in proxy.replay(paths, where):
        pred = engine.predict_strokes(strokes, pen_width=where.pen_width, activations=False)
        if pred is not None:
            out.append((pred.stages.input, pred.digit))
    return out


def removal_drops(engine, image: np.ndarray, digit: int, order: np.ndarray, rng: np.random.Generator) -> dict:
    """Probability falls of ``digit`` when the top-ranked ink goes, against random ink."""
    ink = attribution.ranked_ink(np.zeros_like(image), image)  # every inked pixel
    p0 = float(engine.probabilities(image[None])[0, digit])
    ranked, rand = [], []
    for f in FRACTIONS:
        k = max(1, int(round(f * len(ink))))
        ranked.append(attribution.remove_ink(image, order, k))
        for _ in range(RANDOM_DRAWS):
            rand.append(attribution.remove_ink(image, rng.permutation(ink), k))
    probs = engine.probabilities(np.stack(ranked + rand))[:, digit]
    r = probs[: len(FRACTIONS)]
    q = probs[len(FRACTIONS) :].reshape(len(FRACTIONS), RANDOM_DRAWS).mean(axis=1)
    return {"ranked": p0 - r, "random": p0 - q}


def compare(engine, inputs: list[tuple[np.ndarray, int]], methods=attribution.METHODS, seed: int = 0) -> dict:
    """Per method: the mean fall for ranked and random removal at each fraction, the share of
    digits where ranked removal lowered the probability more, and the time per evidence map."""
    out = {}
    for m in methods:
        rng = np.random.default_rng(seed)
        ranked, rand, ms = [], [], []
        for image, digit in inputs:
            t0 = time.perf_counter()
            ev = attribution.evidence(engine, image, digit, method=m)
            ms.append((time.perf_counter() - t0) * 1e3)
            d = removal_drops(engine, image, digit, attribution.ranked_ink(ev.values, image), rng)
            ranked.append(d["ranked"])
            rand.append(d["random"])
        ranked_a, rand_a = np.array(ranked), np.array(rand)
        out[m] = {
            "fractions": list(FRACTIONS),
            "mean_drop_ranked": ranked_a.mean(axis=0).tolist(),
            "mean_drop_random": rand_a.mean(axis=0).tolist(),
            "share_ranked_beats_random": (ranked_a > rand_a).mean(axis=0).tolist(),
            "median_ms": float(np.median(ms)),
            "digits": len(inputs),
        }
    return out


def report(res: dict) -> str:
    lines = [
        f"evidence methods on {next(iter(res.values()))['digits']} traced test digits: the shown digit's "
        "probability fall when the ink a method ranks highest is removed, against the same amount of random ink"
    ]
    for m, r in res.items():
        cells = "  ".join(
            f"{int(f * 100)}% ink: {a:.3f} vs {b:.3f} ({100 * w:.0f}% of digits)"
            for f, a, b, w in zip(
                r["fractions"], r["mean_drop_ranked"], r["mean_drop_random"], r["share_ranked_beats_random"]
            )
        )
        lines.append(f"  {m:22s} {cells}   {r['median_ms']:.1f} ms per map")
    return "\n".join(lines)


def main(count: int = 200) -> dict:
    from lenet_draw.engine import Engine
    from lenet_draw.training.data import default_data_dir, load_split

    folder = default_data_dir()
    if folder is None:
        raise SystemExit("error: MNIST not found (../shared/data/mnist or $LENET_DRAW_MNIST)")
    engine = Engine(device="cpu")
    split = load_split(folder, "test")
    res = compare(engine, drawn_inputs(engine, split, count))
    print(report(res))
    return res


if __name__ == "__main__":
    main()
