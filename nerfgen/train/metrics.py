"""Image and geometry metrics for evaluation: PSNR, SSIM, depth AbsRel, normal angle error."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def psnr(pred: Tensor, target: Tensor) -> float:  # any matching shapes, values in [0,1]
    mse = torch.mean((pred - target) ** 2).item()
    return float("inf") if mse == 0 else -10.0 * math.log10(mse)


def ssim(pred: Tensor, target: Tensor) -> float:  # [H,W,C] each, values in [0,1]
    """Mean SSIM (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, valid region only,
    K1 = 0.01, K2 = 0.03 (what NeRF papers and nerfstudio report)."""
    size, sigma = 11, 1.5
    coords = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = (g / g.sum()).to(pred.dtype)
    channels = pred.shape[-1]
    window = (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()

    def blur(x: Tensor) -> Tensor:
        return F.conv2d(x, window, groups=channels)

    x = pred.permute(2, 0, 1)[None]
    y = target.permute(2, 0, 1)[None]
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return ssim_map.mean().item()


def depth_abs_rel(pred: Tensor, target: Tensor, valid: Tensor) -> float:  # [...] each, valid bool
    """Mean |pred - target| / target over valid pixels (same depth kind on both sides)."""
    return ((pred[valid] - target[valid]).abs() / target[valid]).mean().item()


def normal_angle_deg(pred: Tensor, target: Tensor, valid: Tensor) -> Tensor:  # [...,3] each -> [n_valid]
    """Angle in degrees between unit normals at valid pixels."""
    cos = F.cosine_similarity(pred[valid], target[valid], dim=-1).clamp(-1.0, 1.0)
    return torch.rad2deg(torch.acos(cos))
