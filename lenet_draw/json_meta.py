"""What of a weights file's ``meta`` is kept: the part JSON can write, bounded.

A checkpoint's meta can hold anything the file's pickle could (a tensor, bytes, NaN, an integer
of 600 digits), and a .safetensors file's metadata NaN or Infinity. Weights keep only what every
later save can write and every later load reads back the same, so a personalisation saved from
such weights never fails on what they carried. No torch, no Qt.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any, Mapping

#: What is kept of a file's ``meta`` (see ``json_meta``): at most this much of it written as
#: JSON, a quarter of what a save may write (weights.MAX_METADATA_TEXT), so what a personalisation adds
#: to loaded meta (a note, a fingerprint) is always saved too; a meta saved larger than this
#: reads back cut to it. Containers at most this deep, integers at most this large (exact in a
#: float, and in JavaScript), and at most this many values looked at in all.
MAX_META_JSON = 16 * 1024
MAX_META_DEPTH = 8
MAX_META_INT = 2**53
MAX_META_VALUES = 10_000
#: The keys the app itself reads and writes (the bundled file's accuracy; what a personalisation
#: adds): kept first, before a file's other keys, so a large meta never pushes them out.
OWN_KEYS = ("test_accuracy", "base_test_accuracy", "note", "adapted_from", "samples", "fingerprint")


class _Room:
    """What ``json_meta`` may still use: JSON characters and values looked at."""

    def __init__(self, chars: int) -> None:
        self.chars = chars
        self.values = MAX_META_VALUES


def _json_value(v: Any, depth: int, room: _Room) -> tuple[Any, int] | None:
    """(``v`` as plain JSON values, the length of its JSON text) when it fits ``room``, else None.

    The length counts ", " and ": " as json.dumps writes them by default, so the text written
    is never longer."""
    room.values -= 1
    if room.values < 0:
        return None
    if v is None or isinstance(v, bool):
        out: Any = v
        size = 4 if v is None or v else 5
    elif isinstance(v, int):
        if abs(v) > MAX_META_INT:
            return None
        out = int(v)
        size = len(str(out))
    elif isinstance(v, float):
        if not math.isfinite(v):
            return None
        out = float(v)
        size = len(repr(out))
    elif isinstance(v, str):
        if len(v) + 2 > room.chars:  # escapes only lengthen it: refused before it is encoded
            return None
        out = str(v)
        size = len(json.dumps(out))
    elif isinstance(v, (list, tuple, Mapping)):
        if depth >= MAX_META_DEPTH:
            return None
        return _json_container(v, depth, room)
    else:  # a tensor, bytes, a set, any other object
        return None
    if size > room.chars:
        return None
    room.chars -= size
    return out, size


def _json_container(v: "list | tuple | Mapping", depth: int, room: _Room) -> tuple[Any, int] | None:
    """A list keeps its order and all its items or is dropped whole; a mapping keeps the
    entries with a text key and a JSON-able value, and drops the others."""
    start = room.chars
    if start < 2:
        return None
    room.chars -= 2  # the brackets
    if isinstance(v, Mapping):
        obj: dict[str, Any] = {}
        for k, item in v.items():
            if room.values <= 0:
                break
            room.values -= 1  # the key
            if not isinstance(k, str) or len(k) + 6 > room.chars:  # escapes only lengthen it
                continue
            key_size = len(json.dumps(k)) + 2 + (2 if obj else 0)  # the key, ": " and ", "
            if key_size > room.chars:
                continue
            room.chars -= key_size
            got = _json_value(item, depth + 1, room)
            if got is None:
                room.chars += key_size
                continue
            obj[str(k)] = got[0]
        return obj, start - room.chars
    items: list[Any] = []
    for i, item in enumerate(v):
        if i:
            room.chars -= 2  # ", "
        got = _json_value(item, depth + 1, room) if room.chars >= 0 else None
        if got is None:
            room.chars = start  # dropped whole: what its items took is free again
            return None
        items.append(got[0])
    return items, start - room.chars


def json_meta(meta: Any, limit: int = MAX_META_JSON) -> dict[str, Any]:
    """The part of a file's ``meta`` that JSON can write, as plain JSON values.

    A checkpoint's meta can hold anything the file's pickle could: a tensor, bytes, NaN, an
    integer of 600 digits. Weights keep only what every later save can write and every later
    load reads back the same: text, True/False/None, integers within ``MAX_META_INT``, finite
    floats, and lists and dictionaries of these at most ``MAX_META_DEPTH`` deep (a tuple
    becomes a list). A dictionary entry whose key is not text or whose value is anything else
    is dropped, and so is a list holding such a value (a list with an item missing would say
    something else). What is kept takes at most ``limit`` characters written as JSON by
    ``json.dumps`` (``OWN_KEYS`` first, then the others in order, dropped past it); at most ``MAX_META_VALUES`` values
    are looked at, so a meta of millions of values costs no more than a small one. Never raises.
    Loading keeps ``MAX_META_JSON`` of a file's meta; saving writes at most
    ``weights.MAX_METADATA_TEXT``, what a .safetensors reader accepts.
    """
    if not isinstance(meta, Mapping):
        return {}
    own = {k: meta[k] for k in OWN_KEYS if k in meta}
    if own:
        rest = itertools.islice(meta.items(), MAX_META_VALUES)  # no more are looked at
        meta = {**own, **{k: v for k, v in rest if k not in own}}
    got = _json_container(meta, 0, _Room(limit))
    return got[0] if got is not None else {}
