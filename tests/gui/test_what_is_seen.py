"""What a person sees, read from the pixels on screen and compared with values worked out
without the views' code: each bar's length against its probability, the big digit's glyph
against a rendering of the digit, every stage tile's greys against its array, and the map
colours against fixed reference colours and a forward pass written from the weights
(tests/reference.py). Geometry comes from the widgets (their rows, tiles and image rectangles)
or from scanning the image, not from fixed pixel positions.
"""

import numpy as np
import pytest
from guihelpers import on_screen, rgb, settle
from PIL import Image
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from reference import OTHER_BAR, SURE, TRACK, UNSURE, independent_forward, map_colour, stage_grey

from lenet_draw.engine import Prediction
from lenet_draw.gui.testing import DIGIT_STROKES, draw_strokes, resample
from lenet_draw.preprocess import preprocess_strokes

# --------------------------------------------------------------------------- reading pixels


def near(px: np.ndarray, colour, tol: int) -> np.ndarray:
    return np.abs(px - np.asarray(colour)).max(axis=-1) <= tol


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True."""
    padded = np.concatenate([[False], flags, [False]]).astype(int)
    d = np.diff(padded)
    return list(zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]))


def measured_bars(window) -> list[tuple[float, float, str | None]]:
    """Per row of the bars: (filled length, track length, fill colour name), in pixels on screen,
    along the middle line of the row (the rounded corners do not reach it)."""
    bars = window.panel.bars
    shot = rgb(on_screen(window, bars))
    dpr = window.devicePixelRatioF()
    colours = {"sure": SURE, "unsure": UNSURE, "other": OTHER_BAR}
    out = []
    for r in bars.bar_rects():
        line = shot[int(r.center().y() * dpr)]
        # Exact colours (the window's grey is 6 levels from the track's): the anti-aliased
        # end pixels of the fill and the track are left out, at most one pixel at each end.
        fills = {name: near(line, c, 2) for name, c in colours.items()}
        filled = np.any(list(fills.values()), axis=0)
        xs = np.nonzero(filled | near(line, TRACK, 2))[0]
        track = xs[-1] - xs[0] + 1 if xs.size else 0
        name = max(fills, key=lambda k: int(fills[k].sum())) if filled.any() else None
        out.append((filled.sum() / dpr, track / dpr, name))
    return out


def assert_bars_show(window, probs, unsure: bool) -> None:
    top = int(np.argmax(probs))
    for digit, ((filled, track, colour), p) in enumerate(zip(measured_bars(window), probs)):
        assert track > 50, f"row {digit}: no bar track found"
        if p < 0.001:  # drawn as no fill (below 0.05%)
            assert filled <= 1, f"row {digit}: {p:.4f} shown {filled} px long"
            continue
        want = max(2.0, track * p)
        # Measured: within 0.92 px of the track length times the value (anti-aliased ends).
        assert abs(filled - want) <= 1.5, f"row {digit}: {p:.3f} of {track} px should be {want:.1f} px, is {filled}"
        expected = ("unsure" if unsure else "sure") if digit == top else "other"
        assert colour == expected, f"row {digit} painted {colour}, expected {expected}"


def glyphs(window) -> list[tuple[np.ndarray, tuple[int, int, int]]]:
    """The big digit as painted: its glyphs left to right, each as (ink mask cropped to the
    glyph, its colour). The digit is the tallest line of ink in the view (the caption's text is
    far smaller)."""
    shot = rgb(on_screen(window, window.panel.digit_view))
    values, counts = np.unique(shot.reshape(-1, 3), axis=0, return_counts=True)
    background = values[np.argmax(counts)]
    dist = np.abs(shot - background).max(axis=-1)
    ink = dist > 60
    lines = runs(ink.any(axis=1))
    assert lines, "nothing painted in the big digit"
    top, bottom = max(lines, key=lambda ln: ln[1] - ln[0])
    out = []
    for c0, c1 in runs(ink[top:bottom].any(axis=0)):
        mask = ink[top:bottom, c0:c1]
        ys = np.nonzero(mask.any(axis=1))[0]
        part, d = shot[top:bottom, c0:c1], dist[top:bottom, c0:c1]
        core = part[d >= d.max() - 8]  # the glyph's solid inside, not its anti-aliased edge
        out.append((mask[ys[0] : ys[-1] + 1], tuple(int(v) for v in np.median(core, axis=0))))
    return out


def _normalised(mask: np.ndarray) -> np.ndarray:
    img = Image.fromarray(mask.astype(np.uint8) * 255).resize((16, 24), Image.Resampling.BILINEAR)
    return np.asarray(img, dtype=np.float64) / 255.0


def read_glyph(window, mask: np.ndarray) -> int:
    """Which digit ``mask`` is: the best match among renderings of 0-9 in the view's typeface."""
    scores = []
    for d in range(10):
        img = QImage(160, 160, QImage.Format.Format_Grayscale8)
        img.fill(0)
        p = QPainter(img)
        f = QFont(window.panel.digit_view.font())
        f.setPixelSize(100)
        f.setBold(True)
        p.setFont(f)
        p.setPen(QColor("white"))
        p.drawText(QRectF(0, 0, 160, 160), Qt.AlignmentFlag.AlignCenter, str(d))
        p.end()
        a = np.frombuffer(img.constBits(), dtype=np.uint8).reshape(160, img.bytesPerLine())[:, :160] > 128
        ys, xs = np.nonzero(a)
        ref = _normalised(a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
        scores.append(-np.abs(ref - _normalised(mask)).mean())
    return int(np.argmax(scores))


def assert_big_digit_shows(window, digit: int, unsure: bool) -> None:
    shown = glyphs(window)
    mask, colour = shown[0]
    assert read_glyph(window, mask) == digit, f"the big digit reads {read_glyph(window, mask)}, expected {digit}"
    want = UNSURE if unsure else SURE
    assert np.abs(np.array(colour) - want).max() <= 3, f"digit painted in {colour}, expected {want}"
    if unsure:
        assert len(shown) >= 2, "an unsure digit must be marked as a guess (a '?' beside it)"
    else:
        assert len(shown) == 1, f"a sure digit shows {len(shown)} glyphs"


def pixel_at(shot: np.ndarray, dpr: float, x: float, y: float) -> np.ndarray:
    return shot[int(y * dpr), int(x * dpr)]


# --------------------------------------------------------------------------- the answer


def test_drawn_digit_bars_and_big_digit_as_painted(qtbot, window):
    draw_strokes(window.canvas, DIGIT_STROKES[3])
    settle(qtbot, window)
    req = window._request()
    stages = preprocess_strokes(req.strokes, display_pen_width=req.pen_width)
    logits = independent_forward(window.engine.weights, stages.input)["output"]
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    assert int(np.argmax(probs)) == 3 and probs.max() > 0.9
    assert_bars_show(window, probs, unsure=False)
    assert_big_digit_shows(window, 3, unsure=False)


#: The dashed frame the big digit shows when there is no reading (``#ced4da``).
EMPTY_FRAME = (206, 212, 218)

# Distinct values in every row (3 and 5 far apart), then answers around the unsure line (85%).
SPREAD = np.array([0.13, 0.02, 0.22, 0.05, 0.19, 0.11, 0.01, 0.17, 0.03, 0.07])


def _with_top(digit: int, p: float) -> np.ndarray:
    probs = np.linspace(1.0, 2.0, 10)
    probs[digit] = 0.0
    probs *= (1.0 - p) / probs.sum()
    probs[digit] = p
    return probs


@pytest.mark.parametrize(
    "probs, digit, unsure",
    [
        (SPREAD, 2, True),
        (_with_top(5, 0.845), 5, True),  # just under 85%: a guess
        (_with_top(8, 0.855), 8, False),  # just over: an answer
        (_with_top(0, 0.93), 0, False),
    ],
    ids=["spread", "just-unsure", "just-sure", "sure"],
)
def test_bars_and_big_digit_show_the_probabilities(qtbot, window, probs, digit, unsure):
    draw_strokes(window.canvas, DIGIT_STROKES[1])
    settle(qtbot, window)
    window.panel.show_prediction(Prediction(probabilities=probs, stages=window.panel.prediction.stages))
    assert_bars_show(window, probs, unsure)
    assert_big_digit_shows(window, digit, unsure)
    if unsure:  # the caption names the runner-up too
        second = int(np.argsort(-probs)[1])
        assert f"or {second} ({probs[second]:.0%})" in window.panel.digit_view.caption()


def test_cleared_canvas_shows_no_digit_and_no_bars(qtbot, window):
    draw_strokes(window.canvas, DIGIT_STROKES[5])
    settle(qtbot, window)
    window.clear_action.trigger()
    settle(qtbot, window)
    digit = rgb(on_screen(window, window.panel.digit_view))
    for colour in (SURE, UNSURE):
        assert not near(digit, colour, 40).any(), "a digit is still shown on an empty canvas"
    bars = rgb(on_screen(window, window.panel.bars))
    for colour in (SURE, UNSURE, OTHER_BAR):
        assert not near(bars, colour, 10).any(), "bars are still filled on an empty canvas"
    assert all(filled == 0 and track > 50 for filled, track, _ in measured_bars(window))


def test_an_output_that_is_not_a_number_shows_no_reading(qtbot, window):
    """Weights whose output is NaN: no digit, no bars, the empty digit's dashed frame, and a
    caption that says why (never "0 nan% confident", which would look like an answer)."""
    draw_strokes(window.canvas, DIGIT_STROKES[2])
    settle(qtbot, window)
    nan = np.full(10, np.nan)
    nan[3] = 0.9
    window.panel.show_prediction(Prediction(probabilities=nan, stages=window.panel.prediction.stages))
    digit = rgb(on_screen(window, window.panel.digit_view))
    for colour in (SURE, UNSURE):
        assert not near(digit, colour, 40).any(), "a digit is shown for an output that is not a number"
    assert near(digit, EMPTY_FRAME, 12).sum() > 40, "the empty digit's frame is not painted"
    assert all(filled == 0 and track > 50 for filled, track, _ in measured_bars(window))
    assert window.panel.digit_view.caption() == "No reading: the network's output is not a number"


# --------------------------------------------------------------------------- the stages


# A 7 and a 2 (taller than wide) and a wide zig-zag (its cropped ink wider than tall).
DRAWINGS = {
    "7": DIGIT_STROKES[7],
    "2": DIGIT_STROKES[2],
    "wide": [resample([(0.15, 0.4), (0.85, 0.45), (0.2, 0.55), (0.8, 0.6)])],
}


@pytest.mark.parametrize("drawing", sorted(DRAWINGS))
def test_every_stage_tile_shows_its_array_in_fixed_greys(qtbot, window, drawing):
    draw_strokes(window.canvas, DRAWINGS[drawing])
    settle(qtbot, window)
    req = window._request()
    want = preprocess_strokes(req.strokes, display_pen_width=req.pen_width)
    if drawing == "wide":
        assert want.cropped.shape[1] > 1.5 * want.cropped.shape[0]
    dpr = window.devicePixelRatioF()
    for key, tile in window.stages.tiles.items():
        arr = getattr(want, key)
        shot = rgb(on_screen(window, tile))
        r = tile.image_rect()
        h, w = arr.shape
        sx, sy = r.width() / w, r.height() / h
        assert sx == pytest.approx(sy) and sx >= 1.0, (key, sx, sy)
        assert QRectF(tile.rect()).contains(r), (key, r)  # the whole array is in view
        mark = None
        if key in ("centred", "input"):  # the red centre-of-mass cross, 5 px each way
            off = 2.0 if key == "input" else 0.0
            mark = (
                r.x() + (want.centre_of_mass[0] + off + 0.5) * sx,
                r.y() + (want.centre_of_mass[1] + off + 0.5) * sy,
            )
        if mark is not None:  # the cross is there, red, where the mass is
            red = pixel_at(shot, dpr, *mark)
            assert red[0] > 200 and red[1] < 150 and red[2] < 150, (key, tuple(int(v) for v in red))
        wrong = []
        for i in range(h):
            for j in range(w):
                x, y = r.x() + (j + 0.5) * sx, r.y() + (i + 0.5) * sy
                if mark is not None and max(abs(x - mark[0]), abs(y - mark[1])) < 7:
                    continue
                px = pixel_at(shot, dpr, x, y)
                grey = stage_grey(arr[i, j])
                if np.abs(px - grey).max() > 0:  # measured: every grey exact
                    wrong.append((i, j, tuple(int(v) for v in px), grey))
        assert not wrong, f"{key}: {len(wrong)} of {h * w} pixels show the wrong grey, e.g. {wrong[:3]}"


def test_stage_greys_are_fixed_for_any_values_and_widths():
    from lenet_draw.gui.stages import gray_image

    # Five columns (a row length that is no multiple of 4), values beyond 0..1 included.
    arr = np.array([[-0.5, 0.0, 0.25, 1.0, 1.5], [1.0, 0.5, 0.0, 0.75, -2.0], [0.1, 0.2, 0.3, 0.4, 0.6]])
    img = gray_image(arr)
    assert (img.width(), img.height()) == (5, 3)
    shown = [[QColor(img.pixel(x, y)).red() for x in range(5)] for y in range(3)]
    assert shown == [[stage_grey(v) for v in row] for row in arr]
    assert shown[0] == [0, 0, 64, 255, 255]


# --------------------------------------------------------------------------- the feature maps


def cells(view, values: np.ndarray):
    """(x, y, value) at the centre of each cell of ``view`` for a layer's ``values``."""
    rects = view.tile_rects()
    th, tw = view.tile_shape
    if values.ndim == 3:
        for t, r in enumerate(rects):
            for i in range(th):
                for j in range(tw):
                    yield r.x() + (j + 0.5) * r.width() / tw, r.y() + (i + 0.5) * r.height() / th, values[t, i, j]
    else:
        r = rects[0]
        for u, v in enumerate(values):
            i, j = divmod(u, tw)
            yield r.x() + (j + 0.5) * r.width() / tw, r.y() + (i + 0.5) * r.height() / th, v


def assert_map_colours(window, view, values: np.ndarray, scale: float, tol: int) -> None:
    shot = rgb(on_screen(window, view))
    dpr = window.devicePixelRatioF()
    wrong = []
    for x, y, v in cells(view, values):
        px = pixel_at(shot, dpr, x, y)
        want = map_colour(v / scale)
        if np.abs(px - want).max() > tol:
            wrong.append((round(float(v), 3), tuple(int(c) for c in px), tuple(round(c) for c in want)))
    assert not wrong, f"{view.name}: {len(wrong)} cells in the wrong colour (value, shown, expected): {wrong[:3]}"


def test_map_colours_are_fixed_white_red_and_blue(qtbot, window):
    levels = (-1.0, -0.5, 0.0, 0.5, 1.0, 0.2)
    c1 = np.stack([np.full((28, 28), v, dtype=np.float32) for v in levels])
    logits = np.array([-8.0, -4.0, 0.0, 2.0, 4.0, 8.0, 1.0, -1.0, 0.5, 3.0])
    window.maps.show_activations({"C1": c1, "output": logits})
    c1_view, out_view = window.maps.views["C1"], window.maps.views["output"]
    # The palette's own anchors: 0 white, +1 red, -1 blue (256-entry colour table: within 2 levels).
    assert_map_colours(window, c1_view, c1, 1.0, tol=2)
    shot, dpr = rgb(on_screen(window, c1_view)), window.devicePixelRatioF()
    for t, expected in ((2, (247, 247, 247)), (4, (178, 24, 43)), (0, (33, 102, 172))):
        centre = c1_view.tile_rects()[t].center()
        assert np.abs(pixel_at(shot, dpr, centre.x(), centre.y()) - expected).max() <= 2, (levels[t], expected)
    # The output's logits are divided by the largest |logit| (8 here): 8 full red, -4 mid blue.
    assert_map_colours(window, out_view, logits, 8.0, tol=2)
    # The other layers keep their fixed scale (tanh: -1 to 1) when the values are small.
    window.maps.show_activations({"C1": c1 * 0.5, "output": logits})
    assert_map_colours(window, c1_view, c1 * 0.5, 1.0, tol=2)


@pytest.mark.parametrize(
    "logits, scale",
    [
        (np.array([-0.5, -0.25, 0.0, 0.1, 0.25, 0.5, 0.05, -0.05, 0.4, -0.4]), 0.5),  # all under 1: still full red
        (np.zeros(10), 1.0),  # nothing to scale by: every cell white
        (np.array([-8.0, -4.0, 0.0, 2.0, 4.0, 8.0, 1.0, -1.0, 0.5, np.inf]), 1.0),  # no finite scale: -1 to 1
    ],
    ids=["small", "zero", "infinite"],
)
def test_output_map_scale_is_its_largest_finite_logit_or_one(qtbot, window, logits, scale):
    window.maps.show_activations({"output": logits})
    view = window.maps.views["output"]
    finite = np.isfinite(logits)
    assert_map_colours(window, view, np.where(finite, logits, 0.0)[: int(finite.sum())], scale, tol=2)
    if not finite.all():  # the infinite logit (the last cell) at the red end
        shot, dpr = rgb(on_screen(window, view)), window.devicePixelRatioF()
        x, y, _v = list(cells(view, logits))[-1]
        assert np.abs(pixel_at(shot, dpr, x, y) - map_colour(1.0)).max() <= 2


@pytest.mark.parametrize("digit", [2, 6])
def test_map_colours_follow_an_independent_forward_pass(qtbot, window, digit):
    draw_strokes(window.canvas, DIGIT_STROKES[digit])
    settle(qtbot, window)
    req = window._request()
    stages = preprocess_strokes(req.strokes, display_pen_width=req.pen_width)
    acts = independent_forward(window.engine.weights, stages.input)
    for name, view in window.maps.views.items():
        values = acts[name]
        scale = float(np.abs(values).max()) if name == "output" else 1.0
        # Measured: within 1.85 levels of the reference colours (256-entry colour table, rounding).
        assert_map_colours(window, view, values, scale, tol=3)
