"""Opening image files a person hands the app, safely.

``open_image(path)`` returns a decoded ``PIL.Image`` or raises ``ImageError`` whose message is
one sentence a person understands: missing file, folder, no permission, not an image, truncated
or damaged, no pixels, or too many pixels. The size is checked from the header before anything
is decoded, so a small file that claims billions of pixels (a decompression bomb) costs nothing.

Only the decoders in ``FORMATS`` are ever used, whatever the file's name or content says:
pillow otherwise picks one by content, and hands PostScript, EPS and PDF to an external
program (Ghostscript), and decodes ICO/ICNS frames while it opens them, before any size check.
Those are refused with a sentence.

Before pillow sees the file, ``image_structure.check_structure`` reads its structure (a
JPEG's markers; PNM, BMP, TIFF, PNG and GIF headers and chunks) and refuses small files that
pillow or libjpeg would take seconds or minutes to open.

The EXIF orientation is read from the first IFD alone (``_orientation``), not through
``ImageOps.exif_transpose``, which also loads the other IFDs and writes the block back: 4-5 s
for a 780 kB PNG or WebP holding 65,000 EXIF entries. Blocks over 64 kB are ignored. A picture
is decoded once at full size and released before it is reduced; WebP, whose decoder needs about
16 bytes a pixel, is refused over ``MAX_WEBP_PIXELS``.

Pure pillow: no Qt, no torch.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

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
            try:
                check_structure(f, _name(path))  # what pillow would read far too slowly
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


__all__ = ["FORMATS", "ImageError", "MAX_IMAGE_PIXELS", "MAX_WEBP_PIXELS", "open_image"]
