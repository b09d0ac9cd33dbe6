import torch

from lenet_draw.model import LAYER_NAMES, LAYER_SHAPES, PARAMETER_COUNT, LeNet5, count_parameters


def test_parameter_count_matches_the_paper():
    assert count_parameters(LeNet5()) == PARAMETER_COUNT == 61_706


def test_every_layer_has_the_documented_shape():
    model = LeNet5().eval()
    x = torch.randn(3, 1, 32, 32)
    logits, acts = model.forward_with_activations(x)
    assert list(acts) == list(LAYER_NAMES)
    for name in LAYER_NAMES:
        assert tuple(acts[name].shape) == (3, *LAYER_SHAPES[name]), name
    assert tuple(logits.shape) == (3, 10)
    assert torch.equal(acts["output"], logits)


def test_activations_do_not_change_the_answer():
    model = LeNet5().eval()
    x = torch.randn(4, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(x), model.forward_with_activations(x)[0])


def test_tanh_layers_stay_in_minus_one_to_one():
    model = LeNet5().eval()
    _, acts = model.forward_with_activations(torch.randn(2, 1, 32, 32) * 10)
    for name in ("C1", "C3", "C5", "F6"):
        assert acts[name].abs().max() <= 1.0


def test_c5_as_a_full_connection_equals_the_convolution():
    model = LeNet5().eval()
    s4 = torch.randn(5, 16, 5, 5)
    with torch.no_grad():
        assert torch.allclose(model._c5(s4), model.c5(s4).flatten(1), atol=1e-5)
