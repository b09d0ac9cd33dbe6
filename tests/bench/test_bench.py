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
    assert la["quit"]["n"] == la["runs"] and math.isfinite(la["quit"]["median_ms"])
    number = res["gui"]["number_live_update"]
    assert number["read_as"] == "314159" and number["number_reading"]["n"] >= 50
    assert number["move_to_number_shown"]["n"] >= 50
    text = capsys.readouterr().out
    for words in (
        "window accepts strokes",
        "first prediction shown",
        "window closed -> process ended",
        "move to repaint",
        "preprocessing",
        "inference, one image",
        "images/s",
        "s/epoch",
        "after 1000 strokes",
        "reading the number",
        "versions:",
    ):
        assert words in text, words


def test_explain_bench_reports_the_overlay_and_every_invariance_plot(tmp_path, capsys, mnist_dir):
    out = tmp_path / "explain.json"
    assert main(["bench", "--explain", "--quick", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    for state in ("overlay_off", "overlay_on"):
        assert res["live"][state]["move_to_repaint"]["n"] >= 50, state
    # with the overlay on, also until the evidence was shown (it follows the repainted bars)
    assert res["live"]["overlay_on"]["move_to_evidence_shown"]["n"] >= 50
    assert "move_to_evidence_shown" not in res["live"]["overlay_off"]
    assert set(res["invariance"]) == {"rotation", "scale", "shift_x", "shift_y", "thickness", "noise"}
    assert all(s["points"] >= 25 for s in res["invariance"].values())
    assert set(res["faithfulness"]) == {"gradient_x_input", "integrated_gradients", "occlusion"}
    text = capsys.readouterr().out
    for words in (
        "evidence overlay off",
        "evidence overlay on",
        "move to the evidence shown",
        "invariance plot: rotation",
        "vs",
    ):
        assert words in text, words
