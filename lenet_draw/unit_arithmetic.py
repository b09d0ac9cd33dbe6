"""How any unit got its value: its receptive field on the input and the arithmetic, with the
real numbers.

A unit is (layer, map, row, column) for the 2-D layers (C1, S2, C3, S4) and (layer, index) for
the vector layers (C5, F6, output: index 0..9 is the digit). ``explain`` recomputes the unit's
value from the weights and the layer below, in float64, the way LeNet-5 computes it:

- C1: the 5x5 window of the (normalised) input times the kernel, summed, plus bias, then tanh;
- S2 and S4: the average of a 2x2 window of the layer below;
- C3: for each of S2's six maps, its 5x5 window times that map's kernel, summed (a partial sum);
  the partial sums added, plus bias, then tanh;
- C5, F6, output: each input value times its weight (C5's inputs are S4's 400 values), the
  largest contributions named and the rest summed, plus bias, then tanh (none for the output:
  its value is the logit).

No torch arithmetic is trusted here: the numbers come from the weights as numpy arrays, so a
test can hold them against the engine's activations. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from lenet_draw.spec import LAYER_NAMES, LAYER_SHAPES

if TYPE_CHECKING:
    import torch

    from lenet_draw.model import LeNet5
    from lenet_draw.weights import InputConvention

#: The layer below each layer ("input": the normalised 32x32 image).
BELOW = {"C1": "input", "S2": "C1", "C3": "S2", "S4": "C3", "C5": "S4", "F6": "C5", "output": "F6"}
#: Contributions named one by one for the fully connected layers; the rest are summed.
TOP_CONTRIBUTIONS = 8


@dataclass(frozen=True)
class Unit:
    layer: str
    map: int  # the map for C1..S4, the unit's index for C5, F6, output
    row: int = 0
    col: int = 0

    def __post_init__(self) -> None:
        if self.layer not in LAYER_SHAPES:
            raise ValueError(f"unknown layer {self.layer!r}: one of {', '.join(LAYER_NAMES)}")
        shape = LAYER_SHAPES[self.layer]
        idx = (self.map, self.row, self.col) if len(shape) == 3 else (self.map,)
        if any(not 0 <= i < n for i, n in zip(idx, shape)) or (len(shape) == 1 and (self.row, self.col) != (0, 0)):
            raise ValueError(f"{self.layer} has no unit {idx}: its shape is {shape}")

    @property
    def spatial(self) -> bool:
        return len(LAYER_SHAPES[self.layer]) == 3

    def label(self) -> str:
        if self.spatial:
            return f"{self.layer} map {self.map + 1}, row {self.row}, column {self.col}"
        if self.layer == "output":
            return f"output {self.map} (the logit of digit {self.map})"
        return f"{self.layer} unit {self.map}"


def receptive_field(unit: Unit) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), half-open, of the 32x32 input pixels the unit depends on."""
    if not unit.spatial:
        return 0, 32, 0, 32
    r0, r1, c0, c1 = unit.row, unit.row + 1, unit.col, unit.col + 1
    layer = unit.layer
    while layer != "input":
        if layer in ("C1", "C3"):  # a 5x5 convolution, stride 1
            r1, c1 = r1 + 4, c1 + 4
        else:  # S2, S4: 2x2 average, stride 2
            r0, r1, c0, c1 = 2 * r0, 2 * r1, 2 * c0, 2 * c1
        layer = BELOW[layer]
    return r0, r1, c0, c1


@dataclass(frozen=True)
class ConvPart:
    """One input map's share of a convolution unit."""

    input_map: int  # 0-based; always 0 for C1
    window: np.ndarray  # 5x5 of the layer below (the normalised input for C1)
    kernel: np.ndarray  # 5x5
    products: np.ndarray  # window * kernel
    partial: float  # products.sum()


@dataclass(frozen=True)
class Contribution:
    index: int  # the input unit (for C5: S4's flattened index, map * 25 + row * 5 + column)
    label: str
    value: float  # the input unit's value
    weight: float
    product: float


@dataclass(frozen=True)
class Arithmetic:
    """The computation of one unit's value, with the numbers."""

    unit: Unit
    kind: str  # "conv", "pool" or "dense"
    value: float  # the result: equals the engine's activation
    conv_parts: tuple[ConvPart, ...] = ()
    pool_window: np.ndarray | None = None  # 2x2 for S2 / S4
    contributions: tuple[Contribution, ...] = ()  # the largest |input x weight|, largest first
    rest: float = 0.0  # the sum of the contributions not listed
    rest_count: int = 0
    bias: float = 0.0
    total: float = 0.0  # the sum before the activation function (the mean for pooling)
    activation: str = "tanh"  # "tanh", "mean" or "none"
    receptive_field: tuple[int, int, int, int] = field(default=(0, 32, 0, 32))


def _np(t: torch.Tensor | object) -> np.ndarray:
    assert t is not None and hasattr(t, "detach")
    return t.detach().double().cpu().numpy()


def _unit_name(layer: str, index: int) -> str:
    if layer == "S4":
        m, rc = divmod(index, 25)
        r, c = divmod(rc, 5)
        return f"S4 map {m + 1} ({r},{c})"
    return f"{layer} {index}"


def explain(model: LeNet5, normalised_input: np.ndarray, activations: dict[str, np.ndarray], unit: Unit) -> Arithmetic:
    """How ``unit`` got its value, from the model's weights, the normalised 32x32 input the
    engine fed it and the engine's activations of the layers below."""
    layer = unit.layer
    below = (
        np.asarray(normalised_input, dtype=np.float64).reshape(1, 32, 32)
        if BELOW[layer] == "input"
        else np.asarray(activations[BELOW[layer]], dtype=np.float64)
    )
    rf = receptive_field(unit)
    if layer in ("C1", "C3"):
        conv = model.c1 if layer == "C1" else model.c3
        w, b = _np(conv.weight)[unit.map], float(_np(conv.bias)[unit.map])
        parts = []
        for i in range(w.shape[0]):
            win = below[i, unit.row : unit.row + 5, unit.col : unit.col + 5]
            prod = win * w[i]
            parts.append(ConvPart(i, win.copy(), w[i].copy(), prod, float(prod.sum())))
        total = sum(p.partial for p in parts) + b
        return Arithmetic(unit, "conv", float(np.tanh(total)), tuple(parts), bias=b, total=total, receptive_field=rf)
    if layer in ("S2", "S4"):
        win = below[unit.map, 2 * unit.row : 2 * unit.row + 2, 2 * unit.col : 2 * unit.col + 2].copy()
        mean = float(win.mean())
        return Arithmetic(unit, "pool", mean, pool_window=win, total=mean, activation="mean", receptive_field=rf)
    lin: torch.nn.Module = {"C5": model.c5, "F6": model.f6, "output": model.output}[layer]
    weight = _np(lin.weight)
    w = weight.reshape(weight.shape[0], -1)[unit.map]
    b = float(_np(lin.bias)[unit.map])
    x = below.reshape(-1)
    prod = x * w
    order = np.argsort(-np.abs(prod), kind="stable")
    top = order[:TOP_CONTRIBUTIONS]
    src = BELOW[layer]
    contribs = tuple(
        Contribution(int(i), _unit_name(src, int(i)), float(x[i]), float(w[i]), float(prod[i])) for i in top
    )
    rest_idx = order[TOP_CONTRIBUTIONS:]
    rest = float(prod[rest_idx].sum())
    total = float(prod.sum()) + b
    act = "none" if layer == "output" else "tanh"
    value = total if act == "none" else float(np.tanh(total))
    return Arithmetic(
        unit,
        "dense",
        value,
        contributions=contribs,
        rest=rest,
        rest_count=len(rest_idx),
        bias=b,
        total=total,
        activation=act,
        receptive_field=rf,
    )


def engine_value(activations: dict[str, np.ndarray], unit: Unit) -> float:
    """The engine's own value of ``unit``."""
    a = activations[unit.layer]
    return float(a[unit.map, unit.row, unit.col] if unit.spatial else a[unit.map])


def strongest_response(
    model: LeNet5,
    normalised_input: np.ndarray,
    activations: dict[str, np.ndarray],
    layer: str,
    kernel: int,
    input_map: int = 0,
) -> tuple[Unit, float]:
    """Where a C1 kernel (or one C3 kernel: output map ``kernel``, input map ``input_map``)
    responds most in the current input: the unit whose window times that kernel is largest."""
    if layer not in ("C1", "C3"):
        raise ValueError("kernels belong to C1 and C3")
    conv = model.c1 if layer == "C1" else model.c3
    w = _np(conv.weight)[kernel, input_map if layer == "C3" else 0]
    src = (
        np.asarray(normalised_input, dtype=np.float64).reshape(32, 32)
        if layer == "C1"
        else np.asarray(activations["S2"], dtype=np.float64)[input_map]
    )
    n = src.shape[0] - 4
    windows = np.lib.stride_tricks.sliding_window_view(src, (5, 5))[:n, :n]
    resp = (windows * w).sum(axis=(2, 3))
    r, c = np.unravel_index(int(np.argmax(resp)), resp.shape)
    return Unit(layer, kernel, int(r), int(c)), float(resp[r, c])


def normalised_input(convention: InputConvention, image: np.ndarray) -> np.ndarray:
    """The 32x32 ink image as the network gets it: the weights file's convention applied."""
    import torch

    x = torch.as_tensor(np.asarray(image, dtype=np.float32)).reshape(1, 1, 32, 32)
    return convention.apply(x)[0, 0].double().numpy()
