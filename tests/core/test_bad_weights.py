"""Bad weights files never hurt: each gives one clear WeightsError sentence, nothing runs,
and an engine that had good weights predicts exactly the same afterwards.

The corpus is generated here, in temporary folders; every case goes through
``load_weights`` (what the dialog, drag-and-drop and the command line call) and ``Engine.load``.
"""

from __future__ import annotations

import builtins
import os
import pickle
import select
import sys
import tempfile
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provoked import TORCH_PICKLE_PROTOCOL, provoked_warnings

import lenet_draw.weights as weights_mod
from lenet_draw.engine import Engine
from lenet_draw.model import LeNet5
from lenet_draw.weights import MAX_FILE_BYTES, WeightsError, load_weights, save_weights

KEYS = list(LeNet5().state_dict())
SHAPES = {k: tuple(v.shape) for k, v in LeNet5().state_dict().items()}


def _state(seed: int = 3) -> "OrderedDict[str, torch.Tensor]":
    torch.manual_seed(seed)
    return LeNet5().state_dict()


def _assert_one_sentence(err: WeightsError) -> str:
    msg = str(err)
    assert msg and "\n" not in msg, f"not one line: {msg!r}"
    assert msg.rstrip().endswith("."), f"not a sentence: {msg!r}"
    assert len(msg) < 400, f"too long to read: {msg!r}"
    assert "Traceback" not in msg
    return msg


@pytest.fixture(scope="module")
def good_file(tmp_path_factory) -> Path:
    return save_weights(tmp_path_factory.mktemp("good") / "good.pt", _state(), meta={"test_accuracy": 90.0})


@pytest.fixture(scope="module")
def good_engine(good_file) -> Engine:
    return Engine(good_file, device="cpu")


PROBE = np.random.default_rng(7).random((6, 32, 32)).astype(np.float32)
PROBE_STROKES = [[(10.0, 10.0), (60.0, 10.0), (30.0, 90.0)]]


def _snapshot(engine: Engine):
    pred = engine.predict_strokes(PROBE_STROKES)
    return engine.weights, engine.probabilities(PROBE), pred.probabilities


def _assert_engine_unchanged(engine: Engine, before) -> None:
    weights, probs, stroke_probs = _snapshot(engine)
    assert weights is before[0], "the engine's weights were replaced"
    assert np.array_equal(probs, before[1])
    assert np.array_equal(stroke_probs, before[2])


def _refused_everywhere(path: Path, engine: Engine, *words: str) -> str:
    """load_weights and Engine.load both refuse ``path`` with one sentence holding ``words``."""
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    msg = _assert_one_sentence(info.value)
    for w in words:
        assert w.lower() in msg.lower(), f"{w!r} not in {msg!r}"
    before = _snapshot(engine)
    with pytest.raises(WeightsError) as again:
        engine.load(path)
    assert str(again.value) == msg
    _assert_engine_unchanged(engine, before)
    return msg


# --------------------------------------------------------------------------- the corpus


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _torch_save(path: Path, obj) -> Path:
    torch.save(obj, path)
    return path


def _with(key: str, value) -> "OrderedDict[str, torch.Tensor]":
    sd = _state()
    sd[key] = value
    return sd


def _other_architecture():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    return net.state_dict()


def _not_a_checkpoint_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
        z.writestr("data/0", b"\0" * 64)
    return path


def _zip_bomb(path: Path, good: Path) -> Path:
    """A valid checkpoint plus one deflated entry of 100 MB of zeros (the file stays ~100 kB)."""
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info.filename))
        prefix = src.infolist()[0].filename.split("/")[0]
        with z.open(f"{prefix}/data/99", "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range((MAX_FILE_BYTES >> 20) + 36):
                f.write(chunk)
    return path


# (name, builder(tmp, good_file) -> path, words the message must hold)
CORPUS = [
    ("empty", lambda d, g: _write(d / "empty.pt", b""), ["empty"]),
    (
        "random bytes",
        lambda d, g: _write(d / "random.pt", np.random.default_rng(1).bytes(4096)),
        ["random.pt", "not a PyTorch weights file"],
    ),
    (
        "random bytes after a zip magic",
        lambda d, g: _write(d / "pk.pt", b"PK\x03\x04" + np.random.default_rng(2).bytes(4096)),
        ["pk.pt", "not a readable weights file"],
    ),
    (
        "random bytes after a pickle magic",
        lambda d, g: _write(d / "pkl.pth", b"\x80\x02" + np.random.default_rng(3).bytes(4096)),
        ["pkl.pth", "not a readable weights file"],
    ),
    (
        "random .safetensors",
        lambda d, g: _write(d / "r.safetensors", np.random.default_rng(4).bytes(4096)),
        ["r.safetensors", "not a readable .safetensors file"],
    ),
    ("text file", lambda d, g: _write(d / "notes.pt", b"these are not weights\n" * 20), ["not a PyTorch weights file"]),
    (
        "a PNG renamed .pt",
        lambda d, g: _write(d / "img.pt", b"\x89PNG\r\n\x1a\n" + b"\0" * 100),
        ["not a PyTorch weights file"],
    ),
    (
        "zip that is not a checkpoint",
        lambda d, g: _not_a_checkpoint_zip(d / "other.zip.pt"),
        ["not a readable weights file"],
    ),
    ("zip bomb", lambda d, g: _zip_bomb(d / "bomb.pt", g), ["expands to", "MB", "without unpacking"]),
    (
        "another architecture",
        lambda d, g: _torch_save(d / "mlp.pt", _other_architecture()),
        ["not a LeNet-5 weights file", "'1.weight'", "'c1.weight'"],
    ),
    (
        "LeNet for RGB input",
        lambda d, g: _torch_save(d / "rgb.pt", _with("c1.weight", torch.zeros(6, 3, 5, 5))),
        ["'c1.weight'", "6x3x5x5", "6x1x5x5"],
    ),
    (
        "LeNet with 100 classes",
        lambda d, g: _torch_save(d / "c100.pt", _with("output.weight", torch.zeros(100, 84))),
        ["'output.weight'", "100x84", "10x84"],
    ),
    (
        "transposed weight",
        lambda d, g: _torch_save(d / "t.pt", _with("f6.weight", torch.zeros(120, 84))),
        ["'f6.weight'", "120x84", "84x120"],
    ),
    (
        "scalar for a bias",
        lambda d, g: _torch_save(d / "s.pt", _with("c5.bias", torch.tensor(0.0))),
        ["'c5.bias'", "a scalar", "120"],
    ),
    (
        "int64 weights",
        lambda d, g: _torch_save(d / "i64.pt", _with("c3.weight", torch.zeros(16, 6, 5, 5, dtype=torch.int64))),
        ["'c3.weight'", "int64", "floating point"],
    ),
    (
        "int8 weights",
        lambda d, g: _torch_save(d / "i8.pt", {k: v.to(torch.int8) for k, v in _state().items()}),
        ["'c1.weight'", "int8", "floating point"],
    ),
    (
        "bool weights",
        lambda d, g: _torch_save(d / "b.pt", _with("c1.bias", torch.ones(6, dtype=torch.bool))),
        ["'c1.bias'", "bool"],
    ),
    (
        "complex weights",
        lambda d, g: _torch_save(d / "cx.pt", _with("c1.bias", torch.ones(6, dtype=torch.complex64))),
        ["'c1.bias'", "complex64"],
    ),
    (
        "NaN",
        lambda d, g: _torch_save(d / "nan.pt", _with("f6.bias", torch.full((84,), float("nan")))),
        ["'f6.bias'", "NaN"],
    ),
    (
        "+Inf",
        lambda d, g: _torch_save(d / "inf.pt", _with("c1.weight", torch.full((6, 1, 5, 5), float("inf")))),
        ["'c1.weight'", "infinite"],
    ),
    (
        "one -Inf among good values",
        lambda d, g: _torch_save(d / "ninf.pt", _with("output.bias", torch.tensor([0.0] * 9 + [float("-inf")]))),
        ["'output.bias'", "infinite"],
    ),
    (
        "NaN that float16 makes of a big float64",
        lambda d, g: _torch_save(d / "ovf.pt", {k: (v.double() * 1e6).half() for k, v in _state().items()}),
        ["infinite"],
    ),
    (
        "extra key",
        lambda d, g: _torch_save(d / "extra.pt", {**_state(), "c7.weight": torch.zeros(3)}),
        ["'c7.weight'", "LeNet-5 does not have"],
    ),
    (
        "missing key",
        lambda d, g: _torch_save(d / "missing.pt", OrderedDict(list(_state().items())[:-1])),
        ["'output.bias'", "lack"],
    ),
    (
        "sparse tensor",
        lambda d, g: _torch_save(d / "sparse.pt", _with("f6.weight", _state()["f6.weight"].to_sparse())),
        ["'f6.weight'", "sparse", "dense"],
    ),
    (
        "meta tensor (no data)",
        lambda d, g: _torch_save(d / "meta.pt", {k: v.to("meta") for k, v in _state().items()}),
        ["'c1.weight'", "no data"],
    ),
    (
        "a bare tensor",
        lambda d, g: _torch_save(d / "tensor.pt", torch.zeros(10)),
        ["holds a Tensor", "not a state_dict"],
    ),
    ("a list of state_dicts", lambda d, g: _torch_save(d / "list.pt", [_state()]), ["holds a list"]),
    ("an empty dict", lambda d, g: _torch_save(d / "emptydict.pt", {}), ["holds no state_dict"]),
    (
        "a checkpoint without tensors",
        lambda d, g: _torch_save(d / "ckpt.pt", {"epoch": 3, "state_dict": {"a": 1}}),
        ["holds no state_dict"],
    ),
    ("a whole pickled module", lambda d, g: _torch_save(d / "module.pt", LeNet5()), ["could run code", "state_dict"]),
    (
        "convention: huge int mean",
        lambda d, g: _torch_save(d / "hm.pt", {"state_dict": _state(), "input": {"mean": 10**400}}),
        ["invalid mean", "..."],
    ),
    (
        "convention: NaN std",
        lambda d, g: _torch_save(d / "ns.pt", {"state_dict": _state(), "input": {"std": float("nan")}}),
        ["invalid std"],
    ),
    (
        "convention: zero std",
        lambda d, g: _torch_save(d / "zs.pt", {"state_dict": _state(), "input": {"std": 0.0}}),
        ["positive std"],
    ),
    (
        "convention: unknown ink",
        lambda d, g: _torch_save(d / "ink.pt", {"state_dict": _state(), "input": {"ink": "x" * 10_000}}),
        ["ink", "expected 'light' or 'dark'"],
    ),
    (
        "safetensors: int32",
        lambda d, g: _safetensors(d / "i.safetensors", {k: v.to(torch.int32) for k, v in _state().items()}),
        ["int32"],
    ),
    (
        "safetensors: another architecture",
        lambda d, g: _safetensors(d / "mlp.safetensors", _other_architecture()),
        ["not a LeNet-5 weights file"],
    ),
    (
        "safetensors: metadata too deep",
        lambda d, g: _safetensors(d / "deep.safetensors", _state(), {"input": "[" * 100_000 + "]" * 100_000}),
        ["unreadable input convention"],
    ),
    ("directory", lambda d, g: _mkdir(d / "folder.pt"), ["folder.pt", "is a folder"]),
    ("nonexistent path", lambda d, g: d / "nowhere" / "missing.pt", ["missing.pt", "does not exist"]),
    ("a name too long for the file system", lambda d, g: d / ("w" * 5000 + ".pt"), ["cannot be read"]),
]


def _safetensors(path: Path, sd, metadata=None) -> Path:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in sd.items()}, str(path), metadata=metadata)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize("name,build,words", CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_file_gives_one_clear_sentence_and_changes_nothing(tmp_path, good_file, good_engine, name, build, words):
    path = build(tmp_path, good_file)
    _refused_everywhere(path, good_engine, *words)


def test_the_zip_bomb_is_small_on_disk_and_refused_before_torch_unpacks_it(
    tmp_path, good_file, good_engine, monkeypatch
):
    path = _zip_bomb(tmp_path / "bomb.pt", good_file)
    assert path.stat().st_size < MAX_FILE_BYTES  # so the size check alone does not catch it
    with zipfile.ZipFile(path) as z:
        assert sum(i.file_size for i in z.infolist()) > MAX_FILE_BYTES

    def never(*a, **k):
        raise AssertionError("torch.load was called on a zip bomb")

    monkeypatch.setattr(torch, "load", never)
    _refused_everywhere(path, good_engine, "expands to")


def test_a_file_of_several_gigabytes_is_refused_by_its_size_without_reading_it(tmp_path, good_engine, monkeypatch):
    path = tmp_path / "huge.pt"
    with open(path, "wb") as f:
        f.write(b"PK\x03\x04")
        f.truncate(5 * 2**30)  # sparse: nothing like 5 GB is written
    assert path.stat().st_size == 5 * 2**30
    opened = []
    real_open = builtins.open

    def spy_open(file, *a, **k):
        if Path(str(file)) == path:
            opened.append(file)
        return real_open(file, *a, **k)

    def never(*a, **k):
        raise AssertionError("the huge file was handed to a reader")

    monkeypatch.setattr(weights_mod, "open", spy_open, raising=False)
    monkeypatch.setattr(torch, "load", never)
    monkeypatch.setattr(zipfile, "ZipFile", never)
    msg = _refused_everywhere(path, good_engine, "huge.pt", "5120 MB", "not a LeNet-5 weights file")
    assert opened == [], f"the file was opened: {msg}"


def test_a_file_just_over_the_limit_is_refused_and_one_at_it_is_read(tmp_path):
    over = tmp_path / "over.pt"
    with open(over, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(WeightsError, match="not a LeNet-5 weights file"):
        load_weights(over)
    at = tmp_path / "at.pt"
    with open(at, "wb") as f:
        f.write(b"junk")
        f.truncate(MAX_FILE_BYTES)
    with pytest.raises(WeightsError, match="not a PyTorch weights file"):  # read, then refused by content
        load_weights(at)


# --------------------------------------------------------------------------- dtypes that are accepted


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_other_float_dtypes_are_converted_to_float32_and_predict(tmp_path, dtype):
    state = _state()
    path = _torch_save(tmp_path / "w.pt", {k: v.to(dtype) for k, v in state.items()})
    w = load_weights(path)
    assert all(v.dtype == torch.float32 for v in w.state_dict.values())
    for k in KEYS:  # the values are the file's values, only widened
        assert torch.equal(w.state_dict[k], state[k].to(dtype).to(torch.float32))
    ref = Engine(save_weights(tmp_path / "ref.pt", state), device="cpu").probabilities(PROBE)
    got = Engine(path, device="cpu").probabilities(PROBE)
    if dtype == torch.float64:
        assert np.array_equal(got, ref)  # float32 -> float64 -> float32 is exact
    else:
        assert np.allclose(got, ref, atol=0.05)


def test_float16_safetensors_are_accepted(tmp_path):
    path = _safetensors(tmp_path / "h.safetensors", {k: v.half() for k, v in _state().items()})
    assert load_weights(path).state_dict["c1.weight"].dtype == torch.float32


def test_a_huge_test_accuracy_in_the_metadata_is_ignored_not_raised(tmp_path):
    path = _torch_save(tmp_path / "w.pt", {"state_dict": _state(), "meta": {"test_accuracy": 10**400}})
    w = load_weights(path)
    assert w.test_accuracy is None
    path = _torch_save(tmp_path / "n.pt", {"state_dict": _state(), "meta": {"test_accuracy": float("nan")}})
    assert load_weights(path).test_accuracy is None


# --------------------------------------------------------------------------- truncation


def _truncation_offsets(size: int) -> list[int]:
    fixed = [1, 2, 3, 4, 8, 16, 30, 64, 100, 200, 512, 1000, 1500, 2000, 4096, 10_000, 50_000, 100_000]
    tail = [size - d for d in (1, 2, 10, 22, 50, 100, 500, 1000, 5000)]
    return sorted({o for o in fixed + tail + [size // 2, size // 3] if 0 < o < size})


@pytest.mark.parametrize("fmt", ["zip", "legacy", "safetensors"])
def test_a_truncated_file_is_refused_at_every_offset(tmp_path, good_engine, fmt):
    state = _state()
    if fmt == "zip":
        full = save_weights(tmp_path / "full.pt", state)
    elif fmt == "legacy":
        full = tmp_path / "full.pt"
        torch.save(state, full, _use_new_zipfile_serialization=False)
    else:
        full = save_weights(tmp_path / "full.safetensors", state)
    data = full.read_bytes()
    load_weights(full)  # the whole file is good
    before = _snapshot(good_engine)
    offsets = _truncation_offsets(len(data))
    assert len(offsets) > 25
    for n in offsets:
        cut = tmp_path / f"cut{full.suffix}"
        cut.write_bytes(data[:n])
        with pytest.raises(WeightsError) as info:
            good_engine.load(cut)
        _assert_one_sentence(info.value)
        assert "cut" in str(info.value), f"the message does not name the file: {info.value}"
    _assert_engine_unchanged(good_engine, before)


# --------------------------------------------------------------------------- code in a pickle


class _Payload:
    """Unpickling this creates the marker file: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.exec, (f"open({self.marker!r}, 'w').write('code ran')",))


@pytest.mark.parametrize("fmt", ["torch zip", "raw pickle", "legacy torch"])
def test_a_pickle_that_runs_code_is_refused_and_the_code_never_runs(tmp_path, good_engine, fmt):
    def build(path: Path, marker: Path) -> Path:
        obj = {"state_dict": _state(), "extra": _Payload(marker)}
        if fmt == "torch zip":
            torch.save(obj, path)
        elif fmt == "legacy torch":
            torch.save(obj, path, _use_new_zipfile_serialization=False)
        else:
            path.write_bytes(pickle.dumps(obj, protocol=2))
        return path

    # The payload is real: an unsafe loader runs it.
    control_marker = tmp_path / "control-ran"
    control = build(tmp_path / "control.pt", control_marker)
    if fmt == "raw pickle":
        pickle.loads(control.read_bytes())
    else:
        torch.load(control, weights_only=False)
    assert control_marker.exists(), "the test payload does not work, so it proves nothing"

    marker = tmp_path / "payload-ran"
    path = build(tmp_path / "evil.pt", marker)
    msg = _refused_everywhere(path, good_engine, "evil.pt")
    assert not marker.exists(), "opening the file ran its code"
    assert "could run code" in msg or "not a readable weights file" in msg


# --------------------------------------------------------------------------- permissions


def test_permission_denied_is_a_clear_error(tmp_path, good_file, good_engine, monkeypatch):
    """Any PermissionError from the file system becomes one sentence (simulated: works as root too)."""
    path = tmp_path / "locked.pt"
    path.write_bytes(good_file.read_bytes())
    real_open = builtins.open

    def denying_open(file, *a, **k):
        if Path(str(file)) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *a, **k)

    monkeypatch.setattr(weights_mod, "open", denying_open, raising=False)
    _refused_everywhere(path, good_engine, "locked.pt", "permission denied")


def _load_in_child_as(uid: int, path: Path) -> str:
    """Call load_weights(path) in a forked child running as ``uid``; return what it reports."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            try:
                load_weights(path)
                out = "LOADED"
            except WeightsError as exc:
                out = "WeightsError: " + str(exc)
            except BaseException as exc:
                out = f"{type(exc).__name__}: {exc}"
            os.write(w, out.encode())
        finally:
            os._exit(0)
    os.close(w)
    try:
        ready, _, _ = select.select([r], [], [], 60)
        data = os.read(r, 65536) if ready else b"TIMEOUT"
    finally:
        os.close(r)
        if not data or data == b"TIMEOUT":
            os.kill(pid, 9)
        os.waitpid(pid, 0)
    return data.decode()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize("where", ["file", "folder"])
def test_a_real_unreadable_file_is_a_clear_error(good_file, where):
    """A real permission denial: chmod 000, and when the tests run as root, read as 'nobody'."""
    base = Path(tempfile.mkdtemp(prefix="lenet-perm-"))
    try:
        os.chmod(base, 0o711)
        folder = base / "sub"
        folder.mkdir()
        path = folder / "locked.pt"
        path.write_bytes(good_file.read_bytes())
        if where == "file":
            os.chmod(path, 0)
        else:
            os.chmod(folder, 0)
        if os.geteuid() != 0:
            with pytest.raises(WeightsError) as info:
                load_weights(path)
            report = "WeightsError: " + str(info.value)
        else:
            if not hasattr(os, "fork"):
                pytest.skip("running as root without fork(): no unprivileged user to test with")
            report = _load_in_child_as(65534, path)
        assert report.startswith("WeightsError: "), report
        assert "permission denied" in report.lower() and "locked.pt" in report
    finally:
        for p in (base / "sub", base / "sub" / "locked.pt"):
            if p.exists():
                os.chmod(p, 0o700)
        for p in sorted(base.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        base.rmdir()


# --------------------------------------------------------------------------- after a bad file, a good one still loads


def test_after_every_refusal_a_good_file_still_loads(tmp_path, good_file):
    engine = Engine(good_file, device="cpu")
    for i, (name, build, _) in enumerate(CORPUS):
        if name == "zip bomb":
            continue  # covered above; slow to build
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        with pytest.raises(WeightsError):
            engine.load(build(folder, good_file))
    other = save_weights(tmp_path / "other.pt", _state(seed=11))
    assert engine.load(other).source == str(other)
    fresh = Engine(other, device="cpu")
    assert np.array_equal(engine.probabilities(PROBE), fresh.probabilities(PROBE))


# --------------------------------------------------------------------------- property tests

#: LENET_DRAW_FUZZ_EXAMPLES=5000 for a long run; the default keeps the suite quick.
_FUZZ = settings(
    max_examples=int(os.environ.get("LENET_DRAW_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _outcome(path: Path) -> str:
    """Load ``path``; only success or WeightsError are allowed."""
    try:
        with provoked_warnings(*TORCH_PICKLE_PROTOCOL):  # a damaged byte can read as an unknown protocol
            w = load_weights(path)
    except WeightsError as exc:
        _assert_one_sentence(exc)
        return "error"
    assert list(w.state_dict) == KEYS
    for k, v in w.state_dict.items():
        assert v.dtype == torch.float32 and tuple(v.shape) == SHAPES[k] and bool(torch.isfinite(v).all())
    w.build_model()
    return "loaded"


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def valid_files(fuzz_dir) -> dict[str, bytes]:
    state = _state()
    zip_pt = save_weights(fuzz_dir / "v.pt", state, meta={"test_accuracy": 99.0})
    st_file = save_weights(fuzz_dir / "v.safetensors", state)
    legacy = fuzz_dir / "legacy.pt"
    torch.save(state, legacy, _use_new_zipfile_serialization=False)
    return {".pt": zip_pt.read_bytes(), ".safetensors": st_file.read_bytes(), ".pth": legacy.read_bytes()}


def _offset(data: st.DataObject, size: int) -> int:
    """Anywhere, but mostly in the headers and the zip directory, where damage matters most."""
    region = data.draw(st.sampled_from(["head", "tail", "any"]))
    if region == "head":
        return data.draw(st.integers(0, min(size, 4096) - 1))
    if region == "tail":
        return data.draw(st.integers(max(0, size - 4096), size - 1))
    return data.draw(st.integers(0, size - 1))


@_FUZZ
@given(fmt=st.sampled_from([".pt", ".safetensors", ".pth"]), data=st.data())
def test_fuzz_byte_flips_give_weights_or_a_weights_error(fuzz_dir, valid_files, fmt, data):
    raw = bytearray(valid_files[fmt])
    for _ in range(data.draw(st.integers(1, 8))):
        i = _offset(data, len(raw))
        raw[i] ^= data.draw(st.integers(1, 255))
    path = fuzz_dir / f"flip{fmt}"
    path.write_bytes(bytes(raw))
    _outcome(path)


@_FUZZ
@given(fmt=st.sampled_from([".pt", ".safetensors", ".pth"]), data=st.data())
def test_fuzz_truncation_and_splices_give_weights_or_a_weights_error(fuzz_dir, valid_files, fmt, data):
    raw = valid_files[fmt]
    i = _offset(data, len(raw))
    kind = data.draw(st.sampled_from(["truncate", "insert", "delete"]))
    if kind == "truncate":
        out = raw[:i]
    elif kind == "insert":
        out = raw[:i] + data.draw(st.binary(min_size=1, max_size=64)) + raw[i:]
    else:
        out = raw[:i] + raw[i + data.draw(st.integers(1, 64)) :]
    path = fuzz_dir / f"cut{fmt}"
    path.write_bytes(out)
    assert _outcome(path) == "error" or kind != "truncate" or i == len(raw)


_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_shapes = st.lists(st.integers(0, 7), min_size=0, max_size=4).map(tuple)
_dtypes = st.sampled_from(
    [torch.float32, torch.float16, torch.float64, torch.bfloat16, torch.int32, torch.uint8, torch.bool]
)


@_FUZZ
@given(
    renames=st.dictionaries(st.sampled_from(KEYS), _names, max_size=3),
    reshapes=st.dictionaries(st.sampled_from(KEYS), _shapes, max_size=2),
    retypes=st.dictionaries(st.sampled_from(KEYS), _dtypes, max_size=2),
    dropped=st.sets(st.sampled_from(KEYS), max_size=2),
    extra=st.dictionaries(_names, _shapes, max_size=2),
    wrap=st.sampled_from(["bare", "state_dict", "model", "module.", "safetensors"]),
)
def test_fuzz_key_shape_and_dtype_mutations_give_weights_or_a_precise_error(
    fuzz_dir, renames, reshapes, retypes, dropped, extra, wrap
):
    sd = _state()
    for k, shape in reshapes.items():
        sd[k] = torch.zeros(shape)
    for k, dt in retypes.items():
        sd[k] = sd[k].to(dt)
    for k in dropped:
        del sd[k]
    sd = OrderedDict((renames.get(k, k), v) for k, v in sd.items())
    for k, shape in extra.items():
        sd.setdefault(k, torch.zeros(shape))
    if wrap == "safetensors":
        path = fuzz_dir / "m.safetensors"
        try:
            _safetensors(path, sd)
        except Exception:  # safetensors itself refuses some names/shapes; nothing to load then
            return
    else:
        path = fuzz_dir / "m.pt"
        obj = {"bare": sd, "module.": OrderedDict(("module." + k, v) for k, v in sd.items())}.get(wrap, {wrap: sd})
        torch.save(obj, path)
    result = _outcome(path)
    changed_shape = any(tuple(s) != SHAPES[k] for k, s in reshapes.items() if k not in dropped)
    if dropped or changed_shape:
        assert result == "error"
    if result == "error" and changed_shape and not (dropped or renames or extra or retypes):
        # a wrong shape alone is reported with the key and both shapes
        with pytest.raises(WeightsError, match=r"has shape .*; LeNet-5 needs"):
            load_weights(path)
