"""The bounded pickle reader under fuzzing: random opcode streams inside its grammar and outside
it either give an object within the bounds or PickleRefused, never a crash, a hang, a Python
error of another kind, or an object larger or deeper than the limits.

The streams are read with ptfile's globals (what a .pt file may ask for) and small limits, so
the bounds are reached often. Pure Python, in process: nothing here can crash the interpreter
once the bounds hold, and every walk over a result is itself bounded.
"""

from __future__ import annotations

import os
import pickle
import struct

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lenet_draw import ptfile
from lenet_draw.pickle_reader import ACCEPTED_OPCODES, Limits, PickleRefused, loads

SMALL = Limits(max_bytes=4096, max_ops=300, max_nodes=60, max_depth=6, max_str=64, max_int_bytes=16, max_marks=8)

_FUZZ = settings(
    max_examples=int(os.environ.get("LENET_DRAW_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _read(data: bytes, limits: Limits = SMALL):
    storages = {}

    def fetch(key, dtype, numel):
        return storages.setdefault(key, torch.zeros(numel, dtype=dtype))

    reader = ptfile._Reader(fetch)
    return loads(
        data,
        find_class=reader.find_class,
        reduce=reader.reduce,
        persistent_load=reader.persistent_load,
        limits=limits,
    )


def _size_and_depth(obj, limit: int) -> tuple[int, int]:
    """The object's size as a tree and its depth, walking at most ``limit`` + 1 nodes."""
    count, deepest = 0, 0
    todo = [(obj, 0)]
    while todo:
        x, d = todo.pop()
        count += 1
        deepest = max(deepest, d)
        if count > limit:
            break
        if isinstance(x, (list, tuple)):
            todo.extend((c, d + 1) for c in x)
        elif isinstance(x, dict):
            todo.extend((c, d + 1) for kv in x.items() for c in kv)
    return count, deepest


def _check(data: bytes, limits: Limits = SMALL) -> str:
    try:
        obj, end = _read(data, limits)
    except PickleRefused as exc:
        assert exc.reason and "\n" not in exc.reason
        return "refused"
    size, depth = _size_and_depth(obj, limits.max_nodes)
    assert size <= limits.max_nodes and depth <= limits.max_depth
    for d in _dicts(obj, limits.max_nodes):  # every key hashes at once: only str and int
        assert all(type(k) in (str, int) for k in d)
    return "read"


def _dicts(obj, limit: int):
    todo, seen = [obj], 0
    while todo and seen <= limit:
        x = todo.pop()
        seen += 1
        if isinstance(x, dict):
            yield x
            todo.extend(x.values())
        elif isinstance(x, (list, tuple)):
            todo.extend(x)


# --------------------------------------------------------------------------- streams inside the grammar

_GLOBALS = [
    b"ccollections\nOrderedDict\n",
    b"ctorch._utils\n_rebuild_tensor_v2\n",
    b"ctorch\nFloatStorage\n",
    b"ctorch\nSize\n",
    b"ctorch._utils\n_rebuild_parameter\n",
    b"ctorch._utils\n_rebuild_meta_tensor_no_storage\n",
    b"ctorch\nfloat32\n",
    b"cbuiltins\nexec\n",  # outside the allowed list
    b"cos\nsystem\n",
]
_STORAGE_PID = b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x06tQ"

_op = st.one_of(
    st.sampled_from(
        [b"N", b"\x88", b"\x89", b"}", b"]", b")", b"(", b"t", b"\x85", b"\x86", b"\x87", b"l", b"d", b"a", b"e"]
        + [b"s", b"u", b"0", b"1", b"\x94", b"R", b"b", b"Q", _STORAGE_PID]
    ),
    st.integers(0, 255).map(lambda i: b"K" + bytes([i])),
    st.integers(-(2**31), 2**31 - 1).map(lambda i: b"J" + struct.pack("<i", i)),
    st.floats(allow_nan=True).map(lambda f: b"G" + struct.pack(">d", f)),
    st.text(max_size=8).map(lambda s: b"\x8c" + bytes([len(s.encode())]) + s.encode()),
    st.integers(0, 12).map(lambda i: b"q" + bytes([i])),
    st.integers(0, 12).map(lambda i: b"h" + bytes([i])),
    st.sampled_from(_GLOBALS),
)

_programs = st.lists(_op, max_size=120).map(lambda ops: b"\x80\x02" + b"".join(ops) + b".")


@_FUZZ
@given(_programs)
def test_fuzz_streams_inside_the_grammar_are_read_within_bounds_or_refused(data):
    _check(data)


@_FUZZ
@given(_programs, st.sampled_from([SMALL, Limits()]))
def test_fuzz_streams_with_the_real_limits_too(data, limits):
    _check(data, limits)


# --------------------------------------------------------------------------- streams outside it


@_FUZZ
@given(st.binary(max_size=400))
def test_fuzz_random_bytes_after_a_pickle_header_are_refused_or_read_within_bounds(raw):
    _check(b"\x80\x02" + raw)


@_FUZZ
@given(
    st.lists(
        st.sampled_from(
            sorted(
                set(
                    pickle.__dict__[n]
                    for n in dir(pickle)
                    if n.isupper() and isinstance(pickle.__dict__[n], bytes) and len(pickle.__dict__[n]) == 1
                )
            )
        ),
        max_size=60,
    ),
    st.binary(max_size=60),
)
def test_fuzz_any_pickle_opcode_with_random_arguments(ops, tail):
    """Opcodes the reader does not accept are refused by name; the rest stay within bounds."""
    _check(b"\x80\x02" + b"".join(ops) + tail)


def test_the_grammar_is_what_torch_save_writes_and_nothing_that_calls_or_imports_by_text():
    for op in (b"c", b"\x93", b"R", b"b", b"Q"):
        assert op in ACCEPTED_OPCODES  # globals and calls, resolved against a fixed list
    for name in (
        "INST",
        "OBJ",
        "NEWOBJ",
        "NEWOBJ_EX",
        "EXT1",
        "EXT2",
        "EXT4",
        "PERSID",
        "STRING",
        "UNICODE",
        "INT",
        "LONG",
        "FLOAT",
        "PUT",
        "GET",
        "EMPTY_SET",
        "ADDITEMS",
        "FROZENSET",
        "BYTEARRAY8",
        "NEXT_BUFFER",
        "READONLY_BUFFER",
    ):
        assert getattr(pickle, name) not in ACCEPTED_OPCODES, name


@pytest.mark.parametrize(
    "stream,words",
    [
        (b"\x80\x02cbuiltins\nexec\n.", "builtins.exec"),
        (b"\x80\x02" + b"(" * 100 + b".", "marks nested too deep"),
        (b"\x80\x02]q\x00h\x00a.", "after using it"),
        (b"\x80\x02\x8b\x00\x00\x01\x00" + b"\x01" * 65536 + b".", "integer of more than"),
        (b"\x80\x02X\xff\xff\xff\x7f.", "text or bytes of more than"),
        (b"\x80\x02h\x05.", "never stored"),
    ],
)
def test_each_bound_and_rule_has_a_reason(stream, words):
    with pytest.raises(PickleRefused, match=words):
        _read(stream, Limits())


def test_a_refused_global_is_marked_as_code():
    with pytest.raises(PickleRefused) as info:
        _read(b"\x80\x02cos\nsystem\n.", Limits())
    assert info.value.code


def test_a_real_state_dict_pickle_is_read(tmp_path):
    from lenet_draw.model import LeNet5

    path = tmp_path / "w.pt"
    torch.save(LeNet5().state_dict(), path)
    obj = ptfile.read_pt(path.read_bytes(), 1 << 26)
    assert list(obj) == list(LeNet5().state_dict())
    assert all(isinstance(v, torch.Tensor) for v in obj.values())
