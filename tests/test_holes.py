"""Hole boxes: the bounds-prefiltered test equals the exact oriented-box test everywhere,
right up to the faces."""

from __future__ import annotations

import numpy as np

from nerfgen.cameras.transforms import rotation_rpy
from nerfgen.scene.placement import inside_holes
from nerfgen.scene.spec import Hole


def _brute_force(points: np.ndarray, holes: tuple[Hole, ...]) -> np.ndarray:
    inside = np.zeros(len(points), bool)
    for h in holes:
        local = (points - np.asarray(h.center)) @ rotation_rpy(*h.rotation_deg)
        inside |= (np.abs(local) <= np.asarray(h.size) / 2).all(-1)
    return inside


def test_prefiltered_holes_equal_the_exact_test():
    rng = np.random.default_rng(3)
    holes = tuple(
        Hole(tuple(rng.uniform(-5, 5, 3)), tuple(rng.uniform(0.3, 3, 3)), tuple(rng.uniform(-180, 180, 3)))
        for _ in range(4)
    )
    points = rng.uniform(-8, 8, (200_000, 3))
    # Points just inside and just outside each hole's corners (a micrometre either way).
    for h in holes:
        signs = rng.choice([-1.0, 1.0], (50, 3))
        for margin in (-1e-6, 1e-6):
            local = signs * (np.asarray(h.size) / 2 + margin)
            points = np.concatenate([points, np.asarray(h.center) + local @ rotation_rpy(*h.rotation_deg).T])
    got = inside_holes(points, holes)
    assert got.sum() > 500
    np.testing.assert_array_equal(got, _brute_force(points, holes))
