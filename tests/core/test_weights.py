from collections import OrderedDict

import numpy as np
import pytest
import torch

from lenet_draw.engine import Engine
from lenet_draw.model import LeNet5
from lenet_draw.weights import InputConvention, WeightsError, load_weights, save_weights


@pytest.fixture
def state():
    torch.manual_seed(1)
    return LeNet5().state_dict()


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_round_trip_keeps_tensors_convention_and_metadata(tmp_path, state, suffix):
    conv = InputConvention(mean=0.5, std=0.5, scale=1.0, ink="dark")
    path = save_weights(tmp_path / f"w{suffix}", state, conv, {"test_accuracy": 98.5, "epochs": 3})
    w = load_weights(path)
    assert list(w.state_dict) == list(state)
    for k in state:
        assert torch.equal(w.state_dict[k], state[k])
    assert w.convention == conv
    assert w.test_accuracy == 98.5 and w.meta["epochs"] == 3


@pytest.mark.parametrize("wrap", ["plain", "state_dict", "model", "model_state_dict", "module.", "model."])
def test_common_checkpoint_layouts_are_accepted(tmp_path, state, wrap):
    if wrap == "plain":
        obj = state
    elif wrap.endswith("."):
        obj = OrderedDict((wrap + k, v) for k, v in state.items())
    else:
        obj = {wrap: state, "epoch": 7, "optimizer": {"lr": 0.1}}
    torch.save(obj, tmp_path / "w.pth")
    w = load_weights(tmp_path / "w.pth")
    assert torch.equal(w.state_dict["c1.weight"], state["c1.weight"])
    assert w.convention == InputConvention()  # a bare file gets the bundled convention


def test_another_naming_of_the_same_layers_is_mapped_by_shape(tmp_path, state):
    names = [
        "conv1.weight",
        "conv1.bias",
        "conv2.weight",
        "conv2.bias",
        "conv3.weight",
        "conv3.bias",
        "fc1.weight",
        "fc1.bias",
        "fc2.weight",
        "fc2.bias",
    ]
    torch.save(OrderedDict(zip(names, state.values())), tmp_path / "w.pt")
    w = load_weights(tmp_path / "w.pt")
    assert torch.equal(w.state_dict["f6.weight"], state["f6.weight"])


def test_wrong_shape_names_key_and_both_shapes(tmp_path, state):
    state["c3.weight"] = torch.zeros(16, 6, 3, 3)
    torch.save(state, tmp_path / "w.pt")
    with pytest.raises(WeightsError, match=r"'c3.weight' has shape 16x6x3x3; LeNet-5 needs 16x6x5x5"):
        load_weights(tmp_path / "w.pt")


def test_missing_key_is_named(tmp_path, state):
    del state["f6.bias"]
    torch.save(state, tmp_path / "w.pt")
    with pytest.raises(WeightsError, match="f6.bias"):
        load_weights(tmp_path / "w.pt")


def test_float64_is_converted(tmp_path, state):
    torch.save({k: v.double() for k, v in state.items()}, tmp_path / "w.pt")
    assert load_weights(tmp_path / "w.pt").state_dict["c1.weight"].dtype == torch.float32


def _pixels(engine, images):
    return engine.probabilities(images)


def test_the_file_convention_is_applied(tmp_path, state):
    """Weights trained on 0-255 inputs, with the convention saved, give the same answers
    as the same network trained on 0-1 inputs."""
    rng = np.random.default_rng(0)
    images = rng.random((8, 32, 32)).astype(np.float32)
    save_weights(tmp_path / "unit.pt", state, InputConvention(mean=0.0, std=1.0, scale=1.0))
    # The same function of the pixel value in 0..255: the first layer's weights divided by 255.
    scaled = OrderedDict(state)
    scaled["c1.weight"] = state["c1.weight"] / 255.0
    save_weights(tmp_path / "bytes.pt", scaled, InputConvention(mean=0.0, std=1.0, scale=255.0))
    a = Engine(tmp_path / "unit.pt", device="cpu").probabilities(images)
    b = Engine(tmp_path / "bytes.pt", device="cpu").probabilities(images)
    assert np.allclose(a, b, atol=1e-5)
    # Without its convention, the 0-255 file would give other answers.
    torch.save(scaled, tmp_path / "bare.pt")
    c = Engine(tmp_path / "bare.pt", device="cpu").probabilities(images)
    assert not np.allclose(a, c, atol=1e-3)


def test_dark_ink_convention_inverts_the_input(tmp_path, state):
    images = np.random.default_rng(1).random((4, 32, 32)).astype(np.float32)
    save_weights(tmp_path / "light.pt", state, InputConvention(mean=0.0, std=1.0, ink="light"))
    save_weights(tmp_path / "dark.pt", state, InputConvention(mean=0.0, std=1.0, ink="dark"))
    light = Engine(tmp_path / "light.pt", device="cpu").probabilities(1.0 - images)
    dark = Engine(tmp_path / "dark.pt", device="cpu").probabilities(images)
    assert np.allclose(light, dark, atol=1e-6)


def test_a_bad_file_leaves_the_engine_predicting_the_same(tmp_path, state):
    good = save_weights(tmp_path / "good.pt", state)
    engine = Engine(good, device="cpu")
    images = np.random.default_rng(2).random((4, 32, 32)).astype(np.float32)
    before = engine.probabilities(images)
    bad = OrderedDict(state)
    bad["output.weight"] = torch.full((10, 84), float("nan"))
    torch.save(bad, tmp_path / "bad.pt")
    with pytest.raises(WeightsError, match="NaN"):
        engine.load(tmp_path / "bad.pt")
    assert engine.weights.source == str(good)
    assert np.array_equal(engine.probabilities(images), before)
