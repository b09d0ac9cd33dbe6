"""How any unit got its value: the arithmetic shown equals the engine's activations, and the
receptive field is exactly what the unit depends on."""

import numpy as np
import pytest

from lenet_draw import unit_arithmetic as ua
from lenet_draw.sample_digits import DIGIT_STROKES
from lenet_draw.spec import LAYER_SHAPES


def units_of(layer, rng, n=12):
    shape = LAYER_SHAPES[layer]
    out = []
    for _ in range(n):
        idx = [int(rng.integers(0, s)) for s in shape]
        out.append(ua.Unit(layer, *idx))
    return out


@pytest.fixture(scope="module", params=[3, 6, 8])
def reading(request, engine):
    pred = engine.predict_strokes(DIGIT_STROKES[request.param])
    return pred, ua.normalised_input(engine.convention, pred.stages.input)


@pytest.mark.parametrize("layer", list(LAYER_SHAPES))
def test_arithmetic_equals_the_engines_activation_in_every_layer(engine, reading, layer):
    pred, x = reading
    rng = np.random.default_rng(len(layer))
    for unit in units_of(layer, rng):
        a = ua.explain(engine.model, x, pred.activations, unit)
        assert a.value == pytest.approx(ua.engine_value(pred.activations, unit), abs=1e-5), unit
        # The parts add up to what is shown as their sum, and the sum gives the value.
        if a.kind == "conv":
            assert len(a.conv_parts) == (1 if layer == "C1" else 6)
            for part in a.conv_parts:
                np.testing.assert_allclose(part.products, part.window * part.kernel)
                assert part.partial == pytest.approx(part.products.sum())
            assert a.total == pytest.approx(sum(p.partial for p in a.conv_parts) + a.bias)
            assert a.value == pytest.approx(np.tanh(a.total))
        elif a.kind == "pool":
            assert a.pool_window.shape == (2, 2)
            assert a.value == pytest.approx(a.pool_window.mean())
        else:
            listed = sum(c.product for c in a.contributions)
            assert a.total == pytest.approx(listed + a.rest + a.bias)
            assert len(a.contributions) + a.rest_count == {"C5": 400, "F6": 120, "output": 84}[layer]
            mags = [abs(c.product) for c in a.contributions]
            assert mags == sorted(mags, reverse=True)
            assert a.value == pytest.approx(a.total if layer == "output" else np.tanh(a.total))


def test_c1_window_is_the_normalised_input_the_engine_used(engine, reading):
    pred, x = reading
    a = ua.explain(engine.model, x, pred.activations, ua.Unit("C1", 0, 7, 9))
    np.testing.assert_allclose(a.conv_parts[0].window, x[7:12, 9:14])
    np.testing.assert_allclose(a.conv_parts[0].kernel, engine.kernels()["C1"][0, 0], rtol=1e-6)


@pytest.mark.parametrize("layer", ["C1", "S2", "C3", "S4"])
def test_receptive_field_is_exactly_what_the_unit_depends_on(engine, layer):
    """Ink changed inside the field changes the unit; ink changed just outside does not."""
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 1, (32, 32)).astype(np.float32)
    for unit in units_of(layer, rng, n=4):
        top, bottom, left, right = ua.receptive_field(unit)
        assert (bottom - top, right - left) == {"C1": (5, 5), "S2": (6, 6), "C3": (14, 14), "S4": (16, 16)}[layer]
        v0 = ua.engine_value(engine.predict_stages(_stages(base)).activations, unit)
        inside = base.copy()
        inside[top, left] = 1.0 - inside[top, left]
        inside[bottom - 1, right - 1] = 1.0 - inside[bottom - 1, right - 1]
        outside = base.copy()
        mask = np.ones((32, 32), bool)
        mask[top:bottom, left:right] = False
        outside[mask] = 1.0 - outside[mask]
        assert ua.engine_value(engine.predict_stages(_stages(inside)).activations, unit) != pytest.approx(v0, abs=1e-7)
        assert ua.engine_value(engine.predict_stages(_stages(outside)).activations, unit) == pytest.approx(v0, abs=1e-6)


def _stages(img):
    from lenet_draw.preprocess import Stages

    return Stages(cropped=img, fitted=img[6:26, 6:26], centred=img[2:30, 2:30], input=img)


def test_fully_connected_units_see_the_whole_input():
    for layer in ("C5", "F6", "output"):
        assert ua.receptive_field(ua.Unit(layer, 0)) == (0, 32, 0, 32)


def test_a_kernels_strongest_response_is_where_its_map_peaks(engine, reading):
    pred, x = reading
    for k in range(6):
        unit, _ = ua.strongest_response(engine.model, x, pred.activations, "C1", k)
        c1 = pred.activations["C1"][k]
        assert c1[unit.row, unit.col] == pytest.approx(c1.max(), abs=1e-6)
    # One C3 kernel alone: the window of its input map times the kernel, largest where found.
    unit, resp = ua.strongest_response(engine.model, x, pred.activations, "C3", 5, input_map=2)
    a = ua.explain(engine.model, x, pred.activations, unit)
    assert a.conv_parts[2].partial == pytest.approx(resp)
    others = [
        ua.explain(engine.model, x, pred.activations, ua.Unit("C3", 5, r, c)).conv_parts[2].partial
        for r in range(10)
        for c in range(10)
    ]
    assert resp == pytest.approx(max(others))


def test_a_unit_that_does_not_exist_is_refused_with_its_shape():
    with pytest.raises(ValueError, match=r"C1 has no unit \(6, 0, 0\)"):
        ua.Unit("C1", 6, 0, 0)
    with pytest.raises(ValueError, match="unknown layer"):
        ua.Unit("C7", 0)
