"""Batched augmentation that bridges MNIST and drawings made on a canvas.

Random affine (rotation, scale, shear, translation), elastic distortion as in Simard et al.
(2003), and stroke thickness up and down. Everything is one batched torch op chain on
28x28 images, so two CPU cores keep up with training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    rotate_deg: float = 12.0
    scale: tuple[float, float] = (0.85, 1.1)
    shear: float = 0.2
    translate_px: float = 2.0
    elastic_prob: float = 0.5
    elastic_alpha: float = 34.0
    elastic_sigma: float = 4.0
    thickness_prob: float = 0.5
    thickness_max: float = 0.6


def _gaussian_kernel(sigma: float) -> torch.Tensor:
    radius = int(math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(x**2) / (2 * sigma**2))
    return k / k.sum()


def _smooth(field: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (B, C, H, W)."""
    k = _gaussian_kernel(sigma)
    c = field.shape[1]
    pad = len(k) // 2
    kx = k.view(1, 1, 1, -1).repeat(c, 1, 1, 1)
    ky = k.view(1, 1, -1, 1).repeat(c, 1, 1, 1)
    field = F.conv2d(F.pad(field, (pad, pad, 0, 0), mode="reflect"), kx, groups=c)
    return F.conv2d(F.pad(field, (0, 0, pad, pad), mode="reflect"), ky, groups=c)


def _thickness(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    b = x.shape[0]
    amount = (torch.rand(b, 1, 1, 1, generator=gen) * 2 - 1) * cfg.thickness_max
    amount = amount * (torch.rand(b, 1, 1, 1, generator=gen) < cfg.thickness_prob)
    dilated = F.max_pool2d(x, 3, stride=1, padding=1)
    eroded = -F.max_pool2d(-x, 3, stride=1, padding=1)
    thicker = x + amount.clamp(min=0) * (dilated - x)
    thinner = thicker - (-amount).clamp(min=0) * (x - eroded)
    # Thinning greys the stroke's core; a pen's ink stays full, so restore the peak.
    peak = thinner.amax(dim=(2, 3), keepdim=True).clamp(min=1e-3)
    return (thinner / peak).clamp_(0, 1)


def augment(x: torch.Tensor, gen: torch.Generator, cfg: AugmentConfig = AugmentConfig()) -> torch.Tensor:
    """x: (B, 1, H, W) float in 0..1 -> a randomly distorted copy of the same shape."""
    b, _, h, w = x.shape
    x = _thickness(x, cfg, gen)
    angle = (torch.rand(b, generator=gen) * 2 - 1) * math.radians(cfg.rotate_deg)
    lo, hi = cfg.scale
    scale = lo + torch.rand(b, generator=gen) * (hi - lo)
    shear = (torch.rand(b, generator=gen) * 2 - 1) * cfg.shear
    tx = (torch.rand(b, generator=gen) * 2 - 1) * cfg.translate_px * 2 / w
    ty = (torch.rand(b, generator=gen) * 2 - 1) * cfg.translate_px * 2 / h
    cos, sin = torch.cos(angle), torch.sin(angle)
    # theta maps output coordinates to input coordinates, so invert the scale.
    a = torch.stack(
        [
            torch.stack([cos / scale, (-sin + shear * cos) / scale, tx], dim=1),
            torch.stack([sin / scale, (cos + shear * sin) / scale, ty], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(a, list(x.shape), align_corners=False)
    if cfg.elastic_prob > 0:
        noise = torch.rand(b, 2, h, w, generator=gen) * 2 - 1
        disp = _smooth(noise, cfg.elastic_sigma) * cfg.elastic_alpha
        on = (torch.rand(b, 1, 1, 1, generator=gen) < cfg.elastic_prob).float()
        disp = disp * on
        disp = torch.stack([disp[:, 0] * 2 / w, disp[:, 1] * 2 / h], dim=-1)
        grid = grid + disp
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False).clamp_(0, 1)
