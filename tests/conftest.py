import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from lenet_draw.data import DATA_ENV, default_data_dir, load_split  # noqa: E402


@pytest.fixture(scope="session")
def mnist_dir():
    found = default_data_dir()
    if found is None:
        pytest.skip(f"MNIST IDX files not found: put them in ../shared/data/mnist or set {DATA_ENV}")
    return found


@pytest.fixture(scope="session")
def mnist_test(mnist_dir):
    return load_split(mnist_dir, "test")


@pytest.fixture(scope="session")
def mnist_train(mnist_dir):
    return load_split(mnist_dir, "train")


@pytest.fixture(scope="session")
def engine():
    from lenet_draw.engine import Engine

    return Engine(device="cpu")
