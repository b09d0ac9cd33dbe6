"""`lenet-draw --self-test` from a Python install: it passes on a good install and fails loudly."""

from __future__ import annotations

import io

import numpy as np
import pytest

from lenet_draw import selftest
from lenet_draw.preprocess import preprocess_strokes
from lenet_draw.weights import save_weights


def run(weights=None, monkeypatch=None, offscreen=True):
    if monkeypatch is not None and not offscreen:
        monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    out = io.StringIO()
    code = selftest.run_self_test(weights=weights, device="cpu", out=out)
    return code, out.getvalue()


def test_builtin_drawings_are_digit_shaped_strokes():
    drawings = selftest.builtin_drawings()
    assert sorted(d.digit for d in drawings) == [0, 1, 4, 7]
    for d in drawings:
        stages = preprocess_strokes([list(s) for s in d.strokes])
        assert stages is not None
        # each drawing fills the 20x20 box on its long side, as MNIST's digits do
        rows = np.nonzero(stages.fitted.max(axis=1) > 0.1)[0]
        assert rows.max() - rows.min() >= 17
        # densely sampled, like mouse events: no jump longer than 1% of the box
        for s in d.strokes:
            steps = np.hypot(*np.diff(np.asarray(s), axis=0).T)
            assert steps.max() < 0.01 * selftest.BOX


def test_self_test_passes_and_reports_device_and_timings(monkeypatch):
    code, text = run(monkeypatch=monkeypatch, offscreen=False)
    assert code == 0, text
    assert "device: CPU (cpu)" in text
    assert "inference median" in text
    for digit in (0, 1, 4, 7):
        assert f"ok   digit {digit} " in text
    assert "main window: skipped" in text
    assert text.rstrip().splitlines()[-1].startswith("self-test passed")


def test_self_test_drives_the_main_window_offscreen(qapp, tmp_path):
    custom = tmp_path / "custom.safetensors"
    from lenet_draw.engine import Engine

    w = Engine(device="cpu").weights
    sd = {k: v.clone() for k, v in w.state_dict.items()}
    # swap what the network says for 7 and 1: a file that visibly changes the reading
    for k in ("output.weight", "output.bias"):
        sd[k][[1, 7]] = sd[k][[7, 1]]
    save_weights(custom, sd, w.convention, {"test_accuracy": 12.5})
    code, text = run(str(custom))
    assert code == 0, text
    assert "window shown, canvas drawable" in text
    assert "drew a 7 on the canvas with the mouse" in text and "the window shows 7" in text
    assert f"weights file {custom}: opened by the window" in text and "test accuracy 12.50%" in text
    assert "the window now reads the 7 as 1" in text
    assert "ok   window closed" in text


def test_self_test_fails_with_the_loaders_sentence_for_a_corrupt_file(qapp, tmp_path):
    from lenet_draw.resources import bundled_weights_path

    bad = tmp_path / "cut.pt"
    bad.write_bytes(bundled_weights_path().read_bytes()[:3000])  # a download cut short
    code, text = run(str(bad))
    assert code == 1
    assert "FAIL weights file" in text and "not a readable weights file" in text
    assert "previous weights are still in use" in text
    assert "Traceback" not in text
    assert text.rstrip().splitlines()[-1].startswith("self-test FAILED")


def test_self_test_without_window_checks_the_file_through_the_engine(monkeypatch, tmp_path):
    bad = tmp_path / "notes.pt"
    bad.write_text("not weights")
    code, text = run(str(bad), monkeypatch=monkeypatch, offscreen=False)
    assert code == 1
    assert "FAIL weights file" in text and "is not a PyTorch weights file" in text


def test_a_misread_digit_fails_the_self_test(monkeypatch):
    real = selftest.builtin_drawings()
    wrong = [selftest.Drawing(7 if d.digit == 1 else d.digit, d.how, d.strokes) for d in real]
    monkeypatch.setattr(selftest, "builtin_drawings", lambda: wrong)
    code, text = run(monkeypatch=monkeypatch, offscreen=False)
    assert code == 1
    assert "FAIL digit 7 (one slanted downstroke): read 1" in text and "wrong digit" in text


@pytest.fixture
def qapp():
    from lenet_draw.gui.app import make_application

    return make_application()


def test_self_test_names_a_missing_system_library_on_a_desktop(monkeypatch):
    from lenet_draw.gui import syslibs

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(syslibs.sys, "platform", "linux")
    monkeypatch.setattr(syslibs, "_bundled", lambda soname: False)
    monkeypatch.setattr(syslibs, "_dlopen", lambda soname: soname != "libxcb-icccm.so.4")  # simulated
    code, text = run(monkeypatch=monkeypatch, offscreen=False)
    assert code == 1
    assert "FAIL system libraries Qt needs for the window" in text and "libxcb-icccm4" in text
