"""Weights files crafted to crash, hang or exhaust the reader, not just to be wrong.

Each file is small and made here; each is opened in a child process with limits on memory
and time (``hostile.load_in_child``), so a regression fails the test instead of pytest. The
outcome must be one sentence (WeightsError), and an engine keeps its weights.
"""

from __future__ import annotations

import io
import mmap
import os
import struct
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from hostile import check_refused, load_all_in_child, torch_zip

import lenet_draw.weights as weights_mod
from lenet_draw.engine import Engine
from lenet_draw.model import LeNet5
from lenet_draw.pickle_reader import DEFAULT_LIMITS
from lenet_draw.ptfile import MAX_ZIP_ENTRIES, PtError, read_pt
from lenet_draw.weights import MAX_FILE_BYTES, WeightsError, load_weights, save_weights


def _state(seed: int = 3) -> "OrderedDict[str, torch.Tensor]":
    torch.manual_seed(seed)
    return LeNet5().state_dict()


@pytest.fixture(scope="module")
def good_engine(tmp_path_factory) -> Engine:
    return Engine(save_weights(tmp_path_factory.mktemp("good") / "good.pt", _state()), device="cpu")


PROBE = np.random.default_rng(5).random((3, 32, 32)).astype(np.float32)


def _dict_with_key(key_ops: bytes) -> bytes:
    """A pickle of {KEY: None} where KEY is what ``key_ops`` pushes."""
    return b"\x80\x02}" + key_ops + b"Ns."


def _save(path: Path, obj) -> Path:
    torch.save(obj, path)
    return path


# --------------------------------------------------------------------------- the files


def _deep_tuple_key(path: Path) -> Path:
    """1: a tuple nested 200,000 deep as a key: hashing it overflows the C stack."""
    return torch_zip(path, _dict_with_key(b"N" + b"\x85" * 200_000))  # TUPLE1 200,000 times


def _tuple_dag_key(path: Path) -> Path:
    """2: t = (t, t) 64 levels deep as a key: 2**64 paths, hashing never ends."""
    ops = b"N"
    for i in range(64):  # BINPUT i, BINGET i, TUPLE2
        ops += b"q" + bytes([i]) + b"h" + bytes([i]) + b"\x86"
    return torch_zip(path, _dict_with_key(ops))


def _shared_list(levels: int) -> list:
    x: list = []
    for _ in range(levels):
        x = [x, x]
    return x


def _cycle() -> list:
    x: list = []
    x.append(x)
    return x


def _ops_pickle(n: int) -> bytes:
    return b"\x80\x02}" + b"N0" * n + b"."  # push None, pop it: n times


def _lying_zip(path: Path) -> Path:
    """4: the zip directory says 100 bytes; the entry inflates to 8 MB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", _ops_pickle(4_000_000))
        z.writestr("archive/byteorder", "little")
    raw = bytearray(buf.getvalue())
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size, both headers
        i = raw.find(sig)
        raw[i + off : i + off + 4] = struct.pack("<I", 100)
    path.write_bytes(bytes(raw))
    return path


def _with_c1(value: torch.Tensor):
    sd = _state()
    sd["c1.weight"] = value
    return sd


def _long_key(n: int):
    return OrderedDict((("module." * n + k) if k == "c1.weight" else k, v) for k, v in _state().items())


# (id, builder(path) -> path, file name, words the one sentence must hold)
CASES = [
    ("1 tuple 200000 deep as a key", _deep_tuple_key, "deep.pt", ["deep.pt", "not a readable", "levels deep"]),
    ("2 tuple DAG 64 deep as a key", _tuple_dag_key, "dag.pt", ["dag.pt", "more than 100,000 parts"]),
    ("2 a small tuple as a key", lambda p: torch_zip(p, _dict_with_key(b"K\x01K\x02\x86")), "t.pt", ["tuple as a"]),
    (
        "3 self-sharing list as std",
        lambda p: _save(p, {"state_dict": _state(), "input": {"std": _shared_list(60)}}),
        "shared.pt",
        ["shared.pt", "more than 100,000 parts"],
    ),
    (
        "3 list containing itself as std",
        lambda p: _save(p, {"state_dict": _state(), "input": {"std": _cycle()}}),
        "cycle.pt",
        ["cycle.pt", "after using it"],
    ),
    (
        "4 8 MB of opcodes deflated",
        lambda p: torch_zip(p, _ops_pickle(4_000_000), deflate=True),
        "ops.pt",
        ["ops.pt", "larger than"],
    ),
    (
        "4 opcodes under the size bound",
        lambda p: torch_zip(p, _ops_pickle(DEFAULT_LIMITS.max_ops), deflate=True),
        "count.pt",
        ["instructions"],
    ),
    ("4 a zip entry larger than declared", _lying_zip, "liar.pt", ["liar.pt", "not a readable weights file"]),
    ("5 a key of 7 MB", lambda p: _save(p, _long_key(1_000_000)), "longkey.pt", ["longkey.pt", "not a readable"]),
    ("6 std 1e-300", lambda p: _save(p, {"state_dict": _state(), "input": {"std": 1e-300}}), "c.pt", ["out of range"]),
    ("6 std 1e-39", lambda p: _save(p, {"state_dict": _state(), "input": {"std": 1e-39}}), "c.pt", ["out of range"]),
    ("6 mean 1e300", lambda p: _save(p, {"state_dict": _state(), "input": {"mean": 1e300}}), "c.pt", ["out of range"]),
    (
        "6 scale 1e300",
        lambda p: _save(p, {"state_dict": _state(), "input": {"scale": 1e300}}),
        "c.pt",
        ["out of range"],
    ),
    (
        "6 inputs up to 1e7",
        lambda p: _save(p, {"state_dict": _state(), "input": {"mean": 0.0, "std": 1e-5, "scale": 100.0}}),
        "c.pt",
        ["turns pixels into values up to 1e+07"],
    ),
    (
        "6 a meta tensor as std",
        lambda p: _save(p, {"state_dict": _state(), "input": {"std": torch.ones(1, device="meta")}}),
        "c.pt",
        ["invalid std"],
    ),
    (
        "6 weights of 3e38",
        lambda p: _save(p, _with_c1(torch.full((6, 1, 5, 5), 3e38))),
        "big.pt",
        ["'c1.weight'", "3e+38", "overflows"],
    ),
]


PREFIXES = "5 a key with 100,000 module. prefixes, in .safetensors (accepted)"


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """Every file of CASES, opened in one child process with memory and time limits."""
    paths = []
    for i, (_, build, name, _) in enumerate(CASES):
        folder = tmp_path_factory.mktemp(f"hostile{i}")
        paths.append(build(folder / name))
    from safetensors.torch import save_file

    prefixes = tmp_path_factory.mktemp("prefixes") / "prefixes.safetensors"
    save_file(dict(_long_key(100_000)), str(prefixes))
    results = load_all_in_child([("weights", p) for p in paths + [prefixes]])
    out = {case[0]: (p, r) for case, p, r in zip(CASES, paths, results)}
    out[PREFIXES] = (prefixes, results[-1])
    return out


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_hostile_weights_file_gives_one_sentence_and_changes_nothing(outcomes, good_engine, case):
    case_id, _, name, words = case
    path, result = outcomes[case_id]
    msg = check_refused(result, name, *words)
    before = good_engine.weights, good_engine.probabilities(PROBE)
    with pytest.raises(WeightsError) as info:  # the child refused it: safe to try here
        good_engine.load(path)
    assert str(info.value) == msg
    assert good_engine.weights is before[0] and np.array_equal(good_engine.probabilities(PROBE), before[1])


def test_the_crafted_files_are_small(outcomes):
    sizes = {case_id: p.stat().st_size for case_id, (p, _) in outcomes.items()}
    assert sizes["1 tuple 200000 deep as a key"] < 250_000
    assert sizes["2 tuple DAG 64 deep as a key"] < 2_000
    assert sizes["4 8 MB of opcodes deflated"] < 100_000
    assert max(sizes.values()) < 8 * 2**20


def test_a_key_with_100000_module_prefixes_is_stripped_in_linear_time(outcomes):
    """5: the prefix is stripped in one pass (quadratic stripping takes hours here)."""
    path, result = outcomes[PREFIXES]
    assert result == {"outcome": "loaded"}, result
    assert path.stat().st_size > 700_000


def test_weights_whose_output_is_not_finite_are_refused_by_the_probe(tmp_path, monkeypatch):
    """With the bound on the input convention lifted, the check of the network's output still
    refuses a mean of 1e300 (infinite in float32: every output is NaN)."""
    monkeypatch.setattr(weights_mod, "MAX_CONVENTION", float("inf"))
    path = _save(tmp_path / "nan.pt", {"state_dict": _state(), "input": {"mean": 1e300}})
    with pytest.raises(
        WeightsError, match=r"nan.pt gives NaN or infinite outputs; these weights cannot read a digit\."
    ):
        load_weights(path)


def test_the_bounds_accept_the_largest_allowed_values_and_the_output_stays_finite(tmp_path):
    sd = OrderedDict((k, torch.full_like(v, weights_mod.MAX_ABS_WEIGHT)) for k, v in _state().items())
    conv = {"mean": -weights_mod.MAX_CONVENTION / 2, "std": 1.0, "scale": 1.0}
    path = tmp_path / "edge.pt"
    torch.save({"state_dict": sd, "input": conv}, path)
    engine = Engine(path, device="cpu")
    assert np.isfinite(engine.probabilities(PROBE)).all()


# --------------------------------------------------------------------------- 7: the file changes while it is read


def test_safetensors_are_read_from_memory_never_mapped(tmp_path, monkeypatch):
    path = save_weights(tmp_path / "w.safetensors", _state())

    def never(*a, **k):
        raise AssertionError("the file was memory-mapped")

    import safetensors

    monkeypatch.setattr(mmap, "mmap", never)
    monkeypatch.setattr(safetensors, "safe_open", never)
    assert list(load_weights(path).state_dict) == list(_state())


_REWRITER = r"""
import sys, threading, time
from pathlib import Path
from lenet_draw.weights import load_weights, WeightsError
path, good = Path(sys.argv[1]), Path(sys.argv[2]).read_bytes()
stop = False
def rewrite():
    while not stop:
        with open(path, "r+b") as f:  # in place: truncate, then write back
            f.truncate(len(good) // 3)
            f.seek(0)
            f.write(good)
threading.Thread(target=rewrite, daemon=True).start()
ok = refused = 0
for _ in range(40):
    try:
        load_weights(path)
        ok += 1
    except WeightsError:
        refused += 1
stop = True
print(ok, refused)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="rewriting a file in place while it is open")
def test_a_safetensors_file_rewritten_while_it_loads_never_kills_the_process(tmp_path):
    import subprocess

    good = save_weights(tmp_path / "good.safetensors", _state())
    path = tmp_path / "moving.safetensors"
    path.write_bytes(good.read_bytes())
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-c", _REWRITER, str(path), str(good)], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, f"status {proc.returncode}: {proc.stderr[-2000:]}"
    ok, refused = map(int, proc.stdout.split())
    assert ok + refused == 40


# --------------------------------------------------------------------------- not files at all


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_fifo_is_named_as_such_and_never_blocks(tmp_path, good_engine):
    path = tmp_path / "pipe.pt"
    os.mkfifo(path)
    with pytest.raises(WeightsError, match=r"pipe.pt is a named pipe \(FIFO\), not a weights file\."):
        good_engine.load(path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_is_named_a_device(good_engine):
    with pytest.raises(WeightsError, match=r"zero is a device, not a weights file\."):
        load_weights("/dev/zero")


def test_a_file_that_grows_between_the_check_and_the_read_is_refused(tmp_path, monkeypatch):
    path = save_weights(tmp_path / "w.pt", _state())
    monkeypatch.setattr(weights_mod, "MAX_FILE_BYTES", path.stat().st_size)
    real_open = open

    def growing_open(file, *a, **k):
        f = real_open(file, *a, **k)
        with real_open(file, "ab") as g:
            g.write(b"\0" * 10)
        return f

    monkeypatch.setattr(weights_mod, "open", growing_open, raising=False)
    with pytest.raises(WeightsError, match="grew past"):
        load_weights(path)


def test_a_load_can_be_cancelled(tmp_path):
    from lenet_draw.errors import LoadCancelled

    path = tmp_path / "ckpt.pt"
    torch.save({"state_dict": _state(), "meta": {"history": list(range(20_000))}}, path)
    with pytest.raises(LoadCancelled):
        load_weights(path, cancel=lambda: True)
    assert list(load_weights(path, cancel=lambda: False).state_dict) == list(_state())


# --------------------------------------------------------------------------- on the command line


def test_the_command_line_gives_one_sentence_and_status_2_for_hostile_files(tmp_path, capsys):
    """`predict --weights` with a tuple nested 200,000 deep as a key (a crash before: the child
    test above shows it is now refused safely, so it runs in process here), and an image that is
    PostScript named .png (Ghostscript before)."""
    from PIL import Image

    from lenet_draw.cli import main

    deep = _deep_tuple_key(tmp_path / "deep.pt")
    good = tmp_path / "seven.png"
    Image.new("L", (40, 40), 255).save(good)
    assert main(["predict", "--weights", str(deep), str(good)]) == 2
    msg = capsys.readouterr().err
    assert msg.startswith("lenet-draw: error: deep.pt is not a readable weights file") and msg.count("\n") == 1
    ps = tmp_path / "digit.png"
    ps.write_bytes(b"%!PS-Adobe-3.0\n{ } loop\n")
    assert main(["predict", "--device", "cpu", str(ps)]) == 1
    assert capsys.readouterr().out.strip() == (
        f"{ps}: cannot read image: digit.png is a PostScript/EPS file, which this app does not open; "
        "use PNG, JPEG, BMP, GIF, TIFF or WebP."
    )


# -- a tensor whose element count overflows; zips whose directory holds a million entries --


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


def test_the_end_record_is_found_as_far_back_behind_trailing_bytes_as_zipfile_looks(tmp_path, good_engine):
    """zipfile finds an end record up to 2**16 + 22 bytes from the end: so must the check."""
    path = _many_entries(tmp_path / "padded.pt", 3, declared=MAX_ZIP_ENTRIES + 1, zip64=False)
    with open(path, "ab") as f:
        f.write(b"\0" * (1 << 16))
    assert len(zipfile.ZipFile(path).infolist()) == 3  # zipfile reads past the padding
    with pytest.raises(WeightsError, match=r"^padded.pt is not a readable weights file \(it is a zip of 1,001 entries"):
        load_weights(path)


def test_a_weights_file_with_a_zip_comment_still_loads(tmp_path):
    path = save_weights(tmp_path / "w.pt", _state())
    with zipfile.ZipFile(path, "a") as z:
        z.comment = b"saved by hand" * 100
        entries = len(z.infolist())
    assert entries < 100
    assert list(load_weights(path).state_dict) == list(_state())
