"""The system libraries Qt needs on Linux, checked before Qt is loaded.

PySide6's wheels bring Qt but not the X11 libraries its xcb platform plugin links against.
When one is missing, Qt aborts with "Could not load the Qt platform plugin "xcb"" and names
xcb-cursor0 whatever the missing library is, which sends people after the wrong package. So
before the QApplication is made, each library is looked up the way the dynamic loader will
look it up (``dlopen``), and a missing one is named with the package that provides it on
Debian/Ubuntu and on Fedora. No Qt is imported here: a missing library can make importing
PySide6's QtGui itself fail.

The table lists the direct dependencies of ``plugins/platforms/libqxcb.so`` and
``lib/libQt6XcbQpa.so.6`` (``readelf -d``) that are not part of Qt, and those of QtGui that
Qt does not bring; ``tests/gui/test_syslibs.py`` checks it against the installed plugin.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path
from typing import Callable, NamedTuple


class SysLib(NamedTuple):
    soname: str
    debian: str  # Debian / Ubuntu package
    fedora: str  # Fedora / RHEL package


#: What QtGui needs on any Linux platform (offscreen included).
QT_GUI_LIBS = (
    SysLib("libEGL.so.1", "libegl1", "libglvnd-egl"),
    SysLib("libGL.so.1", "libgl1", "libglvnd-glx"),
    SysLib("libfontconfig.so.1", "libfontconfig1", "fontconfig"),
    SysLib("libxkbcommon.so.0", "libxkbcommon0", "libxkbcommon"),
    SysLib("libglib-2.0.so.0", "libglib2.0-0", "glib2"),
    SysLib("libdbus-1.so.3", "libdbus-1-3", "dbus-libs"),
)

#: What Qt's xcb platform plugin (the X11 desktop) needs besides QT_GUI_LIBS.
XCB_LIBS = (
    SysLib("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
    SysLib("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    SysLib("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    SysLib("libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
    SysLib("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"),
    SysLib("libxcb-util.so.1", "libxcb-util1", "xcb-util"),
    SysLib("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    SysLib("libxcb.so.1", "libxcb1", "libxcb"),
    SysLib("libxcb-randr.so.0", "libxcb-randr0", "libxcb"),
    SysLib("libxcb-render.so.0", "libxcb-render0", "libxcb"),
    SysLib("libxcb-shape.so.0", "libxcb-shape0", "libxcb"),
    SysLib("libxcb-shm.so.0", "libxcb-shm0", "libxcb"),
    SysLib("libxcb-sync.so.1", "libxcb-sync1", "libxcb"),
    SysLib("libxcb-xfixes.so.0", "libxcb-xfixes0", "libxcb"),
    SysLib("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb"),
    SysLib("libX11-xcb.so.1", "libx11-xcb1", "libX11-xcb"),
    SysLib("libX11.so.6", "libx11-6", "libX11"),
    SysLib("libgthread-2.0.so.0", "libglib2.0-0", "glib2"),
)


def _dlopen(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def _bundled(soname: str) -> bool:
    """True when a packaged app carries the library beside itself."""
    base = getattr(sys, "_MEIPASS", None)
    return bool(base) and (Path(base) / soname).is_file()


def uses_xcb(environ: dict[str, str] | None = None) -> bool:
    """Whether Qt will pick its xcb plugin: asked for, or the default outside a Wayland session."""
    env = os.environ if environ is None else environ
    asked = env.get("QT_QPA_PLATFORM", "").strip().lower()
    if asked:  # a list is tried in order: the first one is what Qt uses when it loads
        return asked.split(";")[0].strip().startswith("xcb")
    wayland = env.get("XDG_SESSION_TYPE", "").lower() == "wayland" and bool(env.get("WAYLAND_DISPLAY"))
    return not wayland


def missing_libraries(
    platform: str | None = None,
    environ: dict[str, str] | None = None,
    loadable: Callable[[str], bool] | None = None,
) -> list[SysLib]:
    """The libraries Qt will need here that the loader cannot find (always [] off Linux)."""
    if (platform or sys.platform) != "linux":
        return []
    can_load = loadable or (lambda name: _bundled(name) or _dlopen(name))
    wanted = QT_GUI_LIBS + (XCB_LIBS if uses_xcb(environ) else ())
    return [lib for lib in wanted if not can_load(lib.soname)]


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def missing_sentence(missing: list[SysLib]) -> str:
    """One sentence naming what to install, for Debian/Ubuntu and for Fedora."""
    libs = ", ".join(lib.soname for lib in missing)
    debian = " ".join(_unique([lib.debian for lib in missing]))
    fedora = " ".join(_unique([lib.fedora for lib in missing]))
    which = "a system library" if len(missing) == 1 else "system libraries"
    return (
        f"Qt cannot open the window without {which} this machine lacks ({libs}); "
        f"install {'it' if len(missing) == 1 else 'them'} with `sudo apt install {debian}` (Debian, Ubuntu) "
        f"or `sudo dnf install {fedora}` (Fedora)."
    )
