"""More sample files, zips of samples and stroke files made to hurt: integers too large for a
float, zip entries compressed in an unknown way or encrypted, a pipe or a device named like a zip,
and zips of thousands of bad entries. Each ends read or refused with one sentence; nothing else.
Files that could hang or fill memory are opened in a limited child process (``hostile.py``).
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib

import hostile
import pytest
from hostile import check_refused, load_all_in_child, load_in_child

import lenet_draw.samples as samples_mod
from lenet_draw.cli import main
from lenet_draw.samples import (
    MAX_CONTAINERS,
    MAX_EXTRA_BYTES,
    MAX_IMPORT_DIRECTORY_BYTES,
    MAX_IMPORT_ENTRIES,
    MAX_IMPORT_ZIP_BYTES,
    MAX_PROBLEMS_SHOWN,
    MAX_SAMPLE_BYTES,
    SampleError,
    import_samples,
    make_sample,
    read_folder,
    read_sample,
    shown_problems,
    write_sample,
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


# ---------------------------------------------------------------------------- other keys

#: A sample with one more key holding nothing but empty objects: ``{}`` is 3 bytes of text and
#: about 60 once decoded, and the other keys used to be kept, so 15 such entries of 4 MB (a
#: 63 kB zip) took 1.5 GB, at the import and again at every start once written to My Handwriting.
#: The 600 MB the child gets here is room for the samples read and nothing like that.
EMPTY_OBJECTS_BODY = (
    '{"label":1,"strokes":[[[0.2,0.2],[0.8,0.8]]],"x":[' + ",".join(["{}"] * ((MAX_SAMPLE_BYTES - 200) // 3)) + "]}"
)
SMALL_CHILD_MEMORY = 600 * 2**20


def test_a_zip_of_samples_full_of_empty_objects_is_refused_before_decoding(tmp_path, monkeypatch):
    assert len(EMPTY_OBJECTS_BODY) <= MAX_SAMPLE_BYTES
    bomb = tmp_path / "extra.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("good.json", json.dumps(ONE))
        for i in range(15):
            z.writestr(f"s{i:02d}.json", EMPTY_OBJECTS_BODY)
    assert bomb.stat().st_size < 100_000
    folder = tmp_path / "My Handwriting"  # what the window reads at every start
    folder.mkdir()
    (folder / "good.json").write_text(json.dumps(ONE))
    for i in range(4):
        (folder / f"s{i:02d}.json").write_text(EMPTY_OBJECTS_BODY)
    monkeypatch.setattr(hostile, "CHILD_MEMORY", SMALL_CHILD_MEMORY)
    got = load_all_in_child([("samples", bomb), ("samples", folder)])
    sentence = (
        f"s00.json: it holds more than {MAX_CONTAINERS:,} JSON lists and objects; a drawing of a digit needs far fewer."
    )
    for out in got:
        assert out["outcome"] == "loaded", out
        assert out["samples"] == 1, out  # the good one
        assert out["problems"][0] == sentence, out["problems"]
        assert all("JSON lists and objects" in p for p in out["problems"]), out["problems"]


def test_a_sample_whose_other_keys_pass_64_kb_is_refused_with_a_sentence(tmp_path):
    base = '{"label":1,"strokes":[[[0.5,0.1],[0.5,0.9]]],'
    # the other keys as written back, {"x":"..."}, exactly at the bound, and one byte past it
    at_bound = MAX_EXTRA_BYTES - len('{"x":""}')
    (tmp_path / "fits.json").write_text(base + '"x":"' + "a" * at_bound + '"}')
    (tmp_path / "long.json").write_text(base + '"x":"' + "a" * (at_bound + 1) + '"}')
    # under the count of lists and objects, yet 210 kB of empty objects once written back
    (tmp_path / "objects.json").write_text(base + '"x":[' + ",".join(["{}"] * 70_000) + "]}")
    assert read_sample(tmp_path / "fits.json").extra == {"x": "a" * at_bound}
    with pytest.raises(SampleError) as err:
        read_sample(tmp_path / "long.json")
    assert str(err.value) == (
        "long.json: its keys other than label and strokes take 64 kB; a sample keeps at most 64 kB of them."
    )
    with pytest.raises(SampleError) as err:
        read_sample(tmp_path / "objects.json")
    assert str(err.value) == (
        "objects.json: its keys other than label and strokes take 205 kB; a sample keeps at most 64 kB of them."
    )
    got, problems = read_folder(tmp_path)
    assert [s.name for s in got] == ["fits.json"] and len(problems) == 2
    with pytest.raises(SampleError, match="at most 64 kB"):
        make_sample(1, [[[0.5, 0.1], [0.5, 0.9]]], note="a" * MAX_EXTRA_BYTES)


def test_small_other_keys_survive_an_import_and_the_write_back(tmp_path):
    newer = {**ONE, "who": "me", "pen": {"kind": "stylus", "tilt": [0.1, 0.2]}, "read_as": 7}
    z = _zip(tmp_path / "mine.zip", {"a.json": json.dumps(newer)})
    got, problems = import_samples(z)
    assert problems == [] and len(got) == 1
    assert got[0].extra == {"who": "me", "pen": {"kind": "stylus", "tilt": [0.1, 0.2]}, "read_as": 7}
    folder = tmp_path / "My Handwriting"
    written = write_sample(folder, got[0])  # what Import Samples does with each
    assert json.loads((folder / written.name).read_text()) == newer
    back, problems = read_folder(folder)
    assert problems == [] and back[0].extra == got[0].extra


# ---------------------------------------------------------------------------- the zip directory


def _directory_only_zip(path, entries: int, declared: int | None = None, zip64: bool = False):
    """A zip whose ``entries`` central-directory entries all name one small local entry: a
    directory of 52 bytes an entry, and nothing else (a 64 MB one took 11 s and 800 MB to open).
    ``declared`` is the count its end record gives; ``zip64`` gives the figures in zip64 records."""
    name, body = b"a.json", json.dumps(ONE).encode()
    crc = zlib.crc32(body)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, crc, len(body), len(body), len(name), 0)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, crc, len(body), len(body), len(name), 0, 0, 0, 0, 0, 0
    )
    directory = (central + name) * entries
    count = entries if declared is None else declared
    start = len(local) + len(name) + len(body)
    if zip64:
        end = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(directory), start)
        end += struct.pack("<IIQI", 0x07064B50, 0, start + len(directory), 1)
        end += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), start, 0)
    path.write_bytes(local + name + body + directory + end)
    return path


def test_a_zip_directory_past_the_caps_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    many = _directory_only_zip(tmp_path / "many.zip", MAX_IMPORT_ENTRIES + 1)
    liar = _directory_only_zip(tmp_path / "liar.zip", MAX_IMPORT_ENTRIES + 1, declared=1)
    wide = _directory_only_zip(tmp_path / "wide.zip", MAX_IMPORT_DIRECTORY_BYTES // 52 + 1, declared=1)
    many64 = _directory_only_zip(tmp_path / "many64.zip", MAX_IMPORT_ENTRIES + 1, zip64=True)
    monkeypatch.setattr(hostile, "CHILD_MEMORY", SMALL_CHILD_MEMORY)
    got = load_all_in_child([("samples", p) for p in (many, liar, wide, many64)])
    entries = f"its zip directory lists {MAX_IMPORT_ENTRIES + 1:,} entries; a zip of samples needs at most "
    assert check_refused(got[0], "many.zip") == f"many.zip: {entries}{MAX_IMPORT_ENTRIES:,}."
    assert check_refused(got[1], "liar.zip") == f"liar.zip: {entries}{MAX_IMPORT_ENTRIES:,}."
    assert (
        check_refused(got[2], "wide.zip")
        == "wide.zip: its zip directory takes 4.0 MB; a zip of samples needs at most 4 MB."
    )
    assert check_refused(got[3], "many64.zip") == f"many64.zip: {entries}{MAX_IMPORT_ENTRIES:,}."


def test_a_zip_directory_behind_trailing_bytes_is_still_checked(tmp_path):
    """zipfile finds an end record up to 2**16 + 22 bytes from the end: so must the check."""
    path = _directory_only_zip(tmp_path / "padded.zip", MAX_IMPORT_ENTRIES + 1)
    with open(path, "ab") as f:
        f.write(b"\0" * (1 << 16))
    assert len(zipfile.ZipFile(path).infolist()) == MAX_IMPORT_ENTRIES + 1  # zipfile reads past the padding
    with pytest.raises(SampleError, match=f"its zip directory lists {MAX_IMPORT_ENTRIES + 1:,} entries"):
        import_samples(path)


def test_zips_within_the_directory_caps_still_import(tmp_path):
    # a few entries, in plain and in zip64 end records; and a directory of folders and of files
    # that are not samples, as a zip made by hand holds them
    assert import_samples(_directory_only_zip(tmp_path / "three.zip", 3))[0][0].label == 1
    got, problems = import_samples(_directory_only_zip(tmp_path / "three64.zip", 3, zip64=True))
    assert len(got) == 3 and problems == []
    z = _zip(
        tmp_path / "mine.zip", {"My Handwriting/": "", "My Handwriting/a.json": json.dumps(ONE), "notes.txt": "hi"}
    )
    got, problems = import_samples(z)
    assert [s.label for s in got] == [1] and problems == []
