"""The ground under a background: heights from rays cast straight down, and a robust
plane through them (the road surface placement snaps objects to)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nerfgen.augment.probe import BackgroundProbe

_DOWN = np.array([0.0, 0.0, -1.0])
_MAD_TO_SIGMA = 1.4826  # median absolute deviation of a normal distribution -> its sigma


def ground_heights(probe: BackgroundProbe, xy: np.ndarray) -> np.ndarray:  # [N,2] -> [N] z, nan on a miss
    """Height of the first surface under each point, looking down from above the background."""
    top = probe.bounds()[1, 2] + 1.0
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    origins = np.concatenate([xy, np.full((len(xy), 1), top)], 1)
    distance = probe.first_hit(origins, np.broadcast_to(_DOWN, origins.shape).copy())
    return np.where(np.isfinite(distance), top - distance, np.nan)


@dataclass(frozen=True)
class GroundPlane:
    """z = slope[0] x + slope[1] y + offset, fitted to `inliers` of `samples` heights."""

    slope: tuple[float, float]
    offset: float
    inliers: int
    samples: int
    residual_sigma: float  # m, robust spread of the inliers' heights about the plane

    def height(self, xy: np.ndarray) -> np.ndarray:  # [N,2] -> [N]
        return np.asarray(xy, np.float64) @ np.asarray(self.slope) + self.offset


def fit_ground_plane(points: np.ndarray, band: float = 0.05, hypotheses: int = 256) -> GroundPlane | None:
    """Robust plane through height samples [N,3] (nan heights ignored): RANSAC over
    planes through 3 samples, keeping the one with the most samples within `band` of it,
    then least squares on those. The largest flat area wins even when it is under half
    of the samples. Its generator has a fixed seed: the same samples give the same plane.
    None when there are fewer than 3 samples.
    """
    points = points[np.isfinite(points[:, 2])]
    if len(points) < 3:
        return None
    design = np.concatenate([points[:, :2], np.ones((len(points), 1))], 1)  # [N,3] rows (x, y, 1)
    rng = np.random.default_rng(0)
    best, best_count = None, -1
    for _ in range(hypotheses):
        triple = rng.choice(len(points), 3, replace=False)
        try:
            coeffs = np.linalg.solve(design[triple], points[triple, 2])
        except np.linalg.LinAlgError:  # collinear samples (a heightmap has many)
            continue
        count = int((np.abs(points[:, 2] - design @ coeffs) <= band).sum())
        if count > best_count:
            best, best_count = coeffs, count
    if best is None:  # every triple collinear: the samples lie on one line, fit a level plane
        best = np.array([0.0, 0.0, np.median(points[:, 2])])
    inliers = np.abs(points[:, 2] - design @ best) <= band
    coeffs = np.linalg.lstsq(design[inliers], points[inliers, 2], rcond=None)[0]
    residual = points[inliers, 2] - design[inliers] @ coeffs
    sigma = _MAD_TO_SIGMA * float(np.median(np.abs(residual - np.median(residual))))
    return GroundPlane((float(coeffs[0]), float(coeffs[1])), float(coeffs[2]), int(inliers.sum()), len(points), sigma)
