"""A long session at engine level: draw (with live predictions), undo, clear, open pictures,
reload weights (and fail to load bad ones), thousands of times. No exception, memory flat, and
every answer exactly what a fresh engine with the same weights gives.

The short version runs by default. The long one:
    LENET_DRAW_SOAK_CYCLES=20000 .venv/bin/pytest -q tests/bench/test_soak.py -s
or  .venv/bin/pytest -q -m slow tests/bench/test_soak.py -s   (20,000 cycles)
"""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from lenet_draw.engine import Engine
from lenet_draw.model import LeNet5
from lenet_draw.resources import bundled_weights_path
from lenet_draw.weights import WeightsError, save_weights

SHORT_CYCLES = 100
LONG_CYCLES = 20_000
#: Growth of resident memory allowed between the end of the warm-up and the end of the run.
#: A session that kept each live prediction (~40 kB with its feature maps) would pass it
#: within a few hundred cycles.
RSS_SLACK_MB = 24
#: Growth in the number of live Python objects allowed over the same span.
OBJECT_SLACK = 2_000

# Rough digits on a 100 x 100 canvas: lists of strokes, each a polyline.
TEMPLATES = [
    [[(50, 10), (25, 30), (20, 60), (35, 88), (62, 88), (78, 60), (72, 28), (50, 10)]],  # 0
    [[(40, 20), (55, 10), (55, 90)]],  # 1
    [[(25, 25), (50, 10), (75, 25), (70, 50), (25, 90), (80, 90)]],  # 2
    [[(25, 15), (70, 15), (45, 45), (75, 65), (60, 90), (25, 85)]],  # 3
    [[(60, 90), (60, 10), (20, 65), (80, 65)]],  # 4
    [[(75, 12), (30, 12), (27, 45), (65, 45), (75, 70), (55, 90), (25, 85)]],  # 5
    [[(70, 12), (35, 40), (25, 75), (45, 90), (70, 75), (60, 55), (30, 62)]],  # 6
    [[(20, 12), (80, 12), (40, 90)], [(35, 50), (65, 50)]],  # 7
    [[(50, 50), (25, 30), (50, 10), (75, 30), (50, 50), (22, 72), (50, 90), (78, 72), (50, 50)]],  # 8
    [[(72, 35), (50, 12), (28, 30), (45, 50), (72, 35), (65, 90)]],  # 9
]


def _pool(n: int = 20, seed: int = 0) -> list[list[np.ndarray]]:
    """n drawings: the templates, jittered, densified like a mouse (a point every ~2 units)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        strokes = []
        for stroke in TEMPLATES[i % 10]:
            pts = np.asarray(stroke, dtype=float) + rng.normal(0, 2.5, (len(stroke), 2))
            dense = [pts[:1]]
            for a, b in zip(pts[:-1], pts[1:]):
                k = max(2, int(np.hypot(*(b - a)) / 2))
                dense.append(a + (b - a) * np.linspace(0, 1, k)[1:, None])
            strokes.append(np.concatenate(dense) * rng.uniform(1.5, 4.0) + rng.uniform(0, 300, 2))
        out.append(strokes)
    return out


def _picture(digit_strokes: list[np.ndarray]) -> Image.Image:
    im = Image.new("RGB", (400, 400), "white")
    d = ImageDraw.Draw(im)
    lo = np.min(np.concatenate(digit_strokes), axis=0)
    hi = np.max(np.concatenate(digit_strokes), axis=0)
    for s in digit_strokes:
        pts = (s - lo) / max(float((hi - lo).max()), 1.0) * 300 + 50
        d.line([tuple(p) for p in pts], fill="black", width=14)
    return im


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class SoakReport:
    cycles: int = 0
    predictions: int = 0
    empty_canvases: int = 0
    reloads: int = 0
    refused_files: int = 0
    pictures: int = 0
    rss_mb: list[tuple[int, float]] = field(default_factory=list)  # (cycle, MB)
    objects: list[tuple[int, int]] = field(default_factory=list)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("soak")
    torch.manual_seed(5)
    other = save_weights(d / "other.pt", LeNet5().state_dict())
    bad = d / "bad.pt"
    bad.write_bytes(bundled_weights_path().read_bytes()[:5000])  # a truncated download
    return {"bundled": bundled_weights_path(), "other": other, "bad": bad}


def _soak(cycles: int, files: dict[str, Path], warmup: int = 30) -> SoakReport:
    pool = _pool()
    pictures = [_picture(p) for p in pool[:5]]
    names = ["bundled", "other"]
    refs = {}
    for name in names:  # what fresh engines answer, per weights file
        fresh = Engine(files[name], device="cpu")
        refs[name] = [fresh.predict_strokes(d).probabilities for d in pool]
        refs[name + "/pictures"] = [fresh.predict_image(im).probabilities for im in pictures]
        del fresh

    engine = Engine(files["bundled"], device="cpu")
    current = "bundled"
    rep = SoakReport()
    rss_at_warmup = objects_at_warmup = None
    checkpoints = {warmup + (cycles * k) // 10 for k in range(1, 11)}
    for cycle in range(warmup + cycles):
        drawing = pool[cycle % len(pool)]
        canvas: list[np.ndarray] = []
        # Draw: live predictions while each stroke grows (three updates per stroke).
        for stroke in drawing:
            for end in np.linspace(1, len(stroke), 3).astype(int):
                pred = engine.predict_strokes(canvas + [stroke[:end]], pen_width=6.0)
                assert pred is not None
                rep.predictions += 1
            canvas.append(stroke)
        final = engine.predict_strokes(canvas, pen_width=6.0)
        rep.predictions += 1
        assert np.array_equal(final.probabilities, refs[current][cycle % len(pool)]), (
            f"cycle {cycle}: the answer drifted from a fresh engine's with the {current} weights"
        )
        # Undo the last stroke, redo it, then clear.
        undone = engine.predict_strokes(canvas[:-1])
        assert (undone is None) == (len(canvas) == 1)
        redone = engine.predict_strokes(canvas, pen_width=6.0)
        assert np.array_equal(redone.probabilities, final.probabilities)
        canvas.clear()
        assert engine.predict_strokes(canvas) is None
        rep.empty_canvases += 1
        rep.predictions += 2
        if cycle % 7 == 3:  # open a picture
            k = cycle % len(pictures)
            pic = engine.predict_image(pictures[k])
            assert np.array_equal(pic.probabilities, refs[current + "/pictures"][k])
            rep.pictures += 1
        if cycle % 10 == 9:  # reload weights: a bad file first, then a good one
            with pytest.raises(WeightsError):
                engine.load(files["bad"])
            rep.refused_files += 1
            current = names[(names.index(current) + 1) % 2]
            engine.load(files[current])
            rep.reloads += 1
        if cycle + 1 == warmup:
            gc.collect()
            rss_at_warmup, objects_at_warmup = _rss_bytes(), len(gc.get_objects())
            rep.rss_mb.append((0, (rss_at_warmup or 0) / 2**20))
            rep.objects.append((0, objects_at_warmup))
        elif cycle + 1 in checkpoints:
            gc.collect()
            rep.rss_mb.append((cycle + 1 - warmup, (_rss_bytes() or 0) / 2**20))
            rep.objects.append((cycle + 1 - warmup, len(gc.get_objects())))
        rep.cycles = max(0, cycle + 1 - warmup)

    # The soaked engine still answers exactly like a fresh one with the same weights.
    fresh = Engine(files[current], device="cpu")
    for drawing in pool:
        assert np.array_equal(
            engine.predict_strokes(drawing).probabilities, fresh.predict_strokes(drawing).probabilities
        )
    return rep


def _check_and_print(rep: SoakReport, cycles: int) -> None:
    line = " ".join(f"{c}:{mb:.1f}" for c, mb in rep.rss_mb)
    print(
        f"\nsoak: {rep.cycles} cycles, {rep.predictions} predictions, {rep.empty_canvases} clears, "
        f"{rep.reloads} reloads, {rep.refused_files} refused files, {rep.pictures} pictures; "
        f"RSS MB by cycle {line}; Python objects {rep.objects[0][1]} -> {rep.objects[-1][1]}",
        file=sys.stderr,
    )
    assert rep.cycles == cycles
    start_obj, end_obj = rep.objects[0][1], rep.objects[-1][1]
    assert end_obj - start_obj < OBJECT_SLACK, f"Python objects grew from {start_obj} to {end_obj}"
    if _rss_bytes() is None:
        return  # no /proc here: the object count above is the memory check
    start, end = rep.rss_mb[0][1], rep.rss_mb[-1][1]
    assert end - start < RSS_SLACK_MB, f"resident memory grew from {start:.1f} MB to {end:.1f} MB: {line}"


def test_soak_short(files):
    rep = _soak(SHORT_CYCLES, files)
    _check_and_print(rep, SHORT_CYCLES)
    assert rep.predictions >= 6 * SHORT_CYCLES and rep.reloads >= SHORT_CYCLES // 10


def _long_cycles(config) -> int | None:
    env = os.environ.get("LENET_DRAW_SOAK_CYCLES")
    if env:
        return int(env)
    expr = config.option.markexpr or ""
    if "slow" in expr and "not slow" not in expr:
        return LONG_CYCLES
    return None


@pytest.mark.slow
def test_soak_long(files, request):
    cycles = _long_cycles(request.config)
    if cycles is None:
        pytest.skip("the long soak runs with -m slow or LENET_DRAW_SOAK_CYCLES=N (the short one ran)")
    rep = _soak(cycles, files)
    _check_and_print(rep, cycles)
