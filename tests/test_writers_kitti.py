"""KITTI writer, checked with an independent reader written from the devkit readme /
computeBox3D.m: 3D boxes re-projected through calib, LiDAR inside boxes, angle conventions."""
from __future__ import annotations

import math

import numpy as np
import pytest
from test_writers_fixtures import H, W, scene_and_frames, tree_bytes, write_all

from nerfgen.errors import NerfgenError
from nerfgen.labels.types import BOX_CORNER_SIGNS, FrameLabels, InstanceLabel
from nerfgen.writers.info import DatasetInfo
from nerfgen.writers.kitti import KittiWriter, kitti_box, kitti_label_line, occlusion_level


def read_calib(path) -> dict[str, np.ndarray]:
    calib = {}
    for line in path.read_text().splitlines():
        key, values = line.split(":", 1)
        calib[key] = np.array([float(v) for v in values.split()])
    return calib


def read_labels(path) -> list[dict]:
    objects = []
    for line in path.read_text().splitlines():
        f = line.split()
        assert len(f) == 15
        v = [float(x) for x in f[1:]]
        objects.append(dict(type=f[0], truncated=v[0], occluded=int(f[2]), alpha=v[2], bbox=np.array(v[3:7]),
                            h=v[7], w=v[8], l=v[9], loc=np.array(v[10:13]), ry=v[13]))  # fmt: skip
    return objects


def devkit_corners(o: dict) -> np.ndarray:
    """computeBox3D.m: [8,3] corners in the rectified camera frame."""
    c, s = math.cos(o["ry"]), math.sin(o["ry"])
    R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    l, w, h = o["l"], o["w"], o["h"]
    x = [l / 2, l / 2, -l / 2, -l / 2, l / 2, l / 2, -l / 2, -l / 2]
    y = [0, 0, 0, 0, -h, -h, -h, -h]
    z = [w / 2, -w / 2, -w / 2, w / 2, w / 2, -w / 2, -w / 2, w / 2]
    return (R @ np.array([x, y, z])).T + o["loc"]


def project_kitti(calib, points_rect: np.ndarray) -> np.ndarray:
    P2, R0 = calib["P2"].reshape(3, 4), np.eye(4)
    R0[:3, :3] = calib["R0_rect"].reshape(3, 3)
    hom = P2 @ R0 @ np.c_[points_rect, np.ones(len(points_rect))].T
    return (hom[:2] / hom[2]).T


@pytest.fixture(scope="module")
def kitti_root(tmp_path_factory):
    _, frames = scene_and_frames()
    info = DatasetInfo(seed=3, command=("test",), splits={"train": [1], "val": [0]})
    return write_all(KittiWriter, tmp_path_factory.mktemp("k") / "kitti", frames, info)


def test_boxes_reproject_to_corners_and_amodal_box(kitti_root):
    _, frames = scene_and_frames()
    for frame in frames:
        name = f"{frame.labels.index:06d}"
        calib = read_calib(kitti_root / "training/calib" / f"{name}.txt")
        np.testing.assert_allclose(calib["P2"].reshape(3, 4)[:, 2], [W / 2 - 0.5, H / 2 - 0.5, 1.0])
        objects = read_labels(kitti_root / "training/label_2" / f"{name}.txt")
        instances = sorted(frame.labels.instances, key=lambda i: i.instance_id)
        assert [o["type"] for o in objects] == ["Car", "Car"]
        for o, inst in zip(objects, instances):
            corners = devkit_corners(o)
            # the same 8 corners (KITTI orders them differently): nearest-corner distances
            dist = np.linalg.norm(corners[:, None] - inst.corners_cam[None], axis=-1)
            assert sorted(dist.argmin(1).tolist()) == list(range(8))
            assert dist.min(1).max() < 1e-4
            uv = project_kitti(calib, corners) + 0.5  # back to nerfgen pixel-edge coordinates
            amodal = np.clip([uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()], 0, [W, H, W, H])
            np.testing.assert_allclose(amodal, inst.bbox_amodal, atol=1.0)
            expect_2d = np.clip(inst.bbox_visible - 0.5, 0, [W - 1, H - 1, W - 1, H - 1])
            np.testing.assert_allclose(o["bbox"], expect_2d, atol=0.006)
            assert o["occluded"] == occlusion_level(inst.occlusion)
            assert o["truncated"] == pytest.approx(inst.truncation, abs=0.006)
            alpha = math.remainder(o["ry"] - math.atan2(o["loc"][0], o["loc"][2]), 2 * math.pi)
            assert o["alpha"] == pytest.approx(alpha, abs=1e-5)
    # frame 0: car 2 is partly hidden by car 1; frame 1: car 2 leaves the image on the right
    assert [o["occluded"] for o in read_labels(kitti_root / "training/label_2/000000.txt")] == [0, 1]
    assert read_labels(kitti_root / "training/label_2/000001.txt")[1]["truncated"] > 0.5


def test_scene_yaw_conventions(kitti_root):
    # frame 0 looks along world +x: car 1 (heading +x) drives away, car 2 (heading +y) faces camera -x.
    # frame 1 looks along world +y: car 1 drives left to right (ry = 0), car 2 drives away.
    ry = {k: [o["ry"] for o in read_labels(kitti_root / f"training/label_2/{k:06d}.txt")] for k in (0, 1)}
    np.testing.assert_allclose(np.abs(ry[0]), [math.pi / 2, math.pi], atol=1e-5)
    assert ry[0][0] < 0
    np.testing.assert_allclose(ry[1], [0.0, -math.pi / 2], atol=1e-5)


def test_velodyne_points_fall_inside_their_box(kitti_root):
    _, frames = scene_and_frames()
    lidar = frames[1].lidar
    points = np.fromfile(kitti_root / "training/velodyne/000001.bin", dtype="<f4").reshape(-1, 4)
    np.testing.assert_array_equal(points[:, :3], lidar.points_sensor)
    np.testing.assert_array_equal(points[:, 3], lidar.intensity)
    calib = read_calib(kitti_root / "training/calib/000001.txt")
    velo_to_cam = np.eye(4)
    velo_to_cam[:3] = calib["Tr_velo_to_cam"].reshape(3, 4)
    cam = (np.c_[points[:, :3], np.ones(len(points))] @ velo_to_cam.T)[:, :3] @ calib["R0_rect"].reshape(3, 3).T
    for o, instance_id in zip(read_labels(kitti_root / "training/label_2/000001.txt"), (1, 2)):
        c, s = math.cos(o["ry"]), math.sin(o["ry"])
        R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
        local = (cam[lidar.instance == instance_id] - o["loc"]) @ R  # into the KITTI object frame
        assert len(local) > 20
        tol = 2e-4  # points lie on the box faces; float32 storage
        assert (np.abs(local[:, 0]) <= o["l"] / 2 + tol).all() and (np.abs(local[:, 2]) <= o["w"] / 2 + tol).all()
        assert (local[:, 1] <= tol).all() and (local[:, 1] >= -o["h"] - tol).all()
    # frame 0 has no scan: nominal LiDAR axes at the camera (x forward = camera z)
    nominal = read_calib(kitti_root / "training/calib/000000.txt")["Tr_velo_to_cam"].reshape(3, 4)
    np.testing.assert_array_equal(nominal, [[0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0]])


def _label_at(centre_cam, heading_cam, size=(4.0, 1.8, 1.5)) -> tuple[InstanceLabel, FrameLabels]:
    """A level upright car in a camera placed at the world origin (camera frame = world frame)."""
    x = np.asarray(heading_cam, dtype=np.float64)
    z = np.array([0.0, -1.0, 0.0])  # object up = camera -y
    box = np.eye(4)
    box[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    box[:3, 3] = centre_cam
    corners = box[:3, 3] + (BOX_CORNER_SIGNS * np.array(size) / 2) @ box[:3, :3].T
    inst = InstanceLabel(1, "car", 5, np.array(size), box, box, box, corners, corners, np.array([0, 0, 10, 10.0]),
                         np.array([0, 0, 10, 10.0]), 100, 100, 0.0, 0.0)  # fmt: skip
    frame = FrameLabels(0, np.eye(4), 50.0, 50.0, 32.0, 24.0, 64, 48, "none", np.zeros(0), [inst])
    return inst, frame


@pytest.mark.parametrize(
    "centre, heading, ry, alpha",
    [
        ([0.0, 1.0, 10.0], [0.0, 0.0, -1.0], math.pi / 2, math.pi / 2),  # facing the camera, on the axis
        ([5.0, 1.0, 10.0], [0.0, 0.0, -1.0], math.pi / 2, math.pi / 2 - math.atan2(5, 10)),  # facing, to the right
        ([0.0, 1.0, 10.0], [1.0, 0.0, 0.0], 0.0, 0.0),  # driving left to right, ahead
        ([-4.0, 1.0, 8.0], [1.0, 0.0, 0.0], 0.0, -math.atan2(-4, 8)),  # driving left to right, on the left
        ([0.0, 1.0, 10.0], [0.0, 0.0, 1.0], -math.pi / 2, -math.pi / 2),  # driving away
    ],
)
def test_rotation_y_and_alpha_by_hand(centre, heading, ry, alpha):
    inst, frame = _label_at(centre, heading)
    h, w, l, x, y, z, got_ry = kitti_box(inst, frame.c2w)
    assert (h, w, l) == (1.5, 1.8, 4.0)
    np.testing.assert_allclose([x, y, z], [centre[0], centre[1] + 0.75, centre[2]])  # y at the bottom
    assert got_ry == pytest.approx(ry, abs=1e-12)
    fields = kitti_label_line(inst, frame).split()
    assert float(fields[3]) == pytest.approx(alpha, abs=1e-6)


def test_occlusion_levels():
    assert [occlusion_level(v) for v in (0.0, 0.009, 0.01, 0.3, 0.5, 0.95)] == [0, 0, 1, 1, 2, 2]


def test_image_sets_and_manifest(kitti_root):
    assert (kitti_root / "ImageSets/train.txt").read_text() == "000001\n"
    assert (kitti_root / "ImageSets/val.txt").read_text() == "000000\n"
    assert (kitti_root / "ImageSets/trainval.txt").read_text() == "000000\n000001\n"
    assert (kitti_root / "ImageSets/test.txt").read_text() == ""
    assert not (kitti_root / "training/velodyne/000000.bin").exists()


def test_resume_after_interruption_gives_identical_bytes(tmp_path):
    _, frames = scene_and_frames()
    whole = write_all(KittiWriter, tmp_path / "whole", frames)
    interrupted = KittiWriter(tmp_path / "resumed", DatasetInfo(seed=0))
    interrupted.write_frame(frames[0].maps, frames[0].labels)  # ... then the process dies before finish()
    (tmp_path / "resumed/training/image_2/000000.png").write_bytes(b"")  # never happens (atomic), but must be kept
    resumed = write_all(KittiWriter, tmp_path / "resumed", frames, resume=True)
    got, want = tree_bytes(resumed), tree_bytes(whole)
    assert got.pop("training/image_2/000000.png") == b"" and want.pop("training/image_2/000000.png") != b""
    assert got.keys() == want.keys()
    assert [k for k in got if got[k] != want[k]] == ["manifest.json"]  # it hashes the (kept) image


def test_distorted_frames_are_refused(tmp_path):
    _, frames = scene_and_frames()
    f = frames[0]
    labels = FrameLabels(**{**f.labels.__dict__, "distortion": "opencv", "dist_coeffs": np.array([0.1, 0, 0, 0, 0])})
    with pytest.raises(NerfgenError, match="frame 0: KITTI stores undistorted pinhole images"):
        KittiWriter(tmp_path / "k", DatasetInfo()).write_frame(f.maps, labels)
