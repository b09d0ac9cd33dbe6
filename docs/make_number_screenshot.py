"""Regenerate docs/number-mode.png: the real window in Number mode, a number written through
the wide pad with mouse events, one digit clicked.

xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python docs/make_number_screenshot.py
"""

from __future__ import annotations

from pathlib import Path

from shots import save_png, settle, shown_window

OUT = Path(__file__).resolve().parent / "number-mode.png"
#: The number written, digits close together (some touch); the 4 and the 5 take two strokes.
NUMBER = "4207159"


def main() -> int:
    from lenet_draw.gui.testing import DIGIT_STROKES, draw_strokes

    with shown_window(1280, 800) as window:
        window.set_number_mode(True)
        for k, ch in enumerate(NUMBER):
            x = 0.2 + k * 0.5
            draw_strokes(window.canvas, [[(x + px * 0.62, py) for px, py in s] for s in DIGIT_STROKES[int(ch)]])
        window.predict_now()
        window.number_mode.select(5)
        window.predict_now()
        settle()
        window._show_timing()
        saved = save_png(window, OUT)
    print(f"{saved}, reads {window.number_mode.reading.text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
