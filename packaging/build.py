"""Build the packaged app: ``python packaging/build.py``.

Makes the icons from resources/icon.png, runs PyInstaller on packaging/lenet-draw.spec and
packs the result:

    dist/lenet-draw/                              the one-folder app (start dist/lenet-draw/lenet-draw)
    dist/lenet-draw-VERSION-SYSTEM-MACHINE.tar.gz   the same folder, archived (.zip on Windows/macOS)

Options: --onefile (one self-extracting executable, in dist/onefile/), --no-trim (keep all
that PyInstaller's hooks collect; the baseline of the size record), --dist/--work (output and
scratch folders), --no-archive. Run it with the Python of an environment that has the CPU build
of torch, the app and PyInstaller installed (pip install -e '.[package]').
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = "lenet-draw"
SPEC = ROOT / "packaging" / f"{APP}.spec"
ICON_SOURCE = ROOT / "resources" / "icon.png"
DESKTOP_FILE = ROOT / "resources" / f"{APP}.desktop"

INSTALL_DESKTOP_ENTRY = r"""#!/bin/sh
# Adds lenet-draw to this user's application menu, so it starts from the menu or by
# double-click, and offers it to open .pt/.safetensors weights files. Run it again after
# moving this folder.
set -e
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$data/applications" "$data/icons/hicolor/256x256/apps"
cp "$here/lenet-draw.png" "$data/icons/hicolor/256x256/apps/lenet-draw.png"
exe=$(printf '%s' "$here/lenet-draw" | sed 's/[\\"`$]/\\\\&/g')
entry="$data/applications/lenet-draw.desktop"
{ grep -v '^Exec=' "$here/lenet-draw.desktop"; printf 'Exec="%s" %%f\n' "$exe"; } > "$entry"
chmod +x "$entry"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$data/applications" || true
echo "added $entry"
"""


def version() -> str:
    text = (ROOT / "lenet_draw" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__\s*=\s*"([^"]+)"', text, re.M).group(1)


def system_tag() -> str:
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    return f"{system}-{platform.machine().lower()}"


def check_environment() -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit("PyInstaller is not installed here: pip install -e '.[package]'") from None
    import torch

    if torch.version.cuda or getattr(torch.version, "hip", None):
        raise SystemExit(
            f"This environment has a GPU build of torch ({torch.__version__}); it makes a bundle of "
            "several GB. Build from an environment with the CPU build: pip install torch==2.13.0 "
            "--index-url https://download.pytorch.org/whl/cpu (on Linux; the default wheel elsewhere)."
        )
    if sys.platform == "linux":
        # PyInstaller copies the X11 libraries Qt's xcb plugin links against into the app (all
        # but libxcb itself and the GL stack, which come with every desktop), so that people
        # need not install them; it can only copy what this machine has.
        sys.path.insert(0, str(ROOT))
        from lenet_draw.gui.syslibs import XCB_LIBS, missing_libraries, missing_sentence

        carried = {lib.soname for lib in XCB_LIBS} - {"libxcb.so.1"}
        missing = [lib for lib in missing_libraries(environ={"QT_QPA_PLATFORM": "xcb"}) if lib.soname in carried]
        if missing:
            raise SystemExit(
                "The packaged app carries Qt's X11 libraries, and this machine lacks some: " + missing_sentence(missing)
            )


def make_icons(folder: Path) -> None:
    """resources/icon.png -> lenet-draw.png (256 px), .ico (16-256 px), .icns (16-1024 px)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(ICON_SOURCE) as src:
        src = src.convert("RGBA")
        src.resize((256, 256), Image.Resampling.LANCZOS).save(folder / f"{APP}.png")
        src.save(folder / f"{APP}.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
        src.resize((1024, 1024), Image.Resampling.LANCZOS).save(folder / f"{APP}.icns")


def folder_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def archive(source: Path, out_base: Path) -> Path:
    """tar.gz on Linux (keeps permissions and links), .zip elsewhere."""
    if sys.platform.startswith("linux"):
        out = out_base.with_name(out_base.name + ".tar.gz")
        with tarfile.open(out, "w:gz", compresslevel=6) as tar:
            tar.add(source, arcname=source.name)
        return out
    out = out_base.with_name(out_base.name + ".zip")
    if sys.platform == "darwin" and shutil.which("ditto"):
        # ditto keeps the symbolic links and permissions an .app bundle needs
        subprocess.run(["ditto", "-c", "-k", "--keepParent", str(source), str(out)], check=True)
        return out
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        if source.is_file():
            z.write(source, source.name)
        for p in sorted(source.rglob("*")):
            z.write(p, str(Path(source.name) / p.relative_to(source)))
    return out


def add_desktop_files(app_dir: Path, icons: Path) -> None:
    """Linux: the .desktop file, its icon and the script that installs them for this user."""
    shutil.copy2(icons / f"{APP}.png", app_dir / f"{APP}.png")
    shutil.copy2(DESKTOP_FILE, app_dir / f"{APP}.desktop")
    script = app_dir / "install-desktop-entry.sh"
    script.write_text(INSTALL_DESKTOP_ENTRY, encoding="utf-8", newline="\n")
    script.chmod(0o755)


def mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python packaging/build.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--onefile", action="store_true", help="one self-extracting executable (in DIST/onefile/)")
    p.add_argument("--no-trim", action="store_true", help="keep everything PyInstaller's hooks collect")
    p.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    p.add_argument("--work", type=Path, default=ROOT / "build", help="scratch folder (default: build/)")
    p.add_argument("--no-archive", action="store_true", help="skip the .tar.gz/.zip")
    args = p.parse_args(argv)
    check_environment()

    t0 = time.perf_counter()
    dist = args.dist.resolve() / ("onefile" if args.onefile else "")
    work = args.work.resolve()
    icons = work / "icons"
    make_icons(icons)
    spec_args = (
        ["--icons", str(icons)] + (["--onefile"] if args.onefile else []) + (["--no-trim"] if args.no_trim else [])
    )
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist),
        "--workpath",
        str(work / "pyinstaller"),
        str(SPEC),
        "--",
        *spec_args,
    ]
    print("+ " + " ".join(cmd), flush=True)
    if subprocess.run(cmd, cwd=ROOT).returncode != 0:
        raise SystemExit("PyInstaller failed; its messages are above.")
    t_build = time.perf_counter() - t0

    if sys.platform == "darwin":
        product = dist / f"{APP}.app"
    elif args.onefile:
        product = dist / (f"{APP}.exe" if sys.platform == "win32" else APP)
    else:
        product = dist / APP
    if sys.platform.startswith("linux") and not args.onefile:
        add_desktop_files(product, icons)
    print(f"built {product} ({mb(folder_size(product))}) in {t_build:.0f} s")

    if not args.no_archive:
        t1 = time.perf_counter()
        name = f"{APP}-{version()}-{system_tag()}" + ("-onefile" if args.onefile else "")
        out = archive(product, args.dist.resolve() / name)
        print(f"archived {out} ({mb(out.stat().st_size)}) in {time.perf_counter() - t1:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
