"""Image files that would reach an external program or decode before the size check.

Pillow picks a decoder by content: a PostScript file named digit.png goes to Ghostscript (a
separate program, with its own sandbox escapes and infinite loops), and ICO/ICNS frames are
decoded inside Image.open. ``open_image`` uses an explicit list of decoders; these files are
refused with a sentence that says what they are, and nothing is ever started.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess

import pytest
from hostile import check_refused, load_all_in_child
from PIL import IcnsImagePlugin, IcoImagePlugin, Image

from lenet_draw.images import FORMATS, ImageError, open_image

INFINITE_PS = b"%!PS-Adobe-3.0\n%%BoundingBox: 0 0 28 28\n{ } loop\nshowpage\n"
EPS_ONE = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n10 2 moveto 10 26 lineto 3 setlinewidth stroke\n"


def _png(size=(16, 16)) -> bytes:
    buf = io.BytesIO()
    Image.new("L", size, 255).save(buf, "PNG")
    return buf.getvalue()


def _ico_with_a_huge_frame() -> bytes:
    """An ICO whose one entry is a PNG claiming 13000 x 13000 pixels (169 MP)."""
    buf = io.BytesIO()
    Image.new("1", (13000, 13000), 1).save(buf, "PNG", optimize=False)
    png = buf.getvalue()
    header = struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(png), 22)
    return header + png


def _icns() -> bytes:
    body = b"ic08" + struct.pack(">I", 8 + len(_png())) + _png()
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


CASES = [
    ("PostScript named .png", "digit.png", EPS_ONE, ["digit.png", "PostScript"]),
    ("PostScript that loops forever", "loop.png", INFINITE_PS, ["loop.png", "PostScript"]),
    ("DOS EPS binary header", "d.jpg", b"\xc5\xd0\xd3\xc6" + b"\0" * 64, ["EPS"]),
    ("PDF named .png", "doc.png", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n", ["PDF"]),
    ("ICO with a 169 MP frame", "icon.png", None, ["icon.png", "icon file (ICO)"]),
    ("ICNS", "mac.png", None, ["ICNS"]),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile-images")
    out = {}
    for case_id, name, data, _ in CASES:
        if case_id.startswith("ICO"):
            data = _ico_with_a_huge_frame()
        elif case_id == "ICNS":
            data = _icns()
        path = d / case_id.replace(" ", "_") / name
        path.parent.mkdir()
        path.write_bytes(data)
        out[case_id] = path
    return out


@pytest.fixture(scope="module")
def outcomes(files):
    """Each file opened in a child with limits on memory and time (a hang or a blow-up fails)."""
    results = load_all_in_child([("image", files[c[0]]) for c in CASES])
    return {c[0]: r for c, r in zip(CASES, results)}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_files_for_other_programs_and_icons_are_refused_with_what_they_are(files, outcomes, case):
    case_id, name, _, words = case
    check_refused(outcomes[case_id], name, *words)


def test_the_ico_file_is_small_and_claims_169_megapixels(files):
    path = files["ICO with a 169 MP frame"]
    assert path.stat().st_size < 2 * 2**20
    png = path.read_bytes()[22:]
    assert struct.unpack(">II", png[16:24]) == (13000, 13000)


def test_no_program_is_started_and_no_icon_decoder_runs(files, monkeypatch):
    def never(*a, **k):
        raise AssertionError("an external program was started")

    def no_icon(*a, **k):
        raise AssertionError("an icon decoder ran")

    monkeypatch.setattr(subprocess, "Popen", never)
    monkeypatch.setattr(os, "system", never)
    monkeypatch.setattr(IcoImagePlugin.IcoImageFile, "_open", no_icon)
    monkeypatch.setattr(IcnsImagePlugin.IcnsImageFile, "_open", no_icon)
    for path in files.values():
        with pytest.raises(ImageError):
            open_image(path)


def test_a_postscript_file_with_another_first_line_is_still_never_handed_to_a_program(tmp_path, monkeypatch):
    """No magic needed: pillow's PostScript decoder is not among the decoders used at all."""
    assert "EPS" not in FORMATS and "PDF" not in FORMATS and "ICO" not in FORMATS
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail("an external program was started"))
    path = tmp_path / "x.png"
    path.write_bytes(b"\n" + EPS_ONE)
    with pytest.raises(ImageError, match="not an image in a format this app can read"):
        open_image(path)


@pytest.mark.parametrize(
    "fmt,suffix",
    [
        ("PNG", ".png"),
        ("JPEG", ".jpg"),
        ("BMP", ".bmp"),
        ("GIF", ".gif"),
        ("TIFF", ".tif"),
        ("WEBP", ".webp"),
        ("PPM", ".pgm"),
    ],
)
def test_every_listed_format_still_opens(tmp_path, fmt, suffix):
    path = tmp_path / f"d{suffix}"
    Image.new("L", (40, 40), 255).save(path, fmt)
    assert open_image(path).size == (40, 40)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_fifo_named_png_is_refused_without_blocking(tmp_path):
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    with pytest.raises(ImageError, match=r"pipe.png is a named pipe \(FIFO\), not an image file\."):
        open_image(path)
