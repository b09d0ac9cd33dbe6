"""LeNet-5 as LeCun et al. (1998) describe it, with named intermediate activations.

The model does no I/O and knows nothing of preprocessing or devices: it maps a batch of
1x32x32 images to ten logits, and can hand back every layer's output on request.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lenet_draw.spec import INPUT_SHAPE, LAYER_NAMES, LAYER_SHAPES, NUM_CLASSES, PARAMETER_COUNT

__all__ = ["LeNet5", "count_parameters", "INPUT_SHAPE", "LAYER_NAMES", "LAYER_SHAPES", "NUM_CLASSES", "PARAMETER_COUNT"]


class LeNet5(nn.Module):
    """C1 6@5x5 tanh, S2 avg-pool, C3 16@5x5 tanh, S4 avg-pool, C5 120@5x5 tanh, F6 84 tanh, 10."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, kernel_size=5)
        self.s2 = nn.AvgPool2d(kernel_size=2, stride=2)
        self.c3 = nn.Conv2d(6, 16, kernel_size=5)
        self.s4 = nn.AvgPool2d(kernel_size=2, stride=2)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for a batch of shape (N, 1, 32, 32)."""
        x = torch.tanh(self.c1(x))
        x = self.s2(x)
        x = torch.tanh(self.c3(x))
        x = self.s4(x)
        x = torch.tanh(self._c5(x))
        x = torch.tanh(self.f6(x))
        return self.output(x)

    def _c5(self, s4: torch.Tensor) -> torch.Tensor:
        """C5 on a 5x5 input is a full connection from S4's 400 values: the same weights
        applied as one matrix product, several times faster than the convolution."""
        return F.linear(s4.flatten(1), self.c5.weight.flatten(1), self.c5.bias)

    def forward_with_activations(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Logits and every layer's output, keyed by the names in LAYER_NAMES.

        ``output`` holds the logits; the softmax is left to the caller. Kept apart from
        ``forward`` so ordinary inference and training pay nothing for it.
        """
        acts: dict[str, torch.Tensor] = {}
        acts["C1"] = x = torch.tanh(self.c1(x))
        acts["S2"] = x = self.s2(x)
        acts["C3"] = x = torch.tanh(self.c3(x))
        acts["S4"] = x = self.s4(x)
        acts["C5"] = x = torch.tanh(self._c5(x))
        acts["F6"] = x = torch.tanh(self.f6(x))
        acts["output"] = x = self.output(x)
        return x, acts


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
