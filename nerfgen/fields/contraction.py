"""Scene contraction: all of space folded into a bounded cube (mip-NeRF 360, nerfacto's L-inf form).

Positions are first normalised to the scene box, `u = (x - centre) / half_size`, so the box
is [-1, 1]^3; there `contract` is the identity, and beyond it a point at L-inf norm
r > 1 moves to norm 2 - 1/r along its own direction: everything out to infinity lands in
the shell 1 < |v|_inf < 2. A hash grid over [-2, 2]^3 then spends half its cells across
on the box and the other half on the rest, with resolution falling off as 1/r^2, as the
pixels that see a far point cover more of it.
"""

from __future__ import annotations

import torch
from torch import Tensor


def contract(u: Tensor) -> Tensor:  # [N,3] box-normalised -> [N,3] in (-2, 2)
    norm = u.abs().amax(-1, keepdim=True)
    outside = norm > 1.0
    # The clamp keeps the unused branch finite (and its gradient) inside the box.
    scale = torch.where(outside, (2.0 - 1.0 / norm.clamp_min(1.0)) / norm.clamp_min(1.0), 1.0)
    return u * scale


def uncontract(v: Tensor) -> Tensor:  # [N,3] in (-2, 2) -> [N,3] box-normalised
    """The inverse of `contract` on the open cube (-2, 2)^3."""
    norm = v.abs().amax(-1, keepdim=True)
    outside = norm > 1.0
    scale = torch.where(outside, 1.0 / ((2.0 - norm.clamp(1.0, 2.0 - 1e-7)) * norm.clamp_min(1.0)), 1.0)
    return v * scale
