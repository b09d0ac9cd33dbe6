"""Small files that make pillow work for seconds in pure Python, refused from their structure.

``image_structure.check_structure`` reads only headers, chunk headers and a TIFF's first IFD, and
refuses with one sentence: plain PNM with comments in the pixel data (quadratic in pillow), long
PNM headers, large RLE BMPs, TIFF tiles far larger than the picture or millions of strips, PNGs
with many compressed ancillary chunks. Ordinary files written by pillow pass, and the file is
always left at position 0. (No timings here: the bounds' costs are in the module's comments.)
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, PngImagePlugin

from lenet_draw import images
from lenet_draw.errors import ImageError
from lenet_draw.image_structure import (
    MAX_BMP_RLE_BYTES,
    MAX_BMP_RLE_PIXELS,
    MAX_GIF_BLOCKS,
    MAX_PLAIN_PNM_BYTES,
    MAX_PLAIN_PNM_COMMENTS,
    MAX_PNG_COMPRESSED_TEXT,
    MAX_PNG_OTHER_CHUNKS,
    MAX_PNM_HEADER_BYTES,
    MAX_PYTHON_PNM_SAMPLES,
    MAX_TIFF_ENTRIES,
    MAX_TIFF_PIECES,
    check_structure,
)

SHORT, LONG, LONG8 = 3, 4, 16


def _check(data: bytes, name: str = "x.img") -> io.BytesIO:
    f = io.BytesIO(data)
    f.seek(len(data) // 2)  # anywhere: the check starts from the beginning itself
    check_structure(f, name)
    assert f.tell() == 0
    return f


def _refused(data: bytes, *words: str, name: str = "evil.img") -> str:
    f = io.BytesIO(data)
    with pytest.raises(ImageError) as caught:
        check_structure(f, name)
    assert f.tell() == 0
    msg = str(caught.value)
    assert msg.startswith(name) and msg.endswith(".") and msg.count(". ") == 0, msg
    for word in words:
        assert word in msg, msg
    return msg


def _pillow_would_open(data: bytes) -> None:
    """open_image hands this file to pillow: it is recognised, and its size passes the check."""
    with Image.open(io.BytesIO(data), formats=images.FORMATS) as im:
        assert 0 < im.width * im.height <= images.MAX_IMAGE_PIXELS


def _digit(mode: str = "L", size: tuple[int, int] = (64, 48)) -> Image.Image:
    im = Image.new("L", size, 255)
    ImageDraw.Draw(im).line([(10, 8), (50, 8), (25, 40)], fill=0, width=5)
    return im.convert(mode)


def _saved(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# PNM


def test_plain_pnm_comments_in_pixel_data_refused():
    data = b"P1 8 8\n" + b"#\n" * (MAX_PLAIN_PNM_COMMENTS + 1)
    _pillow_would_open(data)
    _refused(data, "comments", str(MAX_PLAIN_PNM_COMMENTS))
    _refused(b"P2 8 8 255\n" + b"0 #\n" * 5000, "comments")
    _refused(b"P3 8 8 255\n" + b"0 #x\r" * 5000, "comments")


def test_plain_pnm_too_large_refused():
    data = b"P2 2000 1000 255\n" + b"0 " * (MAX_PLAIN_PNM_BYTES // 2)
    _pillow_would_open(data)
    _refused(data, "plain", f"{MAX_PLAIN_PNM_BYTES:,} bytes")


@pytest.mark.parametrize(
    "data",
    [
        b"P5\n" + b" " * MAX_PNM_HEADER_BYTES + b"8 8 255\n" + bytes(64),
        b"P5\n#" + b"a" * MAX_PNM_HEADER_BYTES + b"\n8 8 255\n" + bytes(64),
        b"P5\n" + b"#\n" * (MAX_PNM_HEADER_BYTES // 2) + b"8 8 255\n" + bytes(64),
        b"P1 8\n" + b"\t" * MAX_PNM_HEADER_BYTES + b"8\n" + b"0" * 64,
    ],
)
def test_long_pnm_header_refused(data):
    _pillow_would_open(data)
    _refused(data, "header", "64 kB")


def test_binary_pnm_decoded_in_python_refused_when_large():
    side = int(MAX_PYTHON_PNM_SAMPLES**0.5) + 1
    data = b"P5 %d %d 1000\n" % (side, side)  # the pixels need not be there for the check
    _pillow_would_open(data)
    _refused(data, "maxval 1000")
    _refused(b"P6 600 600 65535\n", "maxval 65535")
    _check(b"P5 4000 4000 65535\n")  # read at C speed
    _check(b"P6 4000 4000 255\n")


@pytest.mark.parametrize("mode", ["1", "L", "RGB", "I"])
def test_pnm_written_by_pillow_accepted(mode):
    im = _digit(mode)
    _check(_saved(im, "PPM"))
    if mode != "I":
        _check(_saved(im, "PPM", plain=True))


def test_hand_written_pnm_with_header_comments_accepted():
    _check(b"P1\n# a comment\n3 2\n0 1 0\n1 0 1\n")
    _check(b"P2\n# made by hand\r\n3 2 # trailing\n15\n0 5 15\n15 5 0\n# one more\n")
    _check(b"P3 1 1 255 # rgb\n1 2 3\n")
    _check(b"P4\n#c\n8 1\n\x55")
    _check(b"P5 2 2\n# max\n255\n\0\0\0\0")
    _check(b"P6 1 1 255\n\0\0\0")
    _check(b"P5 2 2 100\n\0\0\0\0")  # decoded in Python, but tiny
    with Image.open(io.BytesIO(b"P2\n# made by hand\r\n3 2 # trailing\n15\n0 5 15\n15 5 0\n")) as im:
        assert im.size == (3, 2)


@pytest.mark.parametrize("data", [b"P5", b"P5 ", b"P5 8", b"P5 8 x 255\n", b"P7 8 8\n", b"P2 123456789012 1 1\n"])
def test_pnm_headers_it_cannot_parse_left_to_pillow(data):
    _check(data)


# --------------------------------------------------------------------------------------------
# BMP


def _bmp(w: int, h: int, bpp: int, comp: int, pixels: bytes, ncolors: int) -> bytes:
    pal = b"".join(bytes([i, i, i, 0]) for i in range(ncolors))
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, bpp, comp, len(pixels), 2835, 2835, ncolors, 0)
    off = 14 + len(info) + len(pal)
    return b"BM" + struct.pack("<IHHI", off + len(pixels), 0, 0, off) + info + pal + pixels


def test_large_rle_bmp_refused():
    side = int(MAX_BMP_RLE_PIXELS**0.5) + 1
    rle8 = _bmp(side, side, 8, 1, b"\x01\xff\x00\x00" * side + b"\x00\x01", 256)
    _pillow_would_open(rle8)
    _refused(rle8, "RLE8", "4 megapixels")
    rle4 = _bmp(side, -side, 4, 2, b"\xff\x12\x00\x00" * side + b"\x00\x01", 16)  # top-down
    _refused(rle4, "RLE4")


def test_rle_bmp_of_many_commands_refused():
    data = _bmp(255, 2, 8, 1, b"\xff\x01" + b"\x05\x05" * (MAX_BMP_RLE_BYTES // 2) + b"\x00\x01", 256)
    _pillow_would_open(data)
    _refused(data, "RLE8", "MB")


def test_bmp_accepted():
    for mode in ("1", "L", "P", "RGB", "RGBA"):
        _check(_saved(_digit(mode), "BMP"))
    rows = [bytes([5, 0, 3, 255]) + b"\x00\x00", bytes([8, 7]) + b"\x00\x00"]  # RLE8: runs, end of line
    small = _bmp(8, 2, 8, 1, b"".join(rows) + b"\x00\x01", 256)
    _check(small)
    with Image.open(io.BytesIO(small)) as im:
        im.load()
        assert im.size == (8, 2)
    _check(_bmp(64000, 1000, 8, 0, b"", 256))  # uncompressed: read at C speed, whatever the size
    _check(b"BM" + bytes(20))  # too short: pillow's to judge


# --------------------------------------------------------------------------------------------
# TIFF


def _tiff(tags: dict[int, tuple[int, list[int]]], payload: bytes, big: bool = False, order: str = "<") -> bytes:
    """A TIFF with one IFD (entries sorted), ``payload`` right after the header."""
    fmt = {3: "H", 4: "L", 16: "Q"}
    hdr = 16 if big else 8
    ifd = hdr + len(payload)
    ent, cnt, slot = (20, "Q", 8) if big else (12, "H", 4)
    ext_at = ifd + struct.calcsize(cnt) + len(tags) * ent + slot
    ext, ents = b"", b""
    for tag in sorted(tags):
        kind, vals = tags[tag]
        raw = struct.pack(f"{order}{len(vals)}{fmt[kind]}", *vals)
        if len(raw) <= slot:
            value = raw.ljust(slot, b"\0")
        else:
            value = struct.pack(order + ("Q" if big else "L"), ext_at + len(ext))
            ext += raw.ljust(len(raw) + len(raw) % 2, b"\0")
        ents += struct.pack(order + ("HHQ" if big else "HHL"), tag, kind, len(vals)) + value
    mark = b"II" if order == "<" else b"MM"
    head = mark + (struct.pack(order + "HHHQ", 43, 8, 0, ifd) if big else struct.pack(order + "HL", 42, ifd))
    return head + payload + struct.pack(order + cnt, len(tags)) + ents + b"\0" * slot + ext


def _big_tile(side: int, big: bool = False, order: str = "<", kind: int = LONG) -> bytes:
    tags = {256: (LONG, [64]), 257: (LONG, [64]), 258: (SHORT, [8]), 259: (SHORT, [8]), 262: (SHORT, [1])}
    tags |= {277: (SHORT, [1]), 322: (kind, [side]), 323: (kind, [side]), 324: (LONG, [16]), 325: (LONG, [8])}
    return _tiff(tags, bytes(8), big, order)


@pytest.mark.parametrize(("big", "order", "kind"), [(False, "<", LONG), (False, ">", SHORT), (True, "<", LONG8)])
def test_tile_far_larger_than_picture_refused(big, order, kind):
    data = _big_tile(8192, big, order, kind if not big else LONG8)
    if not big:
        _pillow_would_open(data)
    _refused(data, "tiles", "8192 x 8192")
    for side in (256, 512, 1024, 4096):  # over 64 x 64: a small crop saved with ordinary tiles
        _check(_big_tile(side, big, order, kind if not big else LONG8))


def test_tile_of_too_many_bytes_refused():
    tags = {256: (LONG, [8000]), 257: (LONG, [8000]), 258: (SHORT, [16, 16, 16, 16]), 259: (SHORT, [8])}
    tags |= {262: (SHORT, [2]), 277: (SHORT, [4]), 322: (LONG, [8192]), 323: (LONG, [8192])}
    tags |= {324: (LONG, [16]), 325: (LONG, [8]), 338: (SHORT, [2])}
    _refused(_tiff(tags, bytes(8)), "256 MB")  # 8192 x 8192 x 8 bytes: 512 MB, area under 4 x


@pytest.mark.parametrize(("tag", "word"), [(273, "strips"), (324, "tiles")])
@pytest.mark.parametrize("big", [False, True])
def test_too_many_strips_or_tiles_refused(tag, word, big):
    n = MAX_TIFF_PIECES + 1
    tags = {256: (LONG, [16]), 257: (LONG, [n]), 258: (SHORT, [8]), 259: (SHORT, [1]), 262: (SHORT, [1])}
    tags |= {277: (SHORT, [1]), tag: (LONG, [8] * n), tag + 1: (SHORT, [8] * n)}
    tags |= {278: (SHORT, [1])} if tag == 273 else {322: (SHORT, [16]), 323: (SHORT, [16])}
    _refused(_tiff(tags, bytes(8), big), word, str(n))


def test_too_many_ifd_entries_refused():
    n = MAX_TIFF_ENTRIES + 1
    entries = struct.pack("<HHQ8s", 40000, SHORT, 1, b"\1") * n
    data = b"II+\0" + struct.pack("<HHQ", 8, 0, 16) + struct.pack("<Q", n) + entries + bytes(8)
    _refused(data, "entries", str(n))


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"compression": "tiff_lzw"},
        {"compression": "tiff_deflate"},
        {"compression": "tiff_adobe_deflate", "tile": (16, 16)},
        {"tile": (256, 256)},
        {"compression": "group4"},
        {"big_tiff": True},
        {"big_tiff": True, "tile": (32, 32)},
    ],
)
def test_tiff_written_by_pillow_accepted(kw):
    mode = "1" if kw.get("compression") == "group4" else "L"
    try:
        data = _saved(_digit(mode), "TIFF", **kw)
    except (OSError, ValueError, TypeError) as exc:  # an option this pillow or libtiff lacks
        pytest.skip(str(exc))
    _check(data)
    if mode == "1":
        return
    for mode in ("RGB", "RGBA", "I;16", "CMYK"):
        _check(_saved(_digit(mode), "TIFF", **kw))


def test_multipage_tiff_accepted():
    pages = [_digit("L"), _digit("RGB", (300, 200)), _digit("1")]
    data = _saved(pages[0], "TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    _check(data)


def test_tiff_it_cannot_parse_left_to_pillow():
    _check(b"II*\0\xff\xff\xff\x7f")  # IFD past the end
    _check(b"MM\0*\0\0\0\x08\0\x05\0\0")  # entries cut short
    _check(b"II+\0")


# --------------------------------------------------------------------------------------------
# PNG


def _chunk(kind: bytes, data: bytes = b"") -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


_SIG = b"\x89PNG\r\n\x1a\n"
_IHDR = _chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
_IDAT = _chunk(b"IDAT", zlib.compress(b"".join(b"\0" + b"\xff" * 8 for _ in range(8))))
_IEND = _chunk(b"IEND")
_MEGA = zlib.compress(bytes(2**20), 9)


def _png(*middle: bytes, after: bytes = b"") -> bytes:
    return _SIG + _IHDR + b"".join(middle) + _IDAT + after + _IEND


def test_png_compressed_chunk_bombs_refused():
    iccp = _png(_chunk(b"iCCP", b"p\0\0" + _MEGA) * 2)
    _pillow_would_open(iccp)
    _refused(iccp, "ICC")
    ztxt = _png(_chunk(b"zTXt", b"\0\0" + _MEGA) * (MAX_PNG_COMPRESSED_TEXT + 1))
    _pillow_would_open(ztxt)
    _refused(ztxt, "compressed text", str(MAX_PNG_COMPRESSED_TEXT))
    itxt = _chunk(b"iTXt", b"k\0\1\0\0\0" + zlib.compress(b"\xff" * 2**20, 9))
    _refused(_png(after=itxt * (MAX_PNG_COMPRESSED_TEXT + 1)), "compressed text")  # after the picture


def test_png_of_many_small_chunks_refused():
    data = _png(_chunk(b"tEXt") * (MAX_PNG_OTHER_CHUNKS // 2), after=_chunk(b"abCd") * (MAX_PNG_OTHER_CHUNKS // 2))
    _pillow_would_open(data)
    _refused(data, "chunks", str(MAX_PNG_OTHER_CHUNKS))


def test_png_of_too_many_chunks_refused(monkeypatch):
    from lenet_draw import image_structure

    monkeypatch.setattr(image_structure, "MAX_PNG_CHUNKS", 1000)  # the real bound needs 3 MB
    z = zlib.compress(b"".join(b"\0" + b"\xff" * 8 for _ in range(8)))
    data = _SIG + _IHDR + _chunk(b"IDAT", z[:1]) + _chunk(b"IDAT") * 1000 + _chunk(b"IDAT", z[1:]) + _IEND
    _refused(data, "more than 1000 chunks")


def test_png_written_by_pillow_accepted():
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "digit")
    info.add_text("Comment", "x" * 5000, zip=True)
    info.add_itxt("Author", "Zoë", lang="en", tkey="Autor", zip=True)
    info.add_itxt("Note", "plain")
    for mode in ("1", "L", "P", "RGB", "RGBA", "I;16"):
        _check(_saved(_digit(mode), "PNG", pnginfo=info))
    icc = b"\0" * 128 + b"acsp" + bytes(200)
    _check(_saved(_digit("RGB"), "PNG", icc_profile=icc, pnginfo=info))
    frames = [_digit("RGB"), _digit("RGB").rotate(90), _digit("RGB").rotate(180)]
    apng = _saved(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)
    _check(apng)
    _check(_png(_chunk(b"zTXt", b"k\0\0" + _MEGA) * MAX_PNG_COMPRESSED_TEXT, _chunk(b"iCCP", b"p\0\0" + _MEGA)))
    _check(_SIG + _IHDR + _IDAT)  # no IEND: pillow's to judge
    _check(_SIG + _IHDR[:5])


def test_many_idat_chunks_accepted():
    z = zlib.compress(b"".join(b"\0" + b"\xff" * 8 for _ in range(8)))
    _check(_SIG + _IHDR + b"".join(_chunk(b"IDAT", z[i : i + 1]) for i in range(len(z))) + _IEND)


def test_other_formats_left_alone():
    for fmt in ("GIF", "JPEG", "WEBP"):
        try:
            _check(_saved(_digit("RGB"), fmt))
        except KeyError:  # pragma: no cover - a pillow built without it
            continue
    _check(b"")
    _check(b"not an image at all")


def test_opening_such_a_file_gives_the_sentence_before_pillow_reads_it(tmp_path, monkeypatch):
    """``open_image`` asks ``check_structure`` first: pillow never sees a refused file, and the
    person (the window's dialog, ``predict``) gets the sentence."""
    side = int(MAX_BMP_RLE_PIXELS**0.5) + 1
    files = {
        "rle.bmp": _bmp(side, side, 8, 1, b"\x01\xff\x00\x00" * side + b"\x00\x01", 256),
        "icc.png": _png(_chunk(b"iCCP", b"p\0\0" + _MEGA) * 2),
        "tile.tif": _big_tile(8192),
    }
    monkeypatch.setattr(images.Image, "open", lambda *a, **k: pytest.fail("pillow was asked to open it"))
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ImageError, match=f"^{name} "):
            images.open_image(path)


def _gif_with(extensions: bytes) -> bytes:
    """A small GIF of a digit with ``extensions`` spliced in before its picture."""
    gif = _saved(_digit("P"), "GIF")
    palette = (3 << ((gif[10] & 7) + 1)) if gif[10] & 0x80 else 0
    return gif[: 13 + palette] + extensions + gif[13 + palette :]


def test_gif_of_too_many_extension_blocks_refused():
    """Pillow keeps a comment's sub-blocks as objects of about 50 bytes: 4 MB of 1-byte ones held 200 MB."""
    comment = b"\x21\xfe" + b"\x01a" * MAX_GIF_BLOCKS + b"\x00"
    _pillow_would_open(_gif_with(comment))
    _refused(_gif_with(comment), "GIF", "extension blocks")
    _refused(_gif_with(b"\x21\xfe\x00" * (MAX_GIF_BLOCKS + 1)), "GIF", "extension blocks")  # empty comments


def test_gif_written_by_pillow_accepted():
    frames = [_digit("P"), _digit("P").rotate(90)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], comment=b"a digit", loop=0, duration=100)
    _check(buf.getvalue())
    _check(_gif_with(b"\x21\xfe" + b"\xff" + b"x" * 255 + b"\x05hello\x00"))  # a long comment
    _check(_gif_with(b"\x21\xfe" + b"\x01a" * (MAX_GIF_BLOCKS - 2) + b"\x00"))  # at the bound
    _check(b"GIF89a\x01\x00")  # cut short: pillow's to judge


def test_uncompressed_itxt_chunks_are_not_compressed_text():
    """pillow writes iTXt uncompressed by default: dozens of them inflate nothing."""
    info = PngImagePlugin.PngInfo()
    for i in range(MAX_PNG_COMPRESSED_TEXT + 8):
        info.add_itxt(f"key{i}", "some text " * 20)
    _check(_saved(_digit(), "PNG", pnginfo=info))


@pytest.mark.parametrize("offset", [2**62, 2**63, 2**64 - 1])
def test_a_bigtiff_pointing_past_any_file_is_left_to_pillow(offset, tmp_path):
    """An IFD offset no file reaches is damage for pillow to name, not a crash of the check."""
    data = b"II+\0" + struct.pack("<HHQ", 8, 0, offset)
    _check(data)
    path = tmp_path / "far.tif"
    path.write_bytes(data)
    with pytest.raises(ImageError, match="^far.tif "):
        images.open_image(path)


def test_a_plain_pgm_of_640_by_480_opens():
    """GIMP's ASCII PGM of a 640 x 480 picture is about 1 MB."""
    buf = io.BytesIO()
    _digit("L", (640, 480)).save(buf, "PPM", bits=8)  # binary; written as plain below
    pixels = np.asarray(Image.open(buf))
    text = b"P2\n# CREATOR: GIMP PNM Filter Version 1.1\n640 480\n255\n" + b"\n".join(
        b" ".join(b"%d" % v for v in row) for row in pixels
    )
    assert len(text) > 2**20
    _check(text)
