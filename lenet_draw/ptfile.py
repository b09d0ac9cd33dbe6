"""PyTorch ``.pt``/``.pth`` files read without ``torch.load``: the zip format and the legacy one.

The file's bytes are already in memory (``weights.py`` reads them once, bounded); this module
finds the pickle, reads it with ``pickle_reader`` (bounded grammar and work) and builds the
tensors it names from their storages, reading each storage with a bound on its inflated size.
Only these globals are understood: ``collections.OrderedDict``, torch's tensor and parameter
rebuild functions, its storage types, dtypes, ``torch.Size`` and the layout lookup. Sparse,
quantized, meta and other tensor kinds become ``UnusableTensor`` so the caller can say which key
is of a kind LeNet-5 cannot use. Anything else is refused: it is what could run code.
"""

from __future__ import annotations

import io
import math
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch

from lenet_draw.pickle_reader import Limits, PickleCancelled, PickleRefused, loads
from lenet_draw.zip_directory import declared

#: Every storage together, inflated, at most this many bytes (LeNet-5 in float64: 0.5 MB).
MAX_STORAGE_BYTES = 16 * 1024 * 1024
#: A tensor has at most this many dimensions.
MAX_DIMS = 8
#: A tensor has at most this many elements (LeNet-5's largest has 48,000). A view can repeat its
#: storage's elements (stride 0), so the storage budget alone does not bound it.
MAX_ELEMENTS = MAX_STORAGE_BYTES
#: A zip declares at most this many entries (torch.save writes one per tensor and a few more),
#: and a central directory of at most this many bytes: zipfile parses the whole directory, in
#: time and memory that grow with it, before anything else can be checked.
MAX_ZIP_ENTRIES = 1000
MAX_ZIP_DIRECTORY_BYTES = MAX_ZIP_ENTRIES * 1024
PICKLE_LIMITS = Limits()

_STORAGES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
    "ComplexFloatStorage": torch.complex64,
    "ComplexDoubleStorage": torch.complex128,
}
_DTYPES = {
    name: getattr(torch, name)
    for name in (
        "float32 float64 float16 bfloat16 int64 int32 int16 int8 uint8 bool complex64 complex128 "
        "float half double long int short"
    ).split()
}
_UNUSABLE = {
    "_rebuild_sparse_tensor": "is a sparse tensor",
    "_rebuild_sparse_csr_tensor": "is a sparse tensor",
    "_rebuild_meta_tensor_no_storage": "holds no data (a meta tensor)",
    "_rebuild_qtensor": "is a quantized tensor",
    "_rebuild_nested_tensor": "is a nested tensor",
    "_rebuild_wrapper_subclass": "is a tensor subclass",
    "_rebuild_device_tensor_from_numpy": "is a tensor stored for another device",
    "_rebuild_device_tensor_from_cpu_tensor": "is a tensor stored for another device",
    "_rebuild_xla_tensor": "is a tensor stored for another device",
    "_rebuild_mtia_tensor": "is a tensor stored for another device",
}


class PtError(Exception):
    """The file cannot be read; ``reason`` completes "NAME is not a readable weights file (...)".
    ``code`` is True when it asked for Python objects other than tensors."""

    def __init__(self, reason: str, code: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class UnusableTensor:
    """A tensor of a kind LeNet-5 cannot use (sparse, meta, quantized ...): what and its shape."""

    kind: str
    shape: tuple | None = None

    def __repr__(self) -> str:
        return f"<tensor that {self.kind}>"


@dataclass(frozen=True)
class _Global:
    module: str
    name: str


@dataclass
class _Storage:
    dtype: torch.dtype
    data: torch.Tensor  # 1-D, on the CPU


class _Reader:
    def __init__(self, fetch: Callable[[str, torch.dtype, int], torch.Tensor]) -> None:
        self._fetch = fetch
        self._storages: dict[str, _Storage] = {}
        self.budget = MAX_STORAGE_BYTES

    # -- globals ----------------------------------------------------------------------------
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return _Global(module, name)
        if module == "torch._utils" and (
            name in ("_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_parameter")
            or name in ("_rebuild_parameter_with_state",)
            or name in _UNUSABLE
        ):
            return _Global(module, name)
        if module == "torch._tensor" and name == "_rebuild_from_type_v2":
            return _Global(module, name)
        if module == "torch" and (name in _STORAGES or name in _DTYPES or name in ("Size", "Tensor")):
            return _Global(module, name)
        if (module, name) in (("torch.serialization", "_get_layout"), ("torch.nn.parameter", "Parameter")):
            return _Global(module, name)
        raise PickleRefused(f"it asks for {module[:60]}.{name[:60]}", code=True)

    def reduce(self, func: Any, args: tuple) -> Any:
        if not isinstance(func, _Global):
            raise PickleRefused("it calls something that is not a function")
        name = func.name
        if name == "OrderedDict":
            if args:
                raise PickleRefused("it builds a dictionary in an unusual way")
            return {}
        if name in ("_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_tensor"):
            if len(args) < 4:
                raise PickleRefused("it describes a tensor incompletely")
            storage, offset, size, stride = args[:4]
            dtype = args[6] if name == "_rebuild_tensor_v3" and len(args) > 6 else None
            return self._tensor(storage, offset, size, stride, dtype)
        if name in ("_rebuild_parameter", "_rebuild_parameter_with_state"):
            if not args or not isinstance(args[0], (torch.Tensor, UnusableTensor)):
                raise PickleRefused("it describes a parameter without a tensor")
            return args[0]
        if name == "_rebuild_from_type_v2":
            if len(args) < 3 or not isinstance(args[0], _Global) or not isinstance(args[2], tuple):
                raise PickleRefused("it describes a tensor subclass")
            if not isinstance(args[1], _Global) or args[1].name not in ("Tensor", "Parameter"):
                raise PickleRefused("it holds a tensor subclass", code=True)
            return self.reduce(args[0], args[2])
        if name in _UNUSABLE:
            shape = next((a for a in args if isinstance(a, tuple) and all(type(d) is int for d in a)), None)
            return UnusableTensor(_UNUSABLE[name], shape if name == "_rebuild_meta_tensor_no_storage" else None)
        if name == "Size":
            if len(args) != 1 or not isinstance(args[0], tuple) or not all(type(d) is int for d in args[0]):
                raise PickleRefused("it describes a tensor size that is not a list of integers")
            return args[0]
        if name == "_get_layout":
            if len(args) != 1 or type(args[0]) is not str:
                raise PickleRefused("it names a tensor layout in an unusual way")
            return args[0][:40]
        raise PickleRefused(f"it calls {func.module}.{name}", code=True)

    # -- storages and tensors ---------------------------------------------------------------
    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise PickleRefused("it refers to data in a way torch.save does not write")
        _, kind, key, location, numel = pid[:5]
        if len(pid) == 6 and pid[5] is not None:
            raise PickleRefused("it holds a storage view (an old format this reader does not read)")
        if not (isinstance(kind, _Global) and kind.name in _STORAGES):
            raise PickleRefused("it names a storage of an unknown type")
        if type(key) is not str or not 0 < len(key) <= 40 or type(location) is not str or type(numel) is not int:
            raise PickleRefused("it describes a storage incompletely")
        dtype = _STORAGES[kind.name]
        known = self._storages.get(key)
        if known is not None:
            if known.dtype != dtype:
                raise PickleRefused("it reads one storage as two types")
            return known
        nbytes = numel * _itemsize(dtype)
        if numel < 0 or nbytes > self.budget:
            raise PickleRefused(
                f"its tensors take more than {MAX_STORAGE_BYTES // 2**20} MB; LeNet-5 weights take about 0.25 MB"
            )
        self.budget -= nbytes
        st = _Storage(dtype, self._fetch(key, dtype, numel))
        self._storages[key] = st
        return st

    def _tensor(self, storage: Any, offset: Any, size: Any, stride: Any, dtype: Any) -> torch.Tensor:
        if not isinstance(storage, _Storage):
            raise PickleRefused("it describes a tensor without its data")
        if isinstance(dtype, _Global):
            if _DTYPES.get(dtype.name) != storage.dtype:
                raise PickleRefused("it reads a storage as another type")
        if not (type(offset) is int and isinstance(size, tuple) and isinstance(stride, tuple)):
            raise PickleRefused("it describes a tensor's layout in an unusual way")
        if len(size) != len(stride) or len(size) > MAX_DIMS:
            raise PickleRefused("it describes a tensor's layout inconsistently")
        if not all(type(d) is int and 0 <= d < 2**31 for d in size + stride) or offset < 0:
            raise PickleRefused("it describes a tensor with negative or huge sizes")
        n = storage.data.numel()
        if math.prod(size) > MAX_ELEMENTS:
            raise PickleRefused(
                f"it describes a tensor of more than {MAX_ELEMENTS:,} elements; LeNet-5's largest has 48,000"
            )
        if math.prod(size) > 0:
            last = offset + sum((d - 1) * s for d, s in zip(size, stride))
            if last >= n:
                raise PickleRefused("it describes a tensor larger than its data")
        elif offset > n:
            raise PickleRefused("it describes a tensor outside its data")
        try:
            return torch.as_strided(storage.data, size, stride, offset)
        except Exception:  # torch's own checks (overflow and the like) on a layout it rejects
            raise PickleRefused("it describes a tensor's layout torch cannot build") from None


def _itemsize(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


@contextmanager
def _refusals_as_pt_errors() -> Iterator[None]:
    try:
        yield
    except PickleRefused as exc:
        raise PtError(exc.reason, code=exc.code) from None


def _read_pickle(
    data: bytes, fetch: Callable[[str, torch.dtype, int], torch.Tensor], pos: int, cancel: Callable[[], bool] | None
) -> tuple[Any, int]:
    """The pickle ``torch.save`` wrote (either format) at ``pos``: only the globals ``_Reader``
    allows, tensors built on the storages ``fetch`` returns; (object, position after its end)."""
    reader = _Reader(fetch)
    return loads(
        data,
        find_class=reader.find_class,
        reduce=reader.reduce,
        persistent_load=reader.persistent_load,
        limits=PICKLE_LIMITS,
        pos=pos,
        cancel=cancel,
    )


# -- the zip format ---------------------------------------------------------------------------
def check_zip_directory(data: bytes) -> None:
    """Refuse a zip whose end record declares more entries or a larger central directory than
    a LeNet-5 file could have, reading only that record (``zip_directory.declared``)."""
    found = declared(data)
    if found is None:
        return
    if found.entries > MAX_ZIP_ENTRIES:
        raise PtError(f"it is a zip of {found.entries:,} entries; torch.save writes a few dozen for LeNet-5")
    if found.size > MAX_ZIP_DIRECTORY_BYTES:
        raise PtError(f"its zip directory takes {found.size / 2**20:.1f} MB; torch.save writes a few kB for LeNet-5")


def _read_zip(data: bytes, max_inflated: int, cancel: Callable[[], bool] | None) -> Any:
    check_zip_directory(data)
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise PtError("it may be truncated or in another format") from exc
    declared = sum(max(0, i.file_size) for i in infos)
    if declared > max_inflated:
        raise PtError(f"it expands to {declared / 2**20:.0f} MB when unpacked", code=False) from None
    pickles = [i for i in infos if i.filename.endswith("/data.pkl") and i.filename.count("/") == 1]
    if len(pickles) != 1:
        raise PtError("it is a zip file but not one torch.save wrote")
    prefix = pickles[0].filename[: -len("data.pkl")]

    def member(name: str, limit: int) -> bytes:
        try:
            info = z.getinfo(name)
            if info.file_size > limit:
                raise PtError(f"{name} is larger than a LeNet-5 weights file needs")
            with z.open(info) as f:
                raw = f.read(limit + 1)
        except KeyError:
            raise PtError("it lacks data its pickle refers to") from None
        except PtError:
            raise
        except Exception as exc:  # zlib, CRC and header errors of a damaged archive
            raise PtError("it may be truncated or damaged") from exc
        if len(raw) > limit:
            raise PtError(f"{name} expands beyond what its archive declares")
        return raw

    order = prefix + "byteorder"
    if order in z.namelist() and member(order, 16).strip() not in (b"little", b""):
        raise PtError("it was saved on a big-endian machine, which this reader does not read")

    def fetch(key: str, dtype: torch.dtype, numel: int) -> torch.Tensor:
        nbytes = numel * _itemsize(dtype)
        raw = member(f"{prefix}data/{key}", nbytes)
        if len(raw) != nbytes:
            raise PtError("a tensor's data has the wrong length")
        if cancel is not None and cancel():
            raise PickleCancelled()
        return _from_bytes(raw, dtype)

    pkl = member(pickles[0].filename, PICKLE_LIMITS.max_bytes + 1)
    with _refusals_as_pt_errors():
        obj, end = _read_pickle(pkl, fetch, 0, cancel)
    if end != len(pkl):
        raise PtError("its pickle has data after its end")
    return obj


def _from_bytes(raw: bytes, dtype: torch.dtype) -> torch.Tensor:
    if not raw:
        return torch.empty(0, dtype=dtype)
    return torch.frombuffer(bytearray(raw), dtype=dtype)


# -- the legacy format ------------------------------------------------------------------------
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001


def _read_legacy(data: bytes, cancel: Callable[[], bool] | None) -> Any:
    small = Limits(max_bytes=4096, max_ops=200, max_nodes=50, max_depth=3)

    def plain(pos: int) -> tuple[Any, int]:
        return loads(data, find_class=_no_globals, reduce=_no_calls, limits=small, pos=pos)

    pending: list[tuple[str, torch.Tensor]] = []

    def fetch(key: str, dtype: torch.dtype, numel: int) -> torch.Tensor:
        t = torch.empty(numel, dtype=dtype)
        pending.append((key, t))
        return t

    with _refusals_as_pt_errors():
        magic, pos = plain(0)
        if magic != _LEGACY_MAGIC:
            raise PtError("it is a pickle but not one torch.save wrote")
        protocol, pos = plain(pos)
        if protocol != _LEGACY_PROTOCOL:
            raise PtError("it was written by an unknown version of torch.save")
        info, pos = plain(pos)
        if not isinstance(info, dict) or info.get("little_endian") is not True:
            raise PtError("it was saved on a big-endian machine, which this reader does not read")
        obj, pos = _read_pickle(data, fetch, pos, cancel)
        keys, pos = loads(
            data,
            find_class=_no_globals,
            reduce=_no_calls,
            limits=Limits(max_bytes=PICKLE_LIMITS.max_bytes, max_nodes=len(pending) + 2),
            pos=pos,
        )
    by_key = dict(pending)
    if not isinstance(keys, list) or sorted(keys, key=str) != sorted(by_key):
        raise PtError("its list of tensors does not match its pickle")
    for key in keys:
        t = by_key[key]
        nbytes = t.numel() * t.element_size()
        if pos + 8 + nbytes > len(data):
            raise PtError("it ends before its tensors' data")
        numel = int.from_bytes(data[pos : pos + 8], "little")
        if numel != t.numel():
            raise PtError("a tensor's data has the wrong length")
        pos += 8
        if nbytes:
            t.copy_(_from_bytes(data[pos : pos + nbytes], t.dtype))
        pos += nbytes
    if pos != len(data):
        raise PtError("it has data after its end")
    return obj


def _no_globals(module: str, name: str) -> Any:
    raise PickleRefused(f"it asks for {module[:60]}.{name[:60]}", code=True)


def _no_calls(func: Any, args: tuple) -> Any:  # pragma: no cover - no global can be found
    raise PickleRefused("it calls a function", code=True)


def read_pt(data: bytes, max_inflated: int, cancel: Callable[[], bool] | None = None) -> Any:
    """The object a .pt/.pth file holds, with its tensors on the CPU; PtError if unreadable."""
    if data[:2] == b"PK":
        return _read_zip(data, max_inflated, cancel)
    if data[:1] == b"\x80":
        return _read_legacy(data, cancel)
    raise PtError("it is not a PyTorch weights file")


__all__ = ["MAX_STORAGE_BYTES", "MAX_ZIP_ENTRIES", "PtError", "UnusableTensor", "check_zip_directory", "read_pt"]
