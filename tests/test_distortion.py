"""Distortion loss over packed samples against the O(n^2) definition, values and gradients."""

import torch

from nerfgen.render.distortion import distortion_loss


def _brute_force(weights, t_starts, t_ends, offsets, scale):
    total = weights.new_zeros(())
    for r in range(offsets.numel() - 1):
        s = slice(int(offsets[r]), int(offsets[r + 1]))
        w, mid, length = weights[s], 0.5 * (t_starts[s] + t_ends[s]) / scale, (t_ends[s] - t_starts[s]) / scale
        total = (
            total
            + (w[:, None] * w[None, :] * (mid[:, None] - mid[None, :]).abs()).sum()
            + (w.square() * length).sum() / 3
        )
    return total / (offsets.numel() - 1)


def test_matches_the_definition_with_empty_rays_and_far_origins():
    g = torch.Generator().manual_seed(0)
    counts = torch.tensor([4, 0, 7, 1, 0, 3])
    offsets = torch.cat([torch.zeros(1, dtype=torch.int64), counts.cumsum(0)])
    edges = [1000.0 + torch.sort(torch.rand(int(c) + 1, generator=g, dtype=torch.float64) * 5)[0] for c in counts]
    t_starts = torch.cat([e[:-1] for e in edges])
    t_ends = torch.cat([e[1:] for e in edges])
    weights = torch.rand(int(counts.sum()), generator=g, dtype=torch.float64, requires_grad=True)
    ours = distortion_loss(weights, t_starts, t_ends, offsets, 3.0)
    reference = _brute_force(weights, t_starts, t_ends, offsets, 3.0)
    torch.testing.assert_close(ours, reference, rtol=1e-9, atol=1e-12)
    (g_ours,) = torch.autograd.grad(ours, weights)
    (g_ref,) = torch.autograd.grad(reference, weights)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-9, atol=1e-12)


def test_one_compact_surface_costs_less_than_haze():
    offsets = torch.tensor([0, 10])
    t = torch.linspace(0.0, 1.0, 11)
    haze = torch.full((10,), 0.1)
    surface = torch.zeros(10)
    surface[4] = 1.0
    assert distortion_loss(surface, t[:-1], t[1:], offsets, 1.0) < 0.2 * distortion_loss(
        haze, t[:-1], t[1:], offsets, 1.0
    )


def test_no_samples_gives_zero():
    empty = torch.empty(0)
    assert distortion_loss(empty, empty, empty, torch.zeros(3, dtype=torch.int64), 1.0) == 0
