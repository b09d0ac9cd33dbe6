"""Bad image files opened through the window (menu, drag-and-drop): one clear sentence in an
error dialog, nothing decoded that is too large, and the drawing and prediction left as they were."""

import struct
import zlib

import numpy as np
import pytest
from guihelpers import digit_png, drop, settle
from PIL import ImageFile

from lenet_draw.gui.testing import DIGIT_STROKES, draw_strokes
from lenet_draw.images import MAX_IMAGE_PIXELS, ImageError, open_image


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG of a few hundred bytes whose header claims width x height (as tests/core/test_bad_images.py makes them)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"\0" * 1024))
        + _chunk(b"IEND", b"")
    )


def damaged(png: bytes) -> bytes:
    """The PNG with bytes of its pixel data changed (its checksum no longer matches)."""
    i = png.index(b"IDAT") + 4
    data = bytearray(png)
    for j in range(i + 2, i + 40):
        data[j] ^= 0x5A
    return bytes(data)


@pytest.fixture
def decoded(monkeypatch):
    """Sizes of every image whose pixel data gets decoded."""
    calls = []
    real = ImageFile.ImageFile.load

    def spy(self, *a, **k):
        calls.append(self.size)
        return real(self, *a, **k)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return calls


def snapshot(window):
    """What the person sees and could undo: drawing, opened image, prediction, history."""
    return {
        "strokes": [np.asarray(s).tolist() for s in window.canvas.strokes()],
        "image": window.canvas.image(),
        "probabilities": None if window.panel.prediction is None else window.panel.shown_probabilities().tolist(),
        "headline": window.panel.headline(),
        "undo": window.canvas.can_undo(),
        "redo": window.canvas.can_redo(),
        "inferences": window.predictor.inferences,
        "title": window.windowTitle(),
    }


BAD = {
    "a 10000 x 10000 PNG header (a decompression bomb)": lambda d: ("bomb.png", png_header_only(10_000, 10_000)),
    "a 100000 x 100000 PNG header": lambda d: ("huge.png", png_header_only(100_000, 100_000)),
    "a PNG with damaged pixel data": lambda d: ("damaged.png", damaged(d.read_bytes())),
    "a PNG cut short": lambda d: ("cut.png", d.read_bytes()[:300]),
    "random bytes named .png": lambda d: ("noise.png", np.random.default_rng(0).bytes(3000)),
    "an empty .jpg": lambda d: ("empty.jpg", b""),
}


@pytest.fixture
def good_png(tmp_path, qtbot, window):
    return digit_png(tmp_path, qtbot, window, 7, "seven.png")


@pytest.mark.parametrize("how", ["menu", "drop"])
@pytest.mark.parametrize("kind", list(BAD), ids=list(BAD))
def test_a_bad_image_shows_its_sentence_and_changes_nothing(
    qtbot, window, dialogs, tmp_path, good_png, decoded, kind, how
):
    name, data = BAD[kind](good_png)
    bad = tmp_path / name
    bad.write_bytes(data)
    with pytest.raises(ImageError) as expected:
        open_image(bad)
    decoded.clear()

    draw_strokes(window.canvas, DIGIT_STROKES[4])
    settle(qtbot, window)
    before = snapshot(window)
    assert before["probabilities"] is not None

    if how == "menu":
        dialogs.open_answer = str(bad)
        window.open_image_action.trigger()
    else:
        assert drop(window, [bad], qtbot)
        qtbot.waitUntil(lambda: len(dialogs.errors) == 1)
    settle(qtbot, window)

    assert dialogs.errors == [("Cannot open image", f"{expected.value}\n\nThe canvas is unchanged.")]
    assert name in str(expected.value)
    assert snapshot(window) == before
    assert all(w * h <= MAX_IMAGE_PIXELS for w, h in decoded), decoded


def test_the_bomb_is_refused_by_its_header_without_decoding(qtbot, window, dialogs, tmp_path, decoded):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(10_000, 10_000))
    assert bomb.stat().st_size < 2000
    assert window.open_image(bomb) is False
    assert decoded == []
    text = dialogs.errors[-1][1]
    assert "10000 x 10000" in text and "refused before decoding" in text


def test_a_bad_image_leaves_an_opened_image_in_place(qtbot, window, dialogs, tmp_path, good_png):
    assert window.open_image(good_png)
    settle(qtbot, window)
    before = snapshot(window)
    assert before["image"] is not None and window.panel.prediction is not None
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(20_000, 20_000))
    assert window.open_image(bomb) is False
    settle(qtbot, window)
    assert snapshot(window) == before
    assert "seven.png" in window.panel.source.text()
    # And the good image still opens after the refusal.
    window.clear_action.trigger()
    assert window.open_image(good_png)
    settle(qtbot, window)
    assert window.panel.prediction is not None and window.canvas.image() is not None
