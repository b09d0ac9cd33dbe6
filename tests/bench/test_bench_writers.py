"""`lenet-draw bench --writers` end to end (marker bench: it takes minutes)."""

import json

import pytest

from lenet_draw.cli import main

pytestmark = pytest.mark.bench


def test_bench_writers_reports_errors_before_and_after_and_adaptation_times(tmp_path, capsys):
    out = tmp_path / "writers.json"
    assert main(["bench", "--writers", "hand", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["writers"] >= 1 and res["corrections"] >= 1
    assert set(res["sets"]) == {"hand"} and res["sets"]["hand"]["writers"] == res["writers"]
    assert res["final_error_pct"] < res["base_error_pct"]
    assert set(res["after_pct"]) == {"1", "3", "5"}
    assert res["adaptation"]["n"] == res["corrections"]
    live = res["live_update_ms"]
    # Moves were timed while adaptations were pending, and every correction's adaptation came in
    # (an adaptation waits while the pen is down, so it lands between or after the timed strokes).
    assert live["adapting"]["n"] > 0 and live["idle"]["n"] > 0
    assert live["adaptations"] >= live["corrections"] >= 1
    assert 0 <= live["adaptations_meanwhile"] <= live["adaptations"]
    printed = capsys.readouterr().out
    assert "error on later digits" in printed and "while an adaptation ran" in printed
