"""LiDAR returns from packed per-ray sample weights, against hand-built cases and GT."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from nerfgen.errors import NerfgenError
from nerfgen.procedural import cast_rays, load_scene
from nerfgen.render.lidar_returns import returns_from_weights
from nerfgen.sensors.frames import mount
from nerfgen.sensors.lidar import VLP16, lidar_rays

SCENES = Path(__file__).resolve().parent.parent / "scenes"


def _pack(rays: list[list[tuple[float, float, float]]]):
    """[(t_start, t_end, weight), ...] per ray -> packed tensors (weights, t_starts, t_ends, offsets)."""
    flat = [s for ray in rays for s in ray]
    w, t0, t1 = (torch.tensor([s[i] for s in flat], dtype=torch.float32) for i in (2, 0, 1))
    offsets = torch.tensor(np.concatenate([[0], np.cumsum([len(r) for r in rays])]), dtype=torch.int64)
    return w, t0, t1, offsets


def _volume_weights(t_starts: np.ndarray, t_ends: np.ndarray, tau: np.ndarray, ray: np.ndarray, n_rays: int):
    """Volume-rendering weights T * alpha from optical depths tau [S] of packed samples."""
    total = np.cumsum(tau)
    start = np.concatenate([[0.0], total])[np.searchsorted(ray, np.arange(n_rays))]
    before = total - tau - start[ray]  # optical depth before each sample within its ray
    return np.exp(-before) * (1 - np.exp(-tau))


def test_opaque_surface_at_5m():
    t = np.arange(0.0, 10.0, 0.1)
    sigma = np.where(t >= 5.0 - 1e-9, 1e3, 0.0)  # opaque from t = 5
    tau = sigma * 0.1
    w = _volume_weights(t, t + 0.1, tau, np.zeros(len(t), int), 1)
    range_, returned = returns_from_weights(
        torch.from_numpy(w), torch.from_numpy(t), torch.from_numpy(t + 0.1), torch.tensor([0, len(t)])
    )
    assert returned.tolist() == [True] and 5.0 <= range_.item() <= 5.1  # within the sample


def test_threshold_exact_on_constructed_case():
    rays = [
        [(0.0, 1.0, 0.25), (1.0, 2.0, 0.25), (2.0, 3.0, 0.5)],  # reaches 0.5 exactly at t = 2
        [(0.0, 1.0, 0.25), (1.0, 2.0, 0.25)],  # total exactly 0.5
        [],  # no samples
        [(4.0, 6.0, 0.1), (6.0, 8.0, 0.3)],  # total 0.4: returns only below 0.4
        [(10.0, 10.5, 0.0), (10.5, 11.5, 0.8)],
    ]
    packed = _pack(rays)
    cases = {
        0.25: [1.0, 1.0, 0, 7.0, 10.5 + 0.25 / 0.8],
        0.5: [2.0, 2.0, 0, 0, 10.5 + 0.5 / 0.8],
        0.6: [2.2, 0, 0, 0, 10.5 + 0.75],
    }
    for threshold, expected in cases.items():
        range_, returned = returns_from_weights(*packed, opacity_threshold=threshold)
        assert range_.dtype == torch.float32
        np.testing.assert_allclose(range_.numpy(), expected, rtol=1e-6)
        assert returned.tolist() == [r > 0 for r in expected]
    range_, returned = returns_from_weights(*packed, opacity_threshold=0.5000001)
    assert returned.tolist() == [True, False, False, False, True]
    with pytest.raises(NerfgenError, match="opacity_threshold"):
        returns_from_weights(*packed, opacity_threshold=0.0)
    with pytest.raises(NerfgenError, match="non-negative"):
        returns_from_weights(-packed[0], *packed[1:])
    range_, returned = returns_from_weights(*_pack([[], []]))
    assert range_.tolist() == [0.0, 0.0] and returned.tolist() == [False, False]


def test_matches_a_per_ray_reference_on_random_packs():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 12, 300)
    rays = []
    for n in counts:
        t = np.sort(rng.uniform(0, 50, n + 1))
        w = rng.uniform(0, 1, n) * rng.uniform(0, 2) / max(n, 1)
        rays.append(list(zip(t[:-1], t[1:], w)))
    packed = _pack(rays)
    range_, returned = returns_from_weights(*packed, opacity_threshold=0.4)
    for r, samples in enumerate(rays):
        acc, expected = 0.0, None
        for t0, t1, w in ((float(a), float(b), float(np.float32(c))) for a, b, c in samples):
            if acc + w >= 0.4:
                expected = np.float32(t0) + (0.4 - acc) / w * (np.float32(t1) - np.float32(t0))
                break
            acc += w
        assert returned[r].item() == (expected is not None)
        assert range_[r].item() == pytest.approx(expected or 0.0, rel=1e-5, abs=1e-5)


def test_agrees_with_ground_truth_ranges_and_drops():
    street = load_scene(SCENES / "street.yaml")
    spec = dataclasses.replace(VLP16, azimuth_resolution_deg=2.0)
    rays = lidar_rays(spec, mount((-6.0, -1.75, 1.73), yaw_deg=10.0))
    hits = cast_rays(street, rays.origins, rays.directions)
    # A field-like density per ray: faint haze everywhere plus an opaque 10 cm slab just
    # behind the GT surface; fine samples (5 cm) up to the surface, coarse (1 m) on misses.
    step = np.where(hits.hit, 0.05, 1.0)
    far = np.where(hits.hit, np.minimum(hits.range + 1.0, spec.max_range), spec.max_range)
    counts = np.ceil(far / step).astype(int)
    ray = np.repeat(np.arange(len(counts)), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    t0, t1 = k * step[ray], (k + 1) * step[ray]
    slab = np.clip(np.minimum(t1, hits.range[ray] + 0.1) - np.maximum(t0, hits.range[ray]), 0, None) * hits.hit[ray]
    tau = 0.004 * (t1 - t0) + 50.0 * slab
    w = _volume_weights(t0, t1, tau, ray, len(counts))
    offsets = torch.from_numpy(np.concatenate([[0], np.cumsum(counts)]))
    range_, returned = returns_from_weights(torch.from_numpy(w), torch.from_numpy(t0), torch.from_numpy(t1), offsets)
    assert hits.hit.sum() > 2000 and (~hits.hit).sum() > 100  # both cases present
    assert np.array_equal(returned.numpy(), hits.hit)  # drop / no-drop match 100%
    relative = np.abs(range_.numpy()[hits.hit] - hits.range[hits.hit]) / hits.range[hits.hit]
    assert np.median(relative) < 0.002 and relative.max() < 0.01
