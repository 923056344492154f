"""Fields placed in a world: what the composition renderer marches and queries."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from nerfgen.fields.base import Field
from nerfgen.ops.occupancy_grid import OccupancyGrid
from nerfgen.scene.spec import Hole


@dataclass
class SceneField:
    """A field in the world: x_world = to_world[:3, :3] @ (scale * x_field) + to_world[:3, 3].

    Marching, sampling and densities happen in the field's own frame, where its grid and
    hash encoding live; a world distance t is t / scale there, and densities are divided
    by `scale` so that optical depth (density x length) is the same in both frames.
    """

    field: Field
    grid: OccupancyGrid
    step_size: float
    """Marching step in field-frame metres (its training RenderConfig's)."""
    cone_angle: float
    to_world: Tensor  # [4,4] float32, rigid (rotation + translation)
    scale: float
    bounds: Tensor | None  # [2,3] field-frame box of its occupied cells, None when nothing is occupied
    instance_id: int  # 0: background (stuff)
    class_id: int  # 0: background (no semantics)
    holes: tuple[Hole, ...] = ()
    """World boxes whose samples are removed (a field's density is zero there)."""

    @property
    def world_to_field_rigid(self) -> Tensor:  # [4,4]
        return torch.linalg.inv(self.to_world.double()).float()

    def to_field(self, rays_o: Tensor, rays_d: Tensor) -> tuple[Tensor, Tensor]:
        """World rays -> field-frame origins (scaled) [n,3] and unit directions [n,3]."""
        w2f = self.world_to_field_rigid
        origins = (rays_o @ w2f[:3, :3].T + w2f[:3, 3]) / self.scale
        return origins, rays_d @ w2f[:3, :3].T


def occupied_bounds(grid: OccupancyGrid) -> Tensor | None:
    """[2,3] box around every occupied cell of every level, None if there is none.

    The tight box is what rays are intersected with before marching: rays that miss it
    cost nothing, and it is the box of a trained object when no ground truth names one.
    """
    boxes = grid.level_aabbs()  # [levels, 6]
    r = grid.resolution
    lo, hi = [], []
    for level in range(grid.levels):
        cells = grid.binaries[level].nonzero()  # [k,3] (x, y, z)
        if cells.numel() == 0:
            continue
        box = boxes[level]
        cell_size = (box[3:] - box[:3]) / r
        lo.append(box[:3] + cells.amin(0).float() * cell_size)
        hi.append(box[:3] + (cells.amax(0).float() + 1.0) * cell_size)
    if not lo:
        return None
    return torch.stack([torch.stack(lo).amin(0), torch.stack(hi).amax(0)])
