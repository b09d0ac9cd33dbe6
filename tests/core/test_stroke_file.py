"""Stroke files: the sample format read strictly, every bad file refused in one sentence."""

import json

import numpy as np
import pytest

from lenet_draw.stroke_file import StrokeFileError, load_strokes


def test_reads_strokes_and_ignores_extra_values_and_keys(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"label": 4, "strokes": [[[1, 2, 0.5, 99], [3.5, 4]], [], [[7, 8]]]}))
    strokes = load_strokes(path)
    assert len(strokes) == 2
    np.testing.assert_array_equal(strokes[0], [[1.0, 2.0], [3.5, 4.0]])
    np.testing.assert_array_equal(strokes[1], [[7.0, 8.0]])


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"not json at all", "is not valid JSON"),
        (b"\xff\xfe\x00\x01binary", "is not a text file"),
        (b"[1, 2, 3]", 'holds no "strokes" list'),
        (b'{"strokes": 5}', '"strokes" is not a list'),
        (b'{"strokes": [5]}', "stroke 1 is not a list of points"),
        (b'{"strokes": [[[1, 2]], [[1]]]}', "stroke 2 has a point that is not two finite numbers"),
        (b'{"strokes": [[[1, NaN]]]}', "stroke 1 has a point that is not two finite numbers"),
        (b'{"strokes": [[[true, 2]]]}', "stroke 1 has a point that is not two finite numbers"),
        (b"[" * 100000 + b"]" * 100000, "is not valid JSON"),
    ],
)
def test_bad_files_are_refused_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(StrokeFileError) as err:
        load_strokes(path)
    assert reason in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_files_and_folders(tmp_path):
    with pytest.raises(StrokeFileError, match="does not exist"):
        load_strokes(tmp_path / "none.json")
    with pytest.raises(StrokeFileError, match="is a folder"):
        load_strokes(tmp_path)
