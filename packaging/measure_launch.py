"""Time from launching the app to a window a person can draw in, on a virtual X server.

    python packaging/measure_launch.py dist/lenet-draw/lenet-draw [--runs 7]
    python packaging/measure_launch.py .venv/bin/lenet-draw          # the installed app, to compare

Starts Xvfb, then for each run launches the command with an empty home folder and polls the
X server until the main window is mapped *and* its canvas has been painted (the window's
middle holds the canvas's white paper: a window that is mapped but not yet painted is black
on Xvfb). Prints each run and the median. Needs Xvfb, xdotool and xwd
(apt-get install xvfb xdotool x11-apps).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _window(display: str) -> str | None:
    out = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", "^lenet-draw"],
        env=dict(os.environ, DISPLAY=display),
        capture_output=True,
        text=True,
    )
    ids = out.stdout.split()
    return ids[0] if ids else None


def _painted(display: str, win: str) -> bool:
    """Whether a good share of the window is white paper (xwd dump, 32 bits a pixel)."""
    out = subprocess.run(["xwd", "-silent", "-id", win], env=dict(os.environ, DISPLAY=display), capture_output=True)
    if out.returncode != 0 or len(out.stdout) < 200:
        return False
    header = int.from_bytes(out.stdout[:4], "big")
    pixels = out.stdout[header:]
    white = pixels.count(b"\xff\xff\xff")
    return white > len(pixels) // 4 // 10  # over a tenth of the window is paper


def measure(cmd: list[str], display: str, timeout: float = 60.0) -> float:
    with tempfile.TemporaryDirectory() as home:
        env = dict(
            os.environ, DISPLAY=display, HOME=home, XDG_CONFIG_HOME=f"{home}/config", XDG_STATE_HOME=f"{home}/state"
        )
        env.pop("QT_QPA_PLATFORM", None)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while time.perf_counter() - t0 < timeout:
                win = _window(display)
                if win and _painted(display, win):
                    return time.perf_counter() - t0
                if proc.poll() is not None:
                    raise RuntimeError(f"the app exited with status {proc.returncode} before showing a window")
                time.sleep(0.01)
            raise RuntimeError("no window within the time limit")
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("command", nargs="+", help="the app to launch, with its arguments")
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--display", default=":97")
    args = p.parse_args(argv)
    for tool in ("Xvfb", "xdotool", "xwd"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed: apt-get install xvfb xdotool x11-apps")
    xvfb = subprocess.Popen(
        ["Xvfb", args.display, "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sock = Path(f"/tmp/.X11-unix/X{args.display.lstrip(':')}")
        for _ in range(200):
            if sock.exists():
                break
            time.sleep(0.05)
        times = []
        for i in range(args.runs):
            t = measure(args.command, args.display)
            times.append(t)
            print(f"run {i + 1}: {t:.2f} s", flush=True)
        print(
            f"launch to drawable window: median {statistics.median(times):.2f} s, "
            f"min {min(times):.2f} s, max {max(times):.2f} s over {len(times)} runs"
        )
    finally:
        xvfb.terminate()
        xvfb.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
