"""The ways of writing digits that MNIST hardly has: the generators that training mixes in, and
the style test set kept apart from them."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from lenet_draw.bench import styleset
from lenet_draw.training import styles
from lenet_draw.training.data import Split
from lenet_draw.training.train import TrainConfig, to_input, train


@pytest.mark.parametrize("style", styles.STYLES + styles.AMBIGUOUS, ids=lambda s: s.name)
@pytest.mark.parametrize("ranges", [styles.TRAIN, styles.TEST], ids=lambda r: r.name)
def test_every_style_draws_a_digit_sized_drawing(style, ranges):
    rng = np.random.default_rng(5)
    for _ in range(20):
        strokes = styles.draw(style, rng, ranges)
        pts = np.concatenate(strokes)
        assert np.isfinite(pts).all()
        extent = pts.max(axis=0) - pts.min(axis=0)
        assert 0.7 < extent[1] < 1.6, extent  # about one unit tall, whatever the hand
        img = styles.render(strokes)
        assert img.shape == (28, 28) and img.dtype == np.uint8
        assert 40 < (img > 128).sum() < 300  # a drawn digit's ink, neither a dot nor a blot


def test_the_same_seed_draws_the_same_and_another_seed_other_drawings():
    a, b, c = (styles.style_set(3, seed) for seed in (1, 1, 2))
    for x, y, z in zip(a, b, c):
        assert all(np.array_equal(p, q) for p, q in zip(x.strokes, y.strokes))
        assert not all(p.shape == q.shape and np.allclose(p, q) for p, q in zip(x.strokes, z.strokes))


def _flag_angle(strokes):
    """Degrees above the horizontal of a one's flag: from its start to the top of the stem."""
    s = strokes[0]
    top = s[np.argmin(s[:, 1])]
    d = top - s[0]
    return math.degrees(math.atan2(-d[1], d[0]))


@pytest.mark.parametrize("ranges", [styles.TRAIN, styles.TEST], ids=lambda r: r.name)
def test_a_ones_flag_and_the_ambiguous_middle_stay_apart(ranges):
    """A one's flag rises at 30 degrees or more (before the hand's slant), the ambiguous
    middle's at 16-28: the line between a one and a seven is never crossed, even by the test set's
    wider ranges."""
    rng = np.random.default_rng(9)
    ones = [_flag_angle(styles.flagged_one(rng, ranges)) for _ in range(300)]
    ones += [_flag_angle(styles.serif_one(rng, ranges)) for _ in range(300)]
    middle = [_flag_angle(styles.one_or_seven(rng, ranges)) for _ in range(300)]
    assert min(ones) >= 30 - 1e-6 and 16 - 1e-6 <= min(middle) and max(middle) <= 28 + 1e-6


def test_the_ambiguous_middle_is_trained_towards_half_one_half_seven():
    (amb,) = styles.AMBIGUOUS
    np.testing.assert_allclose(amb.target_vector(), np.eye(10)[1] * 0.5 + np.eye(10)[7] * 0.5)
    images, targets = styles.style_images(200, seed=3, ambiguous_share=0.2)
    assert images.shape == (200, 28, 28) and targets.shape == (200, 10)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0)
    assert 20 < (targets.max(axis=1) == 0.5).sum() < 70
    assert set(np.flatnonzero(targets.sum(axis=0))) == {0, 1, 2, 4, 7, 9}


def test_the_test_set_is_not_the_training_generator_with_another_seed():
    """Wider ranges: slant, width and wobble reach beyond what training draws."""
    tr, te = styles.TRAIN, styles.TEST
    assert te.slant[0] < tr.slant[0] and te.slant[1] > tr.slant[1]
    assert te.width[0] < tr.width[0] and te.width[1] > tr.width[1]
    assert te.wobble[1] > tr.wobble[1] and te.rotate_deg > tr.rotate_deg and te.widen > tr.widen
    assert styleset.TEST_SEED not in {s + 2 for s in range(100)}  # training's pools: seed + 2


@pytest.mark.slow  # two training runs of 3 epochs (CI runs it); test_training.py keeps a short run in the default one
def test_training_with_styles_learns_them(mnist_train):
    """A short run with the styles mixed in reads them better than the same run without."""
    data = Split(images=mnist_train.images[:3000], labels=mnist_train.labels[:3000])
    samples = styleset.generated(12, seed=77)
    images = np.stack([styles.render(s.strokes) for s in samples])
    quiet = _Null()
    scores = {}
    for fraction in (0.0, 0.25):
        cfg = TrainConfig(epochs=3, seed=0, device="cpu", augment=False, style_fraction=fraction, style_pool=1500)
        model, _ = train(cfg, data, None, log=lambda *_: None, progress_stream=quiet)
        with torch.no_grad():
            pred = model(to_input(torch.from_numpy(images))).argmax(1).numpy()
        scores[fraction] = float(np.mean(pred == np.array([s.label for s in samples])))
    assert scores[0.25] > scores[0.0] + 0.05, scores


class _Null:
    def write(self, _):
        pass

    def flush(self):
        pass


# --------------------------------------------------------------------------- the bundled weights
HAND_DRAWN = Path(__file__).parents[1] / "data" / "handdrawn"
#: Generated drawings per style the floors below refer to (placed in turn as the proxy places
#: MNIST's traced digits).
PER_STYLE = 60
#: Floors on accuracy (percent) per style, just under what the bundled weights measured here
#: (generated / drawn by hand):
#: slashed zero 100.0 / 100.0; zero, slash in one stroke 100.0 / 100.0; one with a long flag 93.3
#: / 100.0; one with flag and base 98.3 / 100.0; crossed seven 100.0 / 100.0; closed four 100.0 /
#: 100.0; open four 100.0 / 100.0; nine, straight stem 100.0 / 100.0; nine, curled tail 100.0 /
#: 100.0; looped two 100.0 / 100.0
GENERATED_FLOORS = {
    "slashed zero": 98.0,
    "zero, slash in one stroke": 98.0,
    "one with a long flag": 91.5,
    "one with flag and base": 96.5,
    "crossed seven": 98.0,
    "closed four": 98.0,
    "open four": 98.0,
    "nine, straight stem": 98.0,
    "nine, curled tail": 98.0,
    "looped two": 98.0,
}
HAND_DRAWN_FLOORS = {
    "slashed zero": 95.0,
    "zero, slash in one stroke": 95.0,
    "one with a long flag": 95.0,
    "one with flag and base": 95.0,
    "crossed seven": 95.0,
    "closed four": 95.0,
    "open four": 95.0,
    "nine, straight stem": 95.0,
    "nine, curled tail": 95.0,
    "looped two": 95.0,
}


@pytest.fixture(scope="module")
def reports(engine):
    return (
        styleset.measure(engine, styleset.generated(PER_STYLE), "generated"),
        styleset.measure(engine, styleset.load_drawings(HAND_DRAWN), "drawn by hand"),
    )


def test_every_style_is_read_right(reports):
    generated, hand = reports
    for rep, floors in ((generated, GENERATED_FLOORS), (hand, HAND_DRAWN_FLOORS)):
        assert set(rep.per_style) == {s.name for s in styles.STYLES}, rep.text()
        low = {name: t.accuracy for name, t in rep.per_style.items() if t.accuracy < floors[name]}
        assert not low, rep.text()


def test_a_reading_shown_as_sure_is_right(reports):
    """Fewer than 1% of the readings shown as sure are wrong, and fewer than 5% of the right
    ones are shown unsure (the issue's bar for an honest unsure state)."""
    t = styleset.Tally()
    for rep in reports:
        t.absorb(rep.overall())
    assert t.sure_wrong < 0.01 * t.sure, f"{t.sure_wrong} of {t.sure} sure readings wrong"
    assert t.right_unsure < 0.05 * t.right, f"{t.right_unsure} of {t.right} right readings shown unsure"
