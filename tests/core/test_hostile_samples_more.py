"""More sample files, zips of samples and stroke files made to hurt: integers too large for a
float, zip entries compressed in an unknown way or encrypted, a pipe or a device named like a zip,
and zips of thousands of bad entries. Each ends read or refused with one sentence; nothing else.
Files that could hang or fill memory are opened in a limited child process (``hostile.py``).
"""

from __future__ import annotations

import json
import os
import zipfile

import pytest
from hostile import check_refused, load_all_in_child, load_in_child

import lenet_draw.samples as samples_mod
from lenet_draw.cli import main
from lenet_draw.samples import (
    MAX_IMPORT_ZIP_BYTES,
    MAX_PROBLEMS_SHOWN,
    SampleError,
    import_samples,
    read_folder,
    read_sample,
    shown_problems,
)

ONE = {"label": 1, "strokes": [[[0.5, 0.1], [0.5, 0.9]]]}
#: An integer of 401 digits: JSON allows it, no float holds it.
HUGE = "1" + "0" * 400
#: One of 5,000 digits: more than Python turns from text into an int by default.
HUGER = "1" + "0" * 5000


def _huge_sample(digits: str = HUGE) -> str:
    return '{"label":1,"strokes":[[[0.5,0.1],[' + digits + ",0.9]]]}"


def _zip(path, entries: dict[str, str]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, text in entries.items():
            z.writestr(name, text)
    return path


def _patch_entry(path, name: str, at_local: int, at_central: int, value: int) -> None:
    """Set a two-byte field of entry ``name`` in both its local header and the central directory."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        local = z.getinfo(name).header_offset
    central = next(
        i
        for i in range(len(raw))
        if raw[i : i + 4] == b"PK\x01\x02" and raw[i + 46 : i + 46 + len(name)] == name.encode()
    )
    for offset in (local + at_local, central + at_central):
        raw[offset : offset + 2] = value.to_bytes(2, "little")
    path.write_bytes(bytes(raw))


# ---------------------------------------------------------------------------- stroke files


def test_a_stroke_file_with_an_integer_too_large_for_a_float_gets_one_sentence(tmp_path):
    huge = tmp_path / "huge.json"
    huge.write_text('{"strokes":[[[0,0],[' + HUGE + ",1]]]}")
    huger = tmp_path / "huger.json"
    huger.write_text('{"strokes":[[[0,0],[' + HUGER + ",1]]]}")
    good = tmp_path / "good.json"
    good.write_text('{"strokes":[[[0,0],[1000,1]]]}')
    got = load_all_in_child([("strokes", huge), ("strokes", huger), ("strokes", good)])
    assert check_refused(got[0], "huge.json") == "huge.json: stroke 1 has a coordinate too large to be a number."
    assert check_refused(got[1], "huger.json") == "huger.json: it holds a number too large to be a coordinate."
    assert got[2] == {"outcome": "loaded"}


def test_predict_number_names_the_stroke_file_with_a_huge_integer(tmp_path, capsys):
    huge = tmp_path / "huge.json"
    huge.write_text('{"strokes":[[[0,0],[' + HUGE + ",1]]]}")
    assert main(["predict", "--number", str(huge)]) == 1
    out = capsys.readouterr()
    assert "huge.json: stroke 1 has a coordinate too large to be a number." in out.out + out.err
    assert "Traceback" not in out.err


# ---------------------------------------------------------------------------- sample files


@pytest.mark.parametrize(
    "digits, sentence",
    [
        (HUGE, "huge.json: stroke 1 holds a number too large to be a coordinate."),
        (HUGER, "huge.json: not valid JSON; it may be damaged."),
    ],
)
def test_a_sample_with_an_integer_too_large_for_a_float_is_refused(tmp_path, digits, sentence):
    p = tmp_path / "huge.json"
    p.write_text(_huge_sample(digits))
    with pytest.raises(SampleError) as err:
        read_sample(p)
    assert str(err.value) == sentence


def test_a_folder_or_zip_with_a_huge_integer_skips_that_sample_and_reads_the_rest(tmp_path):
    folder = tmp_path / "handwriting"
    folder.mkdir()
    (folder / "a-good.json").write_text(json.dumps(ONE))
    (folder / "b-huge.json").write_text(_huge_sample())
    got, problems = read_folder(folder)
    assert [(s.name, s.label) for s in got] == [("a-good.json", 1)]
    assert problems == ["b-huge.json: stroke 1 holds a number too large to be a coordinate."]
    assert import_samples(folder)[1] == problems

    z = _zip(tmp_path / "mine.zip", {"a-good.json": json.dumps(ONE), "b-huge.json": _huge_sample()})
    got, problems = import_samples(z)
    assert [s.label for s in got] == [1]
    assert problems == ["b-huge.json: stroke 1 holds a number too large to be a coordinate."]


def test_adapt_skips_a_sample_with_a_huge_integer_in_one_line(tmp_path, capsys):
    folder = tmp_path / "handwriting"
    folder.mkdir()
    (folder / "huge.json").write_text(_huge_sample())
    assert main(["adapt", str(folder), "--out", str(tmp_path / "mine.pt")]) == 2
    out = capsys.readouterr()
    assert out.out == "skipped huge.json: stroke 1 holds a number too large to be a coordinate.\n"
    assert "holds no usable sample files" in out.err and "Traceback" not in out.err
    assert not (tmp_path / "mine.pt").exists()


# ---------------------------------------------------------------------------- zip entries


def test_an_entry_compressed_in_an_unknown_way_or_encrypted_is_skipped_with_a_sentence(tmp_path):
    entries = {"a-good.json": json.dumps(ONE), "b-odd.json": json.dumps(ONE), "c-locked.json": json.dumps(ONE)}
    z = _zip(tmp_path / "mine.zip", entries)
    _patch_entry(z, "b-odd.json", 8, 10, 99)  # compression method 99 (AES in WinZip's zips)
    _patch_entry(z, "c-locked.json", 6, 8, 0x1)  # flag bit 0: encrypted
    got, problems = import_samples(z)
    assert [s.label for s in got] == [1]
    assert problems == [
        "b-odd.json: compressed in a way this program cannot read.",
        "c-locked.json: encrypted (it needs a password), so it cannot be read.",
    ]


# ---------------------------------------------------------------------------- the zip itself


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_pipe_or_a_device_named_like_a_zip_is_refused_without_blocking(tmp_path):
    pipe = tmp_path / "pipe" / "samples.zip"
    pipe.parent.mkdir()
    os.mkfifo(pipe)
    zero = tmp_path / "zero" / "samples.zip"
    zero.parent.mkdir()
    zero.symlink_to("/dev/zero")
    good = _zip(tmp_path / "good.zip", {"a.json": json.dumps(ONE)})
    got = load_all_in_child([("samples", pipe), ("samples", zero), ("samples", good)], seconds=10)
    assert check_refused(got[0], "pipe") == "samples.zip is a named pipe (FIFO), not a zip of samples."
    assert check_refused(got[1], "/dev/zero") == "samples.zip is a device or other special file, not a zip of samples."
    assert got[2] == {"outcome": "loaded", "samples": 1, "problems": []}


def test_a_zip_larger_than_the_cap_is_refused_unopened(tmp_path):
    big = tmp_path / "big.zip"
    with big.open("wb") as f:  # sparse: as large as claimed without filling the disk
        f.truncate(MAX_IMPORT_ZIP_BYTES + 1)
    msg = check_refused(load_in_child(big, "samples"), "big.zip")
    assert msg == f"big.zip is {(MAX_IMPORT_ZIP_BYTES + 1) / 2**20:.0f} MB, larger than a zip of samples can be."


# ---------------------------------------------------------------------------- many bad entries


def test_entries_skipped_as_too_large_count_against_the_file_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(samples_mod, "MAX_IMPORT_FILES", 5)
    monkeypatch.setattr(samples_mod, "MAX_SAMPLE_BYTES", 100)
    z = _zip(tmp_path / "big.zip", {f"{i:02d}.json": " " * 200 for i in range(12)})
    got, problems = import_samples(z)
    assert got == []
    assert problems == [
        "big.zip: only the first 5 sample files were read; a zip of samples holds at most 5 files, 64 MB "
        "and 2,000,000 points.",
        *(f"{i:02d}.json: too large for a sample file." for i in range(5)),
    ]


def test_the_sentences_shown_are_bounded_with_a_count_of_the_rest():
    few = [f"{i}.json: bad." for i in range(MAX_PROBLEMS_SHOWN)]
    assert shown_problems(few) == few
    assert shown_problems(few + ["x.json: bad."]) == few + ["1 more file was skipped as well."]
    many = [f"{i}.json: bad." for i in range(100_000)]
    assert shown_problems(many) == many[:MAX_PROBLEMS_SHOWN] + ["99,980 more files were skipped as well."]
