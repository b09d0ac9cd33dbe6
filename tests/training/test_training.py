import torch

from lenet_draw.training.data import Split
from lenet_draw.training.train import TrainConfig, accuracy, train


def _subset(split, n):
    return Split(images=split.images[:n], labels=split.labels[:n])


def test_short_training_run_learns(mnist_train, mnist_test):
    cfg = TrainConfig(epochs=3, limit=5000, batch_size=32, seed=0, device="cpu", augment=False)
    model, summary = train(cfg, mnist_train, None, log=lambda *_: None, progress_stream=_Null())
    acc = accuracy(model, _subset(mnist_test, 2000))
    assert acc > 90.0, acc
    assert summary["epochs"] == 3 and len(summary["history"]) == 3


def test_training_is_deterministic_on_cpu(mnist_train):
    cfg = TrainConfig(epochs=1, limit=512, seed=7, device="cpu", batch_size=64)
    a, _ = train(cfg, mnist_train, None, log=lambda *_: None, progress_stream=_Null())
    b, _ = train(cfg, mnist_train, None, log=lambda *_: None, progress_stream=_Null())
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k


class _Null:
    def write(self, _):
        pass

    def flush(self):
        pass
