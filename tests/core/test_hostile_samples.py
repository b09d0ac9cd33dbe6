"""Sample files, zips of samples and stroke files made to hurt: each is opened in a child process
limited in memory and time (``hostile.py``), so a hang or a memory blow-up fails the test
instead of taking pytest down. Each ends read or refused with one sentence; nothing else.
"""

from __future__ import annotations

import json
import os
import zipfile

import pytest
from hostile import check_refused, load_all_in_child, load_in_child

from lenet_draw.samples import MAX_IMPORT_BYTES, MAX_SAMPLE_BYTES, export_samples, import_samples, make_sample
from lenet_draw.stroke_file import MAX_FILE_CONTAINERS, MAX_FILE_POINTS, MAX_STROKE_FILE_BYTES

ONE = {"label": 1, "strokes": [[[0.5, 0.1], [0.5, 0.9]]]}


def _points_json(n: int) -> str:
    """A sample whose one stroke has ``n`` points: about 6 bytes each, compressing 1000:1."""
    return '{"label":1,"strokes":[[' + ",".join(["[0,0]"] * n) + "]]}"


def test_a_zip_bomb_of_samples_stops_at_the_import_cap(tmp_path):
    # 100 entries of just under 4 MB each (400 MB once decompressed) in a zip of about 400 kB:
    # the import stops at MAX_IMPORT_BYTES with one sentence and reads the good file before it.
    body = _points_json((MAX_SAMPLE_BYTES - 40) // 6)
    assert len(body) <= MAX_SAMPLE_BYTES
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("good.json", json.dumps(ONE))
        for i in range(100):
            z.writestr(f"s{i:03d}.json", body)
    assert bomb.stat().st_size < 2 * 2**20
    assert 100 * len(body) > MAX_IMPORT_BYTES
    out = load_in_child(bomb, "samples")
    assert out["outcome"] == "loaded", out
    assert out["samples"] == 1  # the good one; each big one has too many points
    assert any("at most" in p and "MB" in p for p in out["problems"]), out["problems"]


def test_an_entry_that_decompresses_beyond_its_declared_size_is_refused(tmp_path):
    # the declared size is what the caps count; reading holds the entry to it (CRC fails)
    z_path = tmp_path / "liar.zip"
    with zipfile.ZipFile(z_path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("liar.json", json.dumps(ONE) + " " * 3_000_000)
    raw = bytearray(z_path.read_bytes())
    real = (len(json.dumps(ONE)) + 3_000_000).to_bytes(4, "little")
    small = (10).to_bytes(4, "little")
    assert raw.count(real) == 2  # local header and central directory
    z_path.write_bytes(bytes(raw).replace(real, small))
    samples, problems = import_samples(z_path)
    assert samples == [] and len(problems) == 1 and "liar.json" in problems[0]


@pytest.mark.parametrize(
    "name, content, words",
    [
        ("deep.json", "[" * 200_000 + "]" * 200_000, ["deep.json", "JSON"]),
        ("deepobj.json", '{"label":1,"strokes":' + "[" * 200_000, ["deepobj.json"]),
        ("binary.json", bytes(range(256)) * 4, ["binary.json", "not a text file"]),
        ("many.json", _points_json(120_000), ["many.json", "points"]),
    ],
)
def test_small_crafted_sample_files_get_one_sentence(tmp_path, name, content, words):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    check_refused(load_in_child(p, "sample"), name, *words)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_named_pipe_or_a_device_never_hangs_a_read(tmp_path):
    fifo_sample = tmp_path / "pipe.json"
    os.mkfifo(fifo_sample)
    fifo_strokes = tmp_path / "number.json"
    os.mkfifo(fifo_strokes)
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    got = load_all_in_child(
        [("sample", fifo_sample), ("strokes", fifo_strokes), ("sample", zero), ("strokes", zero)], seconds=10
    )
    for (name, words), out in zip(
        [("pipe.json", ["pipe"]), ("number.json", ["pipe"]), ("zero.json", ["device"]), ("zero.json", ["device"])],
        got,
    ):
        check_refused(out, name, *words)
    # a folder holding them reads the good sample and skips the rest without blocking
    (tmp_path / "good.json").write_text(json.dumps(ONE))
    out = load_in_child(tmp_path, "samples", seconds=10)
    assert out["outcome"] == "loaded" and out["samples"] == 1, out


def test_stroke_files_past_the_caps_are_refused(tmp_path):
    big = tmp_path / "big.json"
    with big.open("wb") as f:  # sparse: as large as claimed without filling the disk
        f.truncate(MAX_STROKE_FILE_BYTES + 1)
    many = tmp_path / "many.json"
    many.write_text('{"strokes":[[' + ",".join(["[1,2]"] * (MAX_FILE_POINTS + 1)) + "]]}")
    deep = tmp_path / "deep.json"
    deep.write_text('{"strokes":' + "[" * 200_000)
    # Extra keys are ignored but decoded: 8 MB of empty objects took 180 MB, refused now unread
    objects = tmp_path / "objects.json"
    objects.write_text(
        '{"strokes":[[[0,0],[1,1]]],"x":[' + ",".join(["{}"] * ((MAX_STROKE_FILE_BYTES - 100) // 3)) + "]}"
    )
    fine = tmp_path / "fine.json"  # as many containers as a drawing of the most points has
    fine.write_text('{"strokes":[[' + ",".join(["[1,2]"] * MAX_FILE_POINTS) + "]]}")
    got = load_all_in_child(
        [("strokes", big), ("strokes", many), ("strokes", deep), ("strokes", objects), ("strokes", fine)]
    )
    check_refused(got[0], "big.json", "big.json", "MB")
    check_refused(got[1], "many.json", "points")
    check_refused(got[2], "deep.json", "JSON")
    assert got[3] == {
        "outcome": "refused",
        "message": f"objects.json: it holds more than {MAX_FILE_CONTAINERS:,} JSON lists and objects, "
        "far more than any drawing.",
    }
    assert got[4] == {"outcome": "loaded"}


def test_an_export_over_an_existing_zip_leaves_it_whole_when_writing_fails(tmp_path, monkeypatch):
    dest = tmp_path / "mine.zip"
    first = [make_sample(1, [[[0.5, 0.1], [0.5, 0.9]]]), make_sample(7, [[[0.2, 0.1], [0.8, 0.1], [0.4, 0.9]]])]
    export_samples(first, dest)
    before = dest.read_bytes()

    class DiskFull(OSError):
        pass

    def fail(*a, **k):
        raise DiskFull(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail)
    with pytest.raises(DiskFull):
        export_samples(first * 3, dest)
    monkeypatch.undo()
    assert dest.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["mine.zip"]  # no half-written file beside it
    got, problems = import_samples(dest)
    assert [s.label for s in got] == [1, 7] and problems == []
