"""Real spherical-harmonics encoding of unit directions (the view-direction input of colour).

Degree d gives d^2 orthonormal basis functions over the unit sphere (tiny-cuda-nn's
SphericalHarmonics encoding: degree 4 -> 16 values). Signs follow nerfstudio; a learned
MLP reads them, so only orthonormality matters.
"""

from __future__ import annotations

import torch
from torch import Tensor

MAX_SH_DEGREE = 4


def sh_encode(directions: Tensor, degree: int) -> Tensor:  # [N,3] unit -> [N, degree**2]
    """Real SH basis Y_lm(d) for l < degree, orthonormal over the sphere."""
    if not 1 <= degree <= MAX_SH_DEGREE:
        raise ValueError(f"SH degree must be in 1..{MAX_SH_DEGREE}, got {degree}")
    x, y, z = directions.unbind(-1)
    out = [torch.full_like(x, 0.28209479177387814)]
    if degree > 1:
        out += [0.4886025119029199 * y, 0.4886025119029199 * z, 0.4886025119029199 * x]
    if degree > 2:
        xx, yy, zz = x * x, y * y, z * z
        out += [
            1.0925484305920792 * x * y,
            1.0925484305920792 * y * z,
            0.9461746957575601 * zz - 0.31539156525251999,
            1.0925484305920792 * x * z,
            0.5462742152960396 * (xx - yy),
        ]
    if degree > 3:
        out += [
            0.5900435899266435 * y * (3 * xx - yy),
            2.890611442640554 * x * y * z,
            0.4570457994644658 * y * (5 * zz - 1),
            0.3731763325901154 * z * (5 * zz - 3),
            0.4570457994644658 * x * (5 * zz - 1),
            1.445305721320277 * z * (xx - yy),
            0.5900435899266435 * x * (xx - 3 * yy),
        ]
    return torch.stack(out, -1)
