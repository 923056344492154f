"""SE(3) exponential and logarithm, and the distance between two poses.

A twist xi = (rho, omega) [...,6] (Sophus order: translation part first) maps to the
rigid transform exp(xi) = [[R, V rho], [0, 1]] with R = exp(omega^) (Rodrigues) and
V = I + B K + C K^2, K = omega^, theta = |omega|, B = (1 - cos theta) / theta^2,
C = (theta - sin theta) / theta^3. Near theta = 0 the coefficients switch to their
Taylor series, so values and gradients are finite at the identity, where optimisation
starts. Rotation logarithms come from roma (robust up to pi).
"""

from __future__ import annotations

import math

import roma
import torch
from torch import Tensor

_SMALL = 1e-2  # below this angle (rad) the Taylor series are exact to float64 rounding


def hat(omega: Tensor) -> Tensor:  # [...,3] -> [...,3,3] skew-symmetric, hat(a) @ b = a x b
    zero = torch.zeros_like(omega[..., 0])
    x, y, z = omega.unbind(-1)
    return torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(*omega.shape[:-1], 3, 3)


def _coefficients(theta2: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """A = sin t / t, B = (1 - cos t) / t^2, C = (t - sin t) / t^3 of t^2 [...]."""
    small = theta2 < _SMALL**2
    # The exact branch sees a harmless angle where the series is used, so neither
    # branch produces inf/NaN gradients that torch.where would still propagate.
    t2 = torch.where(small, torch.ones_like(theta2), theta2)
    t = t2.sqrt()
    a = torch.where(small, 1 - theta2 / 6 + theta2**2 / 120, torch.sin(t) / t)
    b = torch.where(small, 0.5 - theta2 / 24 + theta2**2 / 720, (1 - torch.cos(t)) / t2)
    c = torch.where(small, 1 / 6 - theta2 / 120 + theta2**2 / 5040, (t - torch.sin(t)) / (t2 * t))
    return a, b, c


def se3_exp(xi: Tensor) -> Tensor:  # [...,6] (rho, omega) -> [...,4,4]
    rho, omega = xi[..., :3], xi[..., 3:]
    a, b, c = (v[..., None, None] for v in _coefficients((omega * omega).sum(-1)))
    k = hat(omega)
    k2 = k @ k
    eye = torch.eye(3, dtype=xi.dtype, device=xi.device)
    rotation = eye + a * k + b * k2
    v = eye + b * k + c * k2
    top = torch.cat([rotation, (v @ rho[..., None])], -1)  # [...,3,4]
    bottom = torch.zeros_like(top[..., :1, :])
    bottom[..., 0, 3] = 1.0
    return torch.cat([top, bottom], -2)


def se3_log(pose: Tensor) -> Tensor:  # [...,4,4] rigid -> [...,6] (rho, omega), |omega| <= pi
    omega = roma.rotmat_to_rotvec(pose[..., :3, :3])
    theta2 = (omega * omega).sum(-1)
    a, b, _ = _coefficients(theta2)
    small = theta2 < _SMALL**2
    # V^-1 = I - K/2 + D K^2 with D = (1 - A / (2B)) / t^2.
    t2 = torch.where(small, torch.ones_like(theta2), theta2)
    d = torch.where(small, 1 / 12 + theta2 / 720 + theta2**2 / 30240, (1 - a / (2 * b)) / t2)
    k = hat(omega)
    eye = torch.eye(3, dtype=pose.dtype, device=pose.device)
    v_inv = eye - 0.5 * k + d[..., None, None] * (k @ k)
    rho = (v_inv @ pose[..., :3, 3:])[..., 0]
    return torch.cat([rho, omega], -1)


def rotation_error_deg(a: Tensor, b: Tensor) -> Tensor:  # [...,4,4] (or [...,3,3]) each -> [...]
    """Angle of the rotation taking a's orientation to b's, in degrees."""
    return torch.rad2deg(roma.rotmat_geodesic_distance(a[..., :3, :3].double(), b[..., :3, :3].double()))


def translation_error(a: Tensor, b: Tensor) -> Tensor:  # [...,4,4] each -> [...] metres
    """Distance between the two poses' origins (camera centres for camera-to-world poses)."""
    return (a[..., :3, 3].double() - b[..., :3, 3].double()).norm(dim=-1)


def random_twists(
    n: int, max_rotation_deg: float, max_translation: float, generator: torch.Generator
) -> Tensor:  # -> [n,6] float64
    """Twists with a uniformly random axis/direction, angle uniform in [0, max_rotation_deg]
    and translation length uniform in [0, max_translation]; rotation and translation are
    drawn independently (so exp(xi) moves the origin by V rho, close to rho at these angles)."""
    axes = torch.nn.functional.normalize(torch.randn(n, 3, generator=generator, dtype=torch.float64), dim=-1)
    dirs = torch.nn.functional.normalize(torch.randn(n, 3, generator=generator, dtype=torch.float64), dim=-1)
    angles = torch.rand(n, 1, generator=generator, dtype=torch.float64) * math.radians(max_rotation_deg)
    lengths = torch.rand(n, 1, generator=generator, dtype=torch.float64) * max_translation
    return torch.cat([dirs * lengths, axes * angles], -1)
