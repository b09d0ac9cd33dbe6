"""Weights files: load, validate against LeNet-5, save.

Nothing a user opens can run code, crash, hang or fill memory: the file is read once into
memory (a regular file of at most ``MAX_FILE_BYTES``, no mmap), ``.pt``/``.pth`` files are read
by ``ptfile`` (a bounded pickle grammar, never ``torch.load``) and ``.safetensors`` by
safetensors from those bytes, with its header and metadata bounded. Every problem ends in one
``WeightsError`` whose message is a sentence a person understands. A file is validated
completely, including that the network's output is finite, before anything uses it, so a bad
one never half-replaces good weights.
"""

from __future__ import annotations

import io
import json
import math
import os
import reprlib
import stat
import struct
import zipfile
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from lenet_draw.atomic import write_atomic, write_bytes_atomic
from lenet_draw.errors import LoadCancelled, WeightsError
from lenet_draw.json_meta import json_meta
from lenet_draw.model import LeNet5
from lenet_draw.pickle_reader import PickleCancelled
from lenet_draw.ptfile import PtError, UnusableTensor, check_zip_directory, read_pt

#: Files larger than this are refused before reading: LeNet-5's weights take about 250 kB.
MAX_FILE_BYTES = 64 * 1024 * 1024
FORMAT_TAG = "lenet-draw/1"
_CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights")
_PREFIXES = ("module.", "model.", "net.", "_orig_mod.")
#: |mean|, std and scale of an input convention, and what it makes of a pixel, stay within
#: this; std and scale are at least 1/MAX_CONVENTION. Weights stay within MAX_ABS_WEIGHT.
#: Together they keep every activation finite in float32 for any drawing: C1 sums 25 products
#: of at most 1e6 x 1e6, every later layer sees tanh outputs of at most 1.
MAX_CONVENTION = 1e6
MAX_ABS_WEIGHT = 1e6
#: A .safetensors header, and each metadata text in it, at most this long.
MAX_HEADER_BYTES = 1 << 20
MAX_METADATA_TEXT = 1 << 16

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxlong, _REPR.maxother = 2, 40, 40, 40
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 4


def _brief(v: Any, limit: int = 40) -> str:
    """A bounded repr() of a value read from a file: a few items of a few levels, cut short
    (a nested list can have billions of paths; a 5000-digit int cannot even be printed)."""
    try:
        text = _REPR.repr(v)
    except (ValueError, RecursionError, MemoryError):
        return f"a {type(v).__name__} too large to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _finite(v: int | float) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:  # an int too large for a float
        return False


@dataclass(frozen=True)
class InputConvention:
    """How the network expects its input: ``((pixel * scale) - mean) / std``.

    ``pixel`` is 0..1 with ink = 1 when ``ink`` is "light" (MNIST's white on black), or
    ink = 0 when ``ink`` is "dark". ``scale`` is 1 for inputs in 0..1, 255 for 0..255.
    """

    mean: float = 0.1307
    std: float = 0.3081
    scale: float = 1.0
    ink: str = "light"

    def __post_init__(self) -> None:
        for name in ("mean", "std", "scale"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not _finite(v):
                raise WeightsError(f"The file's input convention has an invalid {name}: {_brief(v)}.")
        if self.std <= 0 or self.scale <= 0:
            raise WeightsError("The file's input convention needs a positive std and scale.")
        lo, hi = 1 / MAX_CONVENTION, MAX_CONVENTION
        if not (lo <= self.std <= hi and lo <= self.scale <= hi and abs(self.mean) <= hi):
            raise WeightsError(
                f"The file's input convention (mean {self.mean:.3g}, std {self.std:.3g}, scale {self.scale:.3g}) "
                f"is out of range: std and scale must lie between {lo:g} and {hi:g}, the mean within {hi:g}."
            )
        reach = max(abs(self.mean), abs(self.scale - self.mean)) / self.std
        if reach > MAX_CONVENTION:
            raise WeightsError(
                f"The file's input convention turns pixels into values up to {reach:.3g}; at most {hi:g} "
                "keeps the network's arithmetic finite."
            )
        if not isinstance(self.ink, str) or self.ink not in ("light", "dark"):
            raise WeightsError(f"The file's input convention names ink {_brief(self.ink)}; expected 'light' or 'dark'.")

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """Map 0..1 images with ink = 1 to what the network was trained on."""
        if self.ink == "dark":
            x = 1.0 - x
        return (x * self.scale - self.mean) / self.std

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> "InputConvention":
        known = {k: m[k] for k in ("mean", "std", "scale", "ink") if k in m}
        for k in ("mean", "std", "scale"):
            if k in known:
                v = known[k]
                if isinstance(v, (list, tuple)) and len(v) == 1:
                    v = v[0]
                if isinstance(v, torch.Tensor) and v.numel() == 1:
                    v = v.item()
                known[k] = v
        return cls(**known)


#: The convention of the bundled weights, and the default for a bare state_dict.
DEFAULT_CONVENTION = InputConvention()


@dataclass
class Weights:
    """A validated LeNet-5 state_dict with what the file says about it."""

    state_dict: "OrderedDict[str, torch.Tensor]"
    convention: InputConvention = DEFAULT_CONVENTION
    meta: dict = field(default_factory=dict)
    source: str = ""

    @property
    def test_accuracy(self) -> float | None:
        acc = self.meta.get("test_accuracy")
        if isinstance(acc, (int, float)) and not isinstance(acc, bool) and _finite(acc):
            return float(acc)
        return None

    def build_model(self) -> LeNet5:
        model = LeNet5()
        model.load_state_dict(self.state_dict)
        model.eval()
        return model


def _expected() -> "OrderedDict[str, torch.Size]":
    return OrderedDict((k, v.shape) for k, v in LeNet5().state_dict().items())


_EXPECTED = _expected()


def _shape(s: Any) -> str:
    return "x".join(str(d) for d in s) if len(s) else "a scalar"


def _strip_prefixes(sd: Mapping[str, Any]) -> "OrderedDict[str, Any]":
    out: OrderedDict[str, Any] = OrderedDict()
    for k, v in sd.items():
        name = str(k)
        i = 0  # linear in the key's length: a key can repeat a prefix a million times
        while True:
            for p in _PREFIXES:
                if name.startswith(p, i):
                    i += len(p)
                    break
            else:
                break
        out[name[i:]] = v
    return out


def _tensorlike(v: Any) -> bool:
    return isinstance(v, (torch.Tensor, UnusableTensor))


def _find_state_dict(obj: Any) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(state_dict, the checkpoint around it or {})."""
    if not isinstance(obj, Mapping):
        raise WeightsError(f"The file holds a {type(obj).__name__}, not a state_dict or a checkpoint dictionary.")
    if obj and all(_tensorlike(v) for v in obj.values()):
        return obj, {}
    for key in _CHECKPOINT_KEYS:
        inner = obj.get(key)
        if isinstance(inner, Mapping) and inner and all(_tensorlike(v) for v in inner.values()):
            return inner, obj
    raise WeightsError(
        "The file is a dictionary but holds no state_dict (looked for tensors at the top level "
        f"and under {', '.join(repr(k) for k in _CHECKPOINT_KEYS)})."
    )


def validate_state_dict(sd: Mapping[str, Any]) -> "OrderedDict[str, torch.Tensor]":
    """Check a state_dict against LeNet-5; return it cleaned (float32, contiguous, on CPU)."""
    sd = _strip_prefixes(sd)
    keys = list(sd)
    expected = list(_EXPECTED)
    if set(keys) != set(expected) and not set(keys) & set(expected) and len(keys) == len(expected):
        # Another naming of the same network (conv1/fc1 ...): accept it only when every
        # tensor's shape matches LeNet-5's layer for layer, in order.
        if all(
            isinstance(sd[k], torch.Tensor) and tuple(sd[k].shape) == tuple(_EXPECTED[e])
            for k, e in zip(keys, expected)
        ):
            sd = OrderedDict((e, sd[k]) for k, e in zip(keys, expected))
            keys = expected
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in keys if k not in _EXPECTED]
    if missing and unexpected:
        raise WeightsError(
            f"This is not a LeNet-5 weights file: it lacks {_names(missing)} and holds "
            f"{_names(unexpected)}, which LeNet-5 does not have (a file for another network?)."
        )
    if missing:
        raise WeightsError(f"The weights lack {_names(missing)}, which LeNet-5 needs.")
    if unexpected:
        raise WeightsError(f"The weights hold {_names(unexpected)}, which LeNet-5 does not have.")
    clean: OrderedDict[str, torch.Tensor] = OrderedDict()
    for k in expected:
        v = sd[k]
        if isinstance(v, UnusableTensor):
            if v.shape is not None and tuple(v.shape) != tuple(_EXPECTED[k]):
                raise WeightsError(f"'{k}' has shape {_shape(v.shape)}; LeNet-5 needs {_shape(_EXPECTED[k])}.")
            raise WeightsError(f"'{k}' {v.kind}; weights must be a plain dense tensor.")
        if not isinstance(v, torch.Tensor):
            raise WeightsError(f"'{k}' is a {type(v).__name__}, not a tensor.")
        if tuple(v.shape) != tuple(_EXPECTED[k]):
            raise WeightsError(f"'{k}' has shape {_shape(v.shape)}; LeNet-5 needs {_shape(_EXPECTED[k])}.")
        if v.layout != torch.strided or v.is_meta:
            kind = (
                "holds no data (a meta tensor)" if v.is_meta else f"is a {str(v.layout).replace('torch.', '')} tensor"
            )
            raise WeightsError(f"'{k}' {kind}; weights must be a plain dense tensor.")
        if not (v.is_floating_point()):
            raise WeightsError(
                f"'{k}' holds {str(v.dtype).replace('torch.', '')} values; weights must be floating point."
            )
        v = v.detach().to("cpu", torch.float32).contiguous()
        if not torch.isfinite(v).all():
            raise WeightsError(f"'{k}' contains NaN or infinite values.")
        biggest = float(v.abs().max()) if v.numel() else 0.0
        if biggest > MAX_ABS_WEIGHT:
            raise WeightsError(
                f"'{k}' holds values up to {biggest:.3g}; LeNet-5's arithmetic overflows with weights "
                f"beyond {MAX_ABS_WEIGHT:g}."
            )
        clean[k] = v
    return clean


def _key(k: str, limit: int = 60) -> str:
    """A key name from a file, quoted, on one line and short (names can hold anything)."""
    if k.isprintable() and len(k) <= limit:
        return f"'{k}'"
    return _brief(k, limit)


def _names(keys: list[str], limit: int = 4) -> str:
    shown = ", ".join(_key(k) for k in keys[:limit])
    more = len(keys) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _read_safetensors(data: bytes, name: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """Parse .safetensors from bytes in memory (no mmap: a file changed while it is read
    cannot kill the process), its header and metadata bounded."""
    try:
        from safetensors.torch import load as load_safetensors
    except ImportError as exc:  # pragma: no cover - safetensors is a dependency
        raise WeightsError("Reading .safetensors files needs the 'safetensors' package.") from exc
    if len(data) < 8:
        raise WeightsError(f"{name} is not a readable .safetensors file (it is too short).")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES or n > len(data) - 8:
        raise WeightsError(f"{name} is not a readable .safetensors file (its header is too long or cut off).")
    try:
        header = json.loads(data[8 : 8 + n])
    except (ValueError, RecursionError, MemoryError):
        raise WeightsError(f"{name} is not a readable .safetensors file (its header is not JSON).") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    try:
        tensors = load_safetensors(data)
    except Exception as exc:  # safetensors raises its own error types and plain ones
        raise WeightsError(f"{name} is not a readable .safetensors file ({_short(exc)}).") from exc
    checkpoint: dict[str, Any] = {}
    for key in ("input", "meta"):
        text = meta.get(key)
        if not isinstance(text, str):
            continue
        try:
            if len(text) > MAX_METADATA_TEXT:
                raise ValueError("too long")
            checkpoint[key] = json.loads(text)
        except (ValueError, RecursionError, MemoryError):
            if key == "input":
                raise WeightsError(f"{name} has an unreadable input convention in its metadata.") from None
            checkpoint[key] = {}
    return OrderedDict(sorted(tensors.items())), checkpoint


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def _check_zip_size(data: bytes, name: str) -> None:
    """Refuse a zip whose entries declare more than MAX_FILE_BYTES before any is inflated.

    (What an entry really inflates to is bounded again while it is read, in ``ptfile``.)
    """
    try:
        check_zip_directory(data)  # first: zipfile parses the whole directory, however large
    except PtError as exc:
        raise WeightsError(f"{name} is not a readable weights file ({exc.reason}).") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            total = sum(max(0, i.file_size) for i in z.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise WeightsError(f"{name} is not a readable weights file: it may be truncated or in another format.") from exc
    if total > MAX_FILE_BYTES:
        raise WeightsError(
            f"{name} expands to {total / 2**20:.0f} MB when unpacked; LeNet-5 weights take about "
            "0.25 MB, so it was refused without unpacking it."
        )


def _read_torch(data: bytes, name: str, cancel: Callable[[], bool] | None) -> Any:
    try:
        return read_pt(data, MAX_FILE_BYTES, cancel)
    except PtError as exc:
        if exc.code:
            raise WeightsError(
                f"{name} contains Python objects other than tensors; it was refused because "
                "opening it could run code. Save the weights with torch.save(model.state_dict(), ...)."
            ) from None
        raise WeightsError(f"{name} is not a readable weights file ({exc.reason}).") from None


def _not_a_file(st: os.stat_result) -> str:
    mode = st.st_mode
    for test, what in (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a disk device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return what
    return "not a regular file"


def _nonblocking(path: str, flags: int) -> int:
    # A FIFO swapped in after the check must not block the open.
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def _read_bytes(path: Path) -> bytes:
    """The whole file, if it is a regular file of 1 byte to MAX_FILE_BYTES; else WeightsError."""
    try:
        # The kind and size are checked before the file is opened: a file of gigabytes, a pipe
        # or a device is never read.
        if not path.exists():
            raise WeightsError(f"{path} does not exist.")
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise WeightsError(f"{path} is a folder, not a weights file.")
        if not stat.S_ISREG(st.st_mode):
            raise WeightsError(f"{path.name} is {_not_a_file(st)}, not a weights file.")
        if st.st_size == 0:
            raise WeightsError(f"{path.name} is empty.")
        if st.st_size > MAX_FILE_BYTES:
            raise WeightsError(
                f"{path.name} is {st.st_size / 2**20:.0f} MB; LeNet-5 weights take about 0.25 MB, so this is "
                "not a LeNet-5 weights file."
            )
        with open(path, "rb", opener=_nonblocking) as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise WeightsError(f"{path.name} is {_not_a_file(st)}, not a weights file.")
            data = f.read(MAX_FILE_BYTES + 1)
    except PermissionError as exc:
        raise WeightsError(f"{path.name} cannot be read: permission denied.") from exc
    except OSError as exc:  # name too long, I/O error, a parent folder that cannot be entered ...
        raise WeightsError(f"{path.name[:80]} cannot be read: {exc.strerror or _short(exc)}.") from exc
    if not data:
        raise WeightsError(f"{path.name} is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise WeightsError(f"{path.name} grew past {MAX_FILE_BYTES // 2**20} MB while it was read.")
    return data


def _check_output_finite(state: Mapping[str, torch.Tensor], convention: InputConvention, name: str) -> None:
    """Run the network on blank, full and random inputs: every output must be finite."""
    model = LeNet5()
    model.load_state_dict(state)
    model.eval()
    probe = torch.stack(
        [
            torch.zeros(1, 32, 32),
            torch.ones(1, 32, 32),
            torch.rand(1, 32, 32, generator=torch.Generator().manual_seed(0)),
        ]
    )
    with torch.no_grad():
        out = torch.softmax(model(convention.apply(probe)), dim=1)
    if not torch.isfinite(out).all():
        raise WeightsError(f"{name} gives NaN or infinite outputs; these weights cannot read a digit.")


def load_weights(path: str | os.PathLike, cancel: Callable[[], bool] | None = None) -> Weights:
    """Read and validate a weights file; raise WeightsError with a clear sentence if unusable.

    ``cancel`` is polled while the file is read; when it returns True, LoadCancelled is raised.
    Of the file's ``meta`` (a checkpoint's, or a .safetensors file's metadata) only the part
    JSON can write is kept (``json_meta``): a tensor, bytes, NaN or a huge integer in it is
    dropped, not refused, so the weights load, and saving them later never fails on it.
    """
    path = Path(path)
    data = _read_bytes(path)
    name = path.name
    try:
        if path.suffix.lower() == ".safetensors":
            sd, checkpoint = _read_safetensors(data, name)
        else:
            if not (data.startswith(b"PK") or data[:1] == b"\x80"):
                raise WeightsError(
                    f"{name} is not a PyTorch weights file (use a .pt/.pth saved by torch.save, "
                    "or a .safetensors file)."
                )
            if data.startswith(b"PK"):
                _check_zip_size(data, name)
            obj = _read_torch(data, name, cancel)
            sd, checkpoint = _find_state_dict(obj)
    except PickleCancelled:
        raise LoadCancelled(f"Loading {name} was cancelled.") from None
    del data
    state = validate_state_dict(sd)
    convention = DEFAULT_CONVENTION
    raw_conv = checkpoint.get("input") if isinstance(checkpoint, Mapping) else None
    if isinstance(raw_conv, Mapping):
        try:
            convention = InputConvention.from_mapping(raw_conv)
        except (TypeError, OverflowError, RecursionError, ValueError, RuntimeError, NotImplementedError) as exc:
            if isinstance(exc, WeightsError):
                raise
            raise WeightsError(f"{name} has an unreadable input convention ({_short(exc)}).") from exc
    meta = json_meta(checkpoint.get("meta") if isinstance(checkpoint, Mapping) else None)
    _check_output_finite(state, convention, name)
    return Weights(state_dict=state, convention=convention, meta=meta, source=str(path))


def save_weights(
    path: str | os.PathLike,
    state_dict: Mapping[str, torch.Tensor],
    convention: InputConvention = DEFAULT_CONVENTION,
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Save in a format load_weights reads: a checkpoint dict (.pt) or .safetensors.

    Written to a temporary file beside ``path`` and renamed over it: a kill at any moment
    leaves the old file or the new one, never a truncated one. Of ``meta`` only what JSON can
    write is saved (``json_meta``), at most what a .safetensors file's metadata may hold, the
    same in both formats: whatever it holds, saving never fails on it, and loading the file
    gives back what was saved (the first ``MAX_META_JSON`` of it: see ``json_meta``)."""
    path = Path(path)
    clean = validate_state_dict(state_dict)
    meta = json_meta(meta, MAX_METADATA_TEXT)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import save

        data = save(
            dict(clean),
            metadata={"format": FORMAT_TAG, "input": json.dumps(asdict(convention)), "meta": json.dumps(meta)},
        )
        write_bytes_atomic(path, data)
    else:
        obj = {"format": FORMAT_TAG, "state_dict": clean, "input": asdict(convention), "meta": meta}
        write_atomic(path, lambda f: torch.save(obj, f))
    return path
