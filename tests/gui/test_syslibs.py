"""The check of Qt's system libraries before the window opens: a missing library is named with
its packages, in one sentence, with exit status 2, and Qt is never started. The loader is
simulated: these tests do not depend on what this machine has installed."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from lenet_draw import cli
from lenet_draw.gui import syslibs

DESKTOP = {"DISPLAY": ":0"}


def loader_without(*absent: str):
    return lambda soname: soname not in absent


def test_nothing_missing_means_nothing_to_say():
    assert syslibs.missing_libraries("linux", DESKTOP, loader_without()) == []


def test_a_missing_xcb_library_is_named_with_its_packages():
    missing = syslibs.missing_libraries("linux", DESKTOP, loader_without("libxcb-icccm.so.4", "libxcb-keysyms.so.1"))
    assert [lib.soname for lib in missing] == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    text = syslibs.missing_sentence(missing)
    assert "apt install libxcb-icccm4 libxcb-keysyms1" in text
    assert "dnf install xcb-util-wm xcb-util-keysyms" in text
    assert "xcb-cursor" not in text  # not the library Qt's own message blames
    assert len(re.findall(r"\.(?:\s|$)", text)) == 1 and text.endswith(".")  # one sentence


def test_libraries_of_one_fedora_package_name_it_once():
    missing = syslibs.missing_libraries("linux", DESKTOP, loader_without("libxcb-randr.so.0", "libxcb-shm.so.0"))
    assert "dnf install libxcb`" in syslibs.missing_sentence(missing)


@pytest.mark.parametrize(
    "environ, xcb",
    [
        ({}, True),
        ({"QT_QPA_PLATFORM": "xcb"}, True),
        ({"QT_QPA_PLATFORM": "offscreen"}, False),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, False),
        ({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, False),
        ({"XDG_SESSION_TYPE": "x11", "DISPLAY": ":0"}, True),
    ],
)
def test_xcb_libraries_matter_only_where_qt_uses_xcb(environ, xcb):
    missing = syslibs.missing_libraries("linux", environ, loader_without("libxcb-icccm.so.4"))
    assert bool(missing) == xcb


def test_other_systems_are_not_checked():
    assert syslibs.missing_libraries("win32", DESKTOP, loader_without("libEGL.so.1")) == []
    assert syslibs.missing_libraries("darwin", DESKTOP, loader_without("libEGL.so.1")) == []


def test_the_app_says_so_and_exits_2_without_starting_qt(monkeypatch, capsys):
    monkeypatch.setattr(syslibs, "_dlopen", lambda soname: soname != "libxcb-keysyms.so.1")
    monkeypatch.setattr(syslibs, "_bundled", lambda soname: False)
    monkeypatch.setattr(syslibs.sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("lenet_draw.gui.app.run_app", lambda **kw: pytest.fail("Qt was started"))
    assert cli.main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "libxcb-keysyms.so.1" in err[0] and "libxcb-keysyms1" in err[0] and "xcb-util-keysyms" in err[0]


def test_a_packaged_app_finds_the_libraries_it_carries(tmp_path, monkeypatch):
    (tmp_path / "libxcb-icccm.so.4").write_bytes(b"")
    monkeypatch.setattr(syslibs.sys, "_MEIPASS", str(tmp_path), raising=False)
    assert syslibs._bundled("libxcb-icccm.so.4")
    assert not syslibs._bundled("libxcb-keysyms.so.1")


def _needed(path: Path) -> set[str]:
    """DT_NEEDED entries of a 64-bit little-endian ELF file (what ``readelf -d`` lists)."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    dynamic = next(s for s in sections if s[1] == 6)  # SHT_DYNAMIC
    strtab = sections[dynamic[6]]  # its sh_link: the string table
    names = set()
    for off in range(dynamic[4], dynamic[4] + dynamic[5], 16):
        tag, val = struct.unpack_from("<qQ", data, off)
        if tag == 0:
            break
        if tag == 1:  # DT_NEEDED
            start = strtab[4] + val
            names.add(data[start : data.index(b"\0", start)].decode())
    return names


@pytest.mark.skipif(not syslibs.sys.platform.startswith("linux"), reason="Qt's xcb plugin exists on Linux only")
def test_the_table_covers_what_the_installed_xcb_plugin_links_against():
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    needed = _needed(qt / "plugins" / "platforms" / "libqxcb.so") | _needed(qt / "lib" / "libQt6XcbQpa.so.6")
    own = {p.name for p in (qt / "lib").iterdir()}
    system = {n for n in needed if n not in own and not n.startswith(("libc.", "libm.", "libstdc++", "libgcc_s"))}
    listed = {lib.soname for lib in syslibs.QT_GUI_LIBS + syslibs.XCB_LIBS}
    assert system - listed == set()
