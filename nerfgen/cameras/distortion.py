"""Lens distortion on normalised image coordinates (x/z, y/z), OpenCV conventions.

Models and coefficient order (`coeffs` [N,K]):
- "none":    K = 0.
- "opencv":  K = 5, (k1, k2, p1, p2, k3):
             r2 = x^2 + y^2, radial = 1 + k1 r2 + k2 r2^2 + k3 r2^3,
             xd = x radial + 2 p1 x y + p2 (r2 + 2 x^2),
             yd = y radial + p1 (r2 + 2 y^2) + 2 p2 x y.
- "fisheye": K = 4, (k1, k2, k3, k4), OpenCV's equidistant fisheye (cv::fisheye):
             theta = atan(r), theta_d = theta (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8),
             (xd, yd) = (theta_d / r) (x, y).

`undistort` inverts `distort` with Newton's method in float64 (residual < 1e-9 on
realistic coefficients); results come back in the input dtype.
"""

from __future__ import annotations

import torch
from torch import Tensor

from nerfgen.errors import NerfgenError

_NEWTON_ITERS = 20


def distort(xy: Tensor, model: str, coeffs: Tensor) -> Tensor:
    """Applies distortion: xy [N,2] normalised -> [N,2] distorted normalised."""
    if model == "none":
        return xy
    out = _distort64(xy.double(), model, coeffs.double())
    return out.to(xy.dtype)


def undistort(xy_distorted: Tensor, model: str, coeffs: Tensor) -> Tensor:
    """Inverts `distort`: xy_distorted [N,2] -> [N,2] undistorted normalised."""
    if model == "none":
        return xy_distorted
    xd = xy_distorted.double()
    c = coeffs.double()
    if model == "fisheye":
        out = _undistort_fisheye(xd, c)
    elif model == "opencv":
        out = _undistort_opencv(xd, c)
    else:
        raise NerfgenError(None, f"unknown distortion model {model!r}")
    return out.to(xy_distorted.dtype)


def _distort64(xy: Tensor, model: str, c: Tensor) -> Tensor:
    if model == "opencv":
        return _distort_opencv(xy, c)
    if model == "fisheye":
        theta = torch.atan(xy.norm(dim=-1))
        return xy * _fisheye_scale(theta, c)[:, None]
    raise NerfgenError(None, f"unknown distortion model {model!r}")


def _split(xy: Tensor) -> tuple[Tensor, Tensor]:
    """Contiguous x and y: elementwise ops on strided columns are ~100x slower multithreaded."""
    return xy[..., 0].contiguous(), xy[..., 1].contiguous()


def _distort_opencv_xy(x: Tensor, y: Tensor, c: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(xd, yd, r2, radial) of the OpenCV model."""
    k1, k2, p1, p2, k3 = c.unbind(-1)
    r2 = x * x + y * y
    radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return xd, yd, r2, radial


def _distort_opencv(xy: Tensor, c: Tensor) -> Tensor:
    xd, yd, _, _ = _distort_opencv_xy(*_split(xy), c)
    return torch.stack([xd, yd], -1)


def _undistort_opencv(xy_d: Tensor, c: Tensor) -> Tensor:
    """Newton on distort(xy) = xy_d with the analytic 2x2 Jacobian, solved in closed form."""
    k1, k2, p1, p2, k3 = c.unbind(-1)
    xd, yd = _split(xy_d)
    x, y = xd.clone(), yd.clone()
    for _ in range(_NEWTON_ITERS):
        fx, fy, r2, radial = _distort_opencv_xy(x, y, c)
        dradial = k1 + r2 * (2 * k2 + 3 * k3 * r2)  # d radial / d r2
        a = radial + 2 * x * x * dradial + 2 * p1 * y + 6 * p2 * x  # d xd / d x
        b = 2 * x * y * dradial + 2 * p1 * x + 2 * p2 * y  # d xd / d y = d yd / d x
        d = radial + 2 * y * y * dradial + 6 * p1 * y + 2 * p2 * x  # d yd / d y
        ex, ey = fx - xd, fy - yd
        det = a * d - b * b
        step_x, step_y = (d * ex - b * ey) / det, (a * ey - b * ex) / det
        x, y = x - step_x, y - step_y
        if max(step_x.abs().max(), step_y.abs().max()) < 1e-15:
            break
    return torch.stack([x, y], -1)


def _fisheye_poly(theta: Tensor, c: Tensor) -> Tensor:
    t2 = theta * theta
    k1, k2, k3, k4 = c.unbind(-1)
    return theta * (1 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4))))


def _fisheye_scale(theta: Tensor, c: Tensor) -> Tensor:
    """theta_d / r, with its limit 1 on the optical axis."""
    r = torch.tan(theta)
    safe = r > 1e-12
    return torch.where(safe, _fisheye_poly(theta, c) / torch.where(safe, r, 1.0), 1.0)


def fisheye_directions(xd: Tensor, coeffs: Tensor) -> Tensor:
    """Distorted normalised fisheye coordinates [N,2] -> unit camera-frame directions [N,3].

    Works from the off-axis angle theta directly, so pixels more than 90 degrees off
    axis (lenses wider than 180 degrees) get correct rays, which the z = 1 plane of
    `undistort` cannot represent.
    """
    xd, c = xd.double(), coeffs.double()
    theta_d = xd.norm(dim=-1)
    theta = _fisheye_theta(theta_d, c)
    azimuth = xd / torch.where(theta_d > 1e-12, theta_d, 1.0)[:, None]
    return torch.cat([azimuth * torch.sin(theta)[:, None], torch.cos(theta)[:, None]], -1)


def fisheye_project(p_cam: Tensor, coeffs: Tensor) -> Tensor:
    """Camera-frame points [N,3] -> distorted normalised fisheye coordinates [N,2], valid
    for any off-axis angle below 180 degrees (points behind the image plane included)."""
    p, c = p_cam.double(), coeffs.double()
    r = p[:, :2].norm(dim=-1)
    theta = torch.atan2(r, p[:, 2])
    return p[:, :2] * (_fisheye_poly(theta, c) / torch.where(r > 1e-300, r, 1.0))[:, None]


def _fisheye_theta(theta_d: Tensor, c: Tensor) -> Tensor:
    """Inverts theta_d = poly(theta) with Newton's method."""
    k1, k2, k3, k4 = c.unbind(-1)
    theta = theta_d.clone()
    for _ in range(_NEWTON_ITERS):
        t2 = theta * theta
        f = _fisheye_poly(theta, c) - theta_d
        df = 1 + t2 * (3 * k1 + t2 * (5 * k2 + t2 * (7 * k3 + t2 * 9 * k4)))
        step = f / df
        theta = theta - step
        if step.abs().max() < 1e-15:
            break
    return theta


def _undistort_fisheye(xd: Tensor, c: Tensor) -> Tensor:
    theta_d = xd.norm(dim=-1)
    return xd / _fisheye_scale(_fisheye_theta(theta_d, c), c)[:, None]
