"""A zip's central directory, sized from its end record before ``zipfile`` parses it.

``zipfile.ZipFile`` reads the whole central directory and keeps an object per entry, so a zip
of nothing but directory (64 MB of it, a few hundred thousand entries) costs seconds and most
of a gigabyte before anything can be refused. Its end record, the last bytes of the file, says
how large the directory is and how many entries it lists; each reader of zips (weights,
samples) checks those figures against its own bounds first. No torch, no Qt.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

# signature, disks, entries here and in all, directory size and offset, comment length; the
# zip64 locator; the zip64 end record (as zipfile reads them)
_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
#: The end of a zip that holds its end records: the record, the longest comment, zip64's records.
TAIL_BYTES = _EOCD.size + (1 << 16) + _EOCD64_LOCATOR.size + _EOCD64.size


class Directory(NamedTuple):
    """What a zip's end record declares: entries (the larger of the two counts), the directory's
    size in bytes, and where in the bytes looked at the end records begin (the directory ends there)."""

    entries: int
    size: int
    end: int


def declared(tail: bytes) -> Directory | None:
    """The directory a zip's end record declares, found in ``tail`` (the file's last bytes, at
    least ``TAIL_BYTES`` of them or the whole file) as zipfile (3.11) finds it, so the figures
    are the ones zipfile will use; None for bytes without an end record (zipfile refuses them)."""
    pos = len(tail) - _EOCD.size
    if not (pos >= 0 and tail[pos : pos + 4] == b"PK\x05\x06" and tail[-2:] == b"\0\0"):
        # After a comment, or trailing bytes: zipfile looks as far back as 2**16 + 22 bytes.
        pos = tail.rfind(b"PK\x05\x06", max(0, len(tail) - _EOCD.size - (1 << 16)))
        if pos < 0 or pos + _EOCD.size > len(tail):
            return None
    _, _, _, here, total, size, _, _ = _EOCD.unpack_from(tail, pos)
    found = Directory(max(here, total), size, pos)
    loc = pos - _EOCD64_LOCATOR.size
    if loc >= 0 and tail[loc : loc + 4] == b"PK\x06\x07":
        rec = loc - _EOCD64.size
        if rec >= 0 and tail[rec : rec + 4] == b"PK\x06\x06":
            fields = _EOCD64.unpack_from(tail, rec)
            found = Directory(max(fields[6], fields[7]), fields[8], rec)
    return found
