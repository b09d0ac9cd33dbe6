"""Without MNIST, a CI run fails instead of passing by skipping the tests that need it."""

import pytest
from mnist_rule import REQUIRE_ENV, mnist_missing


@pytest.mark.parametrize(
    "env, fails",
    [
        ({}, False),
        ({"CI": "true"}, True),
        ({"CI": "false"}, False),
        ({REQUIRE_ENV: "1"}, True),
        ({REQUIRE_ENV: "0"}, False),
    ],
)
def test_missing_mnist_fails_under_ci_and_skips_elsewhere(monkeypatch, env, fails):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    expected = pytest.fail.Exception if fails else pytest.skip.Exception
    with pytest.raises(expected, match="MNIST IDX files not found"):
        mnist_missing("MNIST IDX files not found")
