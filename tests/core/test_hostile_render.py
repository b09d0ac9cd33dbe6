"""Strokes of very many corners render in time bounded by the image, to the same pixels.

Every sharp turn of a stroke gets a round cap. The renderer once drew each with its own PIL
ellipse and each stroke's segments however often they repeated, so a number file of 200 zigzags
of 1,999 points (under every cap on files and numbers) kept ``lenet-draw predict --number`` busy
for 35 s, and a one-stroke sample of 99,999 points added 17 s to an adaptation. Now a drawing is
drawn as before, while a zigzag's repeated segments and caps are drawn once: the network sees
the same pixels either way, which the old renderer, kept here as the reference, checks.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hostile import REPO, cli_in_child
from PIL import Image, ImageDraw

from lenet_draw import preprocess as pp
from lenet_draw.sample_digits import DIGIT_STROKES, wavy_stroke
from lenet_draw.training.scribbles import scribble


def reference_outline(strokes, ss):
    """The renderer as it was: each polyline resampled, capped at its ends and sharp turns."""
    out = []
    for stroke in strokes:
        pts = pp._resample(stroke * ss, step=ss / 2.0)
        out.append((pts, np.concatenate([pts[:1], pts[-1:], pp._corners(pts)])))
    return out


def reference_render(outline, size, width, ss, offset=(0.0, 0.0)):
    """One PIL line call a stroke and one PIL ellipse a cap, however many."""
    img = Image.new("L", (size * ss, size * ss), 0)
    draw = ImageDraw.Draw(img)
    w = max(width * ss, 1.0)
    r = w / 2.0
    shift = np.asarray(offset, dtype=np.float64) * ss - 0.5
    for pts, caps in outline:
        if len(pts) > 1:
            draw.line((pts + shift).ravel().tolist(), fill=255, width=int(round(w)))
        for x, y in (caps + shift).tolist():
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(img)


def placed(strokes, scale=1.0):
    """Strokes fitted into the 28 x 28 field as preprocess_strokes fits them, times ``scale``."""
    clean = pp.clean_strokes(strokes)
    lo, hi = pp._bbox(clean)
    extent = max(float((hi - lo).max()), 1e-9)
    return [(s - (lo + hi) / 2) * ((pp.FIT_SIZE - pp.MNIST_PEN_WIDTH) * scale / extent) + 14.0 for s in clean]


def zigzag(n, x0=0.0, drift=0.0, height=20.0):
    """``n`` points back and forth between two heights: every point a sharp turn."""
    i = np.arange(n)
    return np.c_[x0 + (i & 1) + drift * i, height * (i & 1)]


def ordinary_drawings():
    rng = np.random.default_rng(7)
    out = []
    for strokes in DIGIT_STROKES.values():
        for size in (1.0, 40.0, 900.0):
            out.append([np.asarray(s) * size + rng.uniform(-30, 30, 2) for s in strokes])
    handdrawn = sorted((REPO / "tests" / "data" / "handdrawn").glob("*.json"))
    assert len(handdrawn) > 100
    out += [json.loads(p.read_text())["strokes"] for p in handdrawn[::4]]
    out += [[wavy_stroke(n, seed=n)] for n in (60, 400, 1500)]
    out += [scribble(rng) for _ in range(40)]
    out += [[rng.uniform(0, 1, (int(rng.integers(1, 40)), 2)) for _ in range(3)] for _ in range(10)]
    return out


#: (pen width, size factor, offset): MNIST's pen and the invariance explorer's extremes.
RENDERS = [(2.4, 1.0, (0.0, 0.0)), (0.72, 0.4, (0.3, -0.7)), (4.8, 1.6, (-3.1, 2.25))]


def test_ordinary_drawings_render_to_the_same_pixels_as_before():
    drawings = ordinary_drawings()
    for strokes in drawings:
        for pen, scale, offset in RENDERS:
            field = placed(strokes, scale)
            got = pp._render(pp._outline(field, 4), pp.FIELD_SIZE, pen, 4, offset)
            want = reference_render(reference_outline(field, 4), pp.FIELD_SIZE, pen, 4, offset)
            assert np.array_equal(got, want), (strokes, pen, scale, offset)


def test_every_stage_the_network_sees_is_what_it_was(monkeypatch):
    drawings = ordinary_drawings()[::3]
    now = [pp.preprocess_strokes(s) for s in drawings]
    monkeypatch.setattr(pp, "_outline", reference_outline)
    monkeypatch.setattr(pp, "_render", reference_render)
    before = [pp.preprocess_strokes(s) for s in drawings]
    for a, b in zip(now, before):
        assert a is not None and b is not None
        for stage in ("cropped", "fitted", "centred", "input"):
            assert np.array_equal(getattr(a, stage), getattr(b, stage))
        assert a.centre_of_mass == b.centre_of_mass and a.to_input == b.to_input


@pytest.mark.parametrize(
    "strokes",
    [
        [zigzag(3000)],  # two points, over and over: one segment each way, two caps
        [zigzag(1500, x0=3.0 * k) for k in range(4)],  # the number file's zigzags, fewer
        [zigzag(2000, drift=0.01)],  # caps on ever new pixels: set by array operations
        [zigzag(1200, drift=0.003, height=3.0), zigzag(900, x0=1.5, height=-2.0)],
        [zigzag(600)] + [np.asarray(s) * 20 for s in DIGIT_STROKES[8]],  # a zigzag over a digit
    ],
)
def test_zigzags_render_to_the_same_pixels_as_before(strokes):
    for pen, scale, offset in RENDERS:
        field = placed(strokes, scale)
        outline = pp._outline(field, 4)
        assert pp._cost(outline, round(pen * 4))[1] > pp._FEW_CAPS  # caps merged or pressed
        got = pp._render(outline, pp.FIELD_SIZE, pen, 4, offset)
        want = reference_render(reference_outline(field, 4), pp.FIELD_SIZE, pen, 4, offset)
        assert np.array_equal(got, want)


def test_caps_pressed_together_are_the_ellipses_pil_draws(monkeypatch):
    """Many distinct caps, partly off the image, at several radii: the same pixels."""
    rng = np.random.default_rng(3)
    monkeypatch.setattr(pp, "_FEW_CAPS", 10)
    for r in (0.5, 1.2, 4.8, 9.6):
        centres = rng.uniform(-2 * r, 40 + 2 * r, size=(400, 2))
        img = Image.new("L", (40, 40), 0)
        draw = ImageDraw.Draw(img)
        for x, y in centres.tolist():
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
        boxes = pp._distinct_boxes(centres, 40, r)
        assert len(boxes) > 10
        assert np.array_equal(pp._cover(np.asarray(boxes, dtype=np.int64), 40), np.asarray(img))


def test_a_scribble_beyond_any_drawing_is_thinned_within_the_reference_ink():
    """Thousands of distinct long segments cost more than the bound even drawn once each: every
    k-th is drawn. Only such a render differs from the old one, and only by ink left out."""
    rng = np.random.default_rng(11)
    field = placed([rng.uniform(0, 1, (50_000, 2))])
    outline = pp._outline(field, 4)
    big = pp.FIELD_SIZE * 4
    assert pp._cost(outline, 10)[0] > 8 * pp._MAX_SWEEP * big * big
    got = pp._render(outline, pp.FIELD_SIZE, pp.MNIST_PEN_WIDTH, 4)
    want = reference_render(reference_outline(field, 4), pp.FIELD_SIZE, pp.MNIST_PEN_WIDTH, 4)
    assert (got <= want).all()
    assert (got > 0).mean() > 0.5 * (want > 0).mean()


def number_file(path, flip=False):
    """200 strokes (the most a number has) of 1,999 zigzag points: 399,800 points, under the
    400,000 a stroke file may hold."""
    strokes = [zigzag(1999, x0=3.0 * k) for k in range(200)]
    if flip:
        strokes = [s * (1, -1) for s in strokes]
    path.write_text(json.dumps({"strokes": [s.tolist() for s in strokes]}))
    return path


def test_a_number_of_zigzags_is_read_within_bounded_memory_and_time(tmp_path):
    """Two such files (another one upside down, so nothing read is cached): the renderer took
    35 s for each; the timeout only ends a hang."""
    files = [number_file(tmp_path / "zigzags.json"), number_file(tmp_path / "upside-down.json", flip=True)]
    assert all(p.stat().st_size < 8 * 2**20 for p in files)

    done = cli_in_child("predict", "--number", *map(str, files), timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [str(p) for p in files]
    assert all(line.split(": ")[1].startswith("1" * 200 + " ") for line in lines)
