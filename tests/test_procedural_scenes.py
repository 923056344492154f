"""The bundled scenes' captured ground truth agrees with their meshes (values, not shapes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import trimesh
from PIL import Image

from nerfgen.cameras import generate_rays, pixel_centres, unproject
from nerfgen.data import load_dataset
from nerfgen.procedural import capture, load_scene

SCENES = Path(__file__).resolve().parent.parent / "scenes"
NAMES = ("street", "car", "tabletop")
W, H, VIEWS = 40, 30, 3


@pytest.fixture(scope="module", params=NAMES)
def captured(request, tmp_path_factory):
    scene = load_scene(SCENES / f"{request.param}.yaml")
    out = capture(scene, tmp_path_factory.mktemp(request.param) / "ds", views=VIEWS, width=W, height=H, progress=False)
    return scene, out, load_dataset(out)


def _frame(out: Path, i: int) -> dict:
    name = f"frame_{i:05d}"
    return {
        "depth_z": np.load(out / "depth_z" / f"{name}.npy"),
        "range": np.load(out / "range" / f"{name}.npy"),
        "normals": np.load(out / "normals" / f"{name}.npy"),
        "instance": np.asarray(Image.open(out / "instance" / f"{name}.png")).astype(np.int64),
        "class": np.asarray(Image.open(out / "class" / f"{name}.png")).astype(np.int64),
    }


def test_depth_backprojects_onto_mesh(captured):
    scene, out, ds = captured
    points = []
    for i in range(VIEWS):
        f = _frame(out, i)
        hit = f["depth_z"].ravel() > 0
        uv = pixel_centres(W, H)[torch.from_numpy(hit)].double()
        p = unproject(ds.cameras, i, uv, torch.from_numpy(f["depth_z"].ravel()[hit]).double())
        points.append(p.numpy()[:: max(1, hit.sum() // 300)])
    points = np.concatenate(points)
    assert len(points) > 300
    assert _distance_to_mesh(scene.vertices, scene.faces, points).max() < 1e-4


def _distance_to_mesh(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray, margin: float = 1e-3) -> np.ndarray:
    """Exact unsigned distance [N] from points to the triangle soup (brute force over the
    triangles whose bounding box, grown by `margin`, contains the point; inf if none)."""
    tri = vertices[faces]
    lo, hi = tri.min(1) - margin, tri.max(1) + margin
    out = np.full(len(points), np.inf)
    for k, p in enumerate(points):
        cand = np.flatnonzero(((lo <= p) & (p <= hi)).all(1))
        if len(cand):
            closest = trimesh.triangles.closest_point(tri[cand], np.repeat(p[None], len(cand), 0))
            out[k] = np.linalg.norm(closest - p, axis=1).min()
    return out


def test_range_depth_normals_consistent(captured):
    scene, out, ds = captured
    for i in range(VIEWS):
        f = _frame(out, i)
        rays = generate_rays(ds.cameras, i)
        z_cam = rays.z_cam.numpy().reshape(H, W)
        hit = f["range"] > 0
        assert hit.any() and (f["depth_z"] > 0).tolist() == hit.tolist()
        np.testing.assert_allclose(f["range"][hit], f["depth_z"][hit] / z_cam[hit], rtol=1e-6)
        n = f["normals"][hit]
        np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-6)
        d = rays.directions.numpy().reshape(H, W, 3)[hit]
        assert (np.einsum("ij,ij->i", n, d) < 0).all()
        assert not f["normals"][~hit].any() and not f["class"][~hit].any() and not f["instance"][~hit].any()
        assert (f["class"][hit] > 0).all()


def test_instance_pixels_lie_in_their_box_and_counts_match(captured):
    scene, out, ds = captured
    gt = json.loads((out / "gt.json").read_text())
    boxes = {b["id"]: b for b in gt["instances"]}
    seen = set()
    for i in range(VIEWS):
        f = _frame(out, i)
        ids = f["instance"].ravel()
        uv = pixel_centres(W, H).double()
        p = unproject(ds.cameras, i, uv, torch.from_numpy(f["depth_z"].ravel()).double()).numpy()
        for inst, box in boxes.items():
            mask = ids == inst
            assert box["visible_pixels"][i] == mask.sum()
            if not mask.any():
                continue
            seen.add(inst)
            assert (f["class"].ravel()[mask] == box["class_id"]).all()
            local = (p[mask] - box["box"]["center"]) @ np.asarray(box["box"]["rotation"])
            assert (np.abs(local) <= np.asarray(box["box"]["size"]) / 2 + 1e-4).all()
    assert seen, "no instance visible in the test capture"


def test_instance_boxes_are_tight(captured):
    scene, _, _ = captured
    for box in scene.instances:
        v = scene.vertices[np.unique(scene.faces[scene.face_instance == box.instance_id])]
        local = (v - box.center) @ box.rotation
        half = box.size / 2
        assert (np.abs(local) <= half + 1e-9).all()
        # every face of the box touches a vertex
        np.testing.assert_allclose(local.max(0), half, atol=1e-9)
        np.testing.assert_allclose(local.min(0), -half, atol=1e-9)
        # pose maps the object origin and axes; its rotation is the box rotation
        np.testing.assert_allclose(box.pose[:3, :3], box.rotation)


def test_capture_loads_back_with_intrinsics(captured):
    scene, out, ds = captured
    meta = json.loads((out / "transforms.json").read_text())
    assert len(ds) == VIEWS
    assert int(ds.cameras.width[0]) == W and int(ds.cameras.height[0]) == H
    torch.testing.assert_close(ds.cameras.cx, torch.full((VIEWS,), W / 2))
    torch.testing.assert_close(ds.cameras.cy, torch.full((VIEWS,), H / 2))
    fov = scene.spec.rig.fov_deg
    torch.testing.assert_close(ds.cameras.fx, torch.full((VIEWS,), W / 2 / np.tan(np.radians(fov) / 2)))
    assert meta["test_filenames"] == ["images/frame_00000.png"]
    assert meta["gt_file"] == "gt.json"
    np.testing.assert_allclose(meta["scene_aabb"], scene.aabb)
    # the depth that load_dataset reads is our depth_z
    np.testing.assert_array_equal(ds.depths_z[1].numpy(), _frame(out, 1)["depth_z"])


def test_car_stands_on_ground_at_origin():
    scene = load_scene(SCENES / "car.yaml")
    (car,) = scene.instances
    lo = car.center - car.size / 2
    assert abs(lo[2]) < 1e-9 and np.allclose(car.center[:2], 0.0, atol=1e-9)
