"""A JPEG whose scans are repeated thousands of times (a "scan bomb").

A progressive JPEG is made of scans, and libjpeg sets no limit on their number: each one makes
the decoder go over every block of the picture again. One 95-byte scan repeated 5,000 times in
an 8000 x 8000 JPEG (726 kB) took 33 seconds to decode, on the window's own thread.
``open_image`` walks the marker segments first and refuses more than ``MAX_JPEG_SCANS`` scans
with a sentence, without decoding; every ordinary JPEG reads exactly as it did before.
"""

from __future__ import annotations

import io
import struct

import pytest
from hostile import check_refused, load_in_child
from PIL import Image, ImageDraw

from lenet_draw import cli, image_structure
from lenet_draw.image_structure import MAX_JPEG_MARKERS, MAX_JPEG_SCANS
from lenet_draw.images import ImageError, open_image


def _digit(mode: str = "L", size: tuple[int, int] = (256, 256)) -> Image.Image:
    im = Image.new(mode, size, "white" if mode != "CMYK" else (0, 0, 0, 0))
    w, h = size
    ink = "black" if mode != "CMYK" else (0, 0, 0, 255)
    ImageDraw.Draw(im).line([(0.3 * w, 0.2 * h), (0.7 * w, 0.2 * h), (0.45 * w, 0.85 * h)], fill=ink, width=w // 12)
    return im


def _jpeg(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kw)
    return buf.getvalue()


def _segments(data: bytes) -> list[bytes]:
    """The segments after SOI, an SOS with its entropy-coded data, as the probe split them."""
    i, out = 2, []
    while i < len(data):
        code = data[i + 1]
        if code == 0xD9:
            return [*out, data[i : i + 2]]
        end = i + 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        if code == 0xDA:  # to the next marker that is not a stuffed zero or a restart marker
            while not (data[end] == 0xFF and data[end + 1] != 0 and not 0xD0 <= data[end + 1] <= 0xD7):
                end += 1
        out.append(data[i:end])
        i = end
    raise AssertionError("no EOI")


def _scan_bomb(side: int = 256, repeats: int = 1000) -> bytes:
    """A progressive JPEG whose smallest AC scan is repeated ``repeats`` more times before EOI."""
    data = _jpeg(_digit(size=(side, side)), progressive=True, quality=50)
    segs = _segments(data)
    small = min((s for s in segs[1:] if s[1] == 0xDA), key=len)
    return data[:2] + b"".join(segs[:-1]) + small * repeats + segs[-1]


def _scans(data: bytes) -> int:
    return sum(1 for s in _segments(data) if s[1] == 0xDA)


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _outcome(path) -> tuple:
    try:
        im = open_image(path)
    except ImageError as exc:
        return ("refused", str(exc))
    return ("read", im.mode, im.size, im.tobytes())


def _outcome_before(path, monkeypatch) -> tuple:
    """What open_image gave before JPEGs were walked."""
    with monkeypatch.context() as m:
        m.setattr(image_structure, "_check_jpeg", lambda f, path: None)
        return _outcome(path)


# --------------------------------------------------------------------------- the scan bomb


def test_the_bomb_is_a_real_jpeg_of_a_thousand_scans_that_pillow_decodes(tmp_path):
    data = _scan_bomb()
    assert len(data) < 200_000 and _scans(data) > 1000
    plain = Image.open(io.BytesIO(_jpeg(_digit(), progressive=True, quality=50)))
    bomb = Image.open(io.BytesIO(data))
    assert bomb.tobytes() == plain.tobytes()  # every repeat is decoded, and changes nothing


def test_a_jpeg_of_a_thousand_scans_is_refused_without_being_decoded(tmp_path, monkeypatch):
    path = _write(tmp_path / "scans.jpg", _scan_bomb())
    n = _scans(path.read_bytes())

    def never(*a, **k):
        raise AssertionError("pillow was handed the file")

    monkeypatch.setattr(Image, "open", never)
    with pytest.raises(ImageError) as err:
        open_image(path)
    msg = str(err.value)
    assert msg == (
        f"scans.jpg is a JPEG made of {n} scans; lenet-draw reads at most {MAX_JPEG_SCANS} (an ordinary "
        "JPEG has at most about 20), as each scan is another pass over the whole picture."
    )


def test_the_refusal_is_one_sentence_in_a_child_with_limits(tmp_path):
    path = _write(tmp_path / "bomb.jpg", _scan_bomb(repeats=5000))
    check_refused(load_in_child(path, "image"), "bomb.jpg", "bomb.jpg", "JPEG", "scans", str(MAX_JPEG_SCANS))


def test_the_bound_is_exact(tmp_path, monkeypatch):
    base = _scans(_jpeg(_digit(), progressive=True, quality=50))
    at = _write(tmp_path / "at.jpg", _scan_bomb(repeats=MAX_JPEG_SCANS - base))
    over = _write(tmp_path / "over.jpg", _scan_bomb(repeats=MAX_JPEG_SCANS - base + 1))
    assert _scans(at.read_bytes()) == MAX_JPEG_SCANS
    assert _outcome(at) == _outcome_before(at, monkeypatch)
    assert _outcome(at)[0] == "read"
    with pytest.raises(ImageError, match=f"made of {MAX_JPEG_SCANS + 1} scans"):
        open_image(over)


def test_cli_predict_prints_one_line_for_the_bomb_and_exits_1(tmp_path, capsys):
    bomb = _write(tmp_path / "bomb.jpg", _scan_bomb())
    good = _write(tmp_path / "seven.jpg", _jpeg(_digit(), progressive=True))
    status = cli.main(["predict", str(bomb), str(good), "--device", "cpu"])
    out = capsys.readouterr().out.splitlines()
    assert status == 1
    assert len(out) == 2, out
    assert out[0].startswith(f"{bomb}: cannot read image: bomb.jpg is a JPEG made of ") and "scans" in out[0]
    assert out[1].startswith(f"{good}: ") and "%" in out[1]


# --------------------------------------------------------------------------- the other bounds


def test_ten_thousand_comment_segments_are_refused(tmp_path, monkeypatch):
    data = _jpeg(_digit())
    many = _write(tmp_path / "many.jpg", data[:2] + b"\xff\xfe\x00\x02" * MAX_JPEG_MARKERS + data[2:])
    some = _write(tmp_path / "some.jpg", data[:2] + b"\xff\xfe\x00\x02" * 1000 + data[2:])
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("pillow was handed the file"))
    with pytest.raises(ImageError, match=f"many.jpg is a JPEG with more than {MAX_JPEG_MARKERS} marker segments"):
        open_image(many)
    monkeypatch.undo()
    assert _outcome(some)[0] == "read"


def test_a_megabyte_of_stray_bytes_in_the_header_is_refused(tmp_path, monkeypatch):
    data = _jpeg(_digit())
    app0 = 4 + int.from_bytes(data[4:6], "big")
    stray = _write(tmp_path / "stray.jpg", data[:app0] + bytes(image_structure.MAX_JPEG_STRAY_BYTES + 1) + data[app0:])
    few = _write(tmp_path / "few.jpg", data[:app0] + bytes(100) + data[app0:])
    with pytest.raises(ImageError, match="stray.jpg is a damaged JPEG: more than 1 MB of its header belongs to no"):
        open_image(stray)
    assert _outcome(few) == _outcome_before(few, monkeypatch)


# --------------------------------------------------------------------------- ordinary JPEGs


def _exif_with_thumbnail(thumb: bytes) -> bytes:
    """EXIF (little-endian TIFF): IFD0 holds Orientation 1, IFD1 a JPEG thumbnail."""
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, 1, 0) + struct.pack("<I", 26)
    ifd1 = (
        struct.pack("<H", 2) + struct.pack("<HHII", 0x0201, 4, 1, 56) + struct.pack("<HHII", 0x0202, 4, 1, len(thumb))
    )
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd0 + ifd1 + struct.pack("<I", 0) + thumb


def _variants() -> dict[str, bytes]:
    rgb = _digit().convert("RGB")
    prog = _jpeg(rgb, progressive=True)
    fill = prog.replace(b"\xff\xc4", b"\xff\xff\xff\xc4")  # fill bytes before every DHT, between scans too
    eoi = prog.rindex(b"\xff\xd9")
    return {
        "baseline grey": _jpeg(_digit()),
        "baseline colour 4:4:4": _jpeg(rgb, quality=95, subsampling=0),
        "progressive": prog,
        "optimize": _jpeg(rgb, optimize=True),
        "progressive optimize": _jpeg(rgb, progressive=True, optimize=True),
        "progressive grey": _jpeg(_digit(), progressive=True),
        "CMYK": _jpeg(_digit("CMYK")),
        "CMYK progressive": _jpeg(_digit("CMYK"), progressive=True),
        "EXIF with a scan-bomb thumbnail": _jpeg(rgb, exif=_exif_with_thumbnail(_scan_bomb(64, 300))),
        "ICC profile in two APP2 parts, full of SOS markers": _jpeg(rgb, icc_profile=b"\xff\xda" * 40_000),
        "comment full of SOS markers": _jpeg(rgb, comment=b"\xff\xda" * 500),
        "restart marker every block": _jpeg(rgb, restart_marker_blocks=1),
        "progressive with restart markers": _jpeg(rgb, progressive=True, restart_marker_rows=1),
        "fill bytes before markers": fill,
        "a scan bomb after EOI": prog + _scan_bomb(),
        "no EOI": prog[:eoi],
        "stray bytes after a scan": prog[:eoi] + b"\x00\x01\x02" * 10 + prog[eoi:],
    }


BASELINE = {
    "baseline grey",
    "baseline colour 4:4:4",
    "optimize",
    "CMYK",
    "EXIF with a scan-bomb thumbnail",
    "ICC profile in two APP2 parts, full of SOS markers",
    "comment full of SOS markers",
    "restart marker every block",
}


@pytest.fixture(scope="module")
def variants() -> dict[str, bytes]:
    return _variants()


@pytest.mark.parametrize("name", list(_variants()))
def test_ordinary_and_odd_jpegs_read_exactly_as_before(tmp_path, monkeypatch, variants, name):
    path = _write(tmp_path / "v.jpg", variants[name])
    before = _outcome_before(path, monkeypatch)
    assert _outcome(path) == before
    if not name.startswith("no EOI"):
        assert before[0] == "read", before


def test_the_walk_counts_the_scans_of_the_main_image_only(variants):
    for name, data in variants.items():
        walk = image_structure._walk_jpeg(io.BytesIO(data))
        assert not walk.cut and walk.stray < 10 and walk.markers < 40, (name, walk)
        if name in BASELINE:
            assert walk.scans == 1, name
        else:  # three components: a DC scan, then AC scans refining each (CMYK: 18 in all)
            assert 6 <= walk.scans <= 20, (name, walk)
        if name not in ("no EOI", "a scan bomb after EOI", "stray bytes after a scan", "fill bytes before markers"):
            assert walk.scans == _scans(data), name


@pytest.mark.parametrize("cut", [0.05, 0.3, 0.6, 0.9, 0.99])
def test_cut_progressive_jpegs_and_bombs_read_as_before(tmp_path, monkeypatch, variants, cut):
    for name, data in [("progressive", variants["progressive"]), ("bomb", _scan_bomb(repeats=80))]:
        path = _write(tmp_path / f"{name}.jpg", data[: int(len(data) * cut)])
        assert _outcome(path) == _outcome_before(path, monkeypatch), (name, cut)


def _reference_walk(data: bytes) -> tuple[int, int]:
    """(scans, markers) counted one byte at a time, the plain way."""
    i = 2
    scans = markers = 0
    while i + 1 < len(data):
        code = data[i + 1]
        if data[i] != 0xFF or code in (0x00, 0xFF) or 0xD0 <= code <= 0xD7:
            i += 1
            continue
        if code == 0xD9:
            break
        if code not in (0x01, 0xD8) and i + 4 > len(data):
            break
        markers += 1
        if code in (0x01, 0xD8):
            i += 2
            continue
        scans += code == 0xDA
        i += 2 + max(2, int.from_bytes(data[i + 2 : i + 4], "big"))
    return scans, markers


@pytest.mark.parametrize("chunk", [16, 61, 4096, image_structure._JPEG_CHUNK])
@pytest.mark.parametrize("dense", [0, 40], ids=["by regex", "by table"])
def test_the_walk_gives_the_same_count_whatever_the_chunks(monkeypatch, variants, chunk, dense):
    """Markers that straddle two chunks are found, by either way of looking for them."""
    monkeypatch.setattr(image_structure, "_JPEG_CHUNK", chunk)
    monkeypatch.setattr(image_structure, "_JPEG_DENSE_SHIFT", dense)
    files = [*variants.values(), _scan_bomb(repeats=150), _jpeg(_digit(), comment=b"\xff" * 3000)]
    for data in files:
        walk = image_structure._walk_jpeg(io.BytesIO(data))
        assert (walk.scans, walk.markers) == _reference_walk(data)


def test_a_read_error_during_the_walk_is_a_sentence(tmp_path, monkeypatch):
    path = _write(tmp_path / "disk.jpg", _jpeg(_digit()))

    def failing(f):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(image_structure, "_walk_jpeg", failing)
    with pytest.raises(ImageError, match=r"^disk.jpg cannot be read: Input/output error\.$"):
        open_image(path)
