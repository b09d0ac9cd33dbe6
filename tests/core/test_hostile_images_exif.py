"""EXIF orientation and memory: a large EXIF block costs nothing, every orientation still turns
the picture exactly as ``ImageOps.exif_transpose`` does, and a 64-megapixel picture opens with
only one full-size copy of it alive besides the reduction's.

``ImageOps.exif_transpose`` loaded the Exif, GPS and Interop IFDs of a block five times and wrote
it back: a 780 kB PNG (or WebP) of 65,000 EXIF entries, with those IFDs pointing back at IFD0,
took 4-5 s to open. ``open_image`` now reads the orientation from IFD0 alone and ignores blocks
over 64 kB (all a JPEG's APP1 segment holds), and TIFFs with more than 1,000 IFD0 entries.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import hostile
import numpy as np
import pytest
from hostile import load_in_child
from PIL import Image, ImageOps, TiffImagePlugin, TiffTags
from provoked import PIL_DAMAGED_TIFF, provoked_warnings

from lenet_draw import images
from lenet_draw.images import MAX_EXIF_BYTES, MAX_WEBP_PIXELS, ImageError, open_image
from lenet_draw.preprocess import shrink

ORIENTATION = 0x0112


def _chunk(cid: bytes, data: bytes = b"") -> bytes:
    return struct.pack(">I", len(data)) + cid + data + struct.pack(">I", zlib.crc32(cid + data) & 0xFFFFFFFF)


def _exif_with_entries(n: int, orientation: int = 6) -> bytes:
    """A little-endian TIFF header and IFD0 of ``n`` entries: the orientation, RATIONALs all
    pointing at the header, and Exif, GPS and Interop IFD pointers back at IFD0 itself."""
    ents = [struct.pack("<HHLL", ORIENTATION, 3, 1, orientation)]
    ents += [struct.pack("<HHLL", t, 5, 1, 0) for t in range(0x0200, 0x0200 + n - 4)]
    ents += [struct.pack("<HHLL", t, 4, 1, 8) for t in (0x8769, 0x8825, 0xA005)]
    ents.sort(key=lambda e: e[:2])
    return b"II*\0" + struct.pack("<L", 8) + struct.pack("<H", len(ents)) + b"".join(ents) + b"\0\0\0\0"


def _png_with_exif(path: Path, exif: bytes, size=(8, 4)) -> Path:
    w, h = size
    raw = b"".join(b"\x00" + bytes((x * 37 + y * 11) % 256 for x in range(w)) for y in range(h))
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    data = b"\x89PNG\r\n\x1a\n" + ihdr + _chunk(b"eXIf", exif) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND")
    path.write_bytes(data)
    return path


def _webp_with_exif(path: Path, exif: bytes, size=(8, 4)) -> Path:
    Image.new("RGB", size, "white").save(path, "WEBP", exif=exif, lossless=True)
    return path


@pytest.fixture
def no_exif_transpose(monkeypatch):
    """``exif_transpose`` and the loading of any IFD but IFD0 fail the test if reached."""

    def never(*a, **k):
        raise AssertionError("exif_transpose or a sub-IFD was reached")

    monkeypatch.setattr(ImageOps, "exif_transpose", never)
    monkeypatch.setattr(Image.Exif, "get_ifd", never)
    monkeypatch.setattr(Image.Exif, "_get_ifd_dict", never)


@pytest.mark.parametrize("make", [_png_with_exif, _webp_with_exif], ids=["png", "webp"])
def test_a_huge_exif_block_is_ignored_and_the_picture_opens_as_stored(tmp_path, no_exif_transpose, make):
    exif = _exif_with_entries(65_000)
    assert len(exif) > 10 * MAX_EXIF_BYTES
    path = make(tmp_path / f"big-exif.{make.__name__[1:5]}", exif)
    with Image.open(path) as im:
        assert len(im.info["exif"]) > MAX_EXIF_BYTES
    im = open_image(path)
    assert im.size == (8, 4)  # orientation 6 ignored: as stored, not turned to 4 x 8
    assert "exif" not in im.info


@pytest.mark.parametrize("make", [_png_with_exif, _webp_with_exif], ids=["png", "webp"])
def test_an_exif_block_just_under_64_kb_still_turns_the_picture_without_exif_transpose(
    tmp_path, no_exif_transpose, make
):
    exif = _exif_with_entries((MAX_EXIF_BYTES - 100) // 12)
    assert MAX_EXIF_BYTES - 200 < len(exif) + len(b"Exif\0\0") <= MAX_EXIF_BYTES
    im = open_image(make(tmp_path / f"exif.{make.__name__[1:5]}", exif))
    assert im.size == (4, 8)  # orientation 6: turned
    assert "exif" not in im.info  # and nothing left that could turn it again


def _noise(size, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def _save_oriented(path: Path, orientation: int, size=(23, 11)) -> Path:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    fmt = {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".tif": "TIFF"}[path.suffix]
    kwargs = {"quality": 95} if fmt == "JPEG" else {"lossless": True} if fmt == "WEBP" else {}
    _noise(size, orientation).save(path, fmt, exif=exif if fmt == "TIFF" else exif.tobytes(), **kwargs)
    return path


def _reference(path: Path) -> Image.Image:
    """What ``open_image`` returned before: ``shrink(exif_transpose(...))`` of the decoded file."""
    with Image.open(path) as im:
        if im.format == "JPEG":
            im.draft(im.mode, (2048, 2048))
        im.load()
        return shrink(ImageOps.exif_transpose(im))


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_turns_the_picture_exactly_as_exif_transpose(tmp_path, suffix, orientation):
    path = _save_oriented(tmp_path / f"o{orientation}{suffix}", orientation)
    with Image.open(path) as raw:
        assert raw.getexif().get(ORIENTATION) == orientation
    got, want = open_image(path), _reference(path)
    assert (got.mode, got.size) == (want.mode, want.size)
    assert got.tobytes() == want.tobytes()
    assert got.size == ((11, 23) if orientation >= 5 else (23, 11))


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif"])
@pytest.mark.parametrize("orientation", [1, 6, 7])
def test_a_large_oriented_picture_is_turned_and_reduced_as_before(tmp_path, suffix, orientation):
    path = _save_oriented(tmp_path / f"big{orientation}{suffix}", orientation, size=(2300, 1500))
    got, want = open_image(path), _reference(path)
    assert got.size == want.size == ((750, 1150) if orientation >= 5 else (1150, 750))
    assert got.tobytes() == want.tobytes()


def test_a_damaged_exif_block_keeps_the_picture_as_stored(tmp_path):
    for n, exif in enumerate([b"II*\0\xff\xff\xff\x7f", b"MM\0*\0\0\0\x08\xff\xff\x01\x12", b"\0" * 40]):
        with provoked_warnings(*PIL_DAMAGED_TIFF):  # pillow says the EXIF is corrupt
            im = open_image(_png_with_exif(tmp_path / f"bad{n}.png", exif))
        assert im.size == (8, 4)


def test_a_tiff_with_more_than_1000_first_ifd_entries_is_refused_before_decoding(tmp_path, monkeypatch):
    """Pillow's TIFF loader turns the picture itself, reading IFD0 again and the Exif, GPS and
    Interop IFDs: a TIFF cannot be taken as upright, so one with a huge IFD0 is refused."""
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[ORIENTATION] = 6
    for tag in range(0x1000, 0x1000 + images.MAX_TIFF_IFD0_ENTRIES):
        info[tag] = 1
        info.tagtype[tag] = TiffTags.SHORT
    path = tmp_path / "many-tags.tif"
    _noise((23, 11), 0).save(path, "TIFF", tiffinfo=info)
    with Image.open(path) as im:
        assert len(im.tag_v2) > images.MAX_TIFF_IFD0_ENTRIES

    def never(*a, **k):
        raise AssertionError("decoded")

    monkeypatch.setattr(TiffImagePlugin.TiffImageFile, "load", never)
    with pytest.raises(ImageError) as err:
        open_image(path)
    msg = str(err.value)
    assert "many-tags.tif" in msg and "TIFF" in msg and "tags" in msg and "\n" not in msg


def test_a_large_webp_is_refused_before_decoding_in_one_sentence(tmp_path, monkeypatch):
    path = tmp_path / "white.webp"
    Image.new("RGB", (6000, 6000), "white").save(path, "WEBP", lossless=True, method=0)
    assert 6000 * 6000 > MAX_WEBP_PIXELS

    def never(*a, **k):
        raise AssertionError("decoded")

    monkeypatch.setattr(Image.Image, "load", never)
    monkeypatch.setattr(Image.core, "new", never)
    with pytest.raises(ImageError) as err:
        open_image(path)
    msg = str(err.value)
    assert "white.webp" in msg and "WebP" in msg and "32 megapixels" in msg and "\n" not in msg


#: A 64-megapixel RGBA PNG needed 780 MB (about 880 MiB of address space in the child): the
#: decoded picture, a copy by exif_transpose and reduce's premultiplied copy, all alive at once.
#: Now the decoded picture and the premultiplied copy: about 650 MiB.
MEMORY_FOR_64_MP = 768 * 2**20


@pytest.fixture(scope="module")
def white_64_mp_png(tmp_path_factory) -> Path:
    w = h = 8000
    row = b"\x00" + b"\xff" * (4 * w)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(h)) + z.flush()
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
    path = tmp_path_factory.mktemp("white64") / "white64.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + ihdr + _chunk(b"IDAT", idat) + _chunk(b"IEND"))
    return path


def test_a_64_megapixel_rgba_png_opens_in_a_small_memory(white_64_mp_png, monkeypatch):
    assert white_64_mp_png.stat().st_size < 2**20
    monkeypatch.setattr(hostile, "CHILD_MEMORY", MEMORY_FOR_64_MP)
    result = load_in_child(white_64_mp_png, "image")
    assert result == {"outcome": "loaded"}, result


def test_the_64_megapixel_png_is_what_was_meant(white_64_mp_png):
    with Image.open(white_64_mp_png) as im:  # the header only: nothing decoded here
        assert (im.mode, im.size) == ("RGBA", (8000, 8000))


def test_the_big_exif_webp_really_holds_the_whole_block(tmp_path):
    path = _webp_with_exif(tmp_path / "x.webp", _exif_with_entries(65_000))
    with Image.open(path) as im:
        assert len(im.info["exif"]) > 700_000
