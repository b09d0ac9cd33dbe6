"""Every activation the window shows, checked against a forward pass written from the
weights alone (tests/reference.py: plain torch ops, not the model's own methods), layer by layer."""

import numpy as np
import pytest
from reference import independent_forward, softmax

from lenet_draw.preprocess import Stages
from lenet_draw.sample_digits import DIGIT_STROKES


def asymmetric_inputs(engine):
    """Drawings whose mirror image differs (a 2, a 4, a 7) and an input with no symmetry at all."""
    preds = [engine.predict_strokes([np.asarray(s) * 300 for s in DIGIT_STROKES[d]]) for d in (2, 4, 7)]
    rng = np.random.default_rng(5)
    noise = engine.predict_stages(Stages(*(rng.random((n, n)).astype(np.float32) for n in (9, 20, 28, 32))))
    return preds + [noise]


@pytest.mark.parametrize("index", range(4))
def test_each_layer_equals_an_independent_forward_pass(engine, index):
    pred = asymmetric_inputs(engine)[index]
    want = independent_forward(engine.weights, pred.stages.input)
    assert list(pred.activations) == list(want)
    for name, ref in want.items():
        got = pred.activations[name]
        assert got.shape == ref.shape, name
        # float32 against float64: the largest difference measured on these inputs is 1.7e-6.
        np.testing.assert_allclose(got, ref, atol=1e-5, rtol=0, err_msg=name)


def test_softmax_of_the_output_activation_is_the_shown_probabilities(engine):
    for pred in asymmetric_inputs(engine):
        np.testing.assert_allclose(pred.probabilities, softmax(pred.activations["output"]), atol=1e-6, rtol=0)
