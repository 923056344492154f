"""The volume renderer on an analytic field (a dense half-space below z = 0.2) with known
colour, depth and normals; and surface normals from per-pixel points."""

from __future__ import annotations

import torch

from nerfgen.fields.base import FieldOutput
from nerfgen.ops.occupancy_grid import OccupancyGrid
from nerfgen.render.volume import RenderConfig, render_rays

SURFACE_Z = 0.2
COLOUR = torch.tensor([0.2, 0.5, 0.9])


class HalfSpace(torch.nn.Module):
    """Density 0 above z = SURFACE_Z rising to 1000 within ~1 cm below it; constant colour."""

    aabb = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])

    def density(self, positions):
        return 1000.0 * torch.sigmoid((SURFACE_Z - positions[:, 2]) * 500.0)

    def forward(self, positions, directions, normals=False):
        normal = None
        if normals:
            with torch.enable_grad():
                x = positions.detach().requires_grad_(True)
                (grad,) = torch.autograd.grad(self.density(x).sum(), x)
            normal = -torch.nn.functional.normalize(grad, dim=-1)
        return FieldOutput(self.density(positions), COLOUR.expand(len(positions), 3), normal, None)


def _grid() -> OccupancyGrid:
    grid = OccupancyGrid(HalfSpace.aabb.reshape(6), resolution=16)
    grid.binaries.fill_(True)
    return grid


def test_render_recovers_colour_range_and_normals_of_a_half_space():
    n = 64
    origins = torch.cat([torch.rand(n, 2) - 0.5, torch.full((n, 1), 0.9)], -1)
    directions = torch.nn.functional.normalize(
        torch.cat([0.3 * (torch.rand(n, 2) - 0.5), -torch.ones(n, 1)], -1), dim=-1
    )
    config = RenderConfig(steps_per_diagonal=1024)  # 3.4 mm steps
    with torch.no_grad():
        out = render_rays(HalfSpace(), _grid(), origins, directions, torch.zeros(3), config, normals=True)
    expected_range = (0.9 - SURFACE_Z) / -directions[:, 2]
    torch.testing.assert_close(out.opacity, torch.ones(n), atol=1e-3, rtol=0)
    torch.testing.assert_close(out.rgb, COLOUR.expand(n, 3), atol=2e-3, rtol=0)
    torch.testing.assert_close(out.range, expected_range, atol=5e-3, rtol=0)
    torch.testing.assert_close(out.normals, torch.tensor([0.0, 0.0, 1.0]).expand(n, 3), atol=1e-3, rtol=0)
    # The density-only pass dropped the samples behind the surface: few reach the field.
    assert out.n_samples < 12 * n


def test_rays_missing_everything_show_the_background():
    grid = _grid()
    origins = torch.tensor([[0.0, 0.0, 0.9], [0.0, 0.0, 0.9]])
    directions = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # up and sideways: never below z = 0.2
    background = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    out = render_rays(HalfSpace(), grid, origins, directions, background, RenderConfig())
    torch.testing.assert_close(out.rgb, background)
    assert (out.opacity == 0).all()
