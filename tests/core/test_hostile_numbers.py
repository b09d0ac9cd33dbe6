"""Ink that is no number: a tiny picture of thousands of dots, a file of hundreds of strokes.

Every piece of ink is a place the number reader may cut, and every run of up to eight pieces a
candidate the network scores. A 343-byte PNG of 32,768 dots once kept ``lenet-draw predict
--number`` busy for minutes while it grew past a gigabyte, and the window read such a picture
the moment it was opened. Ink that falls into more pieces than a number has is refused with a
sentence, at once, and the reader goes on reading real numbers.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from hostile import cli_in_child
from PIL import Image

from lenet_draw import numbers, segment
from lenet_draw.errors import NumberError
from lenet_draw.numbers import NumberReader
from lenet_draw.sample_digits import DIGIT_STROKES


@pytest.fixture
def reader(engine):  # the bundled weights on the CPU (tests/conftest.py)
    return NumberReader(engine)


def dots_png() -> bytes:
    """A 2048 x 64 picture with a dot on every other pixel of every other row: 32,768 marks."""
    a = np.full((64, 2048), 255, np.uint8)
    a[::2, ::2] = 0
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def number(text, step=0.75):
    return [
        np.array([(k * step + px * 0.7, py) for px, py in s])
        for k, ch in enumerate(text)
        for s in DIGIT_STROKES[int(ch)]
    ]


def ticks(n):
    """``n`` short upright strokes side by side."""
    return [np.array([[k * 0.05, 0.0], [k * 0.05 + 0.02, 1.0]]) for k in range(n)]


def test_a_tiny_picture_of_thousands_of_dots_is_refused_and_the_next_number_is_read(reader):
    png = dots_png()
    assert len(png) < 1024
    with pytest.raises(
        NumberError, match=r"^the ink falls into 32,768 separate marks; a number is read from at most 200"
    ):
        reader.read_image(Image.open(io.BytesIO(png)))
    assert reader.read_strokes(number("3917")).text == "3917"


def test_a_picture_of_more_marks_than_a_number_has_is_refused(reader):
    a = np.full((64, 2100), 255, np.uint8)
    for k in range(segment.MAX_INK_PIECES + 1):
        a[5:60, 10 + k * 10 : 13 + k * 10] = 0
    with pytest.raises(NumberError, match=f"falls into {segment.MAX_INK_PIECES + 1} separate marks"):
        reader.read_image(Image.fromarray(a))
    a[:, 10 + segment.MAX_INK_PIECES * 10 :] = 255  # one bar fewer: read, one digit a bar
    got = reader.read_image(Image.fromarray(a))
    assert len(got.digits) == segment.MAX_INK_PIECES


def test_as_many_strokes_as_a_number_may_have_are_read_and_one_more_is_refused(reader):
    got = reader.read_strokes(ticks(segment.MAX_INK_PIECES))
    assert got is not None and len(got.digits) == segment.MAX_INK_PIECES
    with pytest.raises(NumberError, match=f"falls into {segment.MAX_INK_PIECES + 1} pen strokes"):
        reader.read_strokes(ticks(segment.MAX_INK_PIECES + 1))


def test_a_scribble_cut_into_too_many_pieces_is_refused(reader):
    # One stroke wider than the line is cut at its turning points: this wave is 301 pieces.
    x = np.linspace(0.0, 150.0, 6000)
    zigzag = np.stack([x, 3.0 * np.sin(x * 2 * np.pi)], axis=1)
    with pytest.raises(NumberError, match="falls into 301 pieces"):
        reader.read_strokes([zigzag])


def test_candidates_scored_in_batches_read_as_scored_at_once(engine, monkeypatch):
    strokes = number("90210731", step=0.6)
    whole = NumberReader(engine).read_strokes(strokes)
    assert whole.scored > 3
    monkeypatch.setattr(numbers, "SCORE_BATCH", 3)
    batched = NumberReader(engine).read_strokes(strokes)
    assert batched.text == whole.text == "90210731"
    for a, b in zip(batched.digits, whole.digits):
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-6)


def test_the_command_line_refuses_the_dots_within_bounded_memory_and_time(tmp_path):
    path = tmp_path / "dots.png"
    path.write_bytes(dots_png())

    done = cli_in_child("predict", "--number", str(path))  # the hang it guards against was minutes
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stdout.strip() == (
        f"{path}: cannot read: the ink falls into 32,768 separate marks; a number is read from at most 200, "
        "so this is not read as a number"
    )


def test_only_ink_of_number_length_is_looked_at_for_another_cut(reader, monkeypatch):
    # One more path over all the pieces for each digit: at 200 pieces that took seconds.
    judged = []
    real = segment.contested
    monkeypatch.setattr(segment, "contested", lambda *a, **k: judged.append(len(a[0])) or real(*a, **k))
    reader.read_strokes(ticks(numbers.JUDGE_PIECES))
    reader.read_strokes(ticks(numbers.JUDGE_PIECES + 1))
    assert judged == [numbers.JUDGE_PIECES]
