"""What the renderer needs from a radiance field, independent of how it is built.

A field lives inside an axis-aligned box (`aabb`, world metres) and answers two
questions: density at points (cheap; used by occupancy-grid updates and sample pruning)
and density + colour (+ normals) at points seen from directions (the full query).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from torch import Tensor


class FieldOutput(NamedTuple):
    density: Tensor  # [N] volume density sigma (1/metre), >= 0
    rgb: Tensor  # [N,3] in [0,1]
    normals: Tensor | None  # [N,3] unit, world frame: minus the normalised density gradient
    pred_normals: Tensor | None  # [N,3] unit, world frame: the predicted-normal head, if the field has one


class Field(Protocol):
    aabb: Tensor  # [2,3] (min corner, max corner), world metres

    def density(self, positions: Tensor) -> Tensor:  # [N,3] world -> [N]
        ...

    def __call__(self, positions: Tensor, directions: Tensor, normals: bool = False) -> FieldOutput:
        """positions [N,3] world, directions [N,3] unit; normals=True also returns normals."""
        ...
