"""Depth supervision loss over packed samples: against its per-ray definition, and the
behaviour it exists for (floaters and missing surfaces cost, unknown depth is free)."""

import math

import torch

from nerfgen.render.depth_loss import depth_loss


def _per_ray(weights, t_starts, t_ends, counts, target):
    total, n_valid, start = weights.new_zeros(()), 0, 0
    for r, c in enumerate(counts.tolist()):
        w, mid = weights[start : start + c], 0.5 * (t_starts + t_ends)[start : start + c]
        start += c
        if target[r] <= 0:
            continue
        n_valid += 1
        total = total + (w * (mid - target[r]).abs()).sum() / target[r] + (1 - w.sum())
    return total / n_valid


def _packed(counts, g):
    ray_indices = torch.repeat_interleave(torch.arange(counts.numel()), counts)
    edges = [torch.sort(torch.rand(int(c) + 1, generator=g, dtype=torch.float64) * 20)[0] for c in counts]
    return ray_indices, torch.cat([e[:-1] for e in edges]), torch.cat([e[1:] for e in edges])


def test_matches_the_per_ray_definition_values_and_gradients():
    g = torch.Generator().manual_seed(0)
    counts = torch.tensor([5, 0, 8, 1, 3, 0])
    ray_indices, t_starts, t_ends = _packed(counts, g)
    weights = (torch.rand(int(counts.sum()), generator=g, dtype=torch.float64) * 0.3).requires_grad_()
    target = torch.tensor([7.0, 3.0, 12.0, 0.0, 15.0, -1.0], dtype=torch.float64)  # 0 and -1: unknown
    opacity = torch.zeros(counts.numel(), dtype=torch.float64).index_add(0, ray_indices, weights)
    ours = depth_loss(weights, t_starts, t_ends, ray_indices, opacity, target)
    reference = _per_ray(weights, t_starts, t_ends, counts, target)
    torch.testing.assert_close(ours, reference, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(torch.autograd.grad(ours, weights)[0], torch.autograd.grad(reference, weights)[0])


def test_a_floater_or_a_missing_surface_costs_and_the_true_surface_does_not():
    t = torch.linspace(0.0, 10.0, 11)
    ray_indices = torch.zeros(10, dtype=torch.int64)
    target = torch.tensor([7.5])  # inside the interval [7, 8]

    def loss(weights):
        return float(depth_loss(weights, t[:-1], t[1:], ray_indices, weights.sum()[None], target))

    surface = torch.zeros(10)
    surface[7] = 1.0
    floater = surface.clone()
    floater[2], floater[7] = 0.3, 0.7  # in front: same opacity, weight off the surface
    assert loss(surface) == 0.0
    assert loss(floater) > 0.15  # 0.3 * 5 m / 7.5 m = 0.2
    assert abs(loss(0.5 * surface) - 0.5) < 1e-6  # half transparent: the (1 - opacity) term


def test_no_valid_target_gives_zero():
    weights = torch.rand(4, requires_grad=True)
    z = torch.zeros(4)
    out = depth_loss(weights, z, z + 1, torch.zeros(4, dtype=torch.int64), weights.sum()[None], torch.zeros(1))
    assert out == 0


def test_surface_opacity_loss_has_a_gradient_where_the_field_is_empty():
    from nerfgen.render.depth_loss import surface_opacity_loss

    log_density = torch.tensor([-20.0, 0.0, 5.0], dtype=torch.float64, requires_grad=True)
    loss = surface_opacity_loss(log_density.exp(), 0.1)
    (grad,) = torch.autograd.grad(loss, log_density)
    # Per point: -log(1 - exp(-sigma * 0.1)) - log 2, ~ -log(sigma * 0.1) - log 2 when empty.
    empty = 20.0 + math.log(10.0) - math.log(2.0)
    faint = -math.log(-math.expm1(-0.1)) - math.log(2.0)
    assert abs(loss.item() - (empty + faint) / 3) < 1e-6
    assert abs(grad[0].item() + 1 / 3) < 1e-6  # -1 per unit log-density, / 3 points: no vanishing
    assert grad[2] == 0  # opaque enough: no pull
