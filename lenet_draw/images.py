"""Opening image files a person hands the app, safely.

``open_image(path)`` returns a decoded ``PIL.Image`` or raises ``ImageError`` whose message is
one sentence a person understands: missing file, folder, no permission, not an image, truncated
or damaged, no pixels, or too many pixels. The size is checked from the header before anything
is decoded, so a small file that claims billions of pixels (a decompression bomb) costs nothing.

Only the decoders in ``FORMATS`` are ever used, whatever the file's name or content says:
pillow otherwise picks one by content, and hands PostScript, EPS and PDF to an external
program (Ghostscript), and decodes ICO/ICNS frames while it opens them, before any size check.
Those are refused with a sentence.

A JPEG's marker segments are walked before pillow sees the file (``_walk_jpeg``), because a
small JPEG can still take minutes to decode: a progressive JPEG is made of scans, libjpeg sets
no limit on their number, and each scan makes the decoder go over every block of the picture
again. One 95-byte scan repeated 5,000 times in an 8000 x 8000 JPEG (726 kB) took 33 seconds to
decode, on the window's own thread. Files with more than ``MAX_JPEG_SCANS`` scans are refused,
and so are headers that pillow would read for minutes, one Python step per segment or per byte
(``MAX_JPEG_MARKERS``, ``MAX_JPEG_STRAY_BYTES``); every other JPEG is left to pillow as before.

The EXIF orientation is read from the first IFD alone (``_orientation``), not through
``ImageOps.exif_transpose``, which also loads the other IFDs and writes the block back: 4-5 s
for a 780 kB PNG or WebP holding 65,000 EXIF entries. Blocks over 64 kB are ignored. A picture
is decoded once at full size and released before it is reduced; WebP, whose decoder needs about
16 bytes a pixel, is refused over ``MAX_WEBP_PIXELS``.

Pure pillow: no Qt, no torch.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import BinaryIO, NamedTuple

from PIL import Image, UnidentifiedImageError

from lenet_draw.errors import ImageError
from lenet_draw.image_structure import check_structure
from lenet_draw.preprocess import shrink
from lenet_draw.regular_file import NotRegular, TooLarge, open_regular, refusal

#: Images with more pixels than this are refused before decoding (a 64-megapixel photo passes).
MAX_IMAGE_PIXELS = 64_000_000
#: WebP pictures with more pixels than this are refused before decoding: pillow decodes WebP
#: only whole and at full size, through libwebp's animation decoder, which keeps two RGBA
#: canvases and hands pillow a third copy, so decoding takes about 16 bytes a pixel (an all-white
#: 8000 x 8000 WebP of 38 bytes took 1 GB); 32 megapixels keep it near 0.5 GB.
MAX_WEBP_PIXELS = 32_000_000
#: Files larger than this are refused before they are opened.
MAX_FILE_BYTES = 512 * 1024 * 1024
#: JPEGs are decoded at reduced scale down to about this size; the digit ends up 20 pixels tall.
_DRAFT_SIZE = (2048, 2048)
#: The only decoders used: pillow's own, none of which calls another program, and none of
#: which decodes pixels before the size check. (PPM covers .pgm/.ppm/.pbm.)
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM")
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
#: EXIF blocks larger than this are ignored (the picture is taken as upright): 64 kB is all a
#: JPEG's APP1 segment can hold, so a camera's EXIF, copied into a PNG or WebP, fits.
MAX_EXIF_BYTES = 2**16
#: TIFFs whose first IFD has more entries than this are refused before decoding (an ordinary TIFF
#: has a few dozen). Pillow's TIFF loader applies the orientation itself, through the same EXIF
#: reading as ``exif_transpose`` (IFD0 again, then the Exif, GPS and Interop IFDs, which may point
#: back at IFD0): a 336 kB TIFF of 28,000 entries took 2.2 s, so it cannot be taken as upright.
MAX_TIFF_IFD0_ENTRIES = 1_000
#: EXIF orientation (tag 0x0112) -> the transpose that makes the picture upright; the very table
#: of ``ImageOps.exif_transpose``.
_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
#: Metadata that carries an orientation, dropped from the (already upright) result.
_ORIENTATION_KEYS = ("exif", "Raw profile type exif", "xmp", "XML:com.adobe.xmp")
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
#: Formats recognised by their first bytes to say what a refused file is.
_REFUSED_KINDS = (
    (b"%!PS", "a PostScript/EPS file"),
    (b"\xc5\xd0\xd3\xc6", "an EPS file"),
    (b"%PDF", "a PDF document"),
    (b"\x00\x00\x01\x00", "an icon file (ICO)"),
    (b"\x00\x00\x02\x00", "a cursor file (CUR)"),
    (b"icns", "a macOS icon file (ICNS)"),
)


def _name(path: Path) -> str:
    name = path.name or str(path)
    return name if len(name) <= 80 else name[:77] + "..."


def _too_many_pixels(path: Path, size: tuple[int, int]) -> ImageError:
    w, h = size
    return ImageError(
        f"{_name(path)} is {w} x {h} pixels ({w * h / 1e6:.0f} megapixels); images over "
        f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixels are refused before decoding, to keep memory safe."
    )


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


def _check_jpeg(f: BinaryIO, path: Path) -> None:
    """Refuse, in one sentence, a JPEG that would take far too long to open (see ``_walk_jpeg``)."""
    try:
        walk = _walk_jpeg(f)
        f.seek(0)
    except OSError as exc:  # a failing disk or network share
        raise ImageError(f"{_name(path)} cannot be read: {exc.strerror or exc}.") from exc
    if walk.scans > MAX_JPEG_SCANS:
        raise ImageError(
            f"{_name(path)} is a JPEG made of {'at least ' if walk.cut else ''}{walk.scans} scans; lenet-draw "
            f"reads at most {MAX_JPEG_SCANS} (an ordinary JPEG has at most about 20), as each scan is another "
            "pass over the whole picture."
        )
    if walk.markers > MAX_JPEG_MARKERS:
        raise ImageError(
            f"{_name(path)} is a JPEG with more than {MAX_JPEG_MARKERS} marker segments, far more than a "
            "picture has; it was refused before decoding."
        )
    if walk.stray > MAX_JPEG_STRAY_BYTES:
        raise ImageError(
            f"{_name(path)} is a damaged JPEG: more than {MAX_JPEG_STRAY_BYTES // 2**20} MB of its header "
            "belongs to no marker segment; it was refused before decoding."
        )


def _orientation(im: Image.Image) -> Image.Transpose | None:
    """The transpose that makes ``im`` upright per its EXIF orientation, as ``exif_transpose`` does.

    ``ImageOps.exif_transpose`` is not called: besides IFD0 it loads the Exif, GPS and Interop
    IFDs (five times over) and writes the whole block back, so a 780 kB PNG or WebP whose EXIF
    holds 65,000 entries, with those IFDs pointing back at IFD0, took 4-5 s to open. Here
    ``getexif()`` parses IFD0 alone, once, and only the orientation tag is decoded. A block larger
    than ``MAX_EXIF_BYTES`` is not a camera's: its orientation is ignored and the picture is used
    as stored (a user still gets the picture; at worst it is turned, which they can see). A damaged
    block is ignored the same way. (A TIFF comes here already upright: pillow's TIFF loader turns
    it while decoding, hence ``MAX_TIFF_IFD0_ENTRIES``.)
    """
    try:
        raw = im.info.get("Raw profile type exif")  # PNG text chunk written by ImageMagick (hex)
        size = len(im.info.get("exif") or b"") or (len(raw) // 2 if isinstance(raw, str) else 0)
        if size > MAX_EXIF_BYTES:
            return None
        return _TRANSPOSE.get(im.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # a damaged EXIF block must not lose a readable picture
        return None


def open_image(path: str | os.PathLike) -> Image.Image:
    """Open, check and decode an image file; raise ImageError with a clear sentence if unusable.

    The result is fully loaded (the file is closed), upright per its EXIF orientation, the
    first frame of an animation or multi-page file, and box-reduced to at most
    ``preprocess.MAX_IMAGE_SIDE`` a side: the window and ``lenet-draw predict`` read the very
    same pixels.
    """
    path = Path(path)
    try:
        if not path.exists():
            raise ImageError(f"{path} does not exist.")
        f = open_regular(path, MAX_FILE_BYTES)  # read by the decoder only as far as it needs
        if os.fstat(f.fileno()).st_size == 0:
            f.close()
            raise ImageError(f"{_name(path)} is empty.")
    except (NotRegular, TooLarge) as exc:
        raise ImageError(refusal(exc, _name(path), "an image file")) from None
    except PermissionError as exc:
        raise ImageError(f"{_name(path)} cannot be read: permission denied.") from exc
    except OSError as exc:
        raise ImageError(f"{_name(path)} cannot be read: {exc.strerror or exc}.") from exc
    with f:
        with warnings.catch_warnings():
            # PIL warns on large images and raises past twice its own limit; ours is lower.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            head = f.read(16)
            f.seek(0)
            for magic, kind in _REFUSED_KINDS:
                if head.startswith(magic):
                    raise ImageError(
                        f"{_name(path)} is {kind}, which this app does not open; use PNG, JPEG, BMP, GIF, TIFF or WebP."
                    )
            if head.startswith(_JPEG_START):
                _check_jpeg(f, path)
            try:
                check_structure(f, _name(path))  # PNM, BMP, TIFF and PNG: what pillow would read slowly
            except OSError as exc:  # a failing disk or network share
                raise ImageError(f"{_name(path)} cannot be read: {exc.strerror or exc}.") from exc
            try:
                im = Image.open(f, formats=FORMATS)
            except Image.DecompressionBombError as exc:
                raise ImageError(
                    f"{_name(path)} claims more pixels than any picture of a digit needs; it was refused "
                    "before decoding, to keep memory safe."
                ) from exc
            except UnidentifiedImageError as exc:
                raise ImageError(
                    f"{_name(path)} is not an image in a format this app can read (PNG, JPEG, BMP, GIF, TIFF, WebP)."
                ) from exc
            except Exception as exc:  # a damaged header can fail in many ways
                raise ImageError(f"{_name(path)} is not a readable image: its header is damaged.") from exc
            with im:
                w, h = im.size
                if w <= 0 or h <= 0:
                    raise ImageError(f"{_name(path)} has no pixels ({w} x {h}).")
                if w * h > MAX_IMAGE_PIXELS:
                    raise _too_many_pixels(path, im.size)
                tags = getattr(im, "tag_v2", None)
                if tags is not None and len(tags) > MAX_TIFF_IFD0_ENTRIES:
                    raise ImageError(
                        f"{_name(path)} is a TIFF whose first directory holds {len(tags)} tags, far more than a "
                        f"picture has (at most {MAX_TIFF_IFD0_ENTRIES} are read); it was refused before decoding."
                    )
                if im.format == "WEBP" and w * h > MAX_WEBP_PIXELS:
                    raise ImageError(
                        f"{_name(path)} is a WebP picture of {w} x {h} pixels ({w * h / 1e6:.0f} megapixels); WebP "
                        f"pictures over {MAX_WEBP_PIXELS / 1e6:.0f} megapixels are refused before decoding, as the "
                        "WebP decoder needs about 16 bytes of memory a pixel (1 GB for 64 megapixels)."
                    )
                try:
                    if im.format == "JPEG":
                        im.draft(im.mode, _DRAFT_SIZE)
                    im.seek(0)
                    im.load()
                except Image.DecompressionBombError as exc:
                    raise _too_many_pixels(path, im.size) from exc
                except MemoryError as exc:
                    raise ImageError(f"{_name(path)} is too large to decode in the memory available.") from exc
                except Exception as exc:  # truncated data, bad checksums, broken chunks ...
                    raise ImageError(f"{_name(path)} could not be decoded: it is truncated or damaged.") from exc
                method = _orientation(im)
                # At most two full-size copies at a time: the transposed picture replaces the decoded
                # one, which is released (``im.close()``; leaving ``with im`` does not free pixels)
                # before ``shrink``, itself a second copy for RGBA (premultiplied) and P or 1 (converted).
                try:
                    upright = im.transpose(method) if method is not None else im
                    if upright is not im:
                        im.close()
                    small = shrink(upright)
                    del upright
                    if small is im:  # neither turned nor reduced: detach the pixels from the file
                        small = im.copy()
                except MemoryError as exc:
                    raise ImageError(f"{_name(path)} is too large to decode in the memory available.") from exc
                finally:
                    im.close()
    if small.width <= 0 or small.height <= 0:  # pragma: no cover - guarded above
        raise ImageError(f"{_name(path)} has no pixels.")
    for key in _ORIENTATION_KEYS:  # the pixels are upright now: nothing may turn them again
        small.info.pop(key, None)
    return small


__all__ = ["FORMATS", "ImageError", "MAX_IMAGE_PIXELS", "MAX_JPEG_SCANS", "MAX_WEBP_PIXELS", "open_image"]
