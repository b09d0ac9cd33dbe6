"""Start-up of the packaged app (the script PyInstaller freezes).

On Windows torch is imported before anything loads Qt: the reverse order is known to fail
loading c10.dll (torch >= 2.9 with Qt's own copy of the C++ runtime loaded first). Elsewhere
the app starts as the installed one does, window first, with torch imported on the engine's
thread while the person can already draw: importing torch first would hold the window back
by the whole import (2.5 s of a 4 s launch on a busy 2-core machine).

A packaged app has no console when started by double-click, so when frozen everything it
would print to stderr, warnings and uncaught errors (Python's and hard crashes alike) also go
to a log file in the user's folder; nothing is ever written inside the bundle.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "lenet-draw"
#: A log file larger than this is moved to lenet-draw.log.1 when the app starts.
LOG_ROTATE_BYTES = 1 << 20
#: Import torch before Qt can load (see above).
TORCH_BEFORE_QT = sys.platform == "win32"


def log_dir() -> Path:
    """Where the packaged app writes its log: the platform's place for a user's logs."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / APP / "Logs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / APP
    state = os.environ.get("XDG_STATE_HOME")
    return (Path(state) if state and os.path.isabs(state) else Path.home() / ".local" / "state") / APP


def _attach_windows_console() -> None:
    """A windowed .exe has no stdout; started from a console (self-test, subcommands), use that one."""
    if sys.platform != "win32" or sys.stdout is not None:
        return
    try:
        import ctypes

        if ctypes.windll.kernel32.AttachConsole(-1):  # ATTACH_PARENT_PROCESS
            sys.stdout = open("CONOUT$", "w", encoding="utf-8", errors="replace")
            sys.stderr = open("CONOUT$", "w", encoding="utf-8", errors="replace")
    except Exception:  # no console to attach to: the log file still gets everything
        pass


class _Tee:
    """Writes to the console stream (when there is one) and to the log file."""

    def __init__(self, console, log) -> None:
        self.console, self.log = console, log

    def write(self, text: str) -> int:
        if self.console is not None:
            try:
                self.console.write(text)
            except Exception:
                pass
        self.log.write(text)
        return len(text)

    def flush(self) -> None:
        for s in (self.console, self.log):
            if s is not None:
                try:
                    s.flush()
                except Exception:
                    pass

    def isatty(self) -> bool:
        return bool(self.console is not None and self.console.isatty())

    def fileno(self) -> int:
        return (self.console if self.console is not None else self.log).fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.console, "encoding", None) or "utf-8"


def setup_log_file() -> Path | None:
    """Open the log file and route stderr, warnings, logging and crashes into it."""
    import faulthandler
    import logging
    import time

    folder = log_dir()
    path = folder / f"{APP}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > LOG_ROTATE_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
        log = open(path, "a", encoding="utf-8", errors="replace", buffering=1)
    except OSError:
        return None  # a read-only home must not stop the app
    log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {APP} started: {sys.executable} {sys.argv[1:]}\n")
    sys.stderr = _Tee(sys.stderr, log)
    if sys.stdout is None:
        sys.stdout = _Tee(None, log)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.StreamHandler(log)],
    )
    logging.captureWarnings(True)
    faulthandler.enable(file=log)  # segfaults in native code leave a trace too
    return path


def main() -> int:
    frozen = bool(getattr(sys, "frozen", False))
    if frozen:
        _attach_windows_console()
        setup_log_file()
    args = sys.argv[1:]
    if not args or args[0].startswith("-") or os.path.exists(args[0]):
        # the app itself (and its self-test): LeNet-5 runs on one thread, see lenet_draw.gui.app;
        # the variable is read when torch loads, so it is set here, before any import of torch
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    if TORCH_BEFORE_QT:
        import torch  # noqa: F401

    from lenet_draw.cli import main as cli_main

    try:
        return cli_main()
    except ModuleNotFoundError as exc:
        if not frozen:
            raise
        # The packaged app leaves out torch's compilers and other parts the app never uses;
        # a developer command that needs them says so instead of failing with a traceback.
        print(
            f"error: 'lenet-draw {' '.join(args[:1])}' needs the Python module {exc.name!r}, which the "
            "packaged app leaves out. Run this command from a Python install of lenet-draw "
            "(pip install -e . in a checkout).",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
