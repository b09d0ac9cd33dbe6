"""Sample files: what the window writes, `lenet-draw adapt` reads; bad files named and skipped."""

import json
import zipfile

import numpy as np
import pytest

from lenet_draw.sample_digits import DIGIT_STROKES
from lenet_draw.samples import (
    SampleError,
    export_samples,
    import_samples,
    make_sample,
    read_folder,
    read_sample,
    write_sample,
)


def test_a_sample_round_trips_with_pressure_and_extra_keys(tmp_path):
    strokes = [np.column_stack([np.asarray(s), np.full(len(s), 0.7)]) for s in DIGIT_STROKES[4]]
    s = write_sample(tmp_path, make_sample(4, strokes, read_as=9))
    back = read_sample(tmp_path / s.name)
    assert back.label == 4 and back.extra == {"read_as": 9}
    assert len(back.strokes) == 2 and back.strokes[0].shape[1] == 3
    np.testing.assert_allclose(back.strokes[1], strokes[1], atol=1e-5)
    doc = json.loads((tmp_path / s.name).read_text())
    assert set(doc) == {"label", "strokes", "read_as"}


def test_the_documented_format_reads(tmp_path):
    (tmp_path / "a.json").write_text('{"label": 7, "strokes": [[[0.2, 0.2], [0.8, 0.2], [0.4, 0.9]]], "who": "me"}')
    s = read_sample(tmp_path / "a.json")
    assert s.label == 7 and s.xy()[0].shape == (3, 2)


BAD = {
    "trunc.json": ('{"label": 3, "strokes": [[[0.1', "not valid JSON"),
    "list.json": ("[1, 2]", "holds a JSON list"),
    "nolabel.json": ('{"strokes": [[[0, 0], [1, 1]]]}', "label must be a digit"),
    "label12.json": ('{"label": 12, "strokes": [[[0, 0], [1, 1]]]}', "label must be a digit"),
    "booll.json": ('{"label": true, "strokes": [[[0, 0], [1, 1]]]}', "label must be a digit"),
    "nostrokes.json": ('{"label": 3, "strokes": []}', "no strokes"),
    "points.json": ('{"label": 3, "strokes": [[[0, 0, 0, 0]]]}', "points of [x, y]"),
    "text.json": ('{"label": 3, "strokes": [[["a", 0]]]}', "not numbers"),
    "nan.json": ('{"label": 3, "strokes": [[[NaN, 0]]]}', "not a finite number"),
    "far.json": ('{"label": 3, "strokes": [[[1e9, 0]]]}', "far outside the pad"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_sample_file_gets_one_sentence_naming_it(tmp_path, name):
    text, words = BAD[name]
    (tmp_path / name).write_text(text)
    with pytest.raises(SampleError) as exc:
        read_sample(tmp_path / name)
    msg = str(exc.value)
    assert msg.startswith(f"{name}: ") and words in msg and msg.count(". ") == 0 and "\n" not in msg


def test_a_folder_skips_the_bad_files_and_keeps_the_rest(tmp_path):
    for d in (1, 7):
        write_sample(tmp_path, make_sample(d, DIGIT_STROKES[d]))
    (tmp_path / "broken.json").write_bytes(b"\xff\xfe garbage")
    (tmp_path / "notes.txt").write_text("not a sample, not looked at")
    samples, problems = read_folder(tmp_path)
    assert sorted(s.label for s in samples) == [1, 7]
    assert problems == ["broken.json: not a text file, so not a sample."]


def test_samples_export_and_import_as_zip_and_folder(tmp_path):
    samples = [make_sample(d, DIGIT_STROKES[d]) for d in range(10)]
    z = export_samples(samples, tmp_path / "mine.zip")
    with zipfile.ZipFile(z, "a") as f:
        f.writestr("bad.json", "{")
    got, problems = import_samples(z)
    assert [s.label for s in got] == list(range(10)) and problems == ["bad.json: not valid JSON; it may be damaged."]
    folder = export_samples(got, tmp_path / "out")
    again, problems = import_samples(folder)
    assert sorted(s.label for s in again) == list(range(10)) and problems == []
    with pytest.raises(SampleError, match="neither a folder nor a readable zip"):
        import_samples(tmp_path / "mine.txt")
