"""Warnings that tests provoke on purpose (damaged files make pillow and torch warn): asserted
where they arise, so they never reach the run's summary, and an unexpected one still fails."""

from __future__ import annotations

import contextlib
import re
import warnings
from typing import Iterator

#: What pillow says about a damaged TIFF (its EXIF and tags are read before the pixels).
PIL_DAMAGED_TIFF = (
    r"^Corrupt EXIF data",
    r"^Truncated File Read",
    r"^Tag data larger than file",
    r"^Possibly corrupt EXIF",
    r"^Metadata Warning, tag \d+ had too many entries",
)
#: What torch says when a damaged checkpoint claims a pickle protocol it does not know.
TORCH_PICKLE_PROTOCOL = (r"^Detected pickle protocol \d+ in the checkpoint",)


@contextlib.contextmanager
def provoked_warnings(*patterns: str) -> Iterator[list[warnings.WarningMessage]]:
    """Record the warnings raised inside; each must match one of ``patterns`` (regular
    expressions on the message), and is then kept out of the summary."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        yield seen
    unexpected = [
        f"{w.category.__name__}: {w.message}" for w in seen if not any(re.search(p, str(w.message)) for p in patterns)
    ]
    assert not unexpected, f"unexpected warnings: {unexpected}"
