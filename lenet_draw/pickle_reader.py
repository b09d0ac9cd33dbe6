"""A pickle reader for files a person opens: a small grammar, bounded work, no code.

``pickle`` (and torch's ``weights_only`` unpickler) stop code from running but still build
whatever the stream describes: a tuple nested 200,000 deep that overflows the C stack when it
is hashed, a tuple DAG ``t = (t, t)`` whose hash never ends, a self-sharing list whose ``repr``
fills memory, 60 MB of opcodes. This reader understands only the opcodes ``torch.save`` writes
for state_dicts and checkpoints, and enforces bounds *while* it reads, before anything is
hashed or printed:

- at most ``Limits.max_bytes`` of pickle and ``Limits.max_ops`` opcodes;
- dictionary keys are ``str`` or ``int`` only (hashing them is cheap and cannot recurse);
- a container is sealed once it is put inside another, so no object can contain itself;
- every object's size counted as a tree (shared parts counted each time they are used) stays
  under ``Limits.max_nodes``, its nesting under ``Limits.max_depth``; strings, bytes and
  integers have length limits;
- a global (``module name``) is resolved by the caller, who allows a fixed list; calling
  (REDUCE) and persistent ids are handed to the caller too.

No torch, no Qt. Anything outside the grammar or over a bound raises ``PickleRefused``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Callable, ParamSpec

#: Called when the stream calls a global: ``reduce(token, args) -> object``.
Reduce = Callable[[Any, tuple], Any]
#: Resolves ``module name`` to a token, or raises PickleRefused(code=True).
FindClass = Callable[[str, str], Any]
#: Resolves a persistent id (torch's storages).
PersistentLoad = Callable[[Any], Any]


class PickleRefused(Exception):
    """The stream is outside the grammar or over a bound. ``code`` is True when it asked for
    a Python object other than the allowed ones (what could run code in a plain unpickler)."""

    def __init__(self, reason: str, code: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class PickleCancelled(Exception):
    """The caller's ``cancel()`` returned True while the stream was being read."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 1 << 20
    max_ops: int = 200_000
    max_nodes: int = 100_000
    max_depth: int = 32
    max_str: int = 1 << 16
    max_int_bytes: int = 256
    max_marks: int = 64


DEFAULT_LIMITS = Limits()


class _Mark:
    __slots__ = ()


_MARK = _Mark()


class _Node:
    """Size bookkeeping for one container (list, dict or tuple) while it is built."""

    __slots__ = ("obj", "size", "depth", "sealed")

    def __init__(self, obj: Any, size: int, depth: int, sealed: bool) -> None:
        self.obj, self.size, self.depth, self.sealed = obj, size, depth, sealed


_SCALARS = (str, int, float, bool, bytes, type(None))


class BoundedUnpickler:
    """Read one pickle from ``data`` at ``pos``; ``load()`` returns (object, position after STOP)."""

    def __init__(
        self,
        data: bytes,
        *,
        find_class: FindClass,
        reduce: Reduce,
        persistent_load: PersistentLoad | None = None,
        limits: Limits = DEFAULT_LIMITS,
        pos: int = 0,
        cancel: Callable[[], bool] | None = None,
    ) -> None:
        self._data = memoryview(data)
        self._end = min(len(data), pos + limits.max_bytes)
        self._over_size = len(data) - pos > limits.max_bytes
        self._pos = pos
        self._find_class = find_class
        self._reduce = reduce
        self._persistent_load = persistent_load
        self._lim = limits
        self._cancel = cancel
        self._stack: list[Any] = []
        self._marks: list[list[Any]] = []
        self._memo: dict[int, Any] = {}
        self._nodes: dict[int, _Node] = {}

    # -- reading bytes ----------------------------------------------------------------------
    def _read(self, n: int) -> bytes:
        if n < 0 or self._pos + n > self._end:
            if self._over_size:
                raise PickleRefused(f"its pickle is longer than {self._lim.max_bytes // 1024} kB")
            raise PickleRefused("it ends in the middle of its pickle")
        b = bytes(self._data[self._pos : self._pos + n])
        self._pos += n
        return b

    def _u8(self) -> int:
        return self._read(1)[0]

    def _line(self) -> str:
        end = bytes(self._data[self._pos : min(self._end, self._pos + 257)]).find(b"\n")
        if end < 0:
            raise PickleRefused("it names a global that is too long or unterminated")
        raw = self._read(end + 1)[:-1]
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise PickleRefused("it names a global in non-ASCII characters") from None

    # -- size bookkeeping -------------------------------------------------------------------
    def _measure(self, x: Any) -> tuple[int, int]:
        node = self._nodes.get(id(x))
        if node is not None and node.obj is x:
            return node.size, node.depth
        return 1, 0

    def _track(self, obj: Any, size: int = 1, depth: int = 1, sealed: bool = False) -> Any:
        if size > self._lim.max_nodes:
            raise PickleRefused(f"it holds an object of more than {self._lim.max_nodes:,} parts")
        if depth > self._lim.max_depth:
            raise PickleRefused(f"it nests objects more than {self._lim.max_depth} levels deep")
        self._nodes[id(obj)] = _Node(obj, size, depth, sealed)
        return obj

    def _seal(self, x: Any) -> None:
        node = self._nodes.get(id(x))
        if node is not None and node.obj is x:
            node.sealed = True

    def _add(self, container: Any, *children: Any) -> None:
        """Account for ``children`` going into ``container`` (not yet sealed)."""
        node = self._nodes.get(id(container))
        if node is None or node.obj is not container:
            raise PickleRefused("it adds items to something that is not a list or a dictionary")
        for c in children:
            self._seal(c)
        if node.sealed:
            raise PickleRefused("it changes a list or dictionary after using it (a loop or shared structure)")
        for c in children:
            s, d = self._measure(c)
            node.size += s
            node.depth = max(node.depth, d + 1)
        if node.size > self._lim.max_nodes:
            raise PickleRefused(f"it holds an object of more than {self._lim.max_nodes:,} parts")
        if node.depth > self._lim.max_depth:
            raise PickleRefused(f"it nests objects more than {self._lim.max_depth} levels deep")

    def _tuple(self, items: list[Any]) -> tuple:
        t = tuple(items)
        size, depth = 1, 1
        for c in items:
            self._seal(c)
            s, d = self._measure(c)
            size += s
            depth = max(depth, d + 1)
        return self._track(t, size, depth, sealed=True)

    def _key(self, k: Any) -> Any:
        if type(k) is not str and type(k) is not int:
            raise PickleRefused(f"it uses a {type(k).__name__} as a dictionary key (only text and numbers are read)")
        return k

    # -- the stack --------------------------------------------------------------------------
    def _pop(self) -> Any:
        if not self._stack:
            raise PickleRefused("its pickle is malformed (the stack runs empty)")
        return self._stack.pop()

    def _top(self) -> Any:
        if not self._stack:
            raise PickleRefused("its pickle is malformed (the stack runs empty)")
        return self._stack[-1]

    def _pop_mark(self) -> list[Any]:
        if not self._marks:
            raise PickleRefused("its pickle is malformed (no mark)")
        items = self._stack
        self._stack = self._marks.pop()
        return items

    def _push_str(self, raw: bytes) -> None:
        if len(raw) > self._lim.max_str:
            raise PickleRefused(f"it holds a text of more than {self._lim.max_str // 1024} kB")
        try:
            self._stack.append(raw.decode("utf-8", "surrogatepass"))
        except UnicodeDecodeError:
            raise PickleRefused("it holds text that is not valid UTF-8") from None

    def _len(self, fmt: str, size: int) -> int:
        (n,) = struct.unpack(fmt, self._read(size))
        if n > self._lim.max_str:
            raise PickleRefused(f"it holds a text or bytes of more than {self._lim.max_str // 1024} kB")
        return int(n)

    def _get(self, i: int) -> Any:
        if i not in self._memo:
            raise PickleRefused("its pickle refers to an object it never stored")
        return self._memo[i]

    def _put(self, i: int) -> None:
        self._memo[i] = self._top()

    # -- the loop ---------------------------------------------------------------------------
    def load(self) -> tuple[Any, int]:
        try:
            return self._load()
        except (RecursionError, MemoryError, OverflowError, struct.error) as exc:  # pragma: no cover - bounded
            raise PickleRefused(f"its pickle could not be read ({type(exc).__name__})") from None

    def _load(self) -> tuple[Any, int]:
        ops = 0
        lim = self._lim
        while True:
            ops += 1
            if ops > lim.max_ops:
                raise PickleRefused(f"its pickle has more than {lim.max_ops:,} instructions")
            if self._cancel is not None and not ops & 0xFFF and self._cancel():
                raise PickleCancelled()
            op = self._read(1)
            handler = _DISPATCH.get(op)
            if handler is None:
                raise PickleRefused(f"its pickle uses an instruction this reader does not accept ({op!r})")
            if op == b".":
                if len(self._stack) != 1 or self._marks:
                    raise PickleRefused("its pickle is malformed (it stops with items left over)")
                return self._stack[0], self._pos
            handler(self)
            if len(self._marks) > lim.max_marks:
                raise PickleRefused("its pickle is malformed (marks nested too deep)")

    # -- opcodes ----------------------------------------------------------------------------
    def _proto(self) -> None:
        if self._u8() > 5:
            raise PickleRefused("it uses an unknown pickle protocol")

    def _frame(self) -> None:
        self._read(8)

    def _stop(self) -> None:  # pragma: no cover - handled in load()
        pass

    def _mark(self) -> None:
        self._marks.append(self._stack)
        self._stack = []

    def _pop_op(self) -> None:
        if self._stack:
            self._stack.pop()
        else:
            self._pop_mark()

    def _pop_mark_op(self) -> None:
        self._pop_mark()

    def _empty_dict(self) -> None:
        self._stack.append(self._track({}))

    def _empty_list(self) -> None:
        self._stack.append(self._track([]))

    def _empty_tuple(self) -> None:
        self._stack.append(())

    def _tuple_op(self) -> None:
        t = self._tuple(self._pop_mark())
        self._stack.append(t)

    def _tuple1(self) -> None:
        a = self._pop()
        self._stack.append(self._tuple([a]))

    def _tuple2(self) -> None:
        b, a = self._pop(), self._pop()
        self._stack.append(self._tuple([a, b]))

    def _tuple3(self) -> None:
        c, b, a = self._pop(), self._pop(), self._pop()
        self._stack.append(self._tuple([a, b, c]))

    def _list(self) -> None:
        items = self._pop_mark()
        lst = self._track([])
        self._add(lst, *items)
        lst.extend(items)
        self._stack.append(lst)

    def _dict(self) -> None:
        items = self._pop_mark()
        if len(items) % 2:
            raise PickleRefused("its pickle is malformed (a key without a value)")
        d = self._track({})
        self._setitems(d, items)
        self._stack.append(d)

    def _setitems(self, d: Any, items: list[Any]) -> None:
        if type(d) is not dict:
            raise PickleRefused("it sets items on something that is not a dictionary")
        if len(items) % 2:
            raise PickleRefused("its pickle is malformed (a key without a value)")
        keys = [self._key(k) for k in items[0::2]]
        self._add(d, *items)
        for k, v in zip(keys, items[1::2]):
            d[k] = v

    def _append(self) -> None:
        v = self._pop()
        lst = self._top()
        if type(lst) is not list:
            raise PickleRefused("it appends to something that is not a list")
        self._add(lst, v)
        lst.append(v)

    def _appends(self) -> None:
        items = self._pop_mark()
        lst = self._top()
        if type(lst) is not list:
            raise PickleRefused("it appends to something that is not a list")
        self._add(lst, *items)
        lst.extend(items)

    def _setitem(self) -> None:
        v, k = self._pop(), self._pop()
        self._setitems(self._top(), [k, v])

    def _setitems_op(self) -> None:
        items = self._pop_mark()
        self._setitems(self._top(), items)

    def _binput(self) -> None:
        self._put(self._u8())

    def _long_binput(self) -> None:
        self._put(struct.unpack("<I", self._read(4))[0])

    def _memoize(self) -> None:
        self._put(len(self._memo))

    def _binget(self) -> None:
        self._stack.append(self._get(self._u8()))

    def _long_binget(self) -> None:
        self._stack.append(self._get(struct.unpack("<I", self._read(4))[0]))

    def _global(self) -> None:
        module = self._line()
        name = self._line()
        self._stack.append(self._find_class(module, name))

    def _stack_global(self) -> None:
        name, module = self._pop(), self._pop()
        if type(module) is not str or type(name) is not str:
            raise PickleRefused("its pickle is malformed (a global named by something other than text)")
        self._stack.append(self._find_class(module, name))

    def _reduce_op(self) -> None:
        args = self._pop()
        func = self._pop()
        if type(args) is not tuple:
            raise PickleRefused("its pickle is malformed (a call without an argument tuple)")
        self._seal(args)
        size, depth = self._measure(args)
        result = self._reduce(func, args)
        if type(result) in (dict, list):
            self._track(result, 1 + len(result), 1 if not result else 2)
        elif type(result) is tuple:
            self._track(result, size, depth, sealed=True)
        self._stack.append(result)

    def _build(self) -> None:
        state = self._pop()
        target = self._top()
        if type(target) is not dict or not isinstance(state, (dict, type(None), tuple)):
            raise PickleRefused("it sets the state of an object this reader does not build", code=True)
        self._seal(state)  # torch's state_dict()._metadata: read, bounded, and dropped

    def _binpersid(self) -> None:
        pid = self._pop()
        if self._persistent_load is None:
            raise PickleRefused("it refers to data outside its pickle")
        self._seal(pid)
        self._stack.append(self._persistent_load(pid))

    def _binint(self) -> None:
        self._stack.append(struct.unpack("<i", self._read(4))[0])

    def _binint1(self) -> None:
        self._stack.append(self._u8())

    def _binint2(self) -> None:
        self._stack.append(struct.unpack("<H", self._read(2))[0])

    def _long1(self) -> None:
        n = self._u8()
        self._stack.append(int.from_bytes(self._read(n), "little", signed=True))

    def _long4(self) -> None:
        (n,) = struct.unpack("<i", self._read(4))
        if n < 0 or n > self._lim.max_int_bytes:
            raise PickleRefused(f"it holds an integer of more than {self._lim.max_int_bytes} bytes")
        self._stack.append(int.from_bytes(self._read(n), "little", signed=True))

    def _binfloat(self) -> None:
        self._stack.append(struct.unpack(">d", self._read(8))[0])

    def _none(self) -> None:
        self._stack.append(None)

    def _true(self) -> None:
        self._stack.append(True)

    def _false(self) -> None:
        self._stack.append(False)

    def _binunicode(self) -> None:
        self._push_str(self._read(self._len("<I", 4)))

    def _short_binunicode(self) -> None:
        self._push_str(self._read(self._u8()))

    def _binunicode8(self) -> None:
        self._push_str(self._read(self._len("<Q", 8)))

    def _binbytes(self) -> None:
        self._stack.append(self._read(self._len("<I", 4)))

    def _short_binbytes(self) -> None:
        self._stack.append(self._read(self._u8()))


_DISPATCH: dict[bytes, Callable[[BoundedUnpickler], None]] = {
    b"\x80": BoundedUnpickler._proto,
    b"\x95": BoundedUnpickler._frame,
    b".": BoundedUnpickler._stop,
    b"(": BoundedUnpickler._mark,
    b"0": BoundedUnpickler._pop_op,
    b"1": BoundedUnpickler._pop_mark_op,
    b"}": BoundedUnpickler._empty_dict,
    b"]": BoundedUnpickler._empty_list,
    b")": BoundedUnpickler._empty_tuple,
    b"t": BoundedUnpickler._tuple_op,
    b"\x85": BoundedUnpickler._tuple1,
    b"\x86": BoundedUnpickler._tuple2,
    b"\x87": BoundedUnpickler._tuple3,
    b"l": BoundedUnpickler._list,
    b"d": BoundedUnpickler._dict,
    b"a": BoundedUnpickler._append,
    b"e": BoundedUnpickler._appends,
    b"s": BoundedUnpickler._setitem,
    b"u": BoundedUnpickler._setitems_op,
    b"q": BoundedUnpickler._binput,
    b"r": BoundedUnpickler._long_binput,
    b"\x94": BoundedUnpickler._memoize,
    b"h": BoundedUnpickler._binget,
    b"j": BoundedUnpickler._long_binget,
    b"c": BoundedUnpickler._global,
    b"\x93": BoundedUnpickler._stack_global,
    b"R": BoundedUnpickler._reduce_op,
    b"b": BoundedUnpickler._build,
    b"Q": BoundedUnpickler._binpersid,
    b"J": BoundedUnpickler._binint,
    b"K": BoundedUnpickler._binint1,
    b"M": BoundedUnpickler._binint2,
    b"\x8a": BoundedUnpickler._long1,
    b"\x8b": BoundedUnpickler._long4,
    b"G": BoundedUnpickler._binfloat,
    b"N": BoundedUnpickler._none,
    b"\x88": BoundedUnpickler._true,
    b"\x89": BoundedUnpickler._false,
    b"X": BoundedUnpickler._binunicode,
    b"\x8c": BoundedUnpickler._short_binunicode,
    b"\x8d": BoundedUnpickler._binunicode8,
    b"B": BoundedUnpickler._binbytes,
    b"C": BoundedUnpickler._short_binbytes,
}

#: The opcodes this reader accepts (for tests and the README).
ACCEPTED_OPCODES = frozenset(_DISPATCH)


_P = ParamSpec("_P")


def _read_one(unpickler: Callable[_P, BoundedUnpickler]) -> Callable[_P, tuple[Any, int]]:
    def read(*args: _P.args, **kwargs: _P.kwargs) -> tuple[Any, int]:
        return unpickler(*args, **kwargs).load()

    read.__doc__ = "Read one pickle from ``data[pos:]``: (object, position after its STOP)."
    return read


#: ``loads(data, *, find_class, reduce, ...)``: its arguments are BoundedUnpickler's (the type
#: checker sees the same signature), its result ``load()``'s.
loads = _read_one(BoundedUnpickler)


__all__ = ["ACCEPTED_OPCODES", "DEFAULT_LIMITS", "Limits", "PickleCancelled", "PickleRefused", "loads"]
