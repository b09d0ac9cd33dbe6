"""Every mistake on the command line: one sentence on stderr, exit status 2, no traceback,
nothing written, and nothing long started first."""

from __future__ import annotations

import gzip
import os
import struct

import pytest

from lenet_draw import cli
from lenet_draw.cli import main


def run(argv, capsys):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_sentence(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("lenet-draw"), err
    for w in words:
        assert w in lines[0], (w, err)


@pytest.fixture
def folders(tmp_path, mnist_dir):
    """Data folders a person might point --data at, each wrong in its own way."""
    empty = tmp_path / "empty"
    empty.mkdir()
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    afile = tmp_path / "notes.txt"
    afile.write_text("hello")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    for name in (
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
    ):
        (corrupt / name).write_bytes(b"\x00\x00\x08\x03" + b"\x00" * 5)  # truncated header
    no_images = tmp_path / "no_images"
    no_images.mkdir()
    for stem, magic, dims in (
        ("t10k-images-idx3-ubyte", 0x803, (0, 28, 28)),
        ("t10k-labels-idx1-ubyte", 0x801, (0,)),
        ("train-images-idx3-ubyte", 0x803, (0, 28, 28)),
        ("train-labels-idx1-ubyte", 0x801, (0,)),
    ):
        (no_images / (stem + ".gz")).write_bytes(gzip.compress(struct.pack(">I" + "I" * len(dims), magic, *dims)))
    return {
        "missing": tmp_path / "nowhere",
        "empty": empty,
        "loop": loop,
        "file": afile,
        "corrupt": corrupt,
        "no images": no_images,
    }


DATA_WORDS = {
    "missing": "does not exist",
    "empty": "not found",
    "loop": "symbolic link",
    "file": "is a file",
    "corrupt": "truncated",
    "no images": "holds no images",
}


@pytest.mark.parametrize("command", ["eval", "train"])
@pytest.mark.parametrize("kind", list(DATA_WORDS))
def test_bad_data_folders_are_one_sentence(command, kind, folders, tmp_path, capsys, monkeypatch):
    # training must not even start: the folder is checked first
    monkeypatch.setattr("lenet_draw.training.train.run", lambda *a, **k: pytest.fail("training started"))
    extra = ["--out", tmp_path / "w.pt"] if command == "train" else []
    status, out, err = run([command, "--data", folders[kind], *extra], capsys)
    assert status == 2
    assert_one_sentence(err, DATA_WORDS[kind])
    assert out == ""
    assert not (tmp_path / "w.pt").exists()


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--epochs", "0", "--out", "w.pt"], ["--epochs", "at least 1"]),
        (["train", "--epochs", "two", "--out", "w.pt"], ["--epochs", "not a whole number"]),
        (["train", "--batch-size", "0", "--out", "w.pt"], ["--batch-size", "at least 1"]),
        (["train", "--lr", "nan", "--out", "w.pt"], ["--lr", "positive finite"]),
        (["train", "--lr", "-1", "--out", "w.pt"], ["--lr", "positive finite"]),
        (["train", "--limit", "-5", "--out", "w.pt"], ["--limit"]),
        (["train", "--drawn-fraction", "1.5", "--out", "w.pt"], ["--drawn-fraction", "between 0 and 1"]),
        (["train", "--scribble-fraction", "inf", "--out", "w.pt"], ["--scribble-fraction"]),
        (["train"], ["--out"]),
        (["eval", "--split", "validation"], ["--split"]),
        (["predict"], ["IMAGE"]),
        (["frobnicate"], ["frobnicate"]),
        (["--no-such-option"], ["--no-such-option"]),
    ],
)
def test_bad_arguments_are_one_sentence(argv, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(argv, capsys)
    assert status == 2
    assert_one_sentence(err, *words)
    assert "--help" in err  # where to read more
    assert not (tmp_path / "w.pt").exists()


def test_bad_output_paths_are_refused_before_any_work(tmp_path, mnist_dir, capsys, monkeypatch):
    monkeypatch.setattr("lenet_draw.training.evaluate.evaluate", lambda *a, **k: pytest.fail("evaluation ran"))
    monkeypatch.setattr("lenet_draw.training.train.run", lambda *a, **k: pytest.fail("training started"))
    cases = [
        (["eval", "--data", mnist_dir, "--confusion-png", tmp_path], "is a folder"),
        (["eval", "--data", mnist_dir, "--confusion-png", tmp_path / "matrix.xyz"], "name a file ending in .png"),
        (["eval", "--data", mnist_dir, "--confusion-png", tmp_path / "no" / "such" / "m.png"], "does not exist"),
        (["train", "--data", mnist_dir, "--out", tmp_path], "is a folder"),
        (["train", "--data", mnist_dir, "--out", tmp_path / "w.txt"], "name a file ending in .pt"),
        (["train", "--data", mnist_dir, "--out", tmp_path / "gone" / "w.pt"], "does not exist"),
        (["bench", "--json", tmp_path], "is a folder"),
    ]
    for argv, words in cases:
        status, out, err = run(argv, capsys)
        assert status == 2, argv
        assert_one_sentence(err, words)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_unwritable_output_folder_is_one_sentence(tmp_path, mnist_dir, capsys, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    real_access = os.access
    # a read-only folder (simulated: the tests may run as root, who can write anywhere)
    monkeypatch.setattr(cli.os, "access", lambda p, mode: False if str(p) == str(ro) else real_access(p, mode))
    status, _, err = run(["train", "--data", mnist_dir, "--out", ro / "w.pt"], capsys)
    assert status == 2
    assert_one_sentence(err, "cannot be written to")
    assert list(ro.iterdir()) == []


def test_bad_weights_and_devices_are_one_sentence(tmp_path, mnist_dir, capsys):
    bad = tmp_path / "w.pt"
    bad.write_bytes(b"\x80\x02garbage")
    png = tmp_path / "x.png"
    cases = [
        (["predict", "--weights", bad, png], "not a readable weights file"),
        (["predict", "--weights", tmp_path / "missing.pt", png], "does not exist"),
        (["eval", "--data", mnist_dir, "--weights", tmp_path], "is a folder"),
        (["predict", "--device", "tpu", png], "tpu"),
        ([tmp_path / "missing.pt"], "does not exist"),
    ]
    for argv, words in cases:
        status, out, err = run(argv, capsys)
        assert status == 2, argv
        assert_one_sentence(err, words)
        assert out == ""


def test_help_lists_every_subcommand_in_one_line_and_every_option_has_help(capsys):
    status, out, _ = run(["--help"], capsys)
    assert status == 0
    for name, line in cli.SUBCOMMAND_HELP:
        assert any(row.split() == [name, *line.split()] for row in out.splitlines()), name
    parsers = [cli.build_app_parser()]
    sub = cli.build_parser()._subparsers._group_actions[0]  # the subcommands
    parsers += list(sub.choices.values())
    for parser in parsers:
        for action in parser._actions:
            assert action.help, (parser.prog, action.dest)


def test_version(capsys):
    from lenet_draw import __version__

    status, out, _ = run(["--version"], capsys)
    assert status == 0
    assert out.strip() == f"lenet-draw {__version__}"


def test_a_bug_still_shows_its_traceback(monkeypatch):
    def broken(args):
        raise ZeroDivisionError("a real bug")

    monkeypatch.setattr(cli, "cmd_predict", broken)
    monkeypatch.setattr(cli, "build_parser", _parser_with(cli.build_parser, "predict", broken))
    with pytest.raises(ZeroDivisionError):
        main(["predict", "x.png"])


def _parser_with(build, name, func):
    def patched():
        p = build()
        p._subparsers._group_actions[0].choices[name].set_defaults(func=func)
        return p

    return patched
