"""The one summary every measurement reports: median, 99th percentile, maximum and count."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def summary_ms(samples_ms: Iterable[float]) -> dict:
    """Median, p99 and max of samples in milliseconds (NaN for no samples)."""
    a = np.asarray(list(samples_ms), dtype=np.float64)
    if a.size == 0:
        return {"median_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan"), "n": 0}
    return {
        "median_ms": float(np.median(a)),
        "p99_ms": float(np.percentile(a, 99)),
        "max_ms": float(a.max()),
        "n": int(a.size),
    }


def summary_s(samples_s: Iterable[float]) -> dict:
    """The same for samples in seconds (reported in milliseconds)."""
    return summary_ms(s * 1e3 for s in samples_s)
