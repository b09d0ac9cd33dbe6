"""Writing files so that a kill, a crash or a full disk never leaves a half-written one.

Everything the app writes (weights, PNGs, the confusion matrix, figures) goes through
``write_atomic``: the bytes go to a temporary file in the same folder, are flushed and
fsync'ed, and the file is renamed over the destination in one step. At any moment the
destination holds either the old content or the new, never a truncated mix; a failed write
leaves the old file as it was and removes the temporary one. (Qt writes the settings file the
same way, through QSaveFile.)

No torch, no Qt.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from lenet_draw.errors import OutputPathError


def check_output_path(path: str | os.PathLike, suffixes: tuple[str, ...] = ()) -> Path:
    """Check, before any work is done, that ``path`` can become a file; return it.

    Refuses a folder, a special file, a missing or read-only folder, and (when ``suffixes`` is
    given) a suffix outside them. Nothing is created.
    """
    path = Path(path)
    name = path.name or str(path)
    try:
        if path.exists() or path.is_symlink():
            st = path.stat()
            if stat.S_ISDIR(st.st_mode):
                raise OutputPathError(f"{path} is a folder; give a file name to write.")
            if not stat.S_ISREG(st.st_mode):
                raise OutputPathError(f"{path} is not a regular file, so it cannot be replaced.")
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.exists():
            raise OutputPathError(f"The folder {parent} does not exist.")
        if not parent.is_dir():
            raise OutputPathError(f"{parent} is not a folder.")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputPathError(f"The folder {parent} cannot be written to.")
    except OSError as exc:
        raise OutputPathError(f"{name} cannot be written: {exc.strerror or exc}.") from exc
    if suffixes and path.suffix.lower() not in suffixes:
        allowed = ", ".join(suffixes[:-1]) + " or " + suffixes[-1] if len(suffixes) > 1 else suffixes[0]
        has = f"the suffix '{path.suffix}'" if path.suffix else "no suffix"
        raise OutputPathError(f"{name} has {has}; name a file ending in {allowed}.")
    return path


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync it, rename it over ``path``."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name[:100]}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        try:  # keep the old file's permissions; a new file gets the usual ones
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _sync_folder(folder)
    return path


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    return write_atomic(path, lambda f: f.write(data))


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["OutputPathError", "check_output_path", "write_atomic", "write_bytes_atomic"]
