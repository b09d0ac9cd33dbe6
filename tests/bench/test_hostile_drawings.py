"""`lenet-draw eval --styles --drawings DIR` on drawing files made to hurt: each run is a child
process limited in memory and time, so a hang or a memory blow-up fails the test instead of
taking pytest down. A file that is not a drawing stops the evaluation before the long work with
one sentence naming it and exit status 2, like every other bad input on the command line.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from hostile import REPO, cli_in_child

from lenet_draw.bench import styleset

HAND_DRAWN = REPO / "tests" / "data" / "handdrawn"
#: Generous: the machine may be busy. A hang ends at this limit and fails the test.
CHILD_SECONDS = 180


def _eval_in_child(folder: Path) -> subprocess.CompletedProcess[str]:
    args = ["eval", "--styles", "--per-style", "1", "--device", "cpu", "--drawings", str(folder)]
    try:
        return cli_in_child(*args, timeout=CHILD_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"eval --drawings {folder.name} was still running after {CHILD_SECONDS} s (a hang)")


def _one(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return folder / "a.json"


def _overflowing_label(tmp_path: Path) -> Path:
    # 1e999 decodes to inf; int(inf) raised OverflowError
    p = _one(tmp_path, "inf")
    p.write_text('{"label": 1e999, "style": "x", "strokes": [[[0, 0], [1, 1]]]}')
    return p.parent


def _deep_nesting(tmp_path: Path) -> Path:
    # json.loads raised RecursionError
    _one(tmp_path, "deep").write_text("[" * 100_000)
    return tmp_path / "deep"


def _fifo(tmp_path: Path) -> Path:
    # reading it blocked forever
    os.mkfifo(_one(tmp_path, "fifo"))
    return tmp_path / "fifo"


def _dev_zero(tmp_path: Path) -> Path:
    # reading it never ended, until memory ran out
    _one(tmp_path, "zero").symlink_to("/dev/zero")
    return tmp_path / "zero"


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="POSIX files")
@pytest.mark.parametrize(
    "make, words",
    [
        (_overflowing_label, ["not a stroke file", "label", "0 to 9"]),
        (_deep_nesting, ["not a stroke file", "JSON"]),
        (_fifo, ["named pipe"]),
        (_dev_zero, ["device"]),
    ],
    ids=["label 1e999", "deep nesting", "fifo", "dev zero"],
)
def test_a_hostile_drawing_stops_the_eval_with_one_sentence(tmp_path, make, words):
    folder = make(tmp_path)
    proc = _eval_in_child(folder)
    err = proc.stderr.strip()
    assert proc.returncode == 2, (proc.returncode, err[-2000:])
    assert "Traceback" not in err and len(err.splitlines()) == 1, err[-2000:]
    assert str(folder / "a.json") in err, err
    for w in words:
        assert w.lower() in err.lower(), (w, err)
    assert proc.stdout == ""  # refused before the generated set was measured


def test_a_style_that_is_not_a_name_is_refused(tmp_path):
    for i, style in enumerate([None, 7, ["x"], "", "two\nlines", "x" * 81]):
        folder = tmp_path / str(i)
        folder.mkdir()
        doc = {"label": 1, "strokes": [[[0.5, 0.1], [0.5, 0.9]]]}
        if style is not None:
            doc["style"] = style
        (folder / "a.json").write_text(json.dumps(doc))
        with pytest.raises(ValueError, match="a.json is not a stroke file: its style"):
            styleset.load_drawings(folder)


def test_a_label_that_is_not_a_whole_digit_is_refused(tmp_path):
    # int() used to accept 7.9 as 7 and "7" as 7
    for i, label in enumerate([7.9, "7", True, -1, 10, 10**400]):
        folder = tmp_path / str(i)
        folder.mkdir()
        doc = {"label": label, "style": "x", "strokes": [[[0.5, 0.1], [0.5, 0.9]]]}
        (folder / "a.json").write_text(json.dumps(doc))
        with pytest.raises(ValueError, match="a.json is not a stroke file"):
            styleset.load_drawings(folder)


def test_too_many_points_in_all_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(styleset, "MAX_DRAWING_POINTS", 5)
    for i in range(3):
        doc = {"label": 1, "style": "x", "strokes": [[[0.5, 0.1], [0.5, 0.9]]]}
        (tmp_path / f"{i}.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="more than 5 points by 2.json"):
        styleset.load_drawings(tmp_path)


def test_the_hand_drawn_set_reads_as_before():
    drawings = styleset.load_drawings(HAND_DRAWN)
    assert len(drawings) == len(list(HAND_DRAWN.glob("*.json")))
    for path, d in zip(sorted(HAND_DRAWN.glob("*.json")), drawings):
        doc = json.loads(path.read_text())
        assert (d.style, d.label) == (doc["style"], doc["label"])
        assert [s.tolist() for s in d.strokes] == [[[float(v) for v in p] for p in s] for s in doc["strokes"]]
        assert all(s.shape[1] == 2 for s in d.strokes)
