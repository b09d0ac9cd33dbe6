"""`lenet-draw bench` runs and reports every figure (timings are its output, not asserted)."""

import json
import math

import pytest

from lenet_draw.cli import main

pytestmark = pytest.mark.bench


def test_quick_bench_reports_every_figure(tmp_path, capsys, mnist_dir):
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    for section in ("launch", "core", "batch", "training", "gui", "machine"):
        assert section in res, section
    # Each figure is there, as a number; its size is the bench's output, not a test's verdict.
    la = res["launch"]
    for figure in (la["window_ready"]["median_ms"], la["first_prediction"]["median_ms"]):
        assert isinstance(figure, (int, float)) and math.isfinite(figure)
    assert res["gui"]["live_update"]["move_to_repaint"]["n"] >= 50
    assert res["gui"]["memory"]["strokes"] == 1000
    assert res["batch"]["images"] == 10_000
    for figure in (res["batch"]["images_per_s_median"], res["batch_plain"]["images_per_s_median"]):
        assert isinstance(figure, (int, float)) and math.isfinite(figure)
    text = capsys.readouterr().out
    for words in (
        "window accepts strokes",
        "first prediction shown",
        "move to repaint",
        "preprocessing",
        "inference, one image",
        "images/s",
        "s/epoch",
        "after 1000 strokes",
        "versions:",
    ):
        assert words in text, words
