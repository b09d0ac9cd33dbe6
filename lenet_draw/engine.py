"""The engine: weights, device and inference behind one small interface.

The GUI, the command line and the tests all go through an Engine. It never imports Qt.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import torch
from PIL import Image

from lenet_draw import devices
from lenet_draw.model import LeNet5
from lenet_draw.preprocess import Stages, preprocess_image, preprocess_strokes
from lenet_draw.resources import bundled_weights_path
from lenet_draw.spec import LAYER_NAMES, UNSURE_BELOW
from lenet_draw.weights import InputConvention, Weights, WeightsError, load_weights


class Reading:
    """What ten probabilities say: the digit, how sure, and whether that is shown as unsure.
    Shared by a Prediction and a digit read inside a number."""

    probabilities: np.ndarray  # (10,) float, sums to 1

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    @property
    def unsure(self) -> bool:
        return self.confidence < UNSURE_BELOW


@dataclass(frozen=True)
class Prediction(Reading):
    probabilities: np.ndarray  # (10,) float, sums to 1
    stages: Stages
    activations: dict[str, np.ndarray] = field(default_factory=dict)  # per layer, no batch dim
    preprocess_ms: float = 0.0
    inference_ms: float = 0.0

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        order = np.argsort(-self.probabilities)[:k]
        return [(int(i), float(self.probabilities[i])) for i in order]


#: Guards torch's process-wide settings (oneDNN on or off, the thread count), which every
#: Engine in the process shares: one lock for all of them, not one per Engine.
_TORCH_SETTINGS = threading.RLock()


@contextmanager
def _without_onednn() -> Iterator[None]:
    """Turn oneDNN off for one small inference; other engines wait for the setting to return."""
    with _TORCH_SETTINGS:
        before = bool(torch.backends.mkldnn.enabled)
        torch.backends.mkldnn.enabled = False  # type: ignore[assignment]  # a settable module flag
        try:
            yield
        finally:
            torch.backends.mkldnn.enabled = before  # type: ignore[assignment]


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` torch threads, process-wide, restoring the count afterwards."""
    with _TORCH_SETTINGS:
        before = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(before)


class Engine:
    """Holds one LeNet-5 on one device and turns drawings into predictions.

    Thread-safe: a lock guards the model, so a worker thread can predict while the GUI
    thread swaps weights or devices; a swap happens only after the new weights validated.
    """

    def __init__(self, weights: str | Path | Weights | None = None, device: str | None = "auto") -> None:
        self._lock = threading.RLock()
        self._device = devices.resolve(device)
        w = weights if isinstance(weights, Weights) else load_weights(weights or bundled_weights_path())
        self._install(w)

    # -- state -------------------------------------------------------------------------
    @property
    def device(self) -> str:
        return self._device

    @property
    def weights(self) -> Weights:
        return self._weights

    @property
    def convention(self) -> InputConvention:
        return self._weights.convention

    @property
    def model(self) -> LeNet5:
        return self._model

    def _install(self, w: Weights) -> None:
        model = w.build_model().to(self._device)
        with self._lock:
            self._weights, self._model = w, model

    def load(self, path: str | Path) -> Weights:
        """Load a weights file; on any problem raise WeightsError and keep the current weights."""
        return self.use(load_weights(path))

    def use(self, w: Weights) -> Weights:
        """Start using weights already read and validated (by ``load_weights`` on another thread,
        or personalised ones); the device stays."""
        self._install(w)
        return w

    def set_device(self, name: str) -> str:
        dev = devices.resolve(name)
        with self._lock:
            model = self._model.to(dev)
            self._model, self._device = model, dev
        return dev

    def describe_device(self) -> str:
        """The device in words: "CPU", "CUDA (NVIDIA H100)"."""
        return devices.describe(self._device)

    @staticmethod
    def available_devices() -> list[tuple[str, str]]:
        """(name, description) of each device usable here, best first; the CPU last."""
        return [(d, devices.describe(d)) for d in devices.available_devices()]

    def kernels(self) -> dict[str, np.ndarray]:
        """The learned convolution kernels: C1 (6, 1, 5, 5) and C3 (16, 6, 5, 5)."""
        with self._lock:
            return {
                "C1": self._model.c1.weight.detach().float().cpu().numpy().copy(),
                "C3": self._model.c3.weight.detach().float().cpu().numpy().copy(),
            }

    # -- inference ---------------------------------------------------------------------
    def _to_input(self, images: np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(np.ascontiguousarray(images, dtype=np.float32))
        if x.ndim == 2:
            x = x[None]
        x = x[:, None]
        return self.convention.apply(x).to(self._device)

    def probabilities(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """(N, 32, 32) images in 0..1, ink = 1 -> (N, 10) probabilities.

        On the CPU, chunks run side by side on one thread per core, each with a single torch
        thread: LeNet-5's layers are too small for torch's own threading to pay (on this
        project's 2-core machine: 28,000 images/s this way against 5,800 with two torch
        threads on one chunk, when the other core was busy).
        """
        n = len(images)
        if n == 0:
            return np.zeros((0, 10), dtype=np.float32)
        chunks = [images[i : i + batch_size] for i in range(0, n, batch_size)]
        workers = min(len(chunks), os.cpu_count() or 1)
        with self._lock:
            if workers == 1 or self._device != "cpu":
                return np.concatenate([self._probabilities(c) for c in chunks])
            with _torch_threads(1), ThreadPoolExecutor(workers, thread_name_prefix="lenet-batch") as pool:
                return np.concatenate(list(pool.map(self._probabilities, chunks)))

    def _probabilities(self, images: np.ndarray) -> np.ndarray:
        with torch.inference_mode():  # per thread: pool workers need it too
            logits = self._model(self._to_input(images))
            return torch.softmax(logits.float(), dim=1).cpu().numpy()

    def probabilities_live(self, images: np.ndarray) -> np.ndarray:
        """A handful of (N, 32, 32) images -> (N, 10), on the calling thread, for live use.

        Like ``predict_stages``, without oneDNN: for a few small images its set-up costs more
        than its kernels save.
        """
        if len(images) == 0:
            return np.zeros((0, 10), dtype=np.float32)
        with torch.inference_mode(), self._lock, _without_onednn():
            return self._probabilities(images)

    @torch.inference_mode()
    def predict_stages(self, stages: Stages, activations: bool = True, preprocess_ms: float = 0.0) -> Prediction:
        t0 = time.perf_counter()
        # For one 32x32 image oneDNN's set-up costs more than its kernels save: torch's own
        # convolution answers in about two thirds of the time (identical results, see tests).
        with self._lock, _without_onednn():
            x = self._to_input(stages.input)
            if activations:
                logits, acts = self._model.forward_with_activations(x)
                probs = torch.softmax(logits.float(), dim=1)
                names = list(LAYER_NAMES)
                tensors = [acts[n][0] for n in names] + [probs[0]]
                host = [t.float().cpu().numpy() for t in tensors]
                act_np = dict(zip(names, host[:-1]))
                p = host[-1]
            else:
                p = torch.softmax(self._model(x).float(), dim=1)[0].cpu().numpy()
                act_np = {}
        ms = (time.perf_counter() - t0) * 1e3
        return Prediction(
            probabilities=p, stages=stages, activations=act_np, preprocess_ms=preprocess_ms, inference_ms=ms
        )

    def predict_strokes(
        self, strokes: Iterable[Sequence], pen_width: float | None = None, activations: bool = True
    ) -> Prediction | None:
        """None when there is no ink: an empty canvas gets no prediction."""
        t0 = time.perf_counter()
        stages = preprocess_strokes(strokes, display_pen_width=pen_width)
        if stages is None:
            return None
        return self.predict_stages(stages, activations, (time.perf_counter() - t0) * 1e3)

    def predict_image(self, image: Image.Image | np.ndarray, activations: bool = True) -> Prediction | None:
        t0 = time.perf_counter()
        stages = preprocess_image(image)
        if stages is None:
            return None
        return self.predict_stages(stages, activations, (time.perf_counter() - t0) * 1e3)


__all__ = ["Engine", "Prediction", "WeightsError", "UNSURE_BELOW"]
