"""KITTI writer, checked with an independent reader written from the devkit readme /
computeBox3D.m: 3D boxes re-projected through calib, LiDAR inside boxes, angle conventions."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from test_writers_fixtures import H, W, scene_and_frames, scene_data, tree_bytes, write_all

from nerfgen.cameras import Cameras
from nerfgen.cameras.transforms import rotation_rpy
from nerfgen.errors import NerfgenError
from nerfgen.labels import render_frames
from nerfgen.labels.types import BOX_CORNER_SIGNS, FrameLabels, InstanceLabel
from nerfgen.procedural import GTRenderer, build_scene
from nerfgen.procedural.parse import parse_scene
from nerfgen.sensors.frames import camera_mount, mount
from nerfgen.sensors.lidar_specs import HDL64E
from nerfgen.writers.info import DatasetInfo
from nerfgen.writers.kitti import KittiWriter, kitti_box, kitti_calib_text, kitti_label_line, occlusion_level


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
        objects.append(
            dict(
                type=f[0],
                truncated=v[0],
                occluded=int(f[2]),
                alpha=v[2],
                bbox=np.array(v[3:7]),
                h=v[7],
                w=v[8],
                l=v[9],
                loc=np.array(v[10:13]),
                ry=v[13],
            )
        )
    return objects


def devkit_corners(o: dict) -> np.ndarray:
    """computeBox3D.m: [8,3] corners in the rectified camera frame."""
    c, s = math.cos(o["ry"]), math.sin(o["ry"])
    R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    length, w, h = o["l"], o["w"], o["h"]
    x = [length / 2, length / 2, -length / 2, -length / 2, length / 2, length / 2, -length / 2, -length / 2]
    y = [0, 0, 0, 0, -h, -h, -h, -h]
    z = [w / 2, -w / 2, -w / 2, w / 2, w / 2, -w / 2, -w / 2, w / 2]
    return (R @ np.array([x, y, z])).T + o["loc"]


def project_kitti(calib, points_rect: np.ndarray) -> np.ndarray:
    """projectToImage.m: rectified camera frame -> pixels by P2 alone."""
    hom = calib["P2"].reshape(3, 4) @ np.c_[points_rect, np.ones(len(points_rect))].T
    return (hom[:2] / hom[2]).T


def velodyne_in_rect(root, name: str, calib) -> np.ndarray:
    """The readme's chain without P2: R0_rect Tr_velo_to_cam x, for every point of velodyne/NAME.bin."""
    points = np.fromfile(root / "training/velodyne" / f"{name}.bin", dtype="<f4").reshape(-1, 4)
    velo_to_cam = np.eye(4)
    velo_to_cam[:3] = calib["Tr_velo_to_cam"].reshape(3, 4)
    cam = (np.c_[points[:, :3], np.ones(len(points))] @ velo_to_cam.T)[:, :3]
    return cam @ calib["R0_rect"].reshape(3, 3).T


def in_kitti_object_frame(o: dict, points_rect: np.ndarray) -> np.ndarray:
    """Points in label `o`'s object frame (x length, y down with 0 at the bottom, z width)."""
    c, s = math.cos(o["ry"]), math.sin(o["ry"])
    R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return (points_rect - o["loc"]) @ R


def inside_box(o: dict, local: np.ndarray, tol: float) -> np.ndarray:
    return (
        (np.abs(local[:, 0]) <= o["l"] / 2 + tol)
        & (np.abs(local[:, 2]) <= o["w"] / 2 + tol)
        & (local[:, 1] <= tol)
        & (local[:, 1] >= -o["h"] - tol)
    )


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
    rect = velodyne_in_rect(kitti_root, "000001", read_calib(kitti_root / "training/calib/000001.txt"))
    for o, instance_id in zip(read_labels(kitti_root / "training/label_2/000001.txt"), (1, 2)):
        local = in_kitti_object_frame(o, rect[lidar.instance == instance_id])
        assert len(local) > 20
        assert inside_box(o, local, tol=2e-4).all()  # points lie on the box faces; float32 storage
    # frame 0 has no scan: nominal LiDAR axes at the camera (x forward = camera z)
    nominal = read_calib(kitti_root / "training/calib/000000.txt")["Tr_velo_to_cam"].reshape(3, 4)
    np.testing.assert_array_equal(nominal, [[0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0]])


# a level camera at the world origin looking along world +y: camera x = world x, y = world -z, z = world y
LEVEL_C2W = np.array([[1.0, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]])


def _label_at(centre_cam, heading_cam, size=(4.0, 1.8, 1.5), c2w=LEVEL_C2W) -> tuple[InstanceLabel, FrameLabels]:
    """An upright car (object up = world z) at `centre_cam` heading along `heading_cam` in the
    level camera LEVEL_C2W, seen by the camera `c2w`."""
    x = np.asarray(heading_cam, dtype=np.float64)
    z = np.array([0.0, -1.0, 0.0])  # object up = level camera -y
    box_cam = np.eye(4)
    box_cam[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    box_cam[:3, 3] = centre_cam
    box = LEVEL_C2W @ box_cam
    corners = box[:3, 3] + (BOX_CORNER_SIGNS * np.array(size) / 2) @ box[:3, :3].T
    corners_cam = (corners - c2w[:3, 3]) @ c2w[:3, :3]
    inst = InstanceLabel(
        1,
        "car",
        5,
        np.array(size),
        box,
        box,
        np.linalg.inv(c2w) @ box,
        corners,
        corners_cam,
        np.array([0, 0, 10, 10.0]),
        np.array([0, 0, 10, 10.0]),
        100,
        100,
        0.0,
        0.0,
    )
    frame = FrameLabels(0, c2w, 50.0, 50.0, 32.0, 24.0, 64, 48, "none", np.zeros(0), [inst])
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
    h, w, length, x, y, z, got_ry = kitti_box(inst, frame.c2w)
    assert (h, w, length) == (1.5, 1.8, 4.0)
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


def _calib(text: str) -> dict[str, np.ndarray]:
    return {line.split(":")[0]: np.array([float(v) for v in line.split()[1:]]) for line in text.splitlines()}


@pytest.mark.parametrize("pitch_deg, roll_deg", [(20.0, 0.0), (-35.0, 10.0), (89.0, -5.0), (90.0, 0.0)])
def test_pitched_and_rolled_cameras_label_in_the_levelled_camera(pitch_deg, roll_deg):
    """R0_rect levels the camera: an upright car gets the label a level camera at the same
    place and heading gives it, whatever the camera's pitch and roll (straight down included)."""
    level_inst, level_frame = _label_at([1.5, 1.0, 9.0], [0.6, 0.0, -0.8])
    tilt = np.eye(4)  # roll about the optical axis, then pitch about the camera x (positive: down)
    tilt[:3, :3] = rotation_rpy(-pitch_deg, 0.0, 0.0) @ rotation_rpy(0.0, 0.0, roll_deg)
    inst, frame = _label_at([1.5, 1.0, 9.0], [0.6, 0.0, -0.8], c2w=LEVEL_C2W @ tilt)
    np.testing.assert_allclose(kitti_box(inst, frame.c2w), kitti_box(level_inst, level_frame.c2w), atol=1e-9)
    calib = _calib(kitti_calib_text(frame, None))
    R0 = calib["R0_rect"].reshape(3, 3)
    np.testing.assert_allclose(R0, tilt[:3, :3], atol=1e-12)  # camera -> the level camera LEVEL_C2W
    # P2 R0_rect = K: the rendered camera's own intrinsics (integer pixel centres)
    K = np.array([[50, 0, 31.5], [0, 50, 23.5], [0, 0, 1]])
    np.testing.assert_allclose(calib["P2"].reshape(3, 4)[:, :3] @ R0, K, atol=1e-9)
    level_calib = _calib(kitti_calib_text(level_frame, None))
    np.testing.assert_array_equal(level_calib["R0_rect"], np.eye(3).ravel())  # a level camera: KITTI's usual form
    np.testing.assert_array_equal(level_calib["P2"].reshape(3, 4), np.c_[K, np.zeros(3)])


@pytest.fixture(scope="module")
def pitched_kitti(tmp_path_factory):
    """The writers scene seen by a camera 4 m up, pitched 20 degrees down and rolled 8, labelled
    by nerfgen.labels, with an exact HDL-64E sweep from a level LiDAR 1.9 m up, as KITTI."""
    scene = build_scene(parse_scene(Path("writers.yaml"), scene_data()))
    c2w = camera_mount((0.0, 0.0, 4.0), roll_deg=8.0, pitch_deg=20.0)  # ego frame = world frame
    renderer = GTRenderer(scene)
    (frame,) = render_frames(renderer, Cameras.create(c2w[None], 50.0, 50.0, W / 2, H / 2, W, H))
    lidar = renderer.render_lidar(dataclasses.replace(HDL64E, azimuth_resolution_deg=1.0), mount((0.0, 0.0, 1.9)))
    writer = KittiWriter(tmp_path_factory.mktemp("pitched") / "kitti", DatasetInfo())
    writer.write_frame(frame.maps, frame.labels, lidar)
    return frame, lidar, writer.finish()


def test_pitched_camera_boxes_reproject_through_p2_and_hold_their_lidar_points(pitched_kitti):
    frame, lidar, root = pitched_kitti
    calib = read_calib(root / "training/calib/000000.txt")
    R0 = calib["R0_rect"].reshape(3, 3)
    assert np.degrees(np.arccos((np.trace(R0) - 1) / 2)) > 20  # the camera's tilt is in R0_rect
    objects = read_labels(root / "training/label_2/000000.txt")
    instances = sorted((i for i in frame.labels.instances if i.bbox_visible is not None), key=lambda i: i.instance_id)
    assert [o["type"] for o in objects] == ["Car", "Car"] and len(instances) == 2
    rect = velodyne_in_rect(root, "000000", calib)
    for o, inst in zip(objects, instances):
        corners = devkit_corners(o)
        dist = np.linalg.norm((corners @ R0)[:, None] - inst.corners_cam[None], axis=-1)  # rect -> camera: R0^T
        assert sorted(dist.argmin(1).tolist()) == list(range(8)) and dist.min(1).max() < 1e-4  # the exact box
        uv = project_kitti(calib, corners) + 0.5  # back to nerfgen pixel-edge coordinates
        amodal = np.clip([uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()], 0, [W, H, W, H])
        np.testing.assert_allclose(amodal, inst.bbox_amodal, atol=1.0)
        expect_2d = np.clip(inst.bbox_visible - 0.5, 0, [W - 1, H - 1, W - 1, H - 1])
        np.testing.assert_allclose(o["bbox"], expect_2d, atol=0.006)
        hits = rect[lidar.instance == inst.instance_id]
        assert len(hits) > 50
        assert inside_box(o, in_kitti_object_frame(o, hits), tol=2e-3).mean() >= 0.95
