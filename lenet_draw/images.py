"""Opening image files a person hands the app, safely.

``open_image(path)`` returns a decoded ``PIL.Image`` or raises ``ImageError`` whose message is
one sentence a person understands: missing file, folder, no permission, not an image, truncated
or damaged, no pixels, or too many pixels. The size is checked from the header before anything
is decoded, so a small file that claims billions of pixels (a decompression bomb) costs nothing.

Only the decoders in ``FORMATS`` are ever used, whatever the file's name or content says:
pillow otherwise picks one by content, and hands PostScript, EPS and PDF to an external
program (Ghostscript), and decodes ICO/ICNS frames while it opens them, before any size check.
Those are refused with a sentence.

Pure pillow: no Qt, no torch.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from lenet_draw.errors import ImageError
from lenet_draw.preprocess import shrink
from lenet_draw.regular_file import NotRegular, TooLarge, open_regular, refusal

#: Images with more pixels than this are refused before decoding (a 64-megapixel photo passes).
MAX_IMAGE_PIXELS = 64_000_000
#: Files larger than this are refused before they are opened.
MAX_FILE_BYTES = 512 * 1024 * 1024
#: JPEGs are decoded at reduced scale down to about this size; the digit ends up 20 pixels tall.
_DRAFT_SIZE = (2048, 2048)
#: The only decoders used: pillow's own, none of which calls another program, and none of
#: which decodes pixels before the size check. (PPM covers .pgm/.ppm/.pbm.)
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM")
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
                try:
                    upright = ImageOps.exif_transpose(im)
                except Exception:  # a damaged EXIF block must not lose a readable picture
                    upright = im.copy()
    if upright.width <= 0 or upright.height <= 0:  # pragma: no cover - guarded above
        raise ImageError(f"{_name(path)} has no pixels.")
    return shrink(upright)


__all__ = ["FORMATS", "ImageError", "MAX_IMAGE_PIXELS", "open_image"]
