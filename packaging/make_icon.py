"""Draw the app icon: resources/icon.png, the one source image of every icon format.

A hand-drawn 5 (LeNet-5) in white ink on a blue tile, above the ten probability bars the app
shows, with the winning bar in amber. Drawn at 4x and filtered down, so edges are smooth.
build.py turns the PNG into the .png/.ico/.icns each platform wants.

    python packaging/make_icon.py [OUT.png]
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

SIZE = 1024
SS = 4  # supersampling
ROOT = Path(__file__).resolve().parent.parent


def _gradient(w: int, h: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    col = Image.new("RGB", (1, h))
    for y in range(h):
        t = y / (h - 1)
        col.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    return col.resize((w, h))


def _stroke(draw: ImageDraw.ImageDraw, pts: list[tuple[float, float]], width: float, fill) -> None:
    draw.line(pts, fill=fill, width=round(width), joint="curve")
    r = width / 2
    for x, y in (pts[0], pts[-1]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def _five(s: float) -> list[list[tuple[float, float]]]:
    """The strokes of a handwritten 5 in a unit box, scaled by s (pixels)."""
    down = [(0.36, 0.16), (0.33, 0.30), (0.30, 0.45)]
    belly = []
    cx, cy, rx, ry = 0.47, 0.605, 0.215, 0.19
    for i in range(0, 61):
        t = math.radians(-150 + 285 * i / 60)  # from upper left, round the right, to lower left
        belly.append((cx + rx * math.cos(t), cy + ry * math.sin(t)))
    top = [(0.37, 0.155), (0.52, 0.15), (0.70, 0.145)]
    return [[(x * s, y * s) for x, y in down + belly], [(x * s, y * s) for x, y in top]]


def draw_icon(size: int = SIZE) -> Image.Image:
    big = size * SS
    # the tile: a rounded square with a soft vertical gradient
    tile = _gradient(big, big, (37, 56, 160), (20, 150, 210)).convert("RGBA")
    mask = Image.new("L", (big, big), 0)
    inset = round(big * 0.06)
    ImageDraw.Draw(mask).rounded_rectangle((inset, inset, big - inset, big - inset), radius=round(big * 0.2), fill=255)
    icon = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    # a drop shadow under the tile
    shadow = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    shadow.putalpha(mask.point(lambda v: v * 90 // 255).filter(ImageFilter.GaussianBlur(big * 0.015)))
    icon.alpha_composite(shadow, (0, round(big * 0.012)))
    icon.paste(tile, (0, 0), mask)

    # the digit, with a faint shadow so it lifts off the tile
    ink = Image.new("L", (big, big), 0)
    d = ImageDraw.Draw(ink)
    for s in _five(big * 0.84):
        _stroke(d, [(x + big * 0.09, y + big * 0.02) for x, y in s], big * 0.08, 255)
    glow = Image.new("RGBA", (big, big), (10, 20, 60, 0))
    glow.putalpha(ink.filter(ImageFilter.GaussianBlur(big * 0.012)).point(lambda v: v * 110 // 255))
    icon.alpha_composite(glow, (round(big * 0.006), round(big * 0.014)))
    white = Image.new("RGBA", (big, big), (255, 255, 255, 255))
    white.putalpha(ImageChops.multiply(ink, mask))
    icon.alpha_composite(white)

    # the ten probability bars, the fifth one winning
    bars = ImageDraw.Draw(icon)
    left, right, base = big * 0.2, big * 0.8, big * 0.855
    pitch = (right - left) / 10
    heights = [0.02, 0.015, 0.03, 0.05, 0.02, 0.13, 0.04, 0.01, 0.03, 0.02]
    for i, h in enumerate(heights):
        x0 = left + i * pitch + pitch * 0.18
        x1 = left + (i + 1) * pitch - pitch * 0.18
        top = base - max(h, 0.012) * big
        colour = (255, 190, 60, 255) if i == 5 else (255, 255, 255, 120)
        bars.rounded_rectangle((x0, top, x1, base), radius=round(pitch * 0.2), fill=colour)
    return icon.resize((size, size), Image.Resampling.LANCZOS)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "resources" / "icon.png"
    draw_icon().save(out, optimize=True)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
