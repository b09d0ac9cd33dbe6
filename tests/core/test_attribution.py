"""Where the network looked: the evidence lies on the ink, lines up with the strokes through the
inverse of the preprocessing, and adds up to the score it explains."""

import numpy as np
import pytest

from lenet_draw import attribution as at
from lenet_draw.sample_digits import DIGIT_STROKES


def _score(engine, image, target, against=None):
    return float(at.scores(engine, np.asarray(image)[None], target, against)[0])


@pytest.mark.parametrize("digit", range(10))
def test_evidence_mass_lies_on_the_ink_and_on_the_strokes(engine, digit):
    pred = engine.predict_strokes(DIGIT_STROKES[digit])
    ev = at.evidence(engine, pred.stages.input, pred.digit)
    assert at.ink_mass_fraction(ev.values, pred.stages.input) > 0.999
    # Back on the drawing: each input pixel's centre, through the inverse of the fit, centring
    # and padding, lies near a stroke (within the MNIST pen's half width plus a pixel's half
    # diagonal, in drawing units).
    s, _, _ = pred.stages.to_input
    pts = np.concatenate([np.asarray(st, dtype=np.float64) for st in DIGIT_STROKES[digit]])
    ys, xs = np.nonzero(np.abs(ev.values) > 0.02 * ev.scale)
    weights = np.abs(ev.values[ys, xs])
    back = np.array([at.to_drawing(pred.stages.to_input, x + 0.5, y + 0.5) for y, x in zip(ys, xs)])
    dist = np.sqrt(((back[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    reach = (1.2 + 0.71 + 0.3) / s
    assert np.average(dist <= reach, weights=weights) > 0.98


def test_integrated_gradients_add_up_to_the_change_from_a_blank_input(engine):
    pred = engine.predict_strokes(DIGIT_STROKES[3])
    x = pred.stages.input
    blank = np.zeros_like(x)
    for target, against in ((pred.digit, None), (7, pred.digit), (8, pred.digit)):
        ev = at.evidence(engine, x, target, against, steps=256)
        change = _score(engine, x, target, against) - _score(engine, blank, target, against)
        assert ev.values.sum() == pytest.approx(change, rel=0.01, abs=0.01)


def test_why_not_is_the_evidence_for_the_other_digit_against_the_shown_one(engine):
    pred = engine.predict_strokes(DIGIT_STROKES[7])
    ev = at.evidence(engine, pred.stages.input, 1, against=pred.digit)
    assert (ev.target, ev.against) == (1, 7)
    logits = pred.activations["output"]
    assert _score(engine, pred.stages.input, 1, 7) == pytest.approx(float(logits[1] - logits[7]), abs=1e-4)
    # Evidence for 1 over 7 is evidence against 7 over 1, pixel by pixel.
    np.testing.assert_allclose(ev.values, -at.evidence(engine, pred.stages.input, 7, against=1).values, atol=1e-5)
    assert np.abs(ev.values).max() > 0.01


def test_occlusion_is_the_fall_when_one_pixel_of_ink_goes(engine):
    pred = engine.predict_strokes(DIGIT_STROKES[2])
    x = pred.stages.input
    ev = at.evidence(engine, x, pred.digit, method="occlusion")
    y, c = np.unravel_index(int(np.argmax(ev.values)), x.shape)
    without = x.copy()
    without[y, c] = 0.0
    assert ev.values[y, c] == pytest.approx(
        _score(engine, x, pred.digit) - _score(engine, without, pred.digit), abs=1e-4
    )


def test_bad_requests_are_refused(engine):
    with pytest.raises(ValueError, match="unknown method 'saliency'"):
        at.evidence(engine, np.zeros((32, 32)), 3, method="saliency")
    with pytest.raises(ValueError, match="expected a 32x32 input"):
        at.evidence(engine, np.zeros((28, 28)), 3)


@pytest.mark.parametrize("unit", [1.0, 400.0], ids=["pad units", "pixels"])
def test_the_drawing_to_input_map_is_the_one_preprocessing_applied(unit):
    """Each stroke point, mapped by Stages.to_input, lands on ink of the input, in whatever unit
    the strokes come (pad units on the canvas; pixels in a stroke file, where the scale is < 1)."""
    from lenet_draw.preprocess import preprocess_strokes

    for digit in range(10):
        strokes = [np.asarray(x) * unit for x in DIGIT_STROKES[digit]]
        st = preprocess_strokes(strokes)
        s, dx, dy = st.to_input
        pts = np.concatenate(strokes)
        cols, rows = (pts[:, 0] * s + dx).astype(int), (pts[:, 1] * s + dy).astype(int)
        assert st.input[rows, cols].min() > 0.5
    assert preprocess_strokes([[(0.3, 0.3)]]).to_input is None  # a dot
