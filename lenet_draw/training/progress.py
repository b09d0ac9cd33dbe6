"""A plain-text progress bar with ETA, for the command line."""

from __future__ import annotations

import sys
import time


def _fmt(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class ProgressBar:
    def __init__(self, total: int, label: str, stream=None, width: int = 28) -> None:
        self.total, self.label, self.width = max(1, total), label, width
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self._last = 0.0
        self._tty = getattr(self.stream, "isatty", lambda: False)()

    def update(self, done: int, **fields: float) -> None:
        now = time.perf_counter()
        if done < self.total and now - self._last < (0.1 if self._tty else 5.0):
            return
        self._last = now
        frac = min(1.0, done / self.total)
        elapsed = now - self.start
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        bar = "#" * int(frac * self.width) + "." * (self.width - int(frac * self.width))
        extra = "  ".join(f"{k} {v:.4f}" if k == "loss" else f"{k} {v:.2f}%" for k, v in fields.items())
        line = f"{self.label} [{bar}] {frac * 100:5.1f}%  {_fmt(elapsed)} elapsed, ETA {_fmt(eta)}  {extra}"
        self.stream.write(("\r" if self._tty else "") + line + ("" if self._tty else "\n"))
        self.stream.flush()

    def close(self, **fields: float) -> None:
        self._last = 0.0
        self.update(self.total, **fields)
        if self._tty:
            self.stream.write("\n")
        self.stream.flush()
