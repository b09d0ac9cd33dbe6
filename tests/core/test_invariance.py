"""What a reading tolerates: each curve's probabilities are the engine's batched predictions
of the changed inputs, and each change does to the input what it says."""

import numpy as np
import pytest

from lenet_draw import invariance as inv
from lenet_draw.preprocess import centre_of_mass, preprocess_strokes
from lenet_draw.sample_digits import DIGIT_STROKES


@pytest.fixture(scope="module")
def six():
    return inv.Source(strokes=DIGIT_STROKES[6])


def test_the_unchanged_drawing_is_exactly_what_the_app_shows(six):
    np.testing.assert_array_equal(six.image(), preprocess_strokes(DIGIT_STROKES[6]).input)


@pytest.mark.parametrize("change", list(inv.CHANGES))
def test_curve_values_are_batched_engine_predictions(engine, six, change):
    c = inv.curve(engine, six, change, steps=9)
    assert c.probabilities.shape == (len(c.values), 10)
    np.testing.assert_allclose(c.probabilities, engine.probabilities(c.images), atol=1e-6)
    for v, img, probs in zip(c.values, c.images, c.probabilities):
        np.testing.assert_array_equal(img, six.image(**{change: float(v)}))
        one = engine.predict_stages(preprocess_strokes(DIGIT_STROKES[6]).__class__(img, img, img, img))
        np.testing.assert_allclose(probs, one.probabilities, atol=1e-5)
    neutral = inv.CHANGES[change].neutral
    assert neutral in c.values
    i0 = int(np.flatnonzero(c.values == neutral)[0])
    np.testing.assert_allclose(c.probabilities[i0], engine.predict_strokes(DIGIT_STROKES[6]).probabilities, atol=1e-5)


def _box(img):
    ys, xs = np.nonzero(img > 0.3)
    return ys.max() - ys.min() + 1, xs.max() - xs.min() + 1


def test_each_change_does_what_it_says(six):
    base = six.image()
    h, w = _box(base)
    hs, ws = _box(six.image(scale=0.5))
    assert hs == pytest.approx(h / 2, abs=2) and ws == pytest.approx(w / 2, abs=2)
    cx, cy = centre_of_mass(base)
    sx, sy = centre_of_mass(six.image(shift_x=3, shift_y=-2))
    assert (sx - cx, sy - cy) == (pytest.approx(3, abs=0.1), pytest.approx(-2, abs=0.1))
    assert six.image(thickness=2).sum() > 1.4 * base.sum() > 1.4 * 1.4 * six.image(thickness=0.5).sum()
    d = [np.abs(six.image(noise=s) - base).mean() for s in (0.0, 0.2, 0.4)]
    assert d[0] == 0 and d[0] < d[1] < d[2]
    # A one drawn upright, turned 45 degrees clockwise, leans with its top to the right.
    one = inv.Source(strokes=[[(0.5, 0.1), (0.5, 0.9)]])
    turned = one.image(rotation=45)
    ys, xs = np.nonzero(turned > 0.5)
    assert np.corrcoef(xs, ys)[0, 1] < -0.9  # higher up (smaller y) means further right


def test_a_picture_is_changed_through_its_field(engine):
    img = np.zeros((64, 64), np.uint8)
    img[10:54, 30:36] = 255
    pred = engine.predict_image(img)
    src = inv.Source.from_prediction([], pred.stages)
    assert src.field is not None
    np.testing.assert_allclose(src.image(), pred.stages.input, atol=0.05)
    c = inv.curve(engine, src, "rotation", steps=7)
    np.testing.assert_allclose(c.probabilities, engine.probabilities(c.images), atol=1e-6)
    assert _box(src.image(rotation=60))[1] > 2 * _box(src.image())[1]


def test_crossing_finds_where_the_reading_changes(engine, six):
    c = inv.curve(engine, six, "rotation", steps=25)
    at = inv.crossing(c, 6)
    top = np.argmax(c.probabilities, axis=1)
    if at is None:
        assert (top == 6).all()
    else:
        assert top[int(np.flatnonzero(c.values == at)[0])] != 6


def test_unknown_changes_are_refused(six, engine):
    with pytest.raises(ValueError, match="unknown change 'blur'"):
        six.image(blur=1)
    with pytest.raises(ValueError, match="unknown change 'blur'"):
        inv.curve(engine, six, "blur")
    with pytest.raises(ValueError, match="nothing to change"):
        inv.Source(strokes=[])
