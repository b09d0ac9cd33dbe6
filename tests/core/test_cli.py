import re
from pathlib import Path

import numpy as np
from PIL import Image

from lenet_draw.cli import main
from lenet_draw.weights import load_weights


def test_predict_prints_top_three(tmp_path, mnist_test, capsys):
    idx = [int(np.flatnonzero(mnist_test.labels == d)[0]) for d in (3, 7)]
    paths = []
    for i in idx:
        p = tmp_path / f"digit{i}.png"
        Image.fromarray(255 - mnist_test.images[i]).resize((140, 140)).save(p)  # dark ink on white
        paths.append(str(p))
    assert main(["predict", *paths]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for line, i in zip(lines, idx):
        first = line.split(": ", 1)[1].split(" ")[0]
        assert int(first) == mnist_test.labels[i], line
        assert line.count("%") == 3


def test_predict_reports_unreadable_and_blank_files(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 50), 255).save(blank)
    assert main(["predict", str(bad), str(blank)]) == 1
    out = capsys.readouterr().out
    assert "bad.png: cannot read image" in out
    assert "blank.png: no ink found, no prediction" in out


def test_eval_prints_accuracy_and_saves_confusion(tmp_path, mnist_dir, capsys):
    png = tmp_path / "conf.png"
    assert main(["eval", "--data", str(mnist_dir), "--confusion-png", str(png)]) == 0
    out = capsys.readouterr().out
    assert "accuracy:" in out and "confusion matrix" in out
    assert Image.open(png).size[0] > 400


def test_train_writes_weights_with_metadata(tmp_path, mnist_dir, capsys):
    out = tmp_path / "w.pt"
    assert (
        main(["train", "--data", str(mnist_dir), "--epochs", "1", "--limit", "600", "--out", str(out), "--seed", "3"])
        == 0
    )
    meta = load_weights(out).meta
    assert meta["command"] == f"lenet-draw train --data {mnist_dir} --epochs 1 --limit 600 --out {out} --seed 3"
    assert meta["epochs"] == 1 and meta["seed"] == 3 and meta["train_images"] == 600
    assert 0 < meta["test_accuracy"] <= 100


def test_bad_weights_on_the_command_line_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "w.pt"
    bad.write_bytes(b"\x80\x02garbage")
    assert main(["predict", "--weights", str(bad), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a readable weights file" in err and len(err.strip().splitlines()) == 1


def test_bench_runs_on_the_device_it_is_given(capsys):
    """--device reaches the engine: a device this machine lacks is refused at once, by name."""
    assert main(["bench", "--quick", "--device", "tpu"]) == 2
    assert "Unknown device 'tpu'" in capsys.readouterr().err


HAND_DRAWN = Path(__file__).parents[1] / "data" / "handdrawn"
ROW = re.compile(r"^\s+(?P<style>.+?)\s+(?P<n>\d+)\s+(?P<acc>[\d.]+)%\s+(?P<sure_wrong>\d+)\s+(?P<right_unsure>\d+)")


def test_eval_styles_reports_accuracy_per_way_of_writing(capsys):
    assert main(["eval", "--styles", "--per-style", "4", "--drawings", str(HAND_DRAWN)]) == 0
    generated, hand = capsys.readouterr().out.split("drawn by hand")
    for part, counts in ((generated, {4}), (hand, {20, 21})):
        rows = {m["style"]: m for m in map(ROW.match, part.splitlines()) if m}
        for style in ("slashed zero", "one with a long flag", "one with flag and base", "crossed seven"):
            assert int(rows[style]["n"]) in counts, rows[style].string
            assert 0.0 <= float(rows[style]["acc"]) <= 100.0
        assert int(rows["all"]["n"]) == sum(int(m["n"]) for k, m in rows.items() if k != "all")


def test_eval_styles_refuses_a_broken_stroke_file_in_one_sentence(tmp_path, capsys):
    (tmp_path / "a.json").write_text('{"label": 12, "style": "x", "strokes": [[[0, 0], [1, 1]]]}')
    assert main(["eval", "--styles", "--per-style", "1", "--drawings", str(tmp_path)]) == 2
    assert "a.json is not a stroke file" in capsys.readouterr().err
