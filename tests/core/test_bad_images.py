"""Bad or unusual image files never hurt: ``open_image`` gives one clear ImageError sentence or
a decoded picture, and the engine reads every decodable picture, whatever its mode, the same
way as a plain greyscale one (or says there is no ink)."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFile
from provoked import PIL_DAMAGED_TIFF, provoked_warnings

from lenet_draw import cli
from lenet_draw.engine import Engine
from lenet_draw.images import MAX_IMAGE_PIXELS, ImageError, open_image
from lenet_draw.preprocess import image_to_ink, preprocess_image
from lenet_draw.resources import bundled_weights_path


@pytest.fixture(scope="module")
def eng() -> Engine:
    return Engine(device="cpu")


def _digit(size=(64, 64), ink=255, paper=0, mode="L", width=5) -> Image.Image:
    """A '7'-like figure drawn with hard edges (so every mode can hold it exactly)."""
    w, h = size
    im = Image.new(mode, size, paper)
    d = ImageDraw.Draw(im)
    d.line([(0.3 * w, 0.16 * h), (0.7 * w, 0.16 * h), (0.45 * w, 0.85 * h)], fill=ink, width=width)
    return im


def _assert_one_sentence(err: Exception) -> str:
    msg = str(err)
    assert msg and "\n" not in msg and msg.endswith("."), repr(msg)
    assert len(msg) < 300, repr(msg)
    return msg


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_header_only(width: int, height: int, idat: bytes = b"") -> bytes:
    """A PNG whose header claims width x height, with (almost) no pixel data behind it."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    body = _png_chunk(b"IHDR", ihdr)
    body += _png_chunk(b"IDAT", idat or zlib.compress(b"\0" * 1024))
    return b"\x89PNG\r\n\x1a\n" + body + _png_chunk(b"IEND", b"")


def _save(im: Image.Image, path: Path, **kw) -> Path:
    im.save(path, **kw)
    return path


# --------------------------------------------------------------------------- files that are refused


def _decoded_spy(monkeypatch) -> list:
    """Record every attempt to decode pixel data."""
    calls = []
    real = ImageFile.ImageFile.load

    def spy(self, *a, **k):
        calls.append(self.size)
        return real(self, *a, **k)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return calls


def _good_png(tmp: Path) -> bytes:
    return _save(_digit(), tmp / "good.png").read_bytes()


REFUSED = [
    ("nonexistent", lambda d: d / "nowhere.png", ["nowhere.png", "does not exist"]),
    ("directory", lambda d: (d / "pics.png").mkdir() or d / "pics.png", ["pics.png", "folder"]),
    ("empty", lambda d: _write(d / "e.png", b""), ["e.png", "empty"]),
    ("random bytes", lambda d: _write(d / "r.png", np.random.default_rng(0).bytes(5000)), ["r.png", "not an image"]),
    ("text renamed .png", lambda d: _write(d / "t.png", b"hello\n" * 100), ["not an image"]),
    ("weights file renamed .png", lambda d: _write(d / "w.png", bundled_weights_path().read_bytes()), ["not an image"]),
    (
        "PNG cut after the header",
        lambda d: _write(d / "cut.png", _good_png(d)[:60]),
        ["cut.png", "truncated or damaged"],
    ),
    ("PNG with a damaged IDAT", lambda d: _write(d / "bad.png", _flip_idat(_good_png(d))), ["truncated or damaged"]),
    (
        "JPEG cut in half",
        lambda d: _write(d / "half.jpg", _jpeg_bytes()[: len(_jpeg_bytes()) // 2]),
        ["half.jpg", "truncated or damaged"],
    ),
    ("zero-width PNG", lambda d: _write(d / "zero.png", _png_header_only(0, 10)), ["zero.png"]),
    ("zero-size BMP", lambda d: _write(d / "zero.bmp", _bmp_header(0, 0)), ["zero.bmp"]),
    (
        "10000 x 10000 PNG of 30 kB (over our limit, under PIL's)",
        lambda d: _write(d / "bomb1.png", _png_header_only(10_000, 10_000)),
        ["bomb1.png", "10000 x 10000", "refused before decoding"],
    ),
    (
        "100000 x 100000 PNG (a decompression bomb PIL itself flags)",
        lambda d: _write(d / "bomb2.png", _png_header_only(100_000, 100_000)),
        ["bomb2.png", "refused before decoding"],
    ),
    (
        "a GIF claiming 65535 x 65535",
        lambda d: _write(d / "bomb3.gif", _gif_header(65535, 65535)),
        ["bomb3.gif", "refused before decoding"],
    ),
    ("a name too long for the file system", lambda d: d / ("x" * 5000 + ".png"), ["cannot be read"]),
]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _flip_idat(png: bytes) -> bytes:
    i = png.index(b"IDAT") + 4
    data = bytearray(png)
    for j in range(i + 2, i + 40):
        data[j] ^= 0x5A
    return bytes(data)


def _jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    _digit(size=(256, 256), width=20).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _bmp_header(w: int, h: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40, 0, 0, 14 + 40) + info


def _gif_header(w: int, h: int) -> bytes:
    screen = struct.pack("<HHBBB", w, h, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x02\x02\x44\x01\x00"
    return b"GIF89a" + screen + image + b"\x3b"


@pytest.mark.parametrize("name,build,words", REFUSED, ids=[r[0] for r in REFUSED])
def test_a_bad_image_file_gives_one_clear_sentence(tmp_path, monkeypatch, name, build, words):
    path = build(tmp_path)
    decoded = _decoded_spy(monkeypatch)
    with pytest.raises(ImageError) as info:
        open_image(path)
    msg = _assert_one_sentence(info.value)
    for w in words:
        assert w.lower() in msg.lower(), f"{w!r} not in {msg!r}"
    if "refused before decoding" in words:
        assert decoded == [], "pixel data was decoded before the size was checked"


def test_the_bomb_files_are_small_and_claim_far_more_than_the_limit(tmp_path):
    for w, h in [(10_000, 10_000), (100_000, 100_000)]:
        data = _png_header_only(w, h)
        assert len(data) < 100_000 and w * h > MAX_IMAGE_PIXELS
    assert 10_000 * 10_000 < 2 * Image.MAX_IMAGE_PIXELS  # so our own check, not PIL's, refuses it


def test_permission_denied_is_a_clear_sentence(tmp_path, monkeypatch):
    path = _save(_digit(), tmp_path / "locked.png")
    real_open = os.open

    def denying_open(file, *a, **k):  # as for a file without read permission (the tests run as root)
        if Path(str(file)) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *a, **k)

    monkeypatch.setattr(os, "open", denying_open)
    with pytest.raises(ImageError, match="locked.png cannot be read: permission denied"):
        open_image(path)


@pytest.mark.parametrize(
    "fmt,suffix", [("PNG", ".png"), ("JPEG", ".jpg"), ("BMP", ".bmp"), ("GIF", ".gif"), ("TIFF", ".tif")]
)
def test_a_truncated_image_is_refused_at_every_offset(tmp_path, fmt, suffix):
    full = _save(_digit(size=(200, 200), width=16), tmp_path / f"full{suffix}", format=fmt)
    data = full.read_bytes()
    open_image(full)
    offsets = sorted({*range(1, 64, 7), *range(64, len(data), max(1, len(data) // 40)), len(data) - 1})
    refused = 0
    for n in offsets:
        cut = _write(tmp_path / f"cut{suffix}", data[:n])
        try:
            with provoked_warnings(*PIL_DAMAGED_TIFF):  # a cut TIFF's EXIF is corrupt, and pillow says so
                im = open_image(cut)
        except ImageError as exc:
            _assert_one_sentence(exc)
            assert "cut" in str(exc)
            refused += 1
            continue
        # Some formats decode a cut file as a picture with missing rows; that is a picture.
        assert im.size[0] > 0 and im.size[1] > 0
    assert refused >= len(offsets) // 2, f"only {refused} of {len(offsets)} cuts were noticed"


# --------------------------------------------------------------------------- files that are read


@pytest.fixture(scope="module")
def reference(eng):
    pred = eng.predict_image(_digit())
    assert pred is not None
    return pred


def _variants():
    def palette(d):
        return _save(_digit().convert("P"), d / "p.png")

    def palette_transparent(d):
        im = _digit(ink=1, paper=0, mode="P")
        im.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)  # index 0 white (transparent), 1 black
        return _save(im, d / "pt.png", transparency=0)

    def sixteen_bit(d):
        arr = (np.asarray(_digit(), dtype=np.uint16) * 257).astype(np.uint16)
        return _save(Image.fromarray(arr), d / "16.png")

    def sixteen_bit_dark_on_light(d):
        arr = (np.asarray(_digit(ink=0, paper=255), dtype=np.uint16) * 257).astype(np.uint16)
        return _save(Image.fromarray(arr), d / "16dl.png")

    def rgba_transparent_black_ink(d):
        alpha = _digit()
        im = Image.merge("RGBA", [Image.new("L", alpha.size, 0)] * 3 + [alpha])
        return _save(im, d / "rgba_black.png")

    def rgba_transparent_white_ink(d):
        alpha = _digit()
        im = Image.merge("RGBA", [Image.new("L", alpha.size, 255)] * 3 + [alpha])
        return _save(im, d / "rgba_white.png")

    def rgba_opaque_with_rounded_corners(d):
        im = _digit(ink=0, paper=255).convert("RGBA")
        a = Image.new("L", im.size, 0)
        ImageDraw.Draw(a).rounded_rectangle((0, 0, im.width - 1, im.height - 1), radius=8, fill=255)
        im.putalpha(a)
        return _save(im, d / "rounded.png")

    def la(d):
        alpha = _digit()
        return _save(Image.merge("LA", [Image.new("L", alpha.size, 0), alpha]), d / "la.png")

    def rgb_dark_on_light(d):
        return _save(_digit(ink=(20, 20, 120), paper=(250, 245, 230), mode="RGB"), d / "paper.png")

    def one_bit(d):
        return _save(_digit().convert("1"), d / "mono.bmp")

    def cmyk_jpeg(d):
        return _save(_digit(size=(128, 128), width=10, ink=0, paper=255).convert("CMYK"), d / "cmyk.jpg", quality=95)

    def grey_jpeg(d):
        return _save(_digit(size=(128, 128), width=10), d / "grey.jpg", quality=95)

    def animated_gif(d):
        first = _digit().convert("P")
        second = Image.new("P", first.size, 0)
        return _save(first, d / "anim.gif", save_all=True, append_images=[second], duration=100)

    def tiff_float(d):
        return _save(_digit().convert("F"), d / "f.tif")

    def webp_lossless(d):
        return _save(_digit().convert("RGB"), d / "w.webp", lossless=True)

    def huge_photo(d):
        return _save(_digit(size=(6000, 4000), width=60, ink=0, paper=255), d / "huge.png", compress_level=1)

    def exif_rotated(d):
        upright = _digit(size=(64, 96), width=6)
        stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a sideways camera stores
        exif = Image.Exif()
        exif[0x0112] = 6  # orientation: rotate 90 clockwise to display
        return _save(stored, d / "rotated.jpg", exif=exif, quality=95)

    return [
        palette,
        palette_transparent,
        sixteen_bit,
        sixteen_bit_dark_on_light,
        rgba_transparent_black_ink,
        rgba_transparent_white_ink,
        rgba_opaque_with_rounded_corners,
        la,
        rgb_dark_on_light,
        one_bit,
        cmyk_jpeg,
        grey_jpeg,
        animated_gif,
        tiff_float,
        webp_lossless,
        huge_photo,
        exif_rotated,
    ]


VARIANTS = _variants()


@pytest.mark.parametrize("build", VARIANTS, ids=[v.__name__ for v in VARIANTS])
def test_every_kind_of_picture_reads_like_the_plain_greyscale_one(tmp_path, eng, reference, build):
    path = build(tmp_path)
    if path.suffix == ".webp" and "WEBP" not in Image.registered_extensions().values():
        pytest.skip("this pillow has no WebP support")
    im = open_image(path)
    pred = eng.predict_image(im)
    if build.__name__ == "exif_rotated":
        # a taller picture (a narrower 7, near where a 7 and a flagged 1 meet): compare it with
        # the same picture stored upright
        reference = eng.predict_image(_digit(size=(64, 96), width=6))
    assert pred is not None, f"{path.name} ({im.mode}) was read as having no ink"
    assert np.isfinite(pred.probabilities).all()
    assert pred.digit == reference.digit, f"{path.name} ({im.mode}): {pred.top(3)} vs {reference.top(3)}"
    tol = 0.15 if path.suffix == ".jpg" or build.__name__ in ("huge_photo", "exif_rotated") else 0.02
    assert np.allclose(pred.probabilities, reference.probabilities, atol=tol), (
        f"{path.name} ({im.mode}): {pred.top(3)} vs {reference.top(3)}"
    )


def test_exif_orientation_is_applied(tmp_path):
    path = [v for v in VARIANTS if v.__name__ == "exif_rotated"][0](tmp_path)
    with Image.open(path) as raw:
        assert raw.size == (96, 64)
    assert open_image(path).size == (64, 96)


def test_the_huge_photo_is_shrunk_before_it_is_turned_into_floats(eng, monkeypatch):
    """A 24-megapixel picture is box-reduced in PIL first, so its float copy stays small."""
    seen = []
    real = np.asarray

    def spy(a, *args, **kw):
        out = real(a, *args, **kw)
        seen.append(out.size)
        return out

    import lenet_draw.preprocess as pre

    big = _digit(size=(6000, 4000), width=60)
    monkeypatch.setattr(pre.np, "asarray", spy)
    ink = image_to_ink(big)
    monkeypatch.undo()
    assert max(ink.shape) <= pre.MAX_IMAGE_SIDE
    assert max(seen) <= pre.MAX_IMAGE_SIDE**2
    small = eng.predict_image(_digit(size=(600, 400), width=6))
    assert np.allclose(eng.predict_image(big).probabilities, small.probabilities, atol=0.05)


BLANK = [
    ("all black", lambda: Image.new("L", (64, 64), 0)),
    ("all white", lambda: Image.new("L", (64, 64), 255)),
    ("all mid grey", lambda: Image.new("L", (64, 64), 128)),
    ("all white RGB", lambda: Image.new("RGB", (640, 480), (255, 255, 255))),
    ("all black 16-bit", lambda: Image.new("I;16", (64, 64), 0)),
    ("all white 16-bit", lambda: Image.fromarray(np.full((64, 64), 65535, np.uint16))),
    ("fully transparent", lambda: Image.new("RGBA", (64, 64), (0, 0, 0, 0))),
    ("opaque black RGBA", lambda: Image.new("RGBA", (64, 64), (0, 0, 0, 255))),
    ("1 x 1", lambda: Image.new("L", (1, 1), 255)),
    ("0 x 0", lambda: Image.new("L", (0, 0))),
    ("0 x 7", lambda: Image.new("RGB", (0, 7))),
    ("faint noise", lambda: Image.fromarray(np.random.default_rng(0).integers(100, 103, (64, 64)).astype(np.uint8))),
]


@pytest.mark.parametrize("name,make", BLANK, ids=[b[0] for b in BLANK])
def test_a_picture_without_ink_gets_no_prediction(eng, name, make):
    assert eng.predict_image(make()) is None


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF"])
def test_blank_files_get_no_prediction_through_open_image(tmp_path, eng, fmt):
    for colour in (0, 255):
        path = _save(Image.new("L", (50, 50), colour), tmp_path / f"blank{colour}.{fmt.lower()}", format=fmt)
        assert eng.predict_image(open_image(path)) is None


ARRAYS = [
    ("empty", np.zeros((0, 0))),
    ("no channels", np.zeros((5, 5, 0))),
    ("1-D", np.arange(10.0)),
    ("4-D", np.ones((2, 2, 2, 2))),
    ("all NaN", np.full((20, 20), np.nan)),
    ("all +Inf", np.full((20, 20), np.inf)),
    ("negative", -np.eye(20)),
    ("bool", np.eye(20, dtype=bool)),
    ("int64 near the top", (np.eye(20) * 2**62).astype(np.int64)),
    ("uint16", (np.eye(20) * 65535).astype(np.uint16)),
    ("complex", np.eye(20).astype(complex)),
    ("two channels", np.dstack([np.eye(20), np.eye(20)])),
    ("RGBA uint8", np.dstack([np.eye(20) * 255] * 4).astype(np.uint8)),
    ("NaN on a diagonal", np.where(np.eye(20) > 0, np.nan, 0.0)),
    ("1e308 values", np.eye(20) * 1e308),
]


@pytest.mark.parametrize("name,arr", ARRAYS, ids=[a[0] for a in ARRAYS])
def test_odd_arrays_give_none_or_a_valid_prediction(eng, name, arr):
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = eng.predict_image(arr)
    if pred is not None:
        p = pred.probabilities
        assert np.isfinite(p).all() and abs(float(p.sum()) - 1.0) < 1e-4
        assert pred.stages.input.shape == (32, 32)
        assert 0.0 <= pred.stages.input.min() and pred.stages.input.max() <= 1.0
    if name in ("empty", "no channels", "1-D", "4-D", "all NaN", "all +Inf"):
        assert pred is None


# --------------------------------------------------------------------------- the command line


def test_cli_predict_reads_good_files_and_explains_bad_ones(tmp_path, capsys):
    good = _save(_digit(), tmp_path / "seven.png")
    bomb = _write(tmp_path / "bomb.png", _png_header_only(10_000, 10_000))
    cut = _write(tmp_path / "cut.png", good.read_bytes()[:70])
    blank = _save(Image.new("L", (40, 40), 255), tmp_path / "blank.png")
    status = cli.main(
        ["predict", str(good), str(bomb), str(cut), str(blank), str(tmp_path / "nope.png"), "--device", "cpu"]
    )
    out = capsys.readouterr().out.splitlines()
    assert status == 1
    assert len(out) == 5, out
    assert out[0].startswith(f"{good}: ") and "%" in out[0]
    assert out[1].startswith(f"{bomb}: ") and "refused before decoding" in out[1]
    assert out[2].startswith(f"{cut}: ") and "truncated or damaged" in out[2]
    assert out[3] == f"{blank}: no ink found, no prediction"
    assert "does not exist" in out[4]


# --------------------------------------------------------------------------- property tests

#: LENET_DRAW_FUZZ_EXAMPLES=5000 for a long run; the default keeps the suite quick.
_FUZZ = settings(
    max_examples=int(os.environ.get("LENET_DRAW_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def encoded() -> dict[str, bytes]:
    out = {}
    base = _digit(size=(48, 48), width=4)
    for fmt, im in [
        ("PNG", base),
        ("JPEG", base),
        ("GIF", base.convert("P")),
        ("BMP", base),
        ("TIFF", base),
        ("PNG16", Image.fromarray(np.asarray(base, np.uint16) * 257)),
    ]:
        buf = io.BytesIO()
        im.save(buf, fmt[:4] if fmt != "PNG16" else "PNG")
        out[fmt] = buf.getvalue()
    return out


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("imgfuzz")


@_FUZZ
@given(fmt=st.sampled_from(["PNG", "JPEG", "GIF", "BMP", "TIFF", "PNG16"]), data=st.data())
def test_fuzz_damaged_image_files_give_a_picture_or_an_image_error(eng, encoded, fuzz_dir, fmt, data):
    raw = bytearray(encoded[fmt])
    kind = data.draw(st.sampled_from(["flip", "truncate", "header"]))
    if kind == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        hi = min(len(raw), 64) if kind == "header" else len(raw)
        for _ in range(data.draw(st.integers(1, 6))):
            raw[data.draw(st.integers(0, hi - 1))] ^= data.draw(st.integers(1, 255))
    path = fuzz_dir / f"f.{fmt.lower()}"
    path.write_bytes(bytes(raw))
    try:
        with provoked_warnings(*PIL_DAMAGED_TIFF):
            im = open_image(path)
    except ImageError as exc:
        _assert_one_sentence(exc)
        return
    assert im.width * im.height <= MAX_IMAGE_PIXELS
    with provoked_warnings(*PIL_DAMAGED_TIFF):  # pillow reads the pixels only now
        pred = eng.predict_image(im)
    assert pred is None or np.isfinite(pred.probabilities).all()


def _cast(values: np.ndarray, dtype) -> np.ndarray:
    """NaN and infinities cast to integers as numpy casts them (the point of the test), quietly."""
    with np.errstate(invalid="ignore", over="ignore"):
        return values.astype(dtype)


@_FUZZ
@given(
    arr=st.integers(0, 3).flatmap(
        lambda nd: st.lists(st.integers(0, 12), min_size=nd, max_size=nd).flatmap(
            lambda shape: st.builds(
                lambda vals, dtype: _cast(np.resize(np.array(vals, dtype=np.float64), shape), dtype),
                st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=30),
                st.sampled_from([np.float32, np.float64, np.uint8, np.uint16, np.int32]),
            )
        )
    )
)
def test_fuzz_any_array_gives_none_or_a_valid_prediction(eng, arr):
    import warnings

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pred = eng.predict_image(arr)
        stages = preprocess_image(arr)
    assert (pred is None) == (stages is None)
    if pred is not None:
        assert np.isfinite(pred.probabilities).all()
        assert pred.stages.input.shape == (32, 32)
