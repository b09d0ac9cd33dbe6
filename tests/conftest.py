import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from mnist_rule import mnist_missing  # noqa: E402

from lenet_draw.training.data import DATA_ENV, default_data_dir, load_split  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Run torch on one thread, as the app does: LeNet-5's layers are too small for a thread
    pool to pay, and on a busy machine its waiting threads make a prediction many times slower.
    (Batch inference still uses every core: the engine runs chunks side by side.)"""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def mnist_dir():
    found = default_data_dir()
    if found is None:
        mnist_missing(f"MNIST IDX files not found: put them in ../shared/data/mnist or set {DATA_ENV}")
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
