"""Where the network looked: which ink pushed a reading towards a digit, and which against it.

Evidence is computed on the 32x32 input (ink = 1) against a blank input (no ink), for one of
three methods:

- ``gradient_x_input``: the gradient of the score times the ink, one forward and backward pass;
- ``integrated_gradients`` (Sundararajan et al. 2017): the gradient averaged along the straight
  path from the blank input to the drawing, times the ink; the values add up to the score's
  change from blank to drawing;
- ``occlusion``: for each inked pixel, how much the score falls when that pixel's ink is
  removed (one batched forward pass over every inked pixel).

The score is the log-odds of ``target`` (its logit minus the log-sum-exp of the other logits:
log p / (1 - p), which keeps its slope when the network is sure), or, when ``against`` is given, the logit of
``target`` minus the logit of ``against`` ("why not 7?": the evidence for 7 over the shown 3).
Positive evidence pushed towards ``target``; negative pushed away. Which method agrees best with
what happens when ink is actually removed is measured by ``lenet_draw.bench.faithfulness``.

Qt-free; torch runs on the engine's device, one small batch per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from lenet_draw.engine import _without_onednn

if TYPE_CHECKING:
    from lenet_draw.engine import Engine

METHODS = ("gradient_x_input", "integrated_gradients", "occlusion")
#: The method the app shows: the one whose ranking of ink best predicts what removing it does
#: (see the README and lenet_draw/bench/faithfulness.py).
DEFAULT_METHOD = "integrated_gradients"
#: Points on the path from blank to the drawing for integrated gradients (8: within 0.97
#: correlation of 64 points' map, at a third of 16 points' time).
IG_STEPS = 8
#: An input pixel holds ink above this value (as for the overlay's mass test).
INK_LEVEL = 0.05


@dataclass(frozen=True)
class Evidence:
    """Evidence over the 32x32 input for ``target`` (over ``against`` when given)."""

    values: np.ndarray  # (32, 32) float32: > 0 pushed towards target, < 0 away from it
    target: int
    against: int | None
    method: str

    @property
    def scale(self) -> float:
        """The largest |value| (1 when there is none), to colour the map by."""
        m = float(np.max(np.abs(self.values))) if self.values.size else 0.0
        return m if np.isfinite(m) and m > 0 else 1.0


def _score(logits: torch.Tensor, target: int, against: int | None) -> torch.Tensor:
    if against is None:  # log-odds: unlike the log-probability, it does not flatten out when sure
        others = torch.cat([logits[:, :target], logits[:, target + 1 :]], dim=1).float()
        return logits[:, target].float() - torch.logsumexp(others, dim=1)
    return logits[:, target].float() - logits[:, against].float()


def _model_input(engine: Engine, images: np.ndarray) -> torch.Tensor:
    x = torch.as_tensor(np.ascontiguousarray(images, dtype=np.float32))
    return x[:, None].to(engine.device)


def scores(engine: Engine, images: np.ndarray, target: int, against: int | None = None) -> np.ndarray:
    """The score for each of (N, 32, 32) ink images, in one forward pass."""
    model, conv = engine.model, engine.convention
    with torch.inference_mode():
        logits = model(conv.apply(_model_input(engine, images)))
        return _score(logits, target, against).cpu().numpy().astype(np.float64)


def _gradients(engine: Engine, images: np.ndarray, target: int, against: int | None) -> np.ndarray:
    """d score / d ink for each of (N, 32, 32) images; the weights get no gradient."""
    model, conv = engine.model, engine.convention
    with torch.enable_grad():
        x = _model_input(engine, images).requires_grad_(True)
        s = _score(model(conv.apply(x)), target, against).sum()
        (g,) = torch.autograd.grad(s, x)
    return g[:, 0].detach().cpu().numpy().astype(np.float64)


def evidence(
    engine: Engine,
    image: np.ndarray,
    target: int,
    against: int | None = None,
    method: str = DEFAULT_METHOD,
    steps: int = IG_STEPS,
) -> Evidence:
    """Evidence for ``target`` (over ``against``) in one 32x32 ink image (ink = 1)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    x = np.asarray(image, dtype=np.float64)
    if x.shape != (32, 32):
        raise ValueError(f"expected a 32x32 input, got shape {x.shape}")
    with _without_onednn():  # for batches this small torch's own kernels are faster
        values = _values(engine, x, target, against, method, steps)
    return Evidence(values.astype(np.float32), int(target), None if against is None else int(against), method)


def _values(engine: Engine, x: np.ndarray, target: int, against: int | None, method: str, steps: int) -> np.ndarray:
    if method == "gradient_x_input":
        values = _gradients(engine, x[None], target, against)[0] * x
    elif method == "integrated_gradients":
        # Midpoints of `steps` equal parts of the path: the Riemann sum that converges fastest.
        alphas = (np.arange(steps) + 0.5) / steps
        grads = _gradients(engine, alphas[:, None, None] * x[None], target, against)
        values = grads.mean(axis=0) * x
    else:
        values = occlusion(engine, x, target, against)
    return values


def occlusion(engine: Engine, image: np.ndarray, target: int, against: int | None = None) -> np.ndarray:
    """For each inked pixel, the score with the drawing minus the score with that pixel blank."""
    x = np.asarray(image, dtype=np.float64)
    ys, xs = np.nonzero(x > INK_LEVEL)
    out = np.zeros_like(x)
    if len(ys) == 0:
        return out
    batch = np.repeat(x[None], len(ys) + 1, axis=0)
    batch[np.arange(1, len(ys) + 1), ys, xs] = 0.0
    s = scores(engine, batch, target, against)
    out[ys, xs] = s[0] - s[1:]
    return out


def remove_ink(image: np.ndarray, order: np.ndarray, count: int) -> np.ndarray:
    """The image with the ink of the first ``count`` pixels of ``order`` (flat indices) removed."""
    out = np.array(image, dtype=np.float32, copy=True)
    out.reshape(-1)[np.asarray(order[:count], dtype=np.intp)] = 0.0
    return out


def ranked_ink(values: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Flat indices of the inked pixels, most evidence first."""
    flat_ink = np.flatnonzero(np.asarray(image).reshape(-1) > INK_LEVEL)
    v = np.asarray(values, dtype=np.float64).reshape(-1)[flat_ink]
    return flat_ink[np.argsort(-v, kind="stable")]


def ink_mass_fraction(values: np.ndarray, image: np.ndarray, level: float = INK_LEVEL) -> float:
    """Share of the evidence's total |mass| that lies on inked pixels."""
    a = np.abs(np.asarray(values, dtype=np.float64))
    total = float(a.sum())
    if total <= 0:
        return 1.0
    return float(a[np.asarray(image) > level].sum() / total)


def to_drawing(to_input: tuple[float, float, float], u: float, v: float) -> tuple[float, float]:
    """A point of the input (continuous pixel coordinates) back on the drawing: the inverse of
    the preprocessing's fit, centring and padding (``Stages.to_input``)."""
    scale, dx, dy = to_input
    return (u - dx) / scale, (v - dy) / scale
