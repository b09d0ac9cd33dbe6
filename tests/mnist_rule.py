"""Whether a test that needs MNIST skips or fails when the data is missing.

Under CI (CI=true, as CI services set it) or with LENET_DRAW_REQUIRE_MNIST=1 a missing MNIST
is a failure, so a run without the data cannot pass by skipping the tests that read it; in a
local run without it those tests skip.
"""

from __future__ import annotations

import os

import pytest

#: Set to 1 to make missing MNIST a failure in a local run, as it is under CI=true.
REQUIRE_ENV = "LENET_DRAW_REQUIRE_MNIST"


def mnist_required() -> bool:
    truthy = ("1", "true", "yes")
    return os.environ.get("CI", "").lower() in truthy or os.environ.get(REQUIRE_ENV, "").lower() in truthy


def mnist_missing(message: str) -> None:
    """Skip, or fail where MNIST is required."""
    if mnist_required():
        pytest.fail(f"{message} (required here: CI or {REQUIRE_ENV} is set)", pytrace=False)
    pytest.skip(message)
