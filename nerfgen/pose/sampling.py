"""Which pixels to render while localising: iNeRF's interest regions, blur pyramids.

Photometric gradients w.r.t. the pose come only from pixels whose colour changes when
the image moves, i.e. edges and texture; uniform sampling wastes most rays on flat
areas (iNeRF, Sec. 4.3). The interest region here is the set of pixels with a strong
image gradient, dilated so that the true match of a misaligned edge is still sampled.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def gaussian_blur(image: Tensor, sigma: float) -> Tensor:  # [H,W,C] -> [H,W,C]
    """Separable Gaussian blur (sigma in pixels, kernel +-3 sigma, borders replicated)."""
    if sigma <= 0:
        return image
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=image.dtype)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = image.shape[-1]
    out = image.permute(2, 0, 1)[None]  # [1,C,H,W]
    out = F.pad(out, (radius, radius, radius, radius), mode="replicate")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    out = F.conv2d(out, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return out[0].permute(1, 2, 0).contiguous()


def gradient_magnitude(image: Tensor) -> Tensor:  # [H,W,3] -> [H,W]
    """Sobel gradient magnitude of the mean of the colour channels."""
    grey = image.mean(-1)[None, None]
    sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=image.dtype)
    padded = F.pad(grey, (1, 1, 1, 1), mode="replicate")
    gx = F.conv2d(padded, sobel.view(1, 1, 3, 3))
    gy = F.conv2d(padded, sobel.T.reshape(1, 1, 3, 3))
    return (gx * gx + gy * gy).sqrt()[0, 0]


def interest_region(image: Tensor, quantile: float, dilation: int) -> Tensor:  # [H,W,3] -> [H,W] bool
    """Pixels whose gradient magnitude exceeds its `quantile`, grown by `dilation` pixels."""
    magnitude = gradient_magnitude(image)
    seeds = magnitude > torch.quantile(magnitude.reshape(-1), quantile)
    if dilation > 0:
        k = 2 * dilation + 1
        seeds = F.max_pool2d(seeds[None, None].float(), k, stride=1, padding=dilation)[0, 0] > 0
    return seeds


def sample_pixels(
    region: Tensor,  # [H,W] bool
    n: int,
    interest_fraction: float,
    generator: torch.Generator,
) -> Tensor:  # -> [n] int64 flat pixel indices (row * W + col)
    """round(n * interest_fraction) pixels drawn from `region` (uniformly, with replacement)
    and the rest from the whole image; an empty region gives all-uniform pixels."""
    inside = region.reshape(-1).nonzero()[:, 0]
    n_inside = round(n * interest_fraction) if inside.numel() > 0 else 0
    picked = inside[torch.randint(inside.numel(), (n_inside,), generator=generator)] if n_inside else inside[:0]
    uniform = torch.randint(region.numel(), (n - n_inside,), generator=generator)
    return torch.cat([picked, uniform])


def grid_pixels(height: int, width: int, n: int) -> Tensor:  # -> [<=n] int64 flat pixel indices
    """About n pixels on a regular grid over the image (deterministic, for comparing losses)."""
    stride = max(1, math.floor(math.sqrt(height * width / n)))
    rows = torch.arange(stride // 2, height, stride)
    cols = torch.arange(stride // 2, width, stride)
    return (rows[:, None] * width + cols[None, :]).reshape(-1)
