"""Adapting LeNet-5 to one person's handwriting from the drawings they corrected.

The method: the convolution layers (C1 to C5) stay as the base weights have them; F6 and the
output layer (10,164 of the 61,706 parameters) are fine-tuned on

- the person's samples, each drawn again in ``variants`` slightly different ways (rotated,
  sheared, stretched, wobbled; the strokes are moved, then preprocessed as the app does), so
  the correction carries over to the next time the digit is written a little differently;
- anchor drawings: the ten shapes of ``sample_digits`` drawn in many variants, whose targets
  are the *base* network's own probabilities (distillation), so what the base reads on
  ordinary digits stays as it was;
- pulled towards the base weights (an L2 penalty on the difference), so a few samples move
  the network only as far as they need to.

The result is an ordinary LeNet-5 state_dict with the base's input convention: it exports as a
weights file any LeNet-5 tool loads. Everything is deterministic for given samples and base;
the window and ``lenet-draw adapt`` run this same function. No Qt.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from lenet_draw.model import LeNet5
from lenet_draw.preprocess import preprocess_strokes
from lenet_draw.sample_digits import DIGIT_STROKES
from lenet_draw.samples import Sample
from lenet_draw.weights import Weights, save_weights

#: The layers adaptation changes; the rest stay as the base has them.
ADAPTED = ("f6.weight", "f6.bias", "output.weight", "output.bias")


@dataclass(frozen=True)
class AdaptConfig:
    variants: int = 16  # drawings made from each sample, the sample itself included
    anchor_variants: int = 200  # per digit shape
    steps: int = 60
    lr: float = 0.02
    anchor_strength: float = 1.6  # how far the anchor drawings are varied from the ten shapes
    anchor_weight: float = 320.0
    anchor_batch: int = 800  # anchors drawn at random for each step (0: all of them, every step)  # weight of the anchors' distillation against the samples' loss
    pull: float = 1.0  # strength of the pull towards the base weights
    retries: int = 4  # rounds of more weight on samples still read wrong
    boost: float = 2.0  # how much more, each round
    seed: int = 0


DEFAULT = AdaptConfig()


@dataclass(frozen=True)
class Adapted:
    """The adaptation's result: weights to install, and what it took."""

    weights: Weights
    samples: int
    seconds: float


# ----------------------------------------------------------------------------- variants


def _key(strokes: Sequence[np.ndarray]) -> int:
    h = hashlib.blake2b(digest_size=8)
    for s in strokes:
        h.update(np.ascontiguousarray(np.asarray(s, dtype=np.float64)[:, :2]).tobytes())
        h.update(b"|")
    return int.from_bytes(h.digest(), "little")


def vary(strokes: Sequence[np.ndarray], rng: np.random.Generator, strength: float = 1.0) -> list[np.ndarray]:
    """The same drawing, written a little differently: rotated, sheared, stretched and wobbled
    about its centre, every stroke alike (the way one person's digits differ from each other)."""
    xy = [np.asarray(s, dtype=np.float64)[:, :2] for s in strokes]
    allpts = np.concatenate(xy)
    centre = (allpts.min(axis=0) + allpts.max(axis=0)) / 2.0
    extent = max(float((allpts.max(axis=0) - allpts.min(axis=0)).max()), 1e-6)
    a = np.radians(rng.uniform(-10, 10) * strength)
    shear = rng.uniform(-0.18, 0.18) * strength
    sx, sy = np.exp(rng.uniform(-0.15, 0.15, size=2) * strength)
    m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array([[sx, shear], [0.0, sy]])
    # A smooth wobble: a low-frequency displacement field over the drawing's box.
    k = rng.normal(0, 0.035 * strength, size=(2, 2, 2))
    phase = rng.uniform(0, 2 * np.pi, size=(2, 2))
    out = []
    for s in xy:
        u = (s - centre) / extent
        wob = np.stack(
            [
                sum(k[0, i, j] * np.sin(np.pi * (i + 1) * u[:, j] + phase[0, i]) for i in range(2) for j in range(2)),
                sum(k[1, i, j] * np.sin(np.pi * (i + 1) * u[:, j] + phase[1, i]) for i in range(2) for j in range(2)),
            ],
            axis=1,
        )
        out.append(((u + wob) @ m.T) * extent + centre)
    return out


def render(strokes: Sequence[Any]) -> np.ndarray | None:
    """The 32x32 network input the app makes from these strokes (None: no ink)."""
    st = preprocess_strokes(list(strokes), crop_view=False)
    return None if st is None else st.input


class VariantCache:
    """Network inputs made from each sample's variants, computed once per drawing.

    Keyed by the drawing's content, so a sample read again (from disk, from another copy)
    is not drawn again. Thread-safe.
    """

    def __init__(self, cfg: AdaptConfig = DEFAULT, limit: int = 4096) -> None:
        self.cfg = cfg
        self._lock = threading.Lock()
        self._items: OrderedDict[int, np.ndarray] = OrderedDict()
        self._limit = limit
        self._anchors: tuple[object, torch.Tensor, torch.Tensor] | None = None

    def anchor_features(
        self, base: Weights, model: LeNet5, pause: Callable[[], object] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The anchors' C5 features under ``base`` and the base's probabilities for them: the
        same for every adaptation of one base, so computed once per base."""
        with self._lock:
            hit = self._anchors
        if hit is not None and hit[0] is base:
            return hit[1], hit[2]
        anchors = anchor_inputs(self.cfg.anchor_variants, self.cfg.seed, pause, self.cfg.anchor_strength)
        with torch.no_grad():
            fa = _c5(model, base.convention.apply(torch.from_numpy(anchors)[:, None]))
            target = torch.softmax(model.output(torch.tanh(model.f6(fa))), dim=1)
        with self._lock:
            self._anchors = (base, fa, target)
        return fa, target

    def inputs(self, sample: Sample) -> np.ndarray:
        key = _key(sample.strokes)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        rng = np.random.default_rng([self.cfg.seed, key])
        base = sample.xy()
        imgs = [render(base)]
        for _ in range(self.cfg.variants - 1):
            imgs.append(render(vary(base, rng)))
        arr = (
            np.stack([i for i in imgs if i is not None]) if any(i is not None for i in imgs) else np.zeros((0, 32, 32))
        )
        arr = arr.astype(np.float32)
        with self._lock:
            self._items[key] = arr
            while len(self._items) > self._limit:
                self._items.popitem(last=False)
        return arr


_ANCHORS: dict[tuple[int, int, float], np.ndarray] = {}
_ANCHORS_LOCK = threading.Lock()


def anchor_inputs(
    variants: int = DEFAULT.anchor_variants,
    seed: int = DEFAULT.seed,
    pause: Callable[[], object] | None = None,
    strength: float = DEFAULT.anchor_strength,
) -> np.ndarray:
    """Ordinary digits for the network to keep reading as before: each of the ten shapes of
    ``sample_digits`` drawn ``variants`` ways (more strongly varied than a person's samples).
    Made once per process (a second or two); ``pause`` is called between drawings."""
    key = (variants, seed, strength)
    with _ANCHORS_LOCK:
        hit = _ANCHORS.get(key)
    if hit is not None:
        return hit
    rng = np.random.default_rng([seed, 1])
    imgs = []
    for d in range(10):
        strokes = [np.asarray(s, dtype=np.float64) for s in DIGIT_STROKES[d]]
        for i in range(variants):
            if pause is not None and i % 10 == 0:
                pause()
            img = render(strokes if i == 0 else vary(strokes, rng, strength=strength))
            if img is not None:
                imgs.append(img)
    arr = np.stack(imgs).astype(np.float32)
    with _ANCHORS_LOCK:
        return _ANCHORS.setdefault(key, arr)


# ----------------------------------------------------------------------------- adaptation


def _c5(model: LeNet5, x: torch.Tensor) -> torch.Tensor:
    x = model.s2(torch.tanh(model.c1(x)))
    x = model.s4(torch.tanh(model.c3(x)))
    return torch.tanh(model._c5(x))


def adapt(
    base: Weights,
    samples: Sequence[Sample],
    cfg: AdaptConfig = DEFAULT,
    cache: VariantCache | None = None,
    pause: Callable[[], object] | None = None,
) -> Adapted:
    """Base weights adapted to the samples (the base itself when there are none).

    ``pause``, when given, is called between the steps (each a few milliseconds of work): the
    window's version waits there while the pen is down, so an adaptation running beside the
    drawing never competes with its live update for the interpreter. It changes no result.
    """
    t0 = time.perf_counter()
    pause = pause or (lambda: None)
    if not samples:
        return Adapted(base, 0, time.perf_counter() - t0)
    cache = cache if cache is not None else VariantCache(cfg)
    model = base.build_model()
    xs, ys, ws = [], [], []
    for s in samples:
        pause()
        inp = cache.inputs(s)
        if len(inp):
            xs.append(inp)
            ys.append(np.full(len(inp), s.label))
            # The drawing as the person made it counts as much as all its variants together:
            # drawn again the same way, it must read as corrected.
            wi = np.full(len(inp), 0.5 / max(1, len(inp) - 1))
            wi[0] = 0.5 if len(inp) > 1 else 1.0
            ws.append(wi)
    if (cache.cfg.anchor_variants, cache.cfg.seed, cache.cfg.anchor_strength) != (
        cfg.anchor_variants,
        cfg.seed,
        cfg.anchor_strength,
    ):
        cache = VariantCache(cfg)  # anchors drawn otherwise than the cache's
    fa, target = cache.anchor_features(base, model, pause)
    with torch.no_grad():
        fu = _c5(model, base.convention.apply(torch.from_numpy(np.concatenate(xs))[:, None]))
    y = torch.from_numpy(np.concatenate(ys)).long()
    w = torch.from_numpy(np.concatenate(ws)).float()
    w = w / w.sum()
    f6 = torch.nn.Linear(120, 84)
    out = torch.nn.Linear(84, 10)
    f6.load_state_dict(model.f6.state_dict())
    out.load_state_dict(model.output.state_dict())
    params = [f6.weight, f6.bias, out.weight, out.bias]
    start = [p.detach().clone() for p in params]
    # Adam written out: torch.optim imports torch's compiler stack (seconds on first use, and
    # left out of the packaged app).
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    clock = [0]

    def step() -> None:
        clock[0] += 1
        t = clock[0]
        with torch.no_grad():
            for p, (m, v) in zip(params, moments):
                g = p.grad
                assert g is not None
                m.mul_(0.9).add_(g, alpha=0.1)
                v.mul_(0.999).addcmul_(g, g, value=0.001)
                denom = (v / (1 - 0.999**t)).sqrt_().add_(1e-8)
                p.addcdiv_(m, denom, value=-cfg.lr / (1 - 0.9**t))
                p.grad = None

    originals = torch.from_numpy(np.cumsum([0] + [len(x) for x in xs[:-1]])).long()  # each drawing as made

    gen = torch.Generator().manual_seed(cfg.seed)  # the anchors each step sees: the same every run

    def train(steps: int, w: torch.Tensor) -> None:
        for _ in range(steps):
            pause()
            lu = out(torch.tanh(f6(fu)))
            loss = (F.cross_entropy(lu, y, reduction="none") * w).sum()
            if cfg.anchor_batch and cfg.anchor_batch < len(fa):
                pick = torch.randint(len(fa), (cfg.anchor_batch,), generator=gen)
                fa_s, target_s = fa[pick], target[pick]
            else:
                fa_s, target_s = fa, target
            la = out(torch.tanh(f6(fa_s)))
            loss = loss + cfg.anchor_weight * F.kl_div(F.log_softmax(la, dim=1), target_s, reduction="batchmean")
            loss = loss + cfg.pull * sum(((p - p0) ** 2).sum() for p, p0 in zip(params, start))
            loss.backward()
            step()

    train(cfg.steps, w)
    # A drawing still read wrong (it looks much like the ordinary digits the anchors keep) gets
    # more weight until it reads as corrected: drawn again the same way, it must.
    for _ in range(cfg.retries):
        with torch.no_grad():
            wrong = out(torch.tanh(f6(fu[originals]))).argmax(1) != y[originals]
        if not bool(wrong.any()):
            break
        w = w.clone()
        w[originals[wrong]] *= cfg.boost
        train(cfg.steps // 2, w / w.sum())
    sd = OrderedDict((k, v.clone()) for k, v in base.state_dict.items())
    for k, p in zip(ADAPTED, params):
        sd[k] = p.detach().clone().contiguous()
    name = Path(base.source).name if base.source else "weights"
    meta = {k: v for k, v in base.meta.items() if k != "test_accuracy"}
    if base.test_accuracy is not None:
        meta["base_test_accuracy"] = base.test_accuracy
    meta.update(
        note=f"adapted from {name} with {len(samples)} samples",
        adapted_from=name,
        samples=len(samples),
    )
    adapted = Weights(state_dict=sd, convention=base.convention, meta=meta, source=base.source)
    return Adapted(adapted, len(samples), time.perf_counter() - t0)


def fingerprint(base: Weights, samples: Sequence[Sample], cfg: AdaptConfig = DEFAULT) -> str:
    """What an adaptation depends on, hashed: saved adapted weights are reused only while it holds."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(cfg).encode())
    for k, v in base.state_dict.items():
        h.update(k.encode())
        h.update(v.numpy().tobytes())
    for s in samples:
        h.update(f"{s.label}:{_key(s.strokes)};".encode())
    return h.hexdigest()


def export(adapted: Weights, path: str | Path) -> Path:
    """Write adapted weights as an ordinary LeNet-5 weights file (.pt or .safetensors)."""
    return save_weights(path, adapted.state_dict, adapted.convention, adapted.meta)
