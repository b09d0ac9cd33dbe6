"""More weights files crafted to crash or exhaust the reader: a tensor whose element count
overflows torch's arithmetic, and zips whose central directory holds over a million entries.

The large ones are opened in a child process with limits on memory and time
(``hostile.load_all_in_child``), so a regression fails the test instead of pytest. The outcome
must be one sentence (WeightsError), and an engine keeps its weights.
"""

from __future__ import annotations

import struct
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from hostile import check_refused, load_all_in_child, torch_zip

from lenet_draw.engine import Engine
from lenet_draw.model import LeNet5
from lenet_draw.ptfile import MAX_ZIP_ENTRIES, PtError, read_pt
from lenet_draw.weights import MAX_FILE_BYTES, WeightsError, load_weights, save_weights


def _state(seed: int = 3) -> "OrderedDict[str, torch.Tensor]":
    torch.manual_seed(seed)
    return LeNet5().state_dict()


@pytest.fixture(scope="module")
def good_engine(tmp_path_factory) -> Engine:
    return Engine(save_weights(tmp_path_factory.mktemp("good") / "good.pt", _state()), device="cpu")


PROBE = np.random.default_rng(5).random((3, 32, 32)).astype(np.float32)


def _refused_and_engine_unchanged(engine: Engine, path: Path, msg: str) -> None:
    """Engine.load refuses ``path`` with ``msg``; the engine's weights keep working."""
    before = engine.weights, engine.probabilities(PROBE)
    with pytest.raises(WeightsError) as info:
        engine.load(path)
    assert str(info.value) == msg
    assert engine.weights is before[0] and np.array_equal(engine.probabilities(PROBE), before[1])


# --------------------------------------------------------------------------- 1: a tensor of 2**93 elements


def _text(s: str) -> bytes:
    return b"X" + struct.pack("<I", len(s.encode())) + s.encode()


def _int(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


def _tuple(items: list[bytes]) -> bytes:
    return b"(" + b"".join(items) + b"t"


def _tensor_pickle(size: tuple[int, ...], stride: tuple[int, ...]) -> bytes:
    """{'c1.weight': a float tensor of ``size`` and ``stride`` over the 1-element storage '0'}."""
    storage = _tuple([_text("storage"), b"ctorch\nFloatStorage\n", _text("0"), _text("cpu"), _int(1)]) + b"Q"
    tensor = (
        b"ctorch._utils\n_rebuild_tensor_v2\n"
        + _tuple([storage, _int(0), _tuple([_int(d) for d in size]), _tuple([_int(d) for d in stride]), b"\x89", b"N"])
        + b"R"
    )
    return b"\x80\x02}" + _text("c1.weight") + tensor + b"s."


def _tensor_file(path: Path, size: tuple[int, ...], stride: tuple[int, ...]) -> Path:
    return torch_zip(path, _tensor_pickle(size, stride), {"0": struct.pack("<f", 1.0)})


def test_a_tensor_whose_element_count_overflows_is_refused_in_one_sentence(tmp_path, good_engine):
    """(2**31-1)**3 elements repeating one value (stride 0): torch.as_strided raised
    "numel: integer multiplication overflow" before, and nothing caught it."""
    path = _tensor_file(tmp_path / "numel.pt", (2**31 - 1,) * 3, (0, 0, 0))
    assert path.stat().st_size < 1000
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    msg = check_refused({"outcome": "refused", "message": str(info.value)}, path.name, "numel.pt", "elements")
    assert msg.startswith("numel.pt is not a readable weights file")
    _refused_and_engine_unchanged(good_engine, path, msg)


def test_a_view_of_many_elements_is_refused_before_it_is_built(tmp_path):
    """Within torch's arithmetic but far beyond LeNet-5: 2**40 elements repeating one value."""
    path = _tensor_file(tmp_path / "view.pt", (2**20, 2**20), (0, 0))
    with pytest.raises(PtError, match="elements"):
        read_pt(path.read_bytes(), MAX_FILE_BYTES)


def test_any_error_torch_raises_building_a_tensor_ends_as_one_sentence(tmp_path, monkeypatch):
    path = _tensor_file(tmp_path / "odd.pt", (1,), (1,))

    def refuse(*a, **k):
        raise RuntimeError("a check torch makes that the reader does not")

    monkeypatch.setattr(torch, "as_strided", refuse)
    with pytest.raises(WeightsError, match=r"^odd.pt is not a readable weights file \(.*layout.*\)\.$"):
        load_weights(path)


# --------------------------------------------------------------------------- 2: a zip of 1.4 million entries

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_EOCD = struct.Struct("<4s4H2LH")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR = struct.Struct("<4sLQL")
_DATE = (1 << 5) | 1  # 1980-01-01


def _many_entries(path: Path, n: int, declared: int | None = None, zip64: bool = True, comment: bytes = b"") -> Path:
    """A zip of one empty member "a" listed ``n`` times in its central directory, written by hand
    (zipfile takes minutes for a million entries). Its end record declares ``declared`` entries
    (default ``n``), in a ZIP64 end record too when ``zip64``."""
    declared = n if declared is None else declared
    local = _LOCAL.pack(b"PK\x03\x04", 20, 0, 0, 0, _DATE, 0, 0, 0, 1, 0) + b"a"
    central = _CENTRAL.pack(b"PK\x01\x02", 20, 20, 0, 0, 0, _DATE, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"a"
    cd_offset, cd_size = len(local), len(central) * n
    end = b""
    if zip64:
        end += _EOCD64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, declared, declared, cd_size, cd_offset)
        end += _LOCATOR.pack(b"PK\x06\x07", 0, cd_offset + cd_size, 1)
        end += _EOCD.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment))
    else:
        end += _EOCD.pack(b"PK\x05\x06", 0, 0, declared, declared, cd_size, cd_offset, len(comment))
    with open(path, "wb") as f:
        f.write(local)
        f.write(central * n)
        f.write(end + comment)
    return path


MANY = 1_400_000  # about 66 MB: just under MAX_FILE_BYTES


@pytest.fixture(scope="module")
def huge_directories(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """Zips with a directory of 1.4 million entries, opened in one child process with memory
    and time limits (parsing that directory took 38 s and 800 MB before)."""
    folder = tmp_path_factory.mktemp("many")
    files = {
        "declared": _many_entries(folder / "many.pt", MANY),
        "understated": _many_entries(folder / "liar.pt", MANY, declared=10, zip64=False),
    }
    assert all(MAX_FILE_BYTES - 2 * 2**20 < p.stat().st_size <= MAX_FILE_BYTES for p in files.values())
    results = load_all_in_child([("weights", p) for p in files.values()])
    return {k: (p, r) for (k, p), r in zip(files.items(), results)}


def test_a_zip_declaring_a_million_entries_is_refused_by_its_end_record(huge_directories, good_engine):
    path, result = huge_directories["declared"]
    msg = check_refused(result, path.name, "many.pt", "not a readable weights file", "1,400,000 entries")
    _refused_and_engine_unchanged(good_engine, path, msg)


def test_a_zip_whose_directory_is_larger_than_its_count_says_is_refused(huge_directories, good_engine):
    """zipfile reads as many entries as the directory's size holds, whatever the count says."""
    path, result = huge_directories["understated"]
    msg = check_refused(result, path.name, "liar.pt", "not a readable weights file", "zip directory", "MB")
    _refused_and_engine_unchanged(good_engine, path, msg)


def test_the_end_record_is_found_after_a_comment(tmp_path, good_engine):
    path = _many_entries(tmp_path / "noted.pt", 3, declared=MAX_ZIP_ENTRIES + 1, zip64=False, comment=b"x" * 1000)
    with pytest.raises(WeightsError, match=r"^noted.pt is not a readable weights file \(it is a zip of 1,001 entries"):
        load_weights(path)
    with pytest.raises(PtError, match="1,001 entries"):  # ptfile checks it on its own too
        read_pt(path.read_bytes(), MAX_FILE_BYTES)


def test_a_weights_file_with_a_zip_comment_still_loads(tmp_path):
    path = save_weights(tmp_path / "w.pt", _state())
    with zipfile.ZipFile(path, "a") as z:
        z.comment = b"saved by hand" * 100
        entries = len(z.infolist())
    assert entries < 100
    assert list(load_weights(path).state_dict) == list(_state())
