"""Weights files: load, validate against LeNet-5, save.

Nothing a user opens can run code: ``.pt``/``.pth`` files go through
``torch.load(..., weights_only=True)`` and ``.safetensors`` through safetensors. Every problem
ends in one ``WeightsError`` whose message is a sentence a person understands. A file is
validated completely before anything uses it, so a bad one never half-replaces good weights.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import zipfile
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from lenet_draw.errors import WeightsError
from lenet_draw.model import LeNet5

#: Files larger than this are refused before reading: LeNet-5's weights take about 250 kB.
MAX_FILE_BYTES = 64 * 1024 * 1024
FORMAT_TAG = "lenet-draw/1"
_CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights")
_PREFIXES = ("module.", "model.", "net.", "_orig_mod.")


def _brief(v: Any, limit: int = 40) -> str:
    """repr() cut short, for values read from a file (a 5000-digit int cannot even be printed)."""
    try:
        text = repr(v)
    except ValueError:
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
        changed = True
        while changed:
            changed = False
            for p in _PREFIXES:
                if name.startswith(p):
                    name, changed = name[len(p) :], True
        out[name] = v
    return out


def _find_state_dict(obj: Any) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(state_dict, the checkpoint around it or {})."""
    if not isinstance(obj, Mapping):
        raise WeightsError(f"The file holds a {type(obj).__name__}, not a state_dict or a checkpoint dictionary.")
    if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj, {}
    for key in _CHECKPOINT_KEYS:
        inner = obj.get(key)
        if isinstance(inner, Mapping) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
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


def _read_safetensors(path: Path) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    try:
        from safetensors import safe_open
    except ImportError as exc:  # pragma: no cover - safetensors is a dependency
        raise WeightsError("Reading .safetensors files needs the 'safetensors' package.") from exc
    try:
        tensors: dict[str, torch.Tensor] = OrderedDict()
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            for k in f.keys():
                tensors[k] = f.get_tensor(k)
    except Exception as exc:  # safetensors raises its own error types and plain ones
        raise WeightsError(f"{path.name} is not a readable .safetensors file ({_short(exc)}).") from exc
    checkpoint: dict[str, Any] = {}
    if "input" in meta:
        try:
            checkpoint["input"] = json.loads(meta["input"])
        except (ValueError, RecursionError):
            raise WeightsError(f"{path.name} has an unreadable input convention in its metadata.") from None
    if "meta" in meta:
        try:
            checkpoint["meta"] = json.loads(meta["meta"])
        except (ValueError, RecursionError):
            checkpoint["meta"] = {}
    return tensors, checkpoint


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def _check_zip_size(path: Path) -> None:
    """Refuse a zip whose entries expand beyond MAX_FILE_BYTES before torch decompresses it.

    torch reads deflated entries too, so a small file could otherwise ask for gigabytes.
    """
    try:
        with zipfile.ZipFile(path) as z:
            total = sum(max(0, i.file_size) for i in z.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise WeightsError(
            f"{path.name} is not a readable weights file: it may be truncated or in another format."
        ) from exc
    if total > MAX_FILE_BYTES:
        raise WeightsError(
            f"{path.name} expands to {total / 2**20:.0f} MB when unpacked; LeNet-5 weights take about "
            "0.25 MB, so it was refused without unpacking it."
        )


def _read_torch(path: Path) -> Any:
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        msg = str(exc)
        # torch words every weights_only refusal alike; only these mean the file asked for objects
        # (garbage after a pickle header reads "Unsupported operand" and is just unreadable).
        if any(
            w in msg
            for w in ("Unsupported global", "GLOBAL", "reduce", "Can only build", "Can only create", "allowlist")
        ):
            raise WeightsError(
                f"{path.name} contains Python objects other than tensors; it was refused because "
                "opening it could run code. Save the weights with torch.save(model.state_dict(), ...)."
            ) from exc
        raise WeightsError(f"{path.name} is not a readable weights file ({_short(exc)}).") from exc
    except (
        RuntimeError,
        EOFError,
        zipfile.BadZipFile,
        ValueError,
        OSError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        UnicodeDecodeError,
        OverflowError,
        MemoryError,
    ) as exc:
        raise WeightsError(
            f"{path.name} is not a readable weights file: it may be truncated or in another format."
        ) from exc
    except Exception as exc:  # a damaged file can make the unpickler fail in any way
        raise WeightsError(
            f"{path.name} is not a readable weights file ({type(exc).__name__} while unpacking it)."
        ) from exc


def load_weights(path: str | os.PathLike) -> Weights:
    """Read and validate a weights file; raise WeightsError with a clear sentence if unusable."""
    path = Path(path)
    try:
        # The size is checked before the file is opened: a file of gigabytes is never read.
        if not path.exists():
            raise WeightsError(f"{path} does not exist.")
        if path.is_dir():
            raise WeightsError(f"{path} is a folder, not a weights file.")
        size = path.stat().st_size
        if size == 0:
            raise WeightsError(f"{path.name} is empty.")
        if size > MAX_FILE_BYTES:
            raise WeightsError(
                f"{path.name} is {size / 2**20:.0f} MB; LeNet-5 weights take about 0.25 MB, so this is "
                "not a LeNet-5 weights file."
            )
        with open(path, "rb") as f:
            head = f.read(16)
    except PermissionError as exc:
        raise WeightsError(f"{path.name} cannot be read: permission denied.") from exc
    except OSError as exc:  # name too long, I/O error, a parent folder that cannot be entered ...
        raise WeightsError(f"{path.name[:80]} cannot be read: {exc.strerror or _short(exc)}.") from exc
    if path.suffix.lower() == ".safetensors":
        sd, checkpoint = _read_safetensors(path)
    else:
        if not (head.startswith(b"PK") or head[:1] == b"\x80"):
            raise WeightsError(
                f"{path.name} is not a PyTorch weights file (use a .pt/.pth saved by torch.save, "
                "or a .safetensors file)."
            )
        if head.startswith(b"PK"):
            _check_zip_size(path)
        obj = _read_torch(path)
        sd, checkpoint = _find_state_dict(obj)
    state = validate_state_dict(sd)
    convention = DEFAULT_CONVENTION
    raw_conv = checkpoint.get("input") if isinstance(checkpoint, Mapping) else None
    if isinstance(raw_conv, Mapping):
        try:
            convention = InputConvention.from_mapping(raw_conv)
        except (TypeError, OverflowError, RecursionError) as exc:
            raise WeightsError(f"{path.name} has an unreadable input convention ({_short(exc)}).") from exc
    meta = checkpoint.get("meta") if isinstance(checkpoint, Mapping) else None
    meta = dict(meta) if isinstance(meta, Mapping) else {}
    return Weights(state_dict=state, convention=convention, meta=meta, source=str(path))


def save_weights(
    path: str | os.PathLike,
    state_dict: Mapping[str, torch.Tensor],
    convention: InputConvention = DEFAULT_CONVENTION,
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Save in a format load_weights reads: a checkpoint dict (.pt) or .safetensors."""
    path = Path(path)
    clean = validate_state_dict(state_dict)
    meta = dict(meta or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import save_file

        save_file(
            dict(clean),
            str(path),
            metadata={"format": FORMAT_TAG, "input": json.dumps(asdict(convention)), "meta": json.dumps(meta)},
        )
    else:
        torch.save({"format": FORMAT_TAG, "state_dict": clean, "input": asdict(convention), "meta": meta}, str(path))
    return path
