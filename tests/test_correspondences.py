"""Dense correspondences against exact ground truth: homographies of pure rotations,
ray casting from the second view, brute-force visibility, NeRF-Supervision sampling."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from test_labels import box_object, write_scene

from nerfgen.cameras import Cameras, distort, generate_rays, look_at, pixel_centres, project, undistort, unproject
from nerfgen.cameras.transforms import rotation_rpy
from nerfgen.labels import correspondences, correspondences_from_weights, flow, sample_ray_distances
from nerfgen.procedural import cast_rays, load_scene, render_gt, rig_cameras

SCENES = Path(__file__).resolve().parent.parent / "scenes"
W, H = 48, 36


@pytest.fixture(scope="module")
def tabletop():
    return load_scene(SCENES / "tabletop.yaml")


def rotated_pair(cameras: Cameras, rpy_deg) -> Cameras:
    """Camera 0 of `cameras` and a copy turned by `rpy_deg` about its own centre."""
    c2w = cameras.c2w[[0, 0]].clone()
    c2w[1, :3, :3] = c2w[0, :3, :3] @ torch.from_numpy(rotation_rpy(*rpy_deg)).float()
    return dataclasses.replace(cameras[[0, 0]], c2w=c2w)


def world_points(cameras: Cameras, index: int, depth_z: np.ndarray) -> np.ndarray:  # -> [H*W,3]
    uv = pixel_centres(depth_z.shape[1], depth_z.shape[0]).double()
    return unproject(cameras, index, uv, torch.from_numpy(depth_z.reshape(-1).astype(np.float64))).numpy()


@pytest.mark.parametrize("distortion", ["none", "opencv"])
def test_pure_rotation_is_a_homography(tabletop, distortion):
    rig = rig_cameras(tabletop.spec.rig, 1, W, H, seed=0)
    coeffs = [0.05, -0.02, 0.001, -0.001, 0.0] if distortion == "opencv" else None
    base = Cameras.create(rig.c2w, rig.fx, rig.fy, rig.cx, rig.cy, W, H, distortion, coeffs)
    cameras = rotated_pair(base, (4.0, -3.0, 8.0))
    depth = render_gt(tabletop, cameras, [0, 1]).depth_z
    uv_b, valid = correspondences(cameras, 0, 1, depth[0], depth[1])

    # Same centre: the undistorted normalised coordinates map by R_b^T R_a, depth plays no part.
    f = np.array([float(base.fx[0]), float(base.fy[0])])
    c = np.array([float(base.cx[0]), float(base.cy[0])])
    k = base.dist_coeffs[0].double()
    uv_a = pixel_centres(W, H).double().numpy()
    xy = undistort(torch.from_numpy((uv_a - c) / f), distortion, k).numpy()
    rays = np.concatenate([xy, np.ones((len(xy), 1))], 1)
    r_a, r_b = (cameras.c2w[i, :3, :3].double().numpy() for i in (0, 1))
    in_b = rays @ (r_b.T @ r_a).T
    expected = distort(torch.from_numpy(in_b[:, :2] / in_b[:, 2:]), distortion, k).numpy() * f + c

    has = depth[0].reshape(-1) > 0
    np.testing.assert_allclose(uv_b.reshape(-1, 2)[has], expected[has], atol=2e-3)
    inside = has & (expected[:, 0] >= 0) & (expected[:, 0] < W) & (expected[:, 1] >= 0) & (expected[:, 1] < H)
    v = valid.reshape(-1)
    # Without parallax every landed point is visible; only pixels next to depth edges may be
    # rejected (the raster cannot tell which side of the edge the spot is on).
    assert not (v & ~inside).any() and v.sum() >= 0.85 * inside.sum()
    np.testing.assert_allclose(flow(uv_b).reshape(-1, 2), uv_b.reshape(-1, 2) - uv_a, atol=1e-5)


def brute_force_visible(scene, cameras: Cameras, index_b: int, points: np.ndarray, has: np.ndarray) -> np.ndarray:
    """[N] bool: the point has depth in A, projects inside B, and is B's first hit along
    the ray from B's centre to it."""
    width, height = int(cameras.width[index_b]), int(cameras.height[index_b])
    uv, z = (t.numpy() for t in project(cameras, index_b, torch.from_numpy(points)))
    inside = (z > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < width) & (uv[:, 1] >= 0) & (uv[:, 1] < height)
    origin = cameras.c2w[index_b, :3, 3].double().numpy()
    to_point = points - origin
    distance = np.linalg.norm(to_point, axis=1)
    hits = cast_rays(scene, np.broadcast_to(origin, points.shape), to_point / np.maximum(distance, 1e-12)[:, None])
    return has & inside & hits.hit & (np.abs(hits.range - distance) <= 1e-4)


@pytest.mark.parametrize("seed", [1, 5])
def test_valid_points_are_what_the_second_view_sees(tabletop, seed):
    cameras = rig_cameras(tabletop.spec.rig, 12, W, H, seed=seed)
    depth = render_gt(tabletop, cameras, [0, 1]).depth_z
    uv_b, valid = correspondences(cameras, 0, 1, depth[0], depth[1])
    points = world_points(cameras, 0, depth[0])
    has, v = depth[0].reshape(-1) > 0, valid.reshape(-1)

    # Consistency with ray casting: B's ray through uv_b hits the very point A saw.
    rays = generate_rays(cameras, 1, torch.from_numpy(uv_b.reshape(-1, 2)[v].astype(np.float64)))
    seen = cast_rays(tabletop, rays.origins.numpy(), rays.directions.numpy()).points
    error = np.linalg.norm(seen - points[v], axis=1)
    assert v.sum() > 300 and np.mean(error < 1e-4) >= 0.99

    # Visibility against brute force: no false matches beyond 1 %, and the misses are the
    # pixels next to depth edges (a fair share at this tiny size).
    truth = brute_force_visible(tabletop, cameras, 1, points, has)
    assert (v & ~truth).sum() <= 0.01 * v.sum()
    assert v.sum() >= 0.85 * truth.sum()


def test_points_hidden_in_the_second_view_are_invalid(tmp_path):
    # A sees a big box and a small one side by side; B looks past the big one's face
    # towards the small one, which it hides completely.
    objects = [box_object("near", 1, (4, 0, 0), size=(1, 2, 2)), box_object("far", 2, (8, 0, 0))]
    scene = load_scene(write_scene(tmp_path, objects))
    c2w = look_at(np.array([[2.0, -8.0, 1.5], [0.0, -0.5, 1.0]]), np.array([[6.0, 0.0, 0.0], [8.0, 0.0, 0.0]]))
    cameras = Cameras.create(c2w, 40.0, 40.0, W / 2, H / 2, W, H)
    frames = render_gt(scene, cameras, [0, 1])
    assert not (frames.instance[1] == 2).any()  # hidden in B indeed
    uv_b, valid = correspondences(cameras, 0, 1, frames.depth_z[0], frames.depth_z[1])
    far_in_a, near_in_a = frames.instance[0] == 2, frames.instance[0] == 1
    assert far_in_a.sum() > 20 and not valid[far_in_a].any()
    # The near box's faces that B sees too are matched onto the near box in B.
    matched = uv_b[valid & near_in_a].astype(int)
    assert len(matched) > 10 and (frames.instance[1][matched[:, 1], matched[:, 0]] == 1).all()


def packed(t_starts: list[list[float]], weights: list[list[float]], length: float = 0.01):
    """Packed samples (ray_indices, t_starts, t_ends, offsets, weights) of rays given as
    lists of sample starts (each sample `length` long) and weights."""
    counts = [len(t) for t in t_starts]
    ray_indices = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts))
    starts = torch.tensor([t for ray in t_starts for t in ray], dtype=torch.float64)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(torch.tensor(counts), 0)])
    w = torch.tensor([x for ray in weights for x in ray], dtype=torch.float64)
    return ray_indices, starts, starts + length, offsets, w


def test_sampled_distances_follow_the_weights():
    n = 4000
    args = packed([[1.0, 2.0, 3.0]] * n + [[5.0]], [[0.25, 0.0, 0.75]] * n + [[0.0]])
    t = sample_ray_distances(*args, torch.Generator().manual_seed(0))
    assert torch.isnan(t[-1]) and not torch.isnan(t[:-1]).any()
    in_first, in_last = ((t >= 1) & (t <= 1.01)), ((t >= 3) & (t <= 3.01))
    assert (in_first | in_last)[:-1].all()
    assert in_last[:-1].double().mean().item() == pytest.approx(0.75, abs=0.03)
    again = sample_ray_distances(*args, torch.Generator().manual_seed(0))
    assert torch.equal(torch.nan_to_num(t), torch.nan_to_num(again))


def test_weights_concentrated_at_the_surface_give_the_depth_correspondences(tabletop):
    cameras = rig_cameras(tabletop.spec.rig, 12, W, H, seed=1)
    frames = render_gt(tabletop, cameras, [0, 1])
    # Each ray: an empty sample in front, then one 0.1 mm sample ending at the true range.
    ranges = frames.range[0].reshape(-1).astype(np.float64)
    starts = [[r * 0.5, r - 1e-4] if r > 0 else [1.0] for r in ranges]
    weights = [[0.0, 1.0] if r > 0 else [0.0] for r in ranges]
    ray_indices, t_starts, t_ends, offsets, w = packed(starts, weights, length=1e-4)
    uv_w, valid_w = correspondences_from_weights(
        cameras, 0, 1, ray_indices, t_starts, t_ends, offsets, w, frames.depth_z[1], torch.Generator().manual_seed(3)
    )
    uv, valid = correspondences(cameras, 0, 1, frames.depth_z[0], frames.depth_z[1])
    # Drawn depths are at most 0.1 mm short of the surface: the same landing points within
    # a hundredth of a pixel, and almost the same visibility.
    np.testing.assert_allclose(uv_w[valid], uv[valid], atol=0.01)
    assert not valid_w[frames.depth_z[0] == 0].any()
    assert (valid_w != valid).sum() <= 0.02 * valid.sum()
