"""One call at a time off the GUI thread, waited for without blocking the window.

``Background.call(fn)`` runs ``fn`` on a worker thread and spins a local event loop until it
returns or ``cancel()`` is called: the window keeps painting and taking input meanwhile (a
weights file on a hung network mount, a slow disk), and a Cancel button can end the wait at
once. A cancelled call's thread is left to finish on its own (the readers it runs are
bounded; a hung system call is not ours to end) and its result is dropped.
"""

from __future__ import annotations

import ctypes
import functools
import sys
import threading
from typing import Any, Callable

from PySide6.QtCore import QEventLoop, QObject, Qt, Signal


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library the process runs on
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_freed_memory() -> None:
    """Give memory freed by worker threads back to the system.

    glibc gives each thread that allocates its own memory arena and returns little of what is
    freed there: a photo decoded on a worker thread left its tens of megabytes held after it
    was gone, and opening large photos one after another grew the process by hundreds of
    megabytes (``tests/gui/test_hostile_files_window.py``). Where there is no such call,
    nothing is done."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class _Relay(QObject):
    done = Signal()


class Outcome:
    """How a call ended: ``value`` when it returned, ``error`` when it raised, or ``cancelled``
    (and ``replaced`` when a newer call cancelled it, rather than the person)."""

    __slots__ = ("value", "error", "cancelled", "replaced")

    def __init__(self) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self.cancelled = False
        self.replaced = False


class Background:
    """Runs calls off the GUI thread; a newer call cancels the wait for an older one."""

    def __init__(self) -> None:
        self._current: tuple[threading.Event, QEventLoop, Outcome] | None = None

    def busy(self) -> bool:
        return self._current is not None

    def cancel(self, replaced: bool = False) -> None:
        """Stop waiting for the current call (its result will be dropped); ``replaced``: because
        a newer call takes its place."""
        if self._current is not None:
            flag, loop, outcome = self._current
            flag.set()
            outcome.cancelled = True
            outcome.replaced = replaced
            loop.quit()

    def call(self, fn: Callable[[Callable[[], bool]], Any]) -> Outcome:
        """``fn(cancelled)`` on a worker thread; ``cancelled()`` turns True once cancelled."""
        self.cancel(replaced=True)
        flag = threading.Event()
        loop = QEventLoop()
        outcome = Outcome()
        relay = _Relay()
        relay.done.connect(loop.quit, Qt.ConnectionType.QueuedConnection)
        finished = threading.Event()

        def work() -> None:
            try:
                outcome.value = fn(flag.is_set)
            except BaseException as exc:  # handed to the GUI thread
                outcome.error = exc
            finished.set()
            relay.done.emit()

        me = (flag, loop, outcome)
        self._current = me
        threading.Thread(target=work, name="lenet-draw-background", daemon=True).start()
        try:
            if not finished.is_set() and not outcome.cancelled:
                loop.exec()
        finally:
            if self._current is me:
                self._current = None
        if not finished.is_set():
            outcome.cancelled = True
        else:
            release_freed_memory()
        return outcome
