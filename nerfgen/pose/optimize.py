"""The optimisation shared by camera and object localisation: Adam on H twists at once.

The caller supplies `render(twists [H,6], uv [N,2]) -> rgb [H,N,3]`, which turns each
twist into a pose (camera or object) and renders the N pixel positions (continuous
pixel coordinates, corner convention) under it, differentiably. This module decides
which pixels, against which target, in which order:

- coarse to fine: stage s compares the image blurred by a Gaussian of sigma_s with the
  average of `rays_per_pixel` renders jittered by the same Gaussian (an unbiased
  estimate of the blurred render); blur widens the basin of convergence, later stages
  halve sigma, the last is sharp;
- interest regions: most rays go to pixels with strong gradients in the stage's target;
- every hypothesis sees the same pixels, so their losses are comparable; the final
  loss of each is measured on a fixed pixel grid of the sharp image.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from nerfgen.pose.config import LocalizeConfig
from nerfgen.pose.sampling import gaussian_blur, grid_pixels, interest_region, sample_pixels

RenderFn = Callable[[Tensor, Tensor], Tensor]  # (twists [H,6], uv [N,2]) -> rgb [H,N,3]


@dataclass
class TwistFit:
    twists: Tensor  # [H,6] optimised twists (detached)
    curves: Tensor  # [iterations, H] stage loss of every hypothesis per step
    final_losses: Tensor  # [H] MSE on the sharp image over a fixed pixel grid
    best: int  # hypothesis with the lowest final loss


def pixel_centres_of(index: Tensor, width: int) -> Tensor:  # [N] flat indices -> [N,2] (u, v)
    return torch.stack([index % width, index // width], -1).float() + 0.5


def stage_sigmas(config: LocalizeConfig, width: int) -> list[float]:
    """Blur sigma (pixels) per stage: coarse_blur * width halved each stage, the last 0."""
    return [config.coarse_blur * width / 2**s for s in range(config.stages - 1)] + [0.0]


def fit_twists(
    render: RenderFn,
    image: Tensor,  # [H_img,W_img,3] target in [0,1]
    init_twists: Tensor,  # [H,6]
    config: LocalizeConfig,
    generator: torch.Generator,
) -> TwistFit:
    height, width = image.shape[:2]
    n_hyp = init_twists.shape[0]
    twists = init_twists.detach().float().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([twists], lr=config.lr)
    curves = torch.zeros(config.iterations, n_hyp)
    sigmas = stage_sigmas(config, width)
    stage = -1
    for step in range(config.iterations):
        if step * len(sigmas) // config.iterations != stage:
            stage = step * len(sigmas) // config.iterations
            sigma = sigmas[stage]
            target = gaussian_blur(image, sigma).reshape(-1, 3)
            region = interest_region(target.view(height, width, 3), config.interest_quantile, config.interest_dilation)
            per_pixel = config.rays_per_pixel if sigma > 0 else 1
        index = sample_pixels(region, max(1, config.rays_per_step // per_pixel), config.interest_fraction, generator)
        centres = pixel_centres_of(index, width)  # [n,2]
        uv = centres[:, None, :].expand(-1, per_pixel, 2)
        if sigma > 0:
            uv = uv + sigma * torch.randn(uv.shape, generator=generator)
            uv = torch.minimum(uv.clamp_min(0.0), torch.tensor([float(width), float(height)]))
        rgb = render(twists, uv.reshape(-1, 2)).view(n_hyp, len(index), per_pixel, 3).mean(2)
        losses = ((rgb - target[index]) ** 2).mean((1, 2))  # [H]
        for group in optimizer.param_groups:
            group["lr"] = config.lr * config.lr_final_factor ** (step / max(config.iterations - 1, 1))
        optimizer.zero_grad(set_to_none=True)
        # Hypotheses are independent, so the sum's gradient is each one's own.
        losses.sum().backward()
        optimizer.step()
        curves[step] = losses.detach()
    with torch.no_grad():
        index = grid_pixels(height, width, config.eval_rays)
        rgb = render(twists, pixel_centres_of(index, width))
        final = ((rgb - image.reshape(-1, 3)[index]) ** 2).mean((1, 2))
    return TwistFit(twists.detach(), curves, final, int(final.argmin()))
