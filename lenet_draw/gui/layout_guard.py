"""Restoring the saved window layout without letting it take the app down at every start.

``QMainWindow.restoreState`` trusts the counts and sizes inside the saved bytes. The settings
file stores a digest beside them (``prefs.saved_layout``), which catches a layout damaged by
accident, but anyone who can write the file can write a matching digest too: a forged state of
about 1.5 kB crashed Qt 6.11.3 with a segmentation fault, or looped in it without end, and since
the layout is restored at every start the app never started again.

So the attempt is marked in the settings file before Qt is handed the bytes and unmarked after
(``prefs.restoring_layout``): a start that finds the mark knows the last one died restoring
the layout, forgets it and says so (``prefs.check``). A restore still running after
``GIVE_UP_S`` (it takes milliseconds) ends the process, leaving the mark, so a hang costs
that many seconds once instead of a frozen app at every start.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import sys
from typing import Iterator

from PySide6.QtCore import QByteArray, QSettings

from lenet_draw.gui import prefs

#: How long restoring a layout may take before the process gives up (a real one takes a few ms).
GIVE_UP_S = 10.0


@contextlib.contextmanager
def _gives_up_after(seconds: float) -> Iterator[None]:
    """End the process (with the stuck thread's traceback on stderr) if the block runs longer
    than ``seconds``. Without a stderr that has a file descriptor (a windowed build whose log
    could not be opened), the traceback goes nowhere but the guard holds all the same. The
    process has one such timer (``faulthandler``'s): the block takes it, and it is off after."""
    with contextlib.ExitStack() as stack:
        try:
            faulthandler.dump_traceback_later(seconds, exit=True, file=sys.stderr)
        except (AttributeError, RuntimeError, ValueError, OSError):  # no stderr, or no descriptor
            devnull = stack.enter_context(open(os.devnull, "w"))
            faulthandler.dump_traceback_later(seconds, exit=True, file=devnull)
        try:
            yield
        finally:
            faulthandler.cancel_dump_traceback_later()


def restore(window, settings: QSettings, layout: tuple[QByteArray, QByteArray]) -> bool:
    """Hand the saved (geometry, state) to Qt, marked as being tried; True when Qt took both."""
    with prefs.restoring_layout(settings), _gives_up_after(GIVE_UP_S):
        geo_ok = window.restoreGeometry(layout[0])
        return bool(window.restoreState(layout[1])) and geo_ok
