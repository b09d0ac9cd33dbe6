"""Reading numbers: segmentation of strokes and pictures, scored by the bundled weights."""

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lenet_draw import segment
from lenet_draw.engine import Engine
from lenet_draw.errors import NumberError
from lenet_draw.numbers import NumberReader, describe
from lenet_draw.sample_digits import DIGIT_STROKES, arc, resample


@pytest.fixture(scope="module")
def engine():
    return Engine(device="cpu")


@pytest.fixture
def reader(engine):
    return NumberReader(engine)


def digit(d, x, squeeze=0.7):
    """A sample drawing of ``d`` with its pad's left edge at ``x`` (pad units, 0.7 wide)."""
    return [np.array([(x + px * squeeze, py) for px, py in s]) for s in DIGIT_STROKES[d]]


def number(text, step=0.75):
    return [s for k, ch in enumerate(text) for s in digit(int(ch), k * step)]


@pytest.mark.parametrize("text", ["42", "2026", "13579", "86420", "90210731"])
def test_separated_digits_are_read_in_order(reader, text):
    got = reader.read_strokes(number(text))
    assert got.text == text
    assert len(got.digits) == len(text)
    lefts = [d.box[0] for d in got.digits]
    assert lefts == sorted(lefts)


@pytest.mark.parametrize("text", ["1234", "5678", "9017"])
def test_touching_digits_are_split(reader, text):
    # Boxes of neighbours meet or overlap: 0.7-wide pads 0.45 apart bring the ink together.
    got = reader.read_strokes(number(text, step=0.42))
    assert got.text == text


def test_a_stroke_added_later_joins_its_digit(reader):
    """A 5's flag added after the next digit was written stays with the 5."""
    body, flag = digit(5, 0.0)
    three = digit(3, 0.75)
    got = reader.read_strokes([body, *three, flag])
    assert got.text == "53"
    assert got.digits[0].box[2] == pytest.approx(max(flag[:, 0].max(), body[:, 0].max()))


@pytest.mark.parametrize("shift", [0.4, 0.45])
def test_a_flag_written_apart_from_its_5_stays_with_it(reader, shift):
    """A 5's flag put down a third of a line height or more to the right of its body (or a
    traced 5 whose thin joint broke): too low to be a digit, it joins the digit it reads
    best with instead of being read as one ("3527" was read)."""
    body, flag = digit(5, 0.8, squeeze=0.62)
    flag = flag + [shift, 0.0]
    height = 0.6  # the sample drawings' ink is 0.6 pad units high
    gap = (flag[:, 0].min() - body[:, 0].max()) / height
    assert segment.FAR_GAP < gap < segment.MARK_GAP
    got = reader.read_strokes([*digit(3, 0.1, squeeze=0.62), body, flag, *digit(7, 2.0, squeeze=0.62)])
    assert got.text == "357"
    assert not got.digits[1].unsure


def test_digits_of_several_strokes_stay_whole(reader):
    """A 4 in two strokes, a crossed 7 and a 5 with its flag read as single digits."""
    crossed7 = [*digit(7, 0.75), np.array(resample([(0.75 + 0.25, 0.52), (0.75 + 0.5, 0.52)]))]
    got = reader.read_strokes([*digit(4, 0.0), *crossed7, *digit(5, 1.5)])
    assert got.text == "475"


def test_a_joined_pair_of_zeros_in_one_stroke(reader):
    """Two ovals written without lifting the pen are still two digits."""
    first = arc(0.35, 0.5, 0.15, 0.32, -90, 270)
    second = arc(0.85, 0.5, 0.15, 0.32, -90, 270)
    stroke = np.array(resample(first + second))
    got = reader.read_strokes([stroke])
    assert got.text == "00"


@pytest.mark.parametrize("count, gap", [(2, 0.1), (2, 0.25), (3, 0.25), (4, 0.25)])
def test_round_zeros_joined_at_their_tops_are_each_read_whole(reader, count, gap):
    """Zeros as wide as half the line, each begun and ended at its top (anticlockwise, as most
    people write a 0) and the pen running on along the top into the next. Each 0 is cut at its
    top, bottom and sides; its last part ends where its first began, so its parts are one
    closed ring, not ink that falls apart (which used to read "061" for "00")."""
    t = np.linspace(0.0, 2 * np.pi, 60)
    rings = [
        np.stack([0.3 + k * (0.45 + gap) - 0.225 * np.sin(t), 0.5 - 0.45 * np.cos(t)], axis=1) for k in range(count)
    ]
    got = reader.read_strokes([np.concatenate(rings)])
    assert got.text == "0" * count, describe(got)
    assert all(d.joined and d.unsure for d in got.digits)


def test_a_cut_through_a_blob_of_a_picture_pays_blob_cut_cost():
    """Like a cut through a pen stroke: a segment that starts inside a blob cut at a column
    minimum pays for the cut; one that starts a new blob does not."""
    ink = np.ones((4, 4))
    pieces = [segment.Piece(box=(k, 0, k + 1, 1), key=k, ink=ink, link=(0, k)) for k in range(3)]
    pieces.append(segment.Piece(box=(4, 0, 5, 1), key=9, ink=ink, link=(1, 0)))
    assert segment.BLOB_CUT_COST > 0
    assert segment.stroke_cut_cost(pieces, (0, 1)) == 0
    assert segment.stroke_cut_cost(pieces, (1, 3)) == segment.BLOB_CUT_COST
    assert segment.stroke_cut_cost(pieces, (2, 3)) == segment.BLOB_CUT_COST
    assert segment.stroke_cut_cost(pieces, (3, 4)) == 0


@pytest.mark.parametrize(
    "idx, text",
    [([6735, 5108, 5093, 9809], "8010"), ([8908, 5894, 5754, 4225], "2997"), ([8268, 4529, 9504, 9189], "1560")],
)
def test_a_scan_of_touching_digits_is_not_cut_inside_a_digit(engine, mnist_test, idx, text):
    """MNIST test digits as scanned (real handwriting, not traced) set side by side, their boxes
    abutting so that neighbours' ink meets: blobs are cut at minima of their column sums. Cutting
    a blob was free, and a wide 8, 2 or 6 was read as two sure digits ("81010", "21997", "15661")."""
    from lenet_draw.bench.number_pictures import picture

    assert "".join(str(int(mnist_test.labels[i])) for i in idx) == text
    got = NumberReader(engine).read_image(picture([mnist_test.images[i] for i in idx], 0.0))
    assert got.text == text, describe(got)


def test_a_narrow_blob_is_cut_only_when_asked():
    """Two bars touching at their feet make one blob narrower than it is tall: it is not cut
    when pieces are made, and recut_blob cuts it between the bars."""
    ink = np.zeros((40, 30), np.float32)
    ink[2:38, 4:8] = 1.0
    ink[2:38, 20:24] = 1.0
    ink[34:38, 4:24] = 1.0
    pieces = segment.pieces_from_ink(ink)
    assert len(pieces) == 1
    parts = segment.recut_blob(pieces, pieces[0].link[0])
    assert len(parts) >= 2
    assert [p.link for p in parts] == [(pieces[0].link[0], k) for k in range(len(parts))]
    assert min(p.box[0] for p in parts) == pieces[0].box[0] and max(p.box[2] for p in parts) == pieces[0].box[2]
    # (Boxes are in the ink's own frame: the bars stand at 0-4 and 16-20.) Each bar apart.
    assert parts[0].box[2] <= 16 and parts[-1].box[0] >= 4
    assert all(p.box[2] - p.box[0] < 20 for p in parts)


@pytest.mark.parametrize(
    "idx, text",
    [([7234, 3650, 6644, 3786], "8011"), ([3789, 1217, 6476, 2208], "1958"), ([5465, 3913, 7344, 788], "7219")],
)
def test_a_scanned_one_touching_its_neighbour_is_cut_when_they_read_badly_whole(engine, mnist_test, idx, text):
    """A 1 and the digit beside it touch in a scan: one blob narrower than the line, never cut
    for being wide. It read as one digit ("801", "658", "721"); as for a joined pen stroke, a
    whole blob that reads badly is cut at its column minima and the number read again."""
    from lenet_draw.bench.number_pictures import picture

    assert "".join(str(int(mnist_test.labels[i])) for i in idx) == text
    got = NumberReader(engine).read_image(picture([mnist_test.images[i] for i in idx], 0.0))
    assert got.text == text, describe(got)


def test_a_one_touching_a_seven(reader):
    one = np.array(resample([(0.3, 0.17), (0.3, 0.83)]))
    seven = np.array(resample([(0.3, 0.2), (0.75, 0.2), (0.5, 0.83)]))
    got = reader.read_strokes([one, seven])
    assert got.text == "17"


@pytest.mark.parametrize("d", range(10))
def test_one_digit_reads_as_in_digit_mode(engine, reader, d):
    strokes = digit(d, 1.3)
    alone = engine.predict_strokes(strokes, activations=False)
    got = reader.read_strokes(strokes)
    assert len(got.digits) == 1
    assert got.digits[0].digit == alone.digit
    np.testing.assert_allclose(got.digits[0].probabilities, alone.probabilities, atol=1e-5)
    np.testing.assert_allclose(got.digits[0].stages.input, alone.stages.input, atol=1e-6)


def test_scale_and_units_do_not_matter(reader):
    strokes = number("305")
    small = reader.read_strokes(strokes)
    big = reader.read_strokes([s * 731.0 + (12.0, -40.0) for s in strokes])
    assert small.text == big.text == "305"


def test_scores_are_reused_and_only_new_ink_is_scored(reader):
    strokes = number("2048")
    first = reader.read_strokes(strokes)
    again = reader.read_strokes(strokes)
    assert first.scored == first.candidates > 0
    assert again.scored == 0 and again.text == first.text
    grown = reader.read_strokes([*strokes, *digit(1, 4 * 0.75)])
    assert grown.text == "20481"
    assert 0 < grown.scored < grown.candidates / 2


def test_new_weights_forget_old_scores(engine, reader, tmp_path):
    import torch

    strokes = number("77")
    reader.read_strokes(strokes)
    path = tmp_path / "w.pt"
    torch.save(engine.model.state_dict(), path)
    other = Engine(path, device="cpu")
    reader.engine = other
    assert reader.read_strokes(strokes).scored > 0


def test_no_ink_gives_no_number(reader):
    assert reader.read_strokes([]) is None
    assert reader.read_strokes([[], [[np.nan, 1.0]]]) is None
    assert reader.read_image(np.zeros((40, 100), np.uint8)) is None


def test_a_dot_or_a_line_gives_a_defined_answer(reader):
    dot = reader.read_strokes([[(0.5, 0.5)]])
    assert len(dot.digits) == 1
    line = reader.read_strokes([np.array(resample([(0.0, 0.5), (3.0, 0.5)]))])
    assert line is not None and all(0.0 <= d.confidence <= 1.0 for d in line.digits)


def picture(strokes, scale=90, pen=9, size=(480, 130), invert=False):
    """Strokes drawn black on white (or white on black) as a scan would show them."""
    img = Image.new("L", size, 0 if invert else 255)
    draw = ImageDraw.Draw(img)
    for s in strokes:
        pts = [(float(x) * scale + 15, float(y) * scale + 10) for x, y in s]
        draw.line(pts, fill=255 if invert else 0, width=pen, joint="curve")
        for x, y in (pts[0], pts[-1]):
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=255 if invert else 0)
    return img


def test_a_picture_of_a_number(reader):
    got = reader.read_image(picture(number("3917")))
    assert got.text == "3917"


# 5678: the weights of 2026-11 read the touching 6 and 7 of this picture as one sure 0 (95.6%);
# the 0 is twice as wide as its neighbours, which is what cuts it.
@pytest.mark.parametrize("text", ["1234", "5678"])
def test_a_picture_of_touching_digits_is_cut_between_them(reader, text):
    img = picture(number(text, step=0.36), invert=True)
    ink = np.asarray(img) > 128
    labels, n = segment.label_components(ink)
    assert n <= 2  # the ink really touches: fewer blobs than digits
    assert reader.read_image(img).text == text


def test_components_are_labelled_with_eight_neighbours():
    mask = np.zeros((6, 8), bool)
    mask[0, 0] = mask[1, 1] = mask[2, 2] = True  # a diagonal: one component
    mask[4:6, 5:8] = True
    mask[0, 7] = True
    labels, n = segment.label_components(mask)
    assert n == 3
    assert labels[0, 0] == labels[2, 2] != labels[4, 6]
    assert set(np.unique(labels)) == {0, 1, 2, 3}


def _flood_labels(mask):
    """Connected components by a plain flood fill, eight neighbours: the reference."""
    h, w = mask.shape
    labels = np.zeros((h, w), int)
    n = 0
    for y0 in range(h):
        for x0 in range(w):
            if mask[y0, x0] and not labels[y0, x0]:
                n += 1
                labels[y0, x0] = n
                todo = [(y0, x0)]
                while todo:
                    y, x = todo.pop()
                    for dy in (-1, 0, 1):
                        for dx in (-1, 0, 1):
                            v, u = y + dy, x + dx
                            if 0 <= v < h and 0 <= u < w and mask[v, u] and not labels[v, u]:
                                labels[v, u] = n
                                todo.append((v, u))
    return labels, n


def test_components_match_a_flood_fill_on_random_ink():
    rng = np.random.default_rng(4)
    for _ in range(150):
        mask = rng.random(tuple(rng.integers(1, 24, 2))) < rng.uniform(0.05, 0.8)
        want, n_want = _flood_labels(mask)
        got, n_got = segment.label_components(mask)
        assert n_got == n_want
        assert ((got == 0) == ~mask).all()
        # The same blobs, each label standing for exactly one of the reference's.
        assert len(set(zip(got[mask].tolist(), want[mask].tolist()))) == n_want
        assert set(np.unique(got[mask]).tolist()) == set(range(1, n_got + 1))


def test_a_serpentine_line_across_a_wide_picture_is_one_blob():
    """One line running to and fro across a 2048-pixel-wide picture, 32 rows deep: a 399-byte
    PNG. Labels spread pixel by pixel needed a pass over the picture for each step along it."""
    mask = np.zeros((64, 2048), bool)
    mask[::2, 1:-1] = True
    for k, row in enumerate(range(1, 63, 2)):
        mask[row, -2 if k % 2 == 0 else 1] = True
    labels, n = segment.label_components(mask)
    assert n == 1
    assert (labels[mask] == 1).all()


def test_stroke_cuts_keep_their_spacing_on_a_zigzag_of_thousands_of_teeth():
    """A zigzag stroke file (20 kB, 2,000 teeth) is cut at its turning points, at most one cut
    per CUT_SPACING of arc; choosing them is refused for being too many pieces only after that."""
    n = 2000
    points = np.array([(20 * i / n, i % 2) for i in range(n + 1)], float)
    resampled = segment._resample(points, 0.03)
    cuts = segment.stroke_cuts(resampled, 1.0)
    d = np.diff(resampled, axis=0)
    arc = np.concatenate([[0.0], np.cumsum(np.sqrt((d**2).sum(axis=1)))])
    at = arc[cuts]
    assert len(cuts) > 1000
    assert (np.diff(at) >= segment.CUT_SPACING - 1e-9).all()
    assert at[0] >= segment.CUT_SPACING and arc[-1] - at[-1] >= segment.CUT_SPACING
    with pytest.raises(NumberError, match="pieces"):
        NumberReader(Engine(device="cpu")).read_strokes([points])


def test_best_path_prefers_confident_whole_digits():
    def piece(x0, x1, y0=0.0, y1=1.0, k=0):
        return segment.Piece(box=(x0, y0, x1, y1), key=k)

    pieces = [piece(0.0, 0.6, k=1), piece(0.1, 0.5, 0.1, 0.3, k=2), piece(1.0, 1.6, k=3)]
    scores = {(0, 1): 0.4, (1, 2): 0.9, (2, 3): 0.99, (0, 2): 0.99, (1, 3): 0.2, (0, 3): 0.3}
    assert segment.best_path(pieces, scores, 1.0) == [(0, 2), (2, 3)]


def test_strokes_ending_together_meet_and_strokes_crossing_do_not():
    bar = np.array(resample([(0.0, 0.5), (0.6, 0.5)]))
    up = np.array(resample([(0.6, 0.52), (0.6, 0.0)]))  # begins where the bar ends: one digit's junction
    across = np.array(resample([(0.3, 0.2), (0.3, 0.9)]))  # crosses the bar mid-stroke
    ending_on = np.array(resample([(0.45, 1.0), (0.45, 0.5)]))  # ends on the bar, mid-stroke
    far = np.array(resample([(2.0, 0.0), (2.0, 1.0)]))
    strokes = [bar, up, across, ending_on, far]
    pieces = segment.order(segment.pieces_from_strokes(strokes))
    assert len(pieces) == len(strokes)

    def at(stroke):
        return next(i for i, p in enumerate(pieces) if np.array_equal(p.strokes[0], stroke))

    pairs = segment.contacts(pieces, segment.line_height(pieces))
    assert pairs == {tuple(sorted((at(bar), at(up))))}


def test_a_cut_between_strokes_that_meet_costs_more():
    def piece(x0, x1, k):
        return segment.Piece(box=(x0, 0.0, x1, 1.0), key=k)

    pieces = [piece(0.0, 0.35, 1), piece(0.25, 0.6, 2)]  # side by side, a little overlapping
    # Each half alone reads more surely than the whole: apart, they are two digits...
    scores = {(0, 1): 0.99, (1, 2): 0.99, (0, 2): 0.7}
    assert segment.best_path(pieces, scores, 1.0) == [(0, 1), (1, 2)]
    # ...unless their strokes meet: then the whole is one digit.
    assert segment.best_path(pieces, scores, 1.0, {(0, 1)}) == [(0, 2)]


def test_a_segment_twice_as_wide_as_its_neighbours_is_read_again_as_two():
    def piece(x0, x1, k):
        return segment.Piece(box=(x0, 0.0, x1, 1.0), key=k)

    # A 5, a 6 in two pieces, a 7 and an 8; the 6 and 7 together read as a sure 0.
    pieces = [piece(0.0, 0.45, 1), piece(0.45, 0.68, 2), piece(0.62, 0.9, 3), piece(0.85, 1.3, 4), piece(1.3, 1.75, 5)]
    scores = {(0, 1): 0.99, (1, 3): 0.99, (3, 4): 0.85, (1, 4): 0.95, (4, 5): 0.99}
    assert segment.best_path(pieces, scores, 1.0) == [(0, 1), (1, 4), (4, 5)]
    assert segment.read_path(pieces, scores, 1.0) == [(0, 1), (1, 3), (3, 4), (4, 5)]
    # Digits all about as wide are read as the cheapest path has them.
    even = [piece(0.0, 0.45, 1), piece(0.45, 1.25, 2), piece(1.25, 1.7, 3)]
    assert segment.read_path(even, {(0, 1): 0.99, (1, 2): 0.95, (2, 3): 0.99}, 1.0) == [(0, 1), (1, 2), (2, 3)]


def test_describe_names_each_digit_and_marks_unsure(reader):
    got = reader.read_strokes(number("70"))
    text = describe(got)
    assert text.startswith("70  (7 ") and "%" in text


def test_cli_reads_numbers_from_stroke_files_and_pictures(tmp_path, capsys):
    from lenet_draw.cli import main

    strokes = [(s * 100).round(1).tolist() for s in number("451")]
    good = tmp_path / "n.json"
    good.write_text(json.dumps({"strokes": strokes, "label": "451"}))
    png = tmp_path / "n.png"
    picture(number("86")).save(png)
    bad = tmp_path / "bad.json"
    bad.write_text('{"strokes": [[[1, "a"]]]}')
    assert main(["predict", "--number", str(good), str(png), str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{good}: 451  (4 ")
    assert out[1].startswith(f"{png}: 86  (8 ")
    assert out[2] == f"{bad}: cannot read: bad.json: stroke 1 has a point that is not two finite numbers [x, y]."


def _stroke_piece(points, stroke, part, k):
    pts = np.asarray(points, dtype=np.float64)
    return segment.Piece(box=segment._box(pts), key=k, strokes=(pts,), link=(stroke, part))


def test_cutting_a_pen_stroke_costs_more_than_cutting_between_strokes():
    """Two halves side by side that each read a little more surely than their whole: taken for
    two digits when they are two strokes, for one when they are parts of one stroke."""
    left, right = [(0.0, 0.0), (0.5, 1.0)], [(0.4, 0.0), (0.9, 1.0)]
    scores = {(0, 1): 0.8, (1, 2): 0.8, (0, 2): 0.5}
    # Halves: 2 x (-log 0.8 + 0.1) = 0.65; whole: -log 0.5 + 0.1 = 0.79. Apart is cheaper by 0.15...
    apart = [_stroke_piece(left, 0, 0, 1), _stroke_piece(right, 1, 0, 2)]
    assert segment.best_path(apart, scores, 1.0) == [(0, 1), (1, 2)]
    # ...and a cut through one stroke pays STROKE_CUT_COST on top.
    one = [_stroke_piece(left, 0, 0, 1), _stroke_piece(right, 0, 1, 2)]
    assert segment.stroke_cut_cost(one, (1, 2)) == segment.STROKE_CUT_COST > 0.15
    assert segment.stroke_cut_cost(one, (0, 2)) == 0.0
    assert segment.best_path(one, scores, 1.0) == [(0, 2)]


def test_the_pen_s_way_between_joined_digits_is_left_out():
    """A 7, the straight line up from its foot to the top of a 1, and the 1: all one stroke.
    The line belongs to neither digit."""
    seven = [(0.1, 0.15), (0.55, 0.15), (0.3, 0.85)]
    line = [(0.3, 0.85), (0.8, 0.15)]
    one = [(0.8, 0.15), (0.8, 0.85)]
    pieces = [
        _stroke_piece(seven[:2], 0, 0, 1),
        _stroke_piece(seven[1:], 0, 1, 2),
        _stroke_piece(line, 0, 2, 3),
        _stroke_piece(one, 0, 3, 4),
    ]
    assert [segment.is_ligature(p, 4, 0.7) for p in pieces] == [False, False, True, False]
    # The line is not a ligature once it is the stroke's end, or runs left, or bends.
    assert not segment.is_ligature(_stroke_piece(line, 0, 3, 5), 4, 0.7)
    assert not segment.is_ligature(_stroke_piece(line[::-1], 0, 2, 5), 4, 0.7)
    assert not segment.is_ligature(_stroke_piece([(0.3, 0.85), (0.9, 0.5), (0.8, 0.15)], 0, 2, 5), 4, 0.7)
    scores = {(0, 2): 0.99, (2, 4): 0.6, (0, 3): 0.5, (3, 4): 0.99, (2, 3): 0.3, (0, 1): 0.2, (1, 2): 0.3, (0, 4): 0.4}
    assert segment.best_path(pieces, scores, 0.7) == [(0, 2), (3, 4)]


@pytest.mark.parametrize(
    "text, points",
    [
        ("11", [(0.3, 0.15), (0.3, 0.85), (0.8, 0.15), (0.8, 0.85)]),
        ("71", [(0.1, 0.15), (0.55, 0.15), (0.3, 0.85), (0.8, 0.15), (0.8, 0.85)]),
        ("17", [(0.3, 0.15), (0.3, 0.85), (0.7, 0.15), (1.15, 0.15), (0.9, 0.85)]),
    ],
)
def test_digits_joined_in_one_stroke_are_read_apart(reader, text, points):
    """Written without lifting the pen; "11" and "71" are narrower than the strokes cut at
    once, and are cut because they read badly whole."""
    got = reader.read_strokes([np.array(resample(points))])
    assert got.text == text
    # Where the stroke parts is a guess (joined numbers read right far less often): unsure.
    assert all(d.joined and d.unsure for d in got.digits)
    assert "(joined)" in describe(got)


def test_only_digits_sharing_a_pen_stroke_are_joined(reader):
    """A wide 3 written in one stroke is cut into parts and read whole: it shares its stroke
    with no other digit. A 3 written apart after a joined 11 is not joined either."""
    wide = [np.array([(px * 1.8, py) for px, py in s]) for s in DIGIT_STROKES[3]]
    assert len(segment.pieces_from_strokes(wide)) > len(wide)
    got = reader.read_strokes(wide)
    assert got.text == "3" and not got.digits[0].joined and not got.unsure
    eleven = np.array(resample([(0.3, 0.15), (0.3, 0.85), (0.8, 0.15), (0.8, 0.85)]))
    got = reader.read_strokes([eleven, *digit(3, 1.4)])
    assert got.text == "113"
    assert [d.joined for d in got.digits] == [True, True, False]
    assert not got.digits[2].unsure


@pytest.mark.parametrize("gap, whole", [(0.5, True), (0.0, False)], ids=["written apart", "touching"])
def test_a_wide_digit_is_read_whole_when_the_digits_are_written_apart(gap, whole):
    """Two thin 1s and a wide segment that reads a little more surely whole than as two halves.
    Beside digits 0.1 wide, the wide one stands out as two digits taken for one; but when the
    writing leaves gaps between digits, touching halves are one wide digit."""

    def piece(x0, x1, k):
        return segment.Piece(box=(x0, 0.0, x1, 1.0), key=k)

    a = 0.1 + gap
    b = a + 0.1 + gap
    pieces = [piece(0.0, 0.1, 1), piece(a, a + 0.1, 2), piece(b, b + 0.45, 3), piece(b + 0.35, b + 0.8, 4)]
    scores = {(0, 1): 0.99, (1, 2): 0.99, (2, 3): 0.9, (3, 4): 0.9, (2, 4): 0.95}
    assert segment.best_path(pieces, scores, 1.0) == [(0, 1), (1, 2), (2, 4)]
    expected = [(0, 1), (1, 2), (2, 4)] if whole else [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert segment.read_path(pieces, scores, 1.0) == expected


@pytest.mark.parametrize("seed, text", [(4, "7994"), (9, "2991"), (10, "7911")])
def test_overlapping_hand_drawn_digits_are_not_read_as_one(reader, seed, text):
    """Hand-drawn digits (tests/data/handdrawn) each overlapping the one before by a fifth of the
    narrower: a crossed 7 over a 9, a 9 over a 9, a 1 over a 1 were read as one digit (794, 291,
    791) before a segment 1.1 times the usual width paid for it."""
    from lenet_draw.bench import number_set as ns

    hand = ns.load_handdrawn()
    rng = np.random.default_rng(seed)
    picked = "".join(str(int(c)) for c in rng.choice(sorted(hand), 4))
    assert picked == text
    shapes = [[s.copy() for s in hand[int(c)][int(rng.integers(len(hand[int(c)])))]] for c in text]
    placed = ns.write(shapes, "overlapping", rng)
    assert reader.read_strokes([s for d in placed for s in d]).text == text


def test_leaving_out_a_ligature_does_not_hide_the_overlap_of_its_neighbours():
    """Two parts of one stroke overlapping side by side, joined by a straight part: leaving the
    middle out still pays for the overlap of the two digits it would separate."""
    a = _stroke_piece([(0.0, 0.0), (0.5, 1.0)], 0, 0, 1)
    line = _stroke_piece([(0.1, 1.0), (0.7, 0.2)], 0, 1, 2)
    b = _stroke_piece([(0.3, 0.0), (0.6, 1.0)], 0, 2, 3)
    pieces = segment.order([a, line, b])
    assert [p.link for p in pieces] == [(0, 0), (0, 1), (0, 2)] and segment.is_ligature(line, 3, 1.0)
    assert segment.join_cost(a.box, b.box, 1.0) > 0.8
    scores = {(0, 1): 0.9, (1, 2): 0.3, (2, 3): 0.9, (0, 2): 0.5, (1, 3): 0.5, (0, 3): 0.3}
    assert segment.best_path(pieces, scores, 1.0) == [(0, 3)]


def overlapping_hand_drawn(seed):
    """Four hand-drawn digits each overlapping the one before, as in the test above."""
    from lenet_draw.bench import number_set as ns

    hand = ns.load_handdrawn()
    rng = np.random.default_rng(seed)
    text = "".join(str(int(c)) for c in rng.choice(sorted(hand), 4))
    shapes = [[s.copy() for s in hand[int(c)][int(rng.integers(len(hand[int(c)])))]] for c in text]
    return text, [s for d in ns.write(shapes, "overlapping", rng) for s in d]


def test_a_stretch_that_may_be_cut_another_way_is_shown_unsure_with_the_other_reading(reader):
    """A 4 overlapping the 1 after it: the 4's two strokes read as a sure 6 and a sure 1, and
    cut as one digit they read 4 for only a little more cost. The network is sure of every
    digit; where they end is what is in doubt, and the reading says so."""
    text, strokes = overlapping_hand_drawn(58)
    assert text == "4149"
    got = reader.read_strokes(strokes)
    assert got.text == "61149"
    assert all(d.confidence > 0.97 for d in got.digits)
    assert [d.doubt for d in got.digits] == [("61", "4"), ("61", "4"), (), ("4", "61"), ()]
    assert [d.unsure for d in got.digits] == [True, True, False, True, False]
    assert got.unsure
    assert describe(got).startswith("61149  (6 97.5% unsure (61 or 4?), 1 99.9% unsure (61 or 4?), 1 99.4%, ")


def test_a_number_whose_cut_is_clear_has_no_doubt(reader):
    for strokes in (number("2026"), number("13579", step=0.42), overlapping_hand_drawn(4)[1]):
        got = reader.read_strokes(strokes)
        assert not any(d.doubt for d in got.digits), describe(got)


def test_while_a_stroke_is_drawn_digits_keep_the_doubt_last_found(engine, reader):
    """Looking for another cut costs one more path per digit: it is done once the pen lifts.
    While drawing, a digit whose ink has not changed keeps what was found for it."""
    _, strokes = overlapping_hand_drawn(58)
    assert not any(d.doubt for d in NumberReader(engine).read_strokes(strokes, drawing=True).digits)
    judged = reader.read_strokes(strokes)
    far = [np.asarray(s) + (judged.digits[-1].box[2] + 0.5, 0.0) for s in number("7")]
    drawing = reader.read_strokes([*strokes, *far], drawing=True)
    assert drawing.text == "611497"
    assert [d.doubt for d in drawing.digits[:5]] == [d.doubt for d in judged.digits]


def test_with_the_pen_up_a_digit_shows_only_the_doubt_this_reading_found(monkeypatch):
    """Above JUDGE_PIECES nothing is judged: with the pen up, a digit must not show a doubt
    judged earlier beside other neighbours (after an undo, "61 or 4?" would stay)."""
    import lenet_draw.numbers as numbers

    reader = NumberReader(Engine(device="cpu"))
    _, strokes = overlapping_hand_drawn(58)
    assert any(d.doubt for d in reader.read_strokes(strokes).digits)
    monkeypatch.setattr(numbers, "JUDGE_PIECES", 3)  # this ink is now too many pieces to judge
    up = reader.read_strokes(strokes)
    assert up.text == "61149"
    assert not any(d.doubt for d in up.digits)
    assert [d.unsure for d in up.digits] == [False] * 5
    # While drawing, the doubt last found for the same ink still shows.
    assert [d.doubt for d in reader.read_strokes(strokes, drawing=True).digits][:2] == [("61", "4")] * 2


def test_new_weights_forget_the_doubts_judged_with_the_old(engine):
    import copy

    own = Engine(device="cpu")
    reader = NumberReader(own)
    _, strokes = overlapping_hand_drawn(58)
    assert any(d.doubt for d in reader.read_strokes(strokes).digits)
    own.use(copy.copy(own.weights))  # other weights (the same numbers, but the reader cannot know)
    assert not any(d.doubt for d in reader.read_strokes(strokes, drawing=True).digits)


def test_a_blob_cut_cost_is_no_evidence_when_the_cut_is_weighed_for_doubt():
    """Two overlapping parts of one blob of a picture read as one digit: cutting the blob costs
    BLOB_CUT_COST, a prior that keeps a wide digit whole. Whether the other cut is nearly as
    good is weighed without it, so the digit is shown in doubt as it is for pen strokes."""
    ink = np.ones((4, 4))
    pieces = [
        segment.Piece(box=(0.0, 0.0, 0.3, 1.0), key=1, ink=ink, link=(0, 0)),
        segment.Piece(box=(0.15, 0.0, 0.45, 1.0), key=2, ink=ink, link=(0, 1)),
        segment.Piece(box=(1.2, 0.0, 1.5, 1.0), key=3, ink=ink, link=(1, 0)),
    ]
    close = {(0, 1): 0.99, (1, 2): 0.99, (0, 2): 0.9, (2, 3): 0.99}
    path, doubts = segment.contested(pieces, close, 1.0)
    assert path == [(0, 2), (2, 3)]
    assert doubts == [([(0, 2)], [(0, 1), (1, 2)]), ([], [])]


def test_nan_costs_or_no_other_path_are_no_doubt_about_the_cut():
    def piece(x0, x1, k):
        return segment.Piece(box=(x0, 0.0, x1, 1.0), key=k)

    pieces = [piece(0.0, 0.3, 1), piece(0.15, 0.45, 2), piece(1.2, 1.5, 3)]
    nan = {(0, 1): np.nan, (1, 2): np.nan, (0, 2): np.nan, (2, 3): np.nan}
    _, doubts = segment.contested(pieces, nan, 1.0)
    assert doubts == [([], [])] * len(doubts)
    assert segment.contested(pieces[:1], {(0, 1): 0.99}, 1.0) == ([(0, 1)], [([], [])])


def test_contested_finds_the_other_cut_only_when_it_costs_little_more():
    def piece(x0, x1, k):
        return segment.Piece(box=(x0, 0.0, x1, 1.0), key=k)

    # Two pieces overlapping by half: as two digits they pay for the overlap.
    pieces = [piece(0.0, 0.3, 1), piece(0.15, 0.45, 2), piece(1.2, 1.5, 3)]
    close = {(0, 1): 0.99, (1, 2): 0.99, (0, 2): 0.9, (2, 3): 0.99}
    path, doubts = segment.contested(pieces, close, 1.0)
    assert path == [(0, 2), (2, 3)]
    assert doubts == [([(0, 2)], [(0, 1), (1, 2)]), ([], [])]
    clear = {**close, (0, 2): 0.98}  # whole, it reads surely enough that the other cut is far behind
    assert segment.contested(pieces, clear, 1.0) == (path, [([], []), ([], [])])
