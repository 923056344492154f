"""Multi-level occupancy grid (Instant-NGP / nerfacc OccGridEstimator semantics).

Level l covers the level-0 box `aabb` scaled by 2**l about its centre, with
resolution^3 cells each, stored x-major: cell (x, y, z) of level l is
`binaries[l, x, y, z]` and `occs[l, (x * R + y) * R + z]`. Marching through it is
nerfgen.ops.march.march (or OccupancyGrid.march).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from nerfgen.ops.march import march
from nerfgen.ops.packed import PackedSamples

DensityFn = Callable[[Tensor], Tensor]  # points [N, 3] -> [N] or [N, 1]


class OccupancyGrid(torch.nn.Module):
    def __init__(self, aabb: Tensor | list[float], resolution: int = 128, levels: int = 1):
        super().__init__()
        aabb = torch.as_tensor(aabb, dtype=torch.float32).reshape(6)
        if not bool((aabb[3:] > aabb[:3]).all()):
            raise ValueError(
                f"OccupancyGrid: aabb must be [xmin, ymin, zmin, xmax, ymax, zmax] with min < max, got {aabb.tolist()}"
            )
        if resolution < 1 or levels < 1:
            raise ValueError(f"OccupancyGrid: need resolution >= 1 and levels >= 1, got {resolution}, {levels}")
        self.resolution = int(resolution)
        self.levels = int(levels)
        self.register_buffer("aabb", aabb)  # [6] level-0 box
        self.register_buffer("occs", torch.zeros(levels, resolution**3))  # [levels, R^3] EMA of density
        self.register_buffer("binaries", torch.zeros(levels, resolution, resolution, resolution, dtype=torch.bool))

    @property
    def cells_per_level(self) -> int:
        return self.resolution**3

    def level_aabbs(self) -> Tensor:  # [levels, 6]
        center = (self.aabb[:3] + self.aabb[3:]) * 0.5
        half = (self.aabb[3:] - self.aabb[:3]) * 0.5
        scale = 2.0 ** torch.arange(self.levels, device=self.aabb.device, dtype=torch.float32)[:, None]
        return torch.cat([center - half * scale, center + half * scale], dim=1)

    def cell_points(self, level: int, cell_ids: Tensor, offset: Tensor) -> Tensor:
        """World points in cells `cell_ids` [N] of `level`, at `offset` [N, 3] in [0, 1) within each cell."""
        r = self.resolution
        coords = torch.stack([cell_ids // (r * r), (cell_ids // r) % r, cell_ids % r], dim=1).float()
        box = self.level_aabbs()[level]
        return box[:3] + (coords + offset) / r * (box[3:] - box[:3])

    @torch.no_grad()
    def update(
        self,
        step: int,
        density_fn: DensityFn,  # points [N, 3] -> what is thresholded, e.g. density * step_size as in nerfacc
        occ_thre: float = 0.01,
        ema_decay: float = 0.95,
        warmup_steps: int = 256,
        n: int = 16,
        chunk: int = 1 << 20,
        generator: torch.Generator | None = None,
    ) -> None:
        """Refreshes occs and binaries every n steps (Instant-NGP's rule).

        During warm-up every cell is evaluated, afterwards a uniform random quarter of the
        cells plus every currently occupied cell, each at one jittered point. Evaluated
        cells become max(occs * ema_decay, new); a cell is occupied when its value exceeds
        min(mean(occs), occ_thre). Deterministic given the state of `generator` (the
        global RNG when None).
        """
        if step % n != 0:
            return
        n_cells = self.cells_per_level
        device = self.occs.device
        for level in range(self.levels):
            if step < warmup_steps:
                cell_ids = torch.arange(n_cells, device=device)
            else:
                uniform = torch.randint(n_cells, (n_cells // 4,), device=device, generator=generator)
                occupied = self.binaries[level].reshape(-1).nonzero()[:, 0]
                # unique: a cell drawn twice must not be written twice (racy scatter)
                cell_ids = torch.unique(torch.cat([uniform, occupied]))
            points = self.cell_points(
                level, cell_ids, torch.rand(cell_ids.shape[0], 3, device=device, generator=generator)
            )
            new = torch.cat([density_fn(p).reshape(-1) for p in points.split(chunk)]).float()
            self.occs[level, cell_ids] = torch.maximum(self.occs[level, cell_ids] * ema_decay, new)
        threshold = torch.clamp(self.occs.mean(), max=occ_thre)
        self.binaries.copy_((self.occs > threshold).view_as(self.binaries))

    @torch.no_grad()
    def cells_containing(self, points: Tensor) -> Tensor:  # points [N,3] -> [levels, R, R, R] bool
        """The cells that contain at least one of `points`, on the finest level containing each."""
        r = self.resolution
        found = torch.zeros_like(self.binaries)
        remaining = points
        for level, box in enumerate(self.level_aabbs()):
            inside = ((remaining >= box[:3]) & (remaining < box[3:])).all(-1)
            coords = ((remaining[inside] - box[:3]) / (box[3:] - box[:3]) * r).long().clamp_(0, r - 1)
            found[level].view(-1)[(coords[:, 0] * r + coords[:, 1]) * r + coords[:, 2]] = True
            remaining = remaining[~inside]
        return found

    @torch.no_grad()
    def mark_from_density(self, density_fn: DensityFn, threshold: float = 0.01) -> None:
        """Sets occs to density_fn at every cell centre and binaries to occs > threshold.

        For known geometry (tests, analytic scenes): no EMA, no randomness.
        """
        cell_ids = torch.arange(self.cells_per_level, device=self.occs.device)
        centre = torch.full((cell_ids.shape[0], 3), 0.5, device=self.occs.device)
        for level in range(self.levels):
            self.occs[level] = density_fn(self.cell_points(level, cell_ids, centre)).reshape(-1).float()
        self.binaries.copy_((self.occs > threshold).view_as(self.binaries))

    def march(self, rays_o: Tensor, rays_d: Tensor, step_size: float, **kwargs) -> PackedSamples:
        """nerfgen.ops.march.march through this grid; kwargs as there (cone_angle, near_plane, ...)."""
        return march(rays_o, rays_d, self.binaries, self.aabb, step_size, **kwargs)
