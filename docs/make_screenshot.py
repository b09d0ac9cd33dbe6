"""Regenerate docs/screenshot.png: the real window, a digit drawn through the canvas.

xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python docs/make_screenshot.py
"""

from __future__ import annotations

from pathlib import Path

from shots import save_png, settle, shown_window

OUT = Path(__file__).resolve().parent / "screenshot.png"


def main() -> int:
    from lenet_draw.gui.testing import DIGIT_STROKES, draw_strokes

    with shown_window(1280, 800) as window:
        draw_strokes(window.canvas, DIGIT_STROKES[3])
        window.predict_now()
        window.maps.pin("C3", 6)
        settle()
        window._show_timing()
        saved = save_png(window, OUT)
    print(f"{saved}, shows {window.panel.headline()!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
