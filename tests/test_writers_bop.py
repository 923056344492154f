"""BOP writer, checked the way bop_toolkit uses the files: poses re-project model
vertices onto masks, depth PNG x depth_scale = depth in mm, models_info from the PLY."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from plyfile import PlyData
from scipy.ndimage import binary_dilation
from test_writers_fixtures import scene_and_frames, write_all

from nerfgen.writers.bop import BopWriter, models_from_gt_scene
from nerfgen.writers.info import DatasetInfo

SCENE = "train/000000"


@pytest.fixture(scope="module")
def bop_root(tmp_path_factory):
    scene, frames = scene_and_frames()
    return write_all(BopWriter, tmp_path_factory.mktemp("b") / "bop", frames, models=models_from_gt_scene(scene))


def _json(path):
    return json.loads(path.read_text())


def _ply_vertices(path) -> np.ndarray:
    v = PlyData.read(str(path))["vertex"]
    return np.stack([v["x"], v["y"], v["z"]], axis=1).astype(np.float64)


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_model_poses_reproject_onto_masks(bop_root):
    cams, gts = _json(bop_root / SCENE / "scene_camera.json"), _json(bop_root / SCENE / "scene_gt.json")
    infos = _json(bop_root / SCENE / "scene_gt_info.json")
    checked = 0
    for im_id, objects in gts.items():
        K = np.array(cams[im_id]["cam_K"]).reshape(3, 3)
        for gt_idx, (gt, info) in enumerate(zip(objects, infos[im_id])):
            if info["visib_fract"] < 1.0:
                continue
            vertices = _ply_vertices(bop_root / f"models/obj_{gt['obj_id']:06d}.ply")  # mm
            cam = vertices @ np.array(gt["cam_R_m2c"]).reshape(3, 3).T + np.array(gt["cam_t_m2c"])
            uv = cam @ K.T
            cols, rows = np.round(uv[:, :2] / uv[:, 2:]).astype(int).T  # integer pixel centres
            mask = _png(bop_root / SCENE / f"mask_visib/{int(im_id):06d}_{gt_idx:06d}.png") > 0
            mask = binary_dilation(mask, structure=np.ones((3, 3), bool))  # by 1 px, diagonals included
            in_image = (cols >= 0) & (cols < mask.shape[1]) & (rows >= 0) & (rows < mask.shape[0])
            if not in_image.all():  # truncated: not fully visible
                continue
            assert mask[rows, cols].mean() >= 0.95
            checked += 1
    assert checked == 2  # car 1 in both frames (car 2 is occluded in frame 0, truncated in frame 1)


def test_masks_counts_and_boxes(bop_root):
    _, frames = scene_and_frames()
    infos = _json(bop_root / SCENE / "scene_gt_info.json")
    for frame in frames:
        im = frame.labels.index
        for gt_idx, inst in enumerate(sorted(frame.labels.instances, key=lambda i: i.instance_id)):
            name = f"{im:06d}_{gt_idx:06d}.png"
            visible, alone = frame.maps.instance == inst.instance_id, frame.alone_masks[inst.instance_id]
            np.testing.assert_array_equal(_png(bop_root / SCENE / "mask_visib" / name) == 255, visible)
            np.testing.assert_array_equal(_png(bop_root / SCENE / "mask" / name) == 255, alone)
            info = infos[str(im)][gt_idx]
            assert (info["px_count_visib"], info["px_count_all"]) == (inst.px_visible, inst.px_alone)
            assert info["visib_fract"] == pytest.approx(1.0 - inst.occlusion)
            x0, y0, x1, y1 = inst.bbox_visible.astype(int)
            assert info["bbox_visib"] == [x0, y0, x1 - x0, y1 - y0]
            rows, cols = np.nonzero(alone)
            x, y = cols.min(), rows.min()
            assert info["bbox_obj"] == [x, y, cols.max() - x + 1, rows.max() - y + 1]
            assert info["px_count_valid"] == info["px_count_all"]  # every car pixel has a depth < 65 m


def test_depth_png_and_camera(bop_root):
    _, frames = scene_and_frames()
    cams = _json(bop_root / SCENE / "scene_camera.json")
    for frame in frames:
        cam = cams[str(frame.labels.index)]
        depth_png = _png(bop_root / SCENE / f"depth/{frame.labels.index:06d}.png")
        depth_mm = depth_png.astype(np.float64) * cam["depth_scale"]
        want = frame.maps.depth_z.astype(np.float64) * 1000.0
        assert depth_png.dtype == np.uint16 and (depth_mm > 0).sum() == (want > 0).sum()
        assert np.abs(depth_mm - want).max() <= 0.5
        np.testing.assert_allclose(np.array(cam["cam_K"]).reshape(3, 3)[:2, 2], [31.5, 23.5])
        w2c = np.linalg.inv(frame.labels.c2w)
        np.testing.assert_allclose(np.array(cam["cam_R_w2c"]).reshape(3, 3), w2c[:3, :3])
        np.testing.assert_allclose(cam["cam_t_w2c"], w2c[:3, 3] * 1000.0)


def test_models_info_matches_brute_force(bop_root):
    info = _json(bop_root / "models/models_info.json")
    assert sorted(info) == ["1", "2"]
    for obj_id, record in info.items():
        v = _ply_vertices(bop_root / f"models/obj_{int(obj_id):06d}.ply")
        brute = np.linalg.norm(v[:, None] - v[None], axis=-1).max()
        assert record["diameter"] == pytest.approx(brute, abs=1e-6)
        assert record["diameter"] == pytest.approx(np.linalg.norm([4000.0, 1800.0, 1500.0]), abs=1e-3)
        np.testing.assert_allclose([record["min_x"], record["size_z"]], [-2000.0, 1500.0], atol=1e-3)


def test_without_alone_masks_bbox_obj_is_the_projected_box(tmp_path):
    _, frames = scene_and_frames()
    writer = BopWriter(tmp_path / "bop", DatasetInfo(), depth_scale=0.1)
    for f in frames:
        writer.write_frame(f.maps, f.labels)
    root = writer.finish()
    assert not (root / SCENE / "mask").exists() and not (root / "models").exists()
    info = _json(root / SCENE / "scene_gt_info.json")["0"][1]  # frame 0, car 2: partly hidden
    inst = sorted(frames[0].labels.instances, key=lambda i: i.instance_id)[1]
    x0, y0, x1, y1 = inst.bbox_amodal
    assert info["bbox_obj"] == [np.floor(x0), np.floor(y0), np.ceil(x1) - np.floor(x0), np.ceil(y1) - np.floor(y0)]
    # car 2 is ~14 m away, beyond 65535 x 0.1 mm: no valid visible pixel; the hidden part counts as valid
    assert (info["px_count_all"], info["px_count_valid"]) == (inst.px_alone, inst.px_alone - inst.px_visible)
    depth = _png(root / SCENE / "depth/000000.png").astype(np.float64) * 0.1  # depth_scale 0.1: 0.1 mm units
    want = frames[0].maps.depth_z.astype(np.float64) * 1000.0
    ok = want < 6553.5
    assert np.abs(depth[ok] - want[ok]).max() <= 0.05 and (depth[~ok] == 0).all()
