"""``lenet-draw --self-test``: check an installation or a packaged app end to end.

Draws a few digits the way a person would (vector strokes, one polyline per pen stroke),
sends them through the same preprocessing and model as the app, and checks each reading.
With ``QT_QPA_PLATFORM=offscreen`` it also opens the main window, draws a digit on its
canvas with real mouse events, loads the weights file given on the command line through
the window's own open path, and closes the window. Prints a short report; returns 0 when
every check passed and 1 otherwise. Any weights file is read only by ``load_weights``.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from typing import Callable, Sequence

from lenet_draw.sample_digits import DRAWINGS, Drawing, Point

#: Canvas units of the built-in drawings: a 100 x 100 box, x to the right, y down, as a
#: person might draw them on a canvas of that size. The GUI check scales them to its canvas.
BOX = 100.0
#: The digits the self-test draws (from the shared sample library).
SELF_TEST_DIGITS = (0, 1, 4, 7)


def builtin_drawings() -> list[Drawing]:
    """The digits the self-test draws, each as a person draws it with a mouse, in BOX units."""
    return [
        Drawing(d.digit, d.how, tuple(tuple((x * BOX, y * BOX) for x, y in s) for s in d.strokes))
        for d in DRAWINGS
        if d.digit in SELF_TEST_DIGITS
    ]


def scaled(strokes: Sequence[Sequence[Point]], x0: float, y0: float, side: float) -> list[list[Point]]:
    """The drawing's strokes placed in a ``side`` x ``side`` square at (x0, y0)."""
    f = side / BOX
    return [[(x0 + x * f, y0 + y * f) for x, y in s] for s in strokes]


# --------------------------------------------------------------------------- report


class _Report:
    def __init__(self, out) -> None:
        self.out = out
        self.failures: list[str] = []

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def check(self, ok: bool, text: str, why: str = "") -> bool:
        self.line(f"  {'ok  ' if ok else 'FAIL'} {text}" + ("" if ok or not why else f": {why}"))
        if not ok:
            self.failures.append(text + (f": {why}" if why else ""))
        return ok


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def _accuracy(w) -> str:
    acc = w.test_accuracy
    return f", test accuracy {acc:.2f}%" if acc is not None else ""


def _check_digits(rep: _Report, engine) -> None:
    import numpy as np

    from lenet_draw.model import LAYER_SHAPES

    pre, inf = [], []
    for d in builtin_drawings():
        pred = engine.predict_strokes([list(s) for s in d.strokes], pen_width=None, activations=True)
        if pred is None:
            rep.check(False, f"digit {d.digit} ({d.how})", "no ink found")
            continue
        pre.append(pred.preprocess_ms)
        inf.append(pred.inference_ms)
        shapes_ok = all(tuple(pred.activations[k].shape) == tuple(v) for k, v in LAYER_SHAPES.items())
        probs_ok = bool(np.isfinite(pred.probabilities).all()) and abs(float(pred.probabilities.sum()) - 1.0) < 1e-3
        second = pred.top(2)[1]
        rep.check(
            pred.digit == d.digit and shapes_ok and probs_ok,
            f"digit {d.digit} ({d.how}): read {pred.digit} at {pred.confidence * 100:.1f}%"
            f" (next {second[0]} at {second[1] * 100:.1f}%)",
            "wrong digit" if pred.digit != d.digit else ("bad layer shapes" if not shapes_ok else "bad probabilities"),
        )
    if pre:
        rep.line(
            f"  timings: preprocess median {statistics.median(pre):.2f} ms, inference median {statistics.median(inf):.2f} ms"
            f" (first inference {inf[0]:.1f} ms)"
        )


def _check_weights_file(rep: _Report, engine, path: str) -> None:
    """The file named on the command line, read the way the app reads it."""
    from lenet_draw.weights import WeightsError

    t0 = time.perf_counter()
    try:
        w = engine.load(path)
    except WeightsError as exc:
        rep.check(False, f"weights file {path}", str(exc))
        return
    rep.check(True, f"weights file {path}: loaded in {_ms(time.perf_counter() - t0)}{_accuracy(w)}")
    readings = []
    for d in builtin_drawings():
        pred = engine.predict_strokes([list(s) for s in d.strokes], activations=False)
        readings.append(f"{d.digit}->{pred.digit if pred else '-'}")
    rep.line(f"       with it the built-in digits read: {', '.join(readings)}")


def run_self_test(weights: str | None = None, device: str = "auto", out=None) -> int:
    """Run every check, print the report to ``out`` (stdout), return 0 (all passed) or 1."""
    out = out if out is not None else sys.stdout
    rep = _Report(out)
    t_start = time.perf_counter()
    from lenet_draw import __version__

    frozen = bool(getattr(sys, "frozen", False))
    rep.line(
        f"lenet-draw {__version__} self-test ({'packaged app' if frozen else 'Python ' + platform.python_version()}, "
        f"{platform.system()} {platform.machine()})"
    )

    t0 = time.perf_counter()
    # the app runs LeNet-5 on one thread (lenet_draw.gui.app); time it the same way
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    from lenet_draw.devices import DeviceError, describe
    from lenet_draw.engine import Engine
    from lenet_draw.resources import bundled_weights_path
    from lenet_draw.weights import WeightsError

    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        engine = Engine(None, device=device)
    except (WeightsError, DeviceError, FileNotFoundError) as exc:
        rep.line(f"  FAIL cannot start the engine: {exc}")
        rep.line("self-test FAILED")
        return 1
    t_load = time.perf_counter() - t0
    rep.line(f"device: {describe(engine.device)} ({engine.device}), torch {torch.__version__}")
    rep.line(f"bundled weights: {bundled_weights_path()}{_accuracy(engine.weights)}")
    rep.line(f"start-up: imports {_ms(t_import)}, engine with bundled weights {_ms(t_load)}")
    rep.line("built-in drawings, read with the bundled weights:")
    _check_digits(rep, engine)

    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        rep.line("main window (offscreen):")
        _check_gui(rep, engine, weights)
    elif weights:
        rep.line("weights file from the command line:")
        _check_weights_file(rep, engine, weights)
    else:
        rep.line("main window: skipped (set QT_QPA_PLATFORM=offscreen to include it)")
    desktop = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if desktop and os.environ.get("QT_QPA_PLATFORM") != "offscreen":  # where the window would open
        from lenet_draw.gui.syslibs import missing_libraries, missing_sentence

        missing = missing_libraries()
        rep.check(not missing, "system libraries Qt needs for the window: all found", missing_sentence(missing))

    total = time.perf_counter() - t_start
    if rep.failures:
        rep.line(f"self-test FAILED ({len(rep.failures)} check(s)) in {total:.2f} s")
        return 1
    rep.line(f"self-test passed in {total:.2f} s")
    return 0


def _wait(app, done: Callable[[], bool], seconds: float) -> bool:
    end = time.perf_counter() + seconds
    while not done() and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.002)
    return done()


def _check_gui(rep: _Report, engine, weights: str | None) -> None:
    """Open the main window, draw on its canvas with mouse events, load weights, close it."""
    import tempfile

    from PySide6.QtCore import QSettings

    from lenet_draw.gui.app import make_application
    from lenet_draw.gui.main_window import MainWindow
    from lenet_draw.gui.testing import draw_strokes

    slot_errors: list[str] = []
    hook = sys.excepthook

    def record(kind, value, tb) -> None:  # an exception inside a Qt slot ends up here
        slot_errors.append(f"{kind.__name__}: {value}")
        hook(kind, value, tb)

    sys.excepthook = record
    app = make_application()
    try:
        with tempfile.TemporaryDirectory(prefix="lenet-draw-self-test-") as tmp:
            # settings in a scratch file: the self-test leaves the user's recent files and layout alone
            settings = QSettings(os.path.join(tmp, "settings.ini"), QSettings.Format.IniFormat)
            os.environ["LENET_DRAW_DATA"] = tmp  # the person's handwriting samples never sway the check
            dialogs: list[str] = []
            t0 = time.perf_counter()
            window = MainWindow(None, settings=settings)
            window.show_error = lambda title, text: dialogs.append(f"{title}: {text}")
            window.show_info = lambda title, text: None
            drawable: list[float] = []
            window.drawable.connect(lambda: drawable.append(time.perf_counter()))
            window.show()
            ok = _wait(app, lambda: bool(drawable), 10.0)
            if not rep.check(
                ok,
                f"window shown, canvas drawable after {_ms((drawable or [t0])[0] - t0)}",
                "the canvas was never painted",
            ):
                window.close()
                return
            window.set_engine(engine)

            seven = next(d for d in builtin_drawings() if d.digit == 7)
            t0 = time.perf_counter()
            draw_strokes(window.canvas, scaled(seven.strokes, 0.1, 0.1, 0.8))
            window.predict_now()
            shown = window.panel.prediction
            rep.check(
                shown is not None and shown.digit == 7 and len(window.canvas.strokes()) == len(seven.strokes),
                f"drew a 7 on the canvas with the mouse ({sum(map(len, seven.strokes))} events): "
                f"the window shows {shown.digit if shown else 'nothing'}"
                + (f" at {shown.confidence * 100:.1f}%" if shown else "")
                + f" ({_ms(time.perf_counter() - t0)})",
                "wrong or no reading",
            )

            dialogs.clear()
            loaded = window.reset_weights()
            rep.check(loaded and not dialogs, "bundled weights reloaded through the window", "; ".join(dialogs))
            if weights:
                dialogs.clear()
                t0 = time.perf_counter()
                loaded = window.open_weights(weights, remember=False)
                took = time.perf_counter() - t0
                if loaded and not dialogs:
                    rep.check(
                        True, f"weights file {weights}: opened by the window in {_ms(took)}{_accuracy(engine.weights)}"
                    )
                    again = window.predict_now()
                    rep.line(
                        f"       the window now reads the 7 as {again.digit if again else '-'} ({window.windowTitle()})"
                    )
                else:
                    rep.check(False, f"weights file {weights}", " ".join(dialogs).replace("\n\n", " ") or "not loaded")

            window.close()
            _wait(app, lambda: not window.isVisible(), 5.0)
            rep.check(
                not window.isVisible() and not slot_errors, "window closed", "; ".join(slot_errors) or "still visible"
            )
            window.deleteLater()
            app.processEvents()
    finally:
        sys.excepthook = hook
