"""The `Cameras` batch: intrinsics, distortion and OpenCV camera-to-world poses.

Pixel convention (COLMAP/nerfstudio): continuous image coordinates with the top-left
image *corner* at (0, 0), x to the right, y down. Pixel (col i, row j) covers
[i, i+1) x [j, j+1) and has its centre at (i + 0.5, j + 0.5); a centred camera has
cx = W / 2, cy = H / 2.

Camera axes are OpenCV (x right, y down, z forward); `c2w` maps camera to world.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path

import torch
from torch import Tensor

from nerfgen.errors import NerfgenError

# distortion model -> number of coefficients and their order.
DISTORTION_COEFFS: dict[str, tuple[str, ...]] = {
    "none": (),
    "opencv": ("k1", "k2", "p1", "p2", "k3"),  # OpenCV radial-tangential order
    "fisheye": ("k1", "k2", "k3", "k4"),  # OpenCV fisheye (equidistant)
}
# Largest |coefficient| a dataset may give: real lenses stay well below 1 (fisheyes near
# 1); far beyond it the undistortion iterations diverge.
MAX_DISTORTION = 10.0


@dataclass
class Cameras:
    """A batch of C cameras sharing one distortion model.

    Build with `Cameras.create(...)`, which validates and broadcasts; the plain
    constructor trusts its inputs.
    """

    c2w: Tensor  # [C,4,4] float32, OpenCV axes, camera-to-world
    fx: Tensor  # [C] float32, pixels
    fy: Tensor  # [C] float32, pixels
    cx: Tensor  # [C] float32, pixels (top-left corner convention)
    cy: Tensor  # [C] float32, pixels
    width: Tensor  # [C] int64
    height: Tensor  # [C] int64
    distortion: str = "none"  # "none" | "opencv" | "fisheye"
    dist_coeffs: Tensor | None = None  # [C,K], K = 0 / 5 / 4 for the models above

    def __post_init__(self) -> None:
        if self.dist_coeffs is None:
            k = len(DISTORTION_COEFFS.get(self.distortion, ()))
            self.dist_coeffs = torch.zeros(len(self.fx), k, dtype=torch.float32, device=self.fx.device)

    @classmethod
    def create(
        cls,
        c2w,  # [C,4,4] or [4,4]
        fx,  # scalar or [C]
        fy,
        cx,
        cy,
        width,
        height,
        distortion: str = "none",
        dist_coeffs=None,  # None (zeros), [K] or [C,K]
        path: str | Path | None = None,
    ) -> Cameras:
        """Validating constructor: accepts floats/arrays/tensors and broadcasts to C.

        Raises NerfgenError(path, problem) for an unknown distortion model, a wrong
        coefficient count, non-positive or non-finite focal lengths, or non-positive
        image sizes.
        """
        if distortion not in DISTORTION_COEFFS:
            raise NerfgenError(
                path, f"unknown distortion model {distortion!r} (expected one of {sorted(DISTORTION_COEFFS)})"
            )
        c2w = torch.as_tensor(c2w, dtype=torch.float32)
        if c2w.shape[-2:] != (4, 4) or c2w.dim() not in (2, 3):
            raise NerfgenError(path, f"poses must have shape [C,4,4], got {list(c2w.shape)}")
        c2w = c2w.reshape(-1, 4, 4).clone()
        n = c2w.shape[0]
        device = c2w.device

        def per_camera(name: str, value, dtype) -> Tensor:
            t = torch.as_tensor(value, dtype=dtype, device=device).reshape(-1)
            if t.numel() not in (1, n):
                raise NerfgenError(path, f"{name} has {t.numel()} values for {n} cameras")
            return t.expand(n).clone()

        intr = {k: per_camera(k, v, torch.float32) for k, v in dict(fx=fx, fy=fy, cx=cx, cy=cy).items()}
        size = {k: per_camera(k, v, torch.int64) for k, v in dict(width=width, height=height).items()}
        for name, t in intr.items():
            if not torch.isfinite(t).all():
                raise NerfgenError(path, f"{name} is not finite")
        for name in ("fx", "fy"):
            if (intr[name] <= 0).any():
                raise NerfgenError(path, f"focal length {name} must be positive, got {intr[name].min().item():g}")
        for name, t in size.items():
            if (t <= 0).any():
                raise NerfgenError(path, f"image {name} must be positive, got {t.min().item()}")

        k = len(DISTORTION_COEFFS[distortion])
        if dist_coeffs is None:
            coeffs = torch.zeros(n, k, dtype=torch.float32, device=device)
        else:
            coeffs = torch.as_tensor(dist_coeffs, dtype=torch.float32, device=device)
            if coeffs.dim() == 1:
                coeffs = coeffs.expand(n, -1)
            if coeffs.dim() != 2 or coeffs.shape[1] != k or coeffs.shape[0] not in (1, n):
                raise NerfgenError(
                    path,
                    f"distortion {distortion!r} takes {k} coefficients "
                    f"{DISTORTION_COEFFS[distortion]}, got shape {list(coeffs.shape)}",
                )
            coeffs = coeffs.expand(n, k).clone()
            if not torch.isfinite(coeffs).all():
                raise NerfgenError(path, "distortion coefficients are not finite")
        return cls(c2w=c2w, **intr, **size, distortion=distortion, dist_coeffs=coeffs)

    def __len__(self) -> int:
        return self.c2w.shape[0]

    def __getitem__(self, idx: int | slice | Tensor) -> Cameras:
        """Selects cameras; an int keeps the batch dimension (C = 1)."""
        if isinstance(idx, int):
            idx = torch.tensor([idx])  # raises IndexError when out of range, unlike a slice
        return self._map(lambda t: t[idx])

    def K(self) -> Tensor:
        """Intrinsic matrices [C,3,3] (pixel-corner convention, see module docstring)."""
        K = torch.zeros(len(self), 3, 3, dtype=self.fx.dtype, device=self.fx.device)
        K[:, 0, 0], K[:, 1, 1] = self.fx, self.fy
        K[:, 0, 2], K[:, 1, 2] = self.cx, self.cy
        K[:, 2, 2] = 1.0
        return K

    def rescaled(self, factor: float) -> Cameras:
        """Cameras for images downsampled by `factor` (factor 2 halves the resolution).

        With the corner-origin convention a continuous image point u maps to u / factor,
        so fx, fy, cx, cy all divide by `factor` (no half-pixel shift). The new size is
        floor(W / factor) x floor(H / factor): an image whose size is not a multiple is
        cropped at the right/bottom before box averaging (see nerfgen.data).
        """
        if not factor > 0:
            raise NerfgenError(None, f"rescale factor must be positive, got {factor}")
        out = self._map(lambda t: t)
        for name in ("fx", "fy", "cx", "cy"):
            setattr(out, name, getattr(self, name) / factor)
        out.width = torch.floor(self.width.double() / factor + 1e-9).long()
        out.height = torch.floor(self.height.double() / factor + 1e-9).long()
        return out

    def to(self, device: torch.device | str) -> Cameras:
        return self._map(lambda t: t.to(device))

    def _map(self, fn) -> Cameras:
        values = {
            f.name: fn(getattr(self, f.name)) if isinstance(getattr(self, f.name), Tensor) else getattr(self, f.name)
            for f in fields(self)
        }
        return Cameras(**values)


def focal_from_fov(fov: float, size: float) -> float:
    """Focal length in pixels of a full field of view `fov` (radians) across `size` pixels."""
    return 0.5 * size / math.tan(0.5 * fov)
