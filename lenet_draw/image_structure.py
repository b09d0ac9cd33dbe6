"""Reading an image file's structure before pillow does, to refuse small files that would take it
seconds or minutes of pure-Python work to open.

``check_structure(f, name)`` recognises JPEG, PNM (PBM/PGM/PPM), BMP, TIFF, PNG and GIF from their
first bytes and reads only their structure: markers, headers, chunk headers, the entries of a
TIFF's first IFD. It
raises ``ImageError`` with one sentence naming the file when a bound below is passed, and otherwise
returns with ``f`` at position 0. Anything it cannot make sense of (a damaged or truncated header,
another format) is left to pillow, which gives its own answer: no ordinary image is refused here.

The files it stops, each a few MB at most, and what pillow 13 did with them:

* JPEG made of thousands of scans: a progressive JPEG is made of scans, libjpeg sets no limit on
  their number, and each makes the decoder go over every block of the picture again (one 95-byte
  scan repeated 5,000 times in an 8000 x 8000 JPEG of 726 kB: 33 s); also headers of countless
  segments or stray bytes, which pillow reads one Python step at a time (``_walk_jpeg``);
* plain (ASCII) PBM/PGM/PPM with ``#`` comments in the pixel data: pillow deletes each comment by
  copying the rest of its 1 MB block, so the cost is quadratic (1 MB of ``#\\n``: 12.9 s); pillow
  also reads the header one byte at a time (0.33 s a MB of whitespace or comments), and decodes
  plain pixel data and binary data whose maxval is not 255 one sample at a time in Python;
* BMP compressed with RLE8/RLE4: pillow's RLE decoder is Python, one step per pixel (an
  8000 x 8000 RLE8 of 33 kB: 10 s);
* TIFF whose tile is far larger than the picture (a 64 x 64 picture with one 46336 x 46336 tile,
  2.1 MB: 7.5 s and 2 GB), or with a million strips or tiles (4 MB: 10 s and 353 MB, spent inside
  ``Image.open`` already), or a BigTIFF IFD of hundreds of thousands of entries;
* PNG with thousands of compressed ancillary chunks (iCCP, zTXt, iTXt), each inflating to 1 MB
  (pillow caps each chunk but not their number; 4.2 MB: 10-19 s), or hundreds of thousands of
  tiny chunks, which pillow reads one by one in Python.

Pure Python and the standard library: no Qt, no torch, no pillow.
"""

from __future__ import annotations

import errno
import re
import struct
from typing import BinaryIO, NamedTuple

from lenet_draw.errors import ImageError

# --------------------------------------------------------------------------------------------
# PNM (PBM, PGM, PPM and pillow's extensions)

#: Magic numbers pillow reads as PNM (``PpmImagePlugin.MODES``), with their number of bands.
_PNM_BANDS = {b"P1": 1, b"P2": 1, b"P3": 3, b"P4": 1, b"P5": 1, b"P6": 3, b"Pf": 1}
_PNM_PLAIN = (b"P1", b"P2", b"P3")
#: A PNM header (magic, width, height, maxval, with the whitespace and comments between) longer
#: than this is refused: pillow reads it one byte at a time in Python (0.33 s a MB), and a real
#: header is a few dozen bytes, a few hundred with a comment.
MAX_PNM_HEADER_BYTES = 64 * 1024
#: Plain (ASCII) PNM files larger than this are refused: pillow turns their pixel data into
#: samples one token at a time in Python (about 0.3 s a MB), and at 3.5-4 bytes a grey pixel this
#: holds a 1000 x 1000 grey picture; larger pictures are written in the binary variants (P4-P6),
#: which pillow reads at C speed.
MAX_PLAIN_PNM_BYTES = 4 * 1024 * 1024
#: Plain PNM files with more comments than this in their pixel data are refused: pillow deletes
#: each by copying the rest of its 1 MB block (1 MB of tiny comments took 12.9 s). The format puts
#: comments only in the header; a handful inside the data costs nothing.
MAX_PLAIN_PNM_COMMENTS = 100
#: Binary PGM/PPM (P5/P6) whose maxval pillow does not read at C speed (anything but 255, and
#: 65535 for grey) are decoded one sample at a time in Python (about 1 s per million samples:
#: 1 million 16-bit grey ones took 1.3 s); pictures with more samples than this are refused.
MAX_PYTHON_PNM_SAMPLES = 800_000
_PNM_WHITESPACE = b" \t\n\x0b\x0c\r"
_LINE_END = re.compile(rb"[\r\n]")


def _pnm_header(f: BinaryIO, name: str, magic: bytes) -> tuple[list[int], int] | None:
    """The numbers after the magic of a PNM header and the offset just after the last one, read
    as pillow reads them (tokens of at most 10 characters, ``#`` to end of line skipped), or None
    where pillow would refuse the header itself. Raises ImageError past MAX_PNM_HEADER_BYTES."""
    wanted = 2 if magic in (b"P1", b"P4") else 3  # width, height, and maxval (Pf: scale)
    f.seek(0)
    head = f.read(MAX_PNM_HEADER_BYTES + 1)
    i = len(magic)
    if i >= len(head) or head[i] not in _PNM_WHITESPACE:
        return None
    values: list[int] = []
    while len(values) < wanted:
        while i < len(head) and (head[i] in _PNM_WHITESPACE or head[i] == 0x23):
            if head[i] == 0x23:  # a comment, to the end of its line
                end = _LINE_END.search(head, i)
                i = end.start() if end else len(head)
            i += 1
        start = i
        while i < len(head) and i - start <= 10 and head[i] not in _PNM_WHITESPACE and head[i] != 0x23:
            i += 1
        if i > MAX_PNM_HEADER_BYTES:
            raise ImageError(
                f"{name} is a PBM/PGM/PPM file whose header runs past {MAX_PNM_HEADER_BYTES // 1024} kB; "
                "lenet-draw reads headers of at most that (a real one is a few dozen bytes)."
            )
        token = head[start:i]
        if not token or len(token) > 10:
            return None
        try:
            values.append(int(token) if magic != b"Pf" or len(values) < 2 else 1)
        except ValueError:
            return None
    return values, i


def _check_pnm(f: BinaryIO, name: str, magic: bytes, size: int) -> None:
    parsed = _pnm_header(f, name, magic)
    if parsed is None:
        return
    values, end = parsed
    if magic in _PNM_PLAIN:
        if size > MAX_PLAIN_PNM_BYTES:
            raise ImageError(
                f"{name} is a plain (ASCII) PBM/PGM/PPM file of {size:,} bytes; lenet-draw reads plain ones "
                f"of at most {MAX_PLAIN_PNM_BYTES:,} bytes (save larger pictures as binary PNM or PNG)."
            )
        f.seek(end)
        comments = f.read(MAX_PLAIN_PNM_BYTES).count(b"#")
        if comments > MAX_PLAIN_PNM_COMMENTS:
            raise ImageError(
                f"{name} is a plain PBM/PGM/PPM file with {comments} comments inside its pixel data; "
                f"lenet-draw reads at most {MAX_PLAIN_PNM_COMMENTS} (the format puts comments in the header)."
            )
    elif magic in (b"P5", b"P6"):
        width, height, maxval = values
        if maxval == 255 or (maxval == 65535 and magic == b"P5") or not 0 < maxval < 65536:
            return
        samples = width * height * _PNM_BANDS[magic]
        if samples > MAX_PYTHON_PNM_SAMPLES:
            raise ImageError(
                f"{name} is a {width} x {height} PGM/PPM file with maxval {maxval}, which is decoded one "
                f"value at a time; lenet-draw reads such files of at most {MAX_PYTHON_PNM_SAMPLES:,} values "
                "(save it with maxval 255, or as PNG)."
            )


# --------------------------------------------------------------------------------------------
# BMP

#: BMPs compressed with RLE8 or RLE4 with more pixels than this are refused: pillow decodes them
#: in Python, padding short rows pixel by pixel (an 8000 x 8000 RLE8 of 33 kB took 10 s; 4
#: megapixels take 0.7 s). RLE is rare, and used for small palette pictures.
MAX_BMP_RLE_PIXELS = 4_000_000
#: RLE BMPs larger than this are refused too: the decoder takes a Python step for each 2-byte
#: command, even one that draws nothing (2 MB of them: 0.7 s). Real RLE data is a fraction of
#: the picture's pixel count, as each command draws up to 255 pixels.
MAX_BMP_RLE_BYTES = 2**20
_BMP_RLE = {1: "RLE8", 2: "RLE4"}


def _check_bmp(f: BinaryIO, name: str, size: int) -> None:
    f.seek(0)
    head = f.read(34)
    if len(head) < 34 or struct.unpack_from("<I", head, 14)[0] < 40:  # OS/2 headers have no RLE
        return
    width, height, _planes, _bits, compression = struct.unpack_from("<iiHHI", head, 18)
    pixels = abs(width) * abs(height)
    if compression in _BMP_RLE and pixels > MAX_BMP_RLE_PIXELS:
        raise ImageError(
            f"{name} is a {abs(width)} x {abs(height)} BMP compressed with {_BMP_RLE[compression]}, which is "
            f"decoded one pixel at a time; lenet-draw reads such BMPs of at most {MAX_BMP_RLE_PIXELS / 1e6:.0f} "
            "megapixels (save it uncompressed, or as PNG)."
        )
    if compression in _BMP_RLE and size > MAX_BMP_RLE_BYTES:
        raise ImageError(
            f"{name} is a BMP compressed with {_BMP_RLE[compression]} of {size / 2**20:.1f} MB, which is "
            f"decoded one step at a time; lenet-draw reads such BMPs of at most {MAX_BMP_RLE_BYTES // 2**20} MB "
            "(save it uncompressed, or as PNG)."
        )


# --------------------------------------------------------------------------------------------
# TIFF

#: TIFFs whose first IFD has more entries than this are refused: pillow reads each in Python, and
#: a real IFD has a few dozen (a BigTIFF IFD may claim billions).
MAX_TIFF_ENTRIES = 10_000
#: TIFFs with more strips or tiles than this are refused: pillow builds a list of them inside
#: ``Image.open`` and libtiff reads each (a million 1-row strips of 4 MB: 10 s and 353 MB). A
#: 64-megapixel picture with one row per strip has at most 64,000 rows.
MAX_TIFF_PIECES = 65_536
#: TIFFs whose tile is larger than this many times the picture (and larger than 256 x 256) are
#: refused: libtiff decodes every whole tile (a 64 x 64 picture in one 46336 x 46336 tile of
#: 2.1 MB: 7.5 s and 2 GB). Real tiles are 16 to 1024 pixels a side, whatever the picture's size
#: (a small crop saved with 512 or 1024 tiles is ordinary); one of 4096 x 4096 decodes in ~60 ms.
MAX_TILE_TO_IMAGE = 4
_MIN_TILE_LIMIT = 4096 * 4096
#: ...and so are tiles that decode to more bytes than this, however large the picture.
MAX_TILE_BYTES = 256 * 2**20
_TIFF_VALUES = {1: ("B", 1), 3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}  # BYTE, SHORT, LONG, LONG8
_TIFF_WANTED = (256, 257, 258, 277, 322, 323)  # width, length, bits/sample, samples/pixel, tile w, h
_TIFF_PIECES = {273: "strips", 324: "tiles"}


def _check_tiff(f: BinaryIO, name: str, head: bytes) -> None:
    order = "<" if head[:2] == b"II" else ">"
    big = head[2:4] == (b"+\0" if order == "<" else b"\0+")
    f.seek(0)
    header = f.read(16)
    if big:
        if len(header) < 16:
            return
        ifd = struct.unpack_from(order + "Q", header, 8)[0]
        count_fmt, entry_fmt, slot = "Q", "HHQ", 8
    else:
        if len(header) < 8:
            return
        ifd = struct.unpack_from(order + "I", header, 4)[0]
        count_fmt, entry_fmt, slot = "H", "HHI", 4
    f.seek(ifd)
    raw = f.read(struct.calcsize(count_fmt))
    if len(raw) < struct.calcsize(count_fmt):
        return
    entries = struct.unpack(order + count_fmt, raw)[0]
    if entries > MAX_TIFF_ENTRIES:
        raise ImageError(
            f"{name} is a TIFF whose first directory has {entries} entries; lenet-draw reads at most "
            f"{MAX_TIFF_ENTRIES} (a picture has a few dozen)."
        )
    size = struct.calcsize("<" + entry_fmt) + slot
    table = f.read(entries * size)
    values: dict[int, int] = {}
    for k in range(len(table) // size):
        tag, kind, count = struct.unpack_from(order + entry_fmt, table, k * size)
        if tag in _TIFF_PIECES and count > MAX_TIFF_PIECES:
            raise ImageError(
                f"{name} is a TIFF made of {count} {_TIFF_PIECES[tag]}; lenet-draw reads at most "
                f"{MAX_TIFF_PIECES} (a picture has at most a few thousand)."
            )
        if tag not in _TIFF_WANTED or kind not in _TIFF_VALUES or count < 1:
            continue
        code, width = _TIFF_VALUES[kind]
        at = k * size + struct.calcsize("<" + entry_fmt)
        if count * width > slot:  # the values lie elsewhere: read the first
            f.seek(struct.unpack_from(order + ("Q" if big else "I"), table, at)[0])
            first = f.read(width)
            if len(first) < width:
                continue
            values[tag] = struct.unpack(order + code, first)[0]
        else:
            values[tag] = struct.unpack_from(order + code, table, at)[0]
    tile_w, tile_h = values.get(322, 0), values.get(323, 0)
    if not tile_w or not tile_h:
        return
    area = values.get(256, 0) * values.get(257, 0)
    tile = tile_w * tile_h
    tile_bytes = tile * max(1, values.get(277, 1)) * max(1, values.get(258, 1)) // 8
    if tile > max(MAX_TILE_TO_IMAGE * area, _MIN_TILE_LIMIT) or tile_bytes > MAX_TILE_BYTES:
        raise ImageError(
            f"{name} is a TIFF whose tiles are {tile_w} x {tile_h} pixels, far larger than its picture; "
            f"lenet-draw reads tiles of at most {MAX_TILE_TO_IMAGE} times the picture and "
            f"{MAX_TILE_BYTES // 2**20} MB."
        )


# --------------------------------------------------------------------------------------------
# PNG

#: PNGs with more chunks than this are refused, and the walk stops there: each chunk is a step in
#: Python for pillow (and for the walk). Real encoders split the picture into IDAT chunks of 8 to
#: 64 kB, so even a 512 MB PNG has fewer than 70,000 (333,000 empty IDAT chunks took 1.2 s).
MAX_PNG_CHUNKS = 250_000
#: PNGs with more chunks than this other than picture data (IDAT, and an APNG's fdAT and fcTL)
#: are refused: pillow reads each in Python (0.37 s a MB of empty ones). A real PNG has a dozen.
MAX_PNG_OTHER_CHUNKS = 10_000
#: PNGs with more than this many compressed text chunks (zTXt, and iTXt flagged compressed) are refused: pillow
#: inflates each, up to 1 MB, and counts only some against its own limit (4,000 took 10-19 s).
MAX_PNG_COMPRESSED_TEXT = 32
#: PNGs with more ICC profiles (iCCP) than this are refused: the format allows one, and pillow
#: inflates each, up to 1 MB.
MAX_PNG_ICC = 1
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DATA = (b"IDAT", b"fdAT", b"fcTL")
#: The walk reads the file this much at a time.
_PNG_CHUNK = 2**20


def _compressed_itxt(f: BinaryIO, start: int, length: int) -> bool:
    """Whether the iTXt chunk whose data begins at ``start`` is compressed: its flag follows the
    keyword (1-79 bytes) and its NUL. An uncompressed one costs pillow no inflating."""
    f.seek(start)
    head = f.read(min(length, 81))
    nul = head.find(b"\0")
    return 0 <= nul < len(head) - 1 and head[nul + 1] == 1


def _check_png(f: BinaryIO, name: str) -> None:
    chunks = other = text = icc = 0
    pos = len(_PNG_SIGNATURE)  # absolute offset of the next chunk header
    base, buf = 0, b""
    while True:
        at = pos - base
        if at < 0 or at + 8 > len(buf):
            f.seek(pos)
            base, buf, at = pos, f.read(_PNG_CHUNK), 0
            if len(buf) < 8:  # the file ends (without IEND: truncated, pillow's to judge)
                return
        length, kind = struct.unpack_from(">I4s", buf, at)
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise ImageError(
                f"{name} is a PNG of more than {MAX_PNG_CHUNKS} chunks; lenet-draw reads at most that "
                "(a picture has at most a few thousand)."
            )
        if kind == b"IEND":
            return
        if kind not in _PNG_DATA:
            other += 1
            text += kind == b"zTXt" or (kind == b"iTXt" and _compressed_itxt(f, base + at + 8, length))
            icc += kind == b"iCCP"
            if other > MAX_PNG_OTHER_CHUNKS:
                raise ImageError(
                    f"{name} is a PNG with more than {MAX_PNG_OTHER_CHUNKS} chunks besides its picture data; "
                    "lenet-draw reads at most that (a picture has a dozen)."
                )
            if text > MAX_PNG_COMPRESSED_TEXT:
                raise ImageError(
                    f"{name} is a PNG with more than {MAX_PNG_COMPRESSED_TEXT} compressed text chunks; "
                    "lenet-draw reads at most that, as each can inflate to a megabyte."
                )
            if icc > MAX_PNG_ICC:
                raise ImageError(
                    f"{name} is a PNG with more than one ICC colour profile; the format allows one, "
                    "and lenet-draw reads no more."
                )
        pos = base + at + 12 + length  # length, type, data, CRC


# --------------------------------------------------------------------------------------------
# GIF

#: Extension blocks and their sub-blocks before a GIF's first picture, at most. Pillow keeps a
#: comment's sub-blocks as Python objects of about 50 bytes each, so a 4 MB comment of 1-byte
#: sub-blocks held 200 MB, and the 512 MB file limit would allow gigabytes. A GIF has a handful
#: (an XMP packet, written as sub-blocks of whatever length its bytes spell, a few thousand).
MAX_GIF_BLOCKS = 100_000
_GIF_EXTENSION = 0x21


def _check_gif(f: BinaryIO, name: str) -> None:
    """Walk a GIF's blocks up to its first picture (the only one decoded), counting extension
    blocks and sub-blocks; anything else (a damaged header, the picture) is pillow's to judge."""
    f.seek(0)
    head = f.read(13)
    if len(head) < 13:
        return
    pos = 13 + ((3 << ((head[10] & 7) + 1)) if head[10] & 0x80 else 0)  # after the global palette
    base, buf, blocks = 0, b"", 0
    in_extension = False
    while True:
        at = pos - base
        if at < 0 or at + 2 > len(buf):
            f.seek(pos)
            base, buf, at = pos, f.read(_PNG_CHUNK), 0
            if len(buf) < 2:
                return
        if not in_extension:
            if buf[at] != _GIF_EXTENSION:
                return  # the first picture, the trailer, or damage
            in_extension, pos = True, pos + 2  # introducer and label
            continue
        blocks += 1
        if blocks > MAX_GIF_BLOCKS:
            raise ImageError(
                f"{name} is a GIF with more than {MAX_GIF_BLOCKS:,} extension blocks before its picture; "
                "lenet-draw reads at most that (a picture has a handful)."
            )
        size = buf[at]
        in_extension = size != 0
        pos += 1 + size


# --------------------------------------------------------------------------------------------
# JPEG

#: JPEGs made of more scans than this are refused before decoding: a baseline JPEG has one, an
#: ordinary progressive one about 10 (CMYK 18, mozjpeg's a few more), and each scan costs a pass over
#: every block of the picture (about 6.5 ms for 8000 x 8000), so the bound keeps that under a second.
MAX_JPEG_SCANS = 100
#: JPEGs with more marker segments than this are refused (an ordinary one has a few dozen; even a
#: 255-part ICC profile and a large XMP block stay far below). It keeps the walk short, and pillow
#: reads the segments before the first scan one by one in Python (about 6 ms a thousand).
MAX_JPEG_MARKERS = 10_000
#: JPEGs with more bytes than this outside any marker segment before the first scan (stray bytes,
#: which libjpeg skips) are refused: pillow skips them one byte at a time in Python (0.2 s a MB).
MAX_JPEG_STRAY_BYTES = 2**20

#: The first bytes of every JPEG (pillow opens a file as JPEG exactly when it starts so).
_JPEG_START = b"\xff\xd8\xff"
#: The walk reads the file this much at a time.
_JPEG_CHUNK = 2**20
#: 0xFF then a marker code: neither a stuffed zero (0xFF00), nor a fill byte (0xFF, padding before
#: a marker), nor a restart marker RST0-7 (0xD0-0xD7, which sits inside entropy-coded data).
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xff\xd0-\xd7]")
#: The same test by table, for chunks dense with 0xFF: each byte becomes 0xFF, 0 (not a marker
#: code) or 1, and ``bytes.find`` looks for 0xFF 0x01. The regular expression takes 0.05 s per
#: 64 MB of ordinary entropy-coded data but 1 s for 64 MB of 0xFF; the table 0.2-0.3 s for either.
_JPEG_CODE_TABLE = bytes(0xFF if b == 0xFF else 0 if b == 0 or 0xD0 <= b <= 0xD7 else 1 for b in range(256))
#: A chunk is searched by table when more than 1/2**_JPEG_DENSE_SHIFT of its bytes are 0xFF.
_JPEG_DENSE_SHIFT = 5
#: Marker codes with no length field after them: TEM and SOI.
_JPEG_STANDALONE = (0x01, 0xD8)
_JPEG_EOI, _JPEG_SOS = 0xD9, 0xDA


class _JpegWalk(NamedTuple):
    scans: int  # SOS markers of the main image (up to its EOI)
    markers: int  # marker segments, SOI and EOI aside
    stray: int  # bytes before the first scan outside any marker segment
    cut: bool  # the walk stopped at MAX_JPEG_MARKERS or MAX_JPEG_STRAY_BYTES


def _walk_jpeg(f: BinaryIO) -> _JpegWalk:
    """Count the scans of the JPEG in ``f`` from its marker segments, decoding nothing.

    After SOI, each marker is 0xFF and a code (any 0xFF before it is fill); all but SOI, EOI, TEM
    and RST0-7 carry a 2-byte length, which the walk skips. An SOS segment is followed by
    entropy-coded data, where 0xFF is stuffed as 0xFF00 and RST0-7 markers sit between restart
    intervals; that data runs up to the next other marker, so the walk goes on from the SOS header
    to the next 0xFF followed by a marker code, found by ``bytes.find`` or a regular expression
    over chunks of the file: a single linear pass, 0.05 s for a 47 MB photo, 0.3 s at worst for 64
    MB (all 0xFF), and a few ms for a small file however many scans it holds. The main image ends at
    EOI (anything after it, like the second picture of an MPO, is never decoded); an EXIF thumbnail
    lies inside its APP1 segment. Like libjpeg, the walk skips stray bytes between segments and
    stops without complaint where the file ends: a damaged or truncated file is pillow's to judge,
    so an ordinary JPEG, however odd, gets exactly the answer it got before. The walk gives up at
    MAX_JPEG_MARKERS segments or MAX_JPEG_STRAY_BYTES stray bytes (``cut``), to stay short.
    """
    scans = markers = stray = 0
    pos = len(b"\xff\xd8")  # after SOI: absolute offset where the next marker is looked for
    base, buf, table = 0, b"", b""
    while True:
        at = pos - base
        if at < 0 or at + 4 > len(buf):  # read on from pos (a marker and its length: 4 bytes)
            f.seek(pos)
            base, buf, at = pos, f.read(_JPEG_CHUNK), 0
            table = buf.translate(_JPEG_CODE_TABLE) if buf.count(b"\xff") > len(buf) >> _JPEG_DENSE_SHIFT else b""
        if table:
            i = table.find(b"\xff\x01", at)
        else:
            found = _JPEG_MARKER.search(buf, at)
            i = found.start() if found else -1
        if i < 0 or i + 4 > len(buf):  # no whole marker in this chunk
            if len(buf) < _JPEG_CHUNK:  # the file ends (without EOI: truncated)
                break
            i = i if i >= 0 else len(buf) - 1  # keep a last 0xFF: the first byte of a marker
        if scans == 0:
            stray += i - at
            if stray > MAX_JPEG_STRAY_BYTES:
                return _JpegWalk(scans, markers, stray, cut=True)
        if i + 4 > len(buf):
            pos = base + i
            continue
        code = buf[i + 1]
        if code == _JPEG_EOI:
            break
        markers += 1
        if markers > MAX_JPEG_MARKERS:
            return _JpegWalk(scans, markers, stray, cut=True)
        if code in _JPEG_STANDALONE:
            pos = base + i + 2
            continue
        scans += code == _JPEG_SOS
        pos = base + i + 2 + max(2, int.from_bytes(buf[i + 2 : i + 4], "big"))
    return _JpegWalk(scans, markers, stray, cut=False)


def _check_jpeg(f: BinaryIO, name: str) -> None:
    """Refuse, in one sentence, a JPEG that would take far too long to open (see ``_walk_jpeg``)."""
    walk = _walk_jpeg(f)
    if walk.scans > MAX_JPEG_SCANS:
        raise ImageError(
            f"{name} is a JPEG made of {'at least ' if walk.cut else ''}{walk.scans} scans; lenet-draw "
            f"reads at most {MAX_JPEG_SCANS} (an ordinary JPEG has at most about 20), as each scan is another "
            "pass over the whole picture."
        )
    if walk.markers > MAX_JPEG_MARKERS:
        raise ImageError(
            f"{name} is a JPEG with more than {MAX_JPEG_MARKERS} marker segments, far more than a "
            "picture has; it was refused before decoding."
        )
    if walk.stray > MAX_JPEG_STRAY_BYTES:
        raise ImageError(
            f"{name} is a damaged JPEG: more than {MAX_JPEG_STRAY_BYTES // 2**20} MB of its header "
            "belongs to no marker segment; it was refused before decoding."
        )


# --------------------------------------------------------------------------------------------


def check_structure(f: BinaryIO, name: str) -> None:
    """Refuse, with one sentence naming ``name``, a PNM, BMP, TIFF or PNG file whose structure
    would make pillow work far too long (see the module's docstring and the bounds above); return
    with ``f`` at position 0 otherwise. Other formats and anything unparsable (an offset past any
    file included) are left to pillow. An OSError from reading ``f`` propagates."""
    try:
        f.seek(0)
        head = f.read(16)
        if head.startswith(_JPEG_START):
            _check_jpeg(f, name)
        elif head.startswith(_PNG_SIGNATURE):
            _check_png(f, name)
        elif head[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
            _check_tiff(f, name, head)
        elif head[:6] in (b"GIF87a", b"GIF89a"):
            _check_gif(f, name)
        elif head.startswith(b"BM"):
            _check_bmp(f, name, f.seek(0, 2))
        elif head[:2] in _PNM_BANDS:
            size = f.seek(0, 2)
            _check_pnm(f, name, head[:2], size)
    except ImageError:
        raise
    except (ValueError, OverflowError):  # an offset no file reaches (seek's own refusal): damaged
        pass
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # a failing disk, not an offset past any file
            raise
    finally:
        f.seek(0)


__all__ = [
    "MAX_BMP_RLE_BYTES",
    "MAX_BMP_RLE_PIXELS",
    "MAX_GIF_BLOCKS",
    "MAX_JPEG_MARKERS",
    "MAX_JPEG_SCANS",
    "MAX_JPEG_STRAY_BYTES",
    "MAX_PLAIN_PNM_BYTES",
    "MAX_PLAIN_PNM_COMMENTS",
    "MAX_PNG_CHUNKS",
    "MAX_PNG_COMPRESSED_TEXT",
    "MAX_PNG_ICC",
    "MAX_PNG_OTHER_CHUNKS",
    "MAX_PNM_HEADER_BYTES",
    "MAX_PYTHON_PNM_SAMPLES",
    "MAX_TIFF_ENTRIES",
    "MAX_TIFF_PIECES",
    "MAX_TILE_BYTES",
    "MAX_TILE_TO_IMAGE",
    "check_structure",
]
