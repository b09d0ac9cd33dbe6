"""The feature maps' colour scale against fixed reference colours (tests/reference.py): every
value, at any scale, gets the colour of value / scale on the blue-white-red scale; beyond the
scale the end colours; padding (NaN) the grey of an empty cell."""

import numpy as np
import pytest
from reference import map_colour

from lenet_draw.gui.colormap import diverging_rgb, diverging_rgb32

EMPTY_CELL = (206, 212, 218)


def unpack(px: np.ndarray) -> np.ndarray:
    px = np.asarray(px, dtype=np.uint32)
    return np.stack([(px >> 16) & 255, (px >> 8) & 255, px & 255], axis=-1).astype(int)


@pytest.mark.parametrize("vmax", [0.25, 1.0, 8.0])
def test_every_value_gets_the_reference_colour_of_value_over_scale(vmax):
    values = np.linspace(-1.5, 1.5, 601) * vmax
    want = np.array([map_colour(v / vmax) for v in values])
    # Measured: within 1.8 levels (a 256-entry table); the opaque alpha is part of the pixel.
    for shown in (diverging_rgb(values, vmax), unpack(diverging_rgb32(values, vmax))):
        assert np.abs(shown - want).max() <= 2
    assert (np.asarray(diverging_rgb32(values, vmax)) >> 24 == 0xFF).all()


def test_ends_infinities_and_padding():
    values = np.array([-1.0, 0.0, 1.0, -50.0, 50.0, -np.inf, np.inf, np.nan])
    blue, white, red = (33, 102, 172), (247, 247, 247), (178, 24, 43)
    want = [blue, white, red, blue, red, blue, red, EMPTY_CELL]
    for shown in (diverging_rgb(values, 1.0), unpack(diverging_rgb32(values, 1.0))):
        assert np.abs(shown - np.array(want)).max() <= 2, shown.tolist()
        # The ends are the palette's own end colours exactly (the entries next to them are 1-2
        # levels off); 0 falls between two of the table's 256 entries, 1 level from white.
        ends = [0, 2, 3, 4, 5, 6, 7]
        assert shown[ends].tolist() == [list(want[k]) for k in ends]


def test_without_a_scale_values_run_from_minus_one_to_one():
    values = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    assert unpack(diverging_rgb32(values)).tolist() == unpack(diverging_rgb32(values, 1.0)).tolist()
    assert diverging_rgb(values).tolist() == diverging_rgb(values, 1.0).tolist()
    assert unpack(diverging_rgb32(values))[[0, 4]].tolist() == [[33, 102, 172], [178, 24, 43]]


def test_shapes_are_kept():
    a = np.zeros((3, 4, 5), dtype=np.float32)
    assert diverging_rgb(a).shape == (3, 4, 5, 3)
    assert diverging_rgb32(a).shape == (3, 4, 5)
