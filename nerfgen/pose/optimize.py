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
- every hypothesis sees the same pixels, so their losses are comparable: after each
  stage only the better ones go on (successive halving, `keep_fraction`), so H
  hypotheses cost far less than H runs; the final loss of each survivor is measured
  on a fixed pixel grid of the sharp image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from nerfgen.pose.config import LocalizeConfig
from nerfgen.pose.sampling import gaussian_blur, grid_pixels, interest_region, sample_pixels

RenderFn = Callable[[Tensor, Tensor], Tensor]  # (twists [H,6], uv [N,2]) -> rgb [H,N,3]


@dataclass
class TwistFit:
    twists: Tensor  # [H,6] optimised twists (detached); a pruned hypothesis's as it was when pruned
    curves: Tensor  # [iterations, H] stage loss of every hypothesis per step (NaN once pruned)
    final_losses: Tensor  # [H] MSE on the sharp image over a fixed pixel grid (NaN if pruned)
    best: int  # surviving hypothesis with the lowest final loss


@dataclass
class _Stage:
    sigma: float  # blur (pixels), 0 for the sharp stage
    target: Tensor  # [P,3] the image blurred by sigma, flattened
    region: Tensor  # [H_img,W_img] bool interest region of the blurred image
    rays_per_pixel: int
    steps: range


def pixel_centres_of(index: Tensor, width: int) -> Tensor:  # [N] flat indices -> [N,2] (u, v)
    return torch.stack([index % width, index // width], -1).float() + 0.5


def stage_sigmas(config: LocalizeConfig, width: int) -> list[float]:
    """Blur sigma (pixels) per stage: coarse_blur * width halved each stage, the last 0."""
    return [config.coarse_blur * width / 2**s for s in range(config.stages - 1)] + [0.0]


def _stages(image: Tensor, config: LocalizeConfig) -> list[_Stage]:
    """The iterations split evenly over the stages (step i belongs to stage i * S // iterations)."""
    height, width = image.shape[:2]
    sigmas = stage_sigmas(config, width)
    stages = []
    for s, sigma in enumerate(sigmas):
        first, end = (-(-k * config.iterations // len(sigmas)) for k in (s, s + 1))
        blurred = gaussian_blur(image, sigma)
        region = interest_region(blurred, config.interest_quantile, config.interest_dilation)
        per_pixel = config.rays_per_pixel if sigma > 0 else 1
        stages.append(_Stage(sigma, blurred.reshape(-1, 3), region, per_pixel, range(first, end)))
    return stages


def _stage_losses(
    render: RenderFn, twists: Tensor, stage: _Stage, config: LocalizeConfig, width: int, generator: torch.Generator
) -> Tensor:  # -> [H] MSE of each hypothesis on one shared sample of the stage's pixels
    height = stage.region.shape[0]
    index = sample_pixels(
        stage.region, max(1, config.rays_per_step // stage.rays_per_pixel), config.interest_fraction, generator
    )
    uv = pixel_centres_of(index, width)[:, None, :].expand(-1, stage.rays_per_pixel, 2)
    if stage.sigma > 0:
        uv = uv + stage.sigma * torch.randn(uv.shape, generator=generator)
        uv = torch.minimum(uv.clamp_min(0.0), torch.tensor([float(width), float(height)]))
    rgb = render(twists, uv.reshape(-1, 2)).view(len(twists), len(index), stage.rays_per_pixel, 3).mean(2)
    return ((rgb - stage.target[index]) ** 2).mean((1, 2))


def best_hypotheses(alive: Tensor, stage_curves: Tensor, keep_fraction: float) -> Tensor:
    """The best ceil(keep_fraction * len(alive)) of the `alive` hypotheses by their mean
    loss over the last quarter of the stage just finished (`stage_curves` [steps, H]);
    every step compared them on the same pixels."""
    tail = stage_curves[-max(1, len(stage_curves) // 4) :, alive].mean(0)
    n_keep = max(1, math.ceil(keep_fraction * len(alive)))
    return alive[tail.argsort()[:n_keep].sort().values]


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
    curves = torch.full((config.iterations, n_hyp), float("nan"))
    pruned_at = torch.zeros(n_hyp, 6)  # a pruned hypothesis's twist when it was dropped
    alive = torch.arange(n_hyp)
    stages = _stages(image, config)
    for s, stage in enumerate(stages):
        if s > 0:
            survivors = best_hypotheses(
                alive, curves[stages[s - 1].steps.start : stage.steps.start], config.keep_fraction
            )
            dropped = alive[~torch.isin(alive, survivors)]
            pruned_at[dropped] = twists.detach()[dropped]
            alive = survivors
        for step in stage.steps:
            # Only the alive rows are rendered; pruned rows get zero gradients (Adam's momentum
            # still moves them, so their poses are reported from pruned_at).
            losses = _stage_losses(render, twists[alive], stage, config, width, generator)
            for group in optimizer.param_groups:
                group["lr"] = config.lr * config.lr_final_factor ** (step / max(config.iterations - 1, 1))
            optimizer.zero_grad(set_to_none=True)
            # Hypotheses are independent, so the sum's gradient is each one's own.
            losses.sum().backward()
            optimizer.step()
            curves[step, alive] = losses.detach()
    final = torch.full((n_hyp,), float("nan"))
    with torch.no_grad():
        index = grid_pixels(height, width, config.eval_rays)
        rgb = render(twists[alive], pixel_centres_of(index, width))
        final[alive] = ((rgb - image.reshape(-1, 3)[index]) ** 2).mean((1, 2))
    result = pruned_at.clone()
    result[alive] = twists.detach()[alive]
    return TwistFit(result, curves, final, int(alive[final[alive].argmin()]))
