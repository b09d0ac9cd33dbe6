"""Reading a file a person opened, whatever it turns out to be: only a regular file is read (a
named pipe would block the read, a device would never end), it is opened without blocking (a file
swapped for a pipe between the check and the open cannot hang the read either), and never more
than a limit of bytes is read, whatever size the file claims. Each reader turns the refusals into
its own sentence.

No Qt, no numpy.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotRegular(Exception):
    """The path is a folder, a pipe, a device or another special file."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind  # "a folder", "a named pipe (FIFO)", "a device or other special file"


class TooLarge(Exception):
    """The file holds more than the limit."""

    def __init__(self, size: int | None) -> None:
        super().__init__(size)
        self.size = size  # bytes, as the file system said; None when found out while reading


def refusal(exc: NotRegular | TooLarge, name: str, a_kind: str) -> str:
    """The sentence for a refused file: ``refusal(exc, "pipe.png", "an image file")``."""
    if isinstance(exc, NotRegular):
        return f"{name} is {exc.kind}, not {a_kind}."
    size = f" {exc.size / 2**20:.0f} MB," if exc.size is not None else ""
    return f"{name} is{size} larger than {a_kind} can be."


def kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    return "a device or other special file"


def open_regular(path: Path, limit: int) -> BinaryIO:
    """The regular file at ``path``, open for reading (the caller closes it); NotRegular when it
    is not one, TooLarge when the file system says it holds more than ``limit`` bytes, OSError
    when it cannot be opened."""
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise NotRegular(kind_of(st.st_mode))
    if st.st_size > limit:
        raise TooLarge(st.st_size)
    f = os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb")
    mode = os.fstat(f.fileno()).st_mode
    if not stat.S_ISREG(mode):  # swapped between the check and the open
        f.close()
        raise NotRegular(kind_of(mode))
    return f


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them (``open_regular``;
    TooLarge too when the file turns out longer than it said)."""
    with open_regular(path, limit) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(None)
    return data
