"""What the app remembers between runs (QSettings), read so that nothing in the file can hurt.

The settings file belongs to the person, and anything may be in it: random bytes, another
program's format, values of the wrong type (written by hand, by another version, by another
tool), a recent weights file that has since been deleted or a folder. Reading never raises:
``check`` drops whatever cannot be used and returns one sentence per thing it did, for the
status bar; the other readers return safe values. An unreadable file is moved aside (renamed
NAME.unreadable, so nothing in it is lost) and the app starts with default settings. Unreadable
means Qt cannot parse it (``FormatError``: random bytes, JSON, XML, UTF-16 ...); Qt only finds
that out once it has parsed every section, which ``unreadable`` makes it do first.

The window layout is stored with a SHA-256 digest and restored only when the digest matches:
Qt's ``QMainWindow.restoreState`` trusts the counts and sizes inside the bytes, and a few
changed bytes in a saved state can crash the process (found by mutating a real saved state:
2 of 41 mutants ended in a segmentation fault with Qt 6.11.3). A layout damaged by accident is
forgotten. The digest has no key, so a state forged with a matching digest still reaches Qt;
each attempt is therefore marked while it runs (``restoring_layout``), and a start that finds
the mark forgets the layout instead of dying on it again (``lenet_draw.gui.layout_guard``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from pathlib import Path
from typing import Iterator

from PySide6.QtCore import QByteArray, QSettings

RECENT_KEY = "recentWeights"
LAST_DIR_KEY = "lastDir"
GEOMETRY_KEY = "geometry"
STATE_KEY = "windowState"
LAYOUT_DIGEST_KEY = "layoutDigest"
#: Present while the saved layout is being restored; found at start, the last start died doing it.
LAYOUT_RESTORING_KEY = "layoutRestoring"
PEN_KEY = "penWidth"
#: The pens the canvas offers (lenet_draw.gui.canvas.PEN_WIDTHS), and the one it starts with.
PENS = ("thin", "medium", "thick")
DEFAULT_PEN = "medium"
MAX_RECENT = 8
#: At most this many Recent entries are looked at on start-up; any beyond are dropped unseen
#: (a settings file can hold a million of them).
MAX_RECENT_EXAMINED = 4 * MAX_RECENT
#: How long start-up waits for the disk to say whether the Recent entries exist; an entry on a
#: mount that does not answer in time is kept as it is (opening it is checked off the GUI thread).
RECENT_CHECK_SECONDS = 0.5
#: An unreadable settings file is kept beside itself with this suffix added.
UNREADABLE_SUFFIX = ".unreadable"


def _value(settings: QSettings, key: str):
    """``settings.value(key)``, or None when the stored value cannot be turned into a Python one."""
    try:
        return settings.value(key)
    except Exception:  # an unknown @Variant type and the like
        return None


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _is_path_text(x) -> bool:
    return isinstance(x, str) and bool(x.strip()) and "\0" not in x


def recent_paths(settings: QSettings) -> list[str]:
    """The Recent Weights entries that are path strings, newest first (the disk is not touched)."""
    out: list[str] = []
    for x in _as_list(_value(settings, RECENT_KEY)):
        if _is_path_text(x) and x not in out:
            out.append(x)
    return out[:MAX_RECENT]


def set_recent(settings: QSettings, items: list[str]) -> None:
    """Store the Recent Weights list (newest first, at most MAX_RECENT)."""
    if items:
        settings.setValue(RECENT_KEY, items[:MAX_RECENT])
    else:
        settings.remove(RECENT_KEY)
    settings.sync()


def remember_recent(settings: QSettings, path: str | Path) -> None:
    """Put ``path`` (resolved) first in Recent Weights."""
    p = str(Path(path).resolve())
    set_recent(settings, [p] + [x for x in recent_paths(settings) if x != p])


def forget_recent(settings: QSettings, path: str) -> None:
    set_recent(settings, [x for x in recent_paths(settings) if x != path])


def last_dir(settings: QSettings) -> str:
    """The folder the last file dialog was in, or "" when none is remembered or it is gone."""
    v = _value(settings, LAST_DIR_KEY)
    try:
        return v if _is_path_text(v) and Path(v).is_dir() else ""
    except (OSError, ValueError):
        return ""


def pen(settings: QSettings) -> str:
    """The pen width last chosen ("thin", "medium" or "thick"), or the default."""
    v = _value(settings, PEN_KEY)
    return v if isinstance(v, str) and v in PENS else DEFAULT_PEN


def set_pen(settings: QSettings, name: str) -> None:
    settings.setValue(PEN_KEY, name)
    settings.sync()


def _digest(geometry: QByteArray, state: QByteArray) -> str:
    h = hashlib.sha256()
    for part in (bytes(geometry.data()), bytes(state.data())):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def save_layout(settings: QSettings, geometry: QByteArray, state: QByteArray) -> None:
    """Remember the window layout (as Qt's saveGeometry/saveState wrote it) with its digest."""
    settings.setValue(GEOMETRY_KEY, geometry)
    settings.setValue(STATE_KEY, state)
    settings.setValue(LAYOUT_DIGEST_KEY, _digest(geometry, state))


def has_layout(settings: QSettings) -> bool:
    return any(settings.contains(k) for k in (GEOMETRY_KEY, STATE_KEY, LAYOUT_DIGEST_KEY))


def saved_layout(settings: QSettings) -> tuple[QByteArray, QByteArray] | None:
    """(geometry, window state) exactly as this app saved them, or None (none saved, or not intact)."""
    geo, state, digest = (_value(settings, k) for k in (GEOMETRY_KEY, STATE_KEY, LAYOUT_DIGEST_KEY))
    if not (isinstance(geo, QByteArray) and isinstance(state, QByteArray) and isinstance(digest, str)):
        return None
    return (geo, state) if digest == _digest(geo, state) else None


def forget_layout(settings: QSettings) -> None:
    for k in (GEOMETRY_KEY, STATE_KEY, LAYOUT_DIGEST_KEY, LAYOUT_RESTORING_KEY):
        settings.remove(k)
    settings.sync()


@contextlib.contextmanager
def restoring_layout(settings: QSettings) -> Iterator[None]:
    """Mark, on disk, that the saved layout is being restored, for as long as the block runs:
    a crash inside it leaves the mark for the next start to find."""
    settings.setValue(LAYOUT_RESTORING_KEY, True)
    settings.sync()
    try:
        yield
    finally:
        settings.remove(LAYOUT_RESTORING_KEY)
        settings.sync()


def died_restoring_layout(settings: QSettings) -> bool:
    """Whether the last start ended while it restored the saved layout."""
    return settings.contains(LAYOUT_RESTORING_KEY)


def _names(paths: list[str]) -> str:
    names = [Path(p).name or p for p in paths]
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _kind(x: str) -> str:
    try:
        if Path(x).is_file():
            return "file"
        return "folder" if Path(x).is_dir() else "missing"
    except (OSError, ValueError):  # a name too long for the file system, ...
        return "invalid"


def _kinds(paths: list[str]) -> dict[str, str]:
    """What each path is, looked at on a worker thread; paths whose file system has not answered
    within RECENT_CHECK_SECONDS are left out (a hung network mount never blocks start-up)."""
    found: dict[str, str] = {}

    def look() -> None:
        for p in paths:
            found[p] = _kind(p)

    worker = threading.Thread(target=look, name="lenet-draw-recent-check", daemon=True)
    worker.start()
    worker.join(RECENT_CHECK_SECONDS)
    return dict(found)


def _check_recent(settings: QSettings) -> list[str]:
    if not settings.contains(RECENT_KEY):
        return []
    items = _as_list(_value(settings, RECENT_KEY))
    beyond = max(0, len(items) - MAX_RECENT_EXAMINED)
    items = items[:MAX_RECENT_EXAMINED]
    kinds = _kinds(list(dict.fromkeys(x for x in items if _is_path_text(x))))
    keep: list[str] = []
    not_paths, missing, folders = 0, [], []
    for x in items:
        if not _is_path_text(x):
            not_paths += 1
            continue
        if len(keep) == MAX_RECENT:  # the list is full
            break
        kind = kinds.get(x, "file")  # no answer in time: kept as it is
        if kind == "file":
            if x not in keep:
                keep.append(x)
        elif kind == "folder":
            folders.append(x)
        elif kind == "missing":
            missing.append(x)
        else:
            not_paths += 1
    if not (not_paths or missing or folders or beyond) and len(keep) == len(items) <= MAX_RECENT:
        return []
    settings.setValue(RECENT_KEY, keep[:MAX_RECENT])
    notes = []
    if missing:
        one = len(missing) == 1
        notes.append(
            f"Recent Weights: {_names(missing)} {'no longer exists' if one else 'no longer exist'}, "
            f"so {'it was' if one else 'they were'} removed from the list."
        )
    if folders:
        one = len(folders) == 1
        what = "is a folder, not a weights file, so it was" if one else "are folders, not weights files, so they were"
        notes.append(f"Recent Weights: {_names(folders)} {what} removed from the list.")
    if not_paths:
        what = (
            "1 entry that was not a file path; it was"
            if not_paths == 1
            else f"{not_paths} entries that were not file paths; they were"
        )
        notes.append(f"Recent Weights held {what} removed.")
    if beyond:
        notes.append(f"Recent Weights held {beyond} more entries than it looks at; they were removed.")
    return notes


def _move_aside(path: str) -> Path | None:
    """Move an unreadable settings file to NAME.unreadable; None when that is impossible."""
    src = Path(path)
    try:
        if not src.is_file():
            return None
        dst = src.with_name(src.name + UNREADABLE_SUFFIX)
        os.replace(src, dst)
        return dst
    except (OSError, ValueError):
        return None


#: Set on a QSettings whose unreadable file was dealt with: its status stays FormatError.
_RESET_PROPERTY = "lenetDrawSettingsReset"
_ACCESS_PROPERTY = "lenetDrawAccessReported"


def unreadable(settings: QSettings) -> bool:
    """True when the file behind ``settings`` cannot be used (and was not already replaced)."""
    if settings.property(_RESET_PROPERTY):
        return False
    settings.allKeys()  # Qt parses sections lazily, and reports FormatError only once it has read them
    return settings.status() == QSettings.Status.FormatError


def check(settings: QSettings) -> list[str]:
    """Make ``settings`` safe to use; return what was done, one sentence each (often nothing)."""
    name = Path(settings.fileName()).name or settings.fileName()
    if unreadable(settings):
        kept = _move_aside(settings.fileName())
        settings.clear()
        settings.sync()
        settings.setProperty(_RESET_PROPERTY, True)
        where = f" (the unreadable file was kept as {kept.name})" if kept else ""
        return [f"The settings file {name} could not be read, so lenet-draw started with default settings{where}."]
    notes = []
    if settings.status() == QSettings.Status.AccessError and not settings.property(_ACCESS_PROPERTY):
        settings.setProperty(_ACCESS_PROPERTY, True)  # said once per settings object
        notes.append(f"The settings file {name} cannot be read or written, so changes made now will not be remembered.")
    notes += _check_recent(settings)
    if died_restoring_layout(settings):
        forget_layout(settings)
        notes.append(LAYOUT_DIED_NOTE)
    elif has_layout(settings) and saved_layout(settings) is None:
        forget_layout(settings)
        notes.append(LAYOUT_NOTE)
    if settings.contains(LAST_DIR_KEY) and not last_dir(settings):
        settings.remove(LAST_DIR_KEY)
    if settings.contains(PEN_KEY) and _value(settings, PEN_KEY) not in PENS:
        settings.remove(PEN_KEY)
    settings.sync()
    return notes


LAYOUT_NOTE = "The saved window layout could not be used, so the default layout is shown."
LAYOUT_DIED_NOTE = "The last start ended while it restored the saved window layout, so it was forgotten and the default layout is shown."


NUMBER_MODE_KEY = "numberMode"


def number_mode(settings: QSettings) -> bool:
    """Whether the window was last in Number mode (anything but a stored true reads as no)."""
    value = _value(settings, NUMBER_MODE_KEY)
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def set_number_mode(settings: QSettings, on: bool) -> None:
    settings.setValue(NUMBER_MODE_KEY, bool(on))
