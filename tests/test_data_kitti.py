"""KITTI odometry and raw readers on hand-made captures: camera poses and intrinsics
against hand-computed values, LiDAR points onto the expected pixels with the expected
depth_z, frame/camera selection, bad inputs; the real odometry sequence 04."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nerfgen.data import load_dataset, load_kitti_odometry
from nerfgen.errors import NerfgenError

KITTI = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "kitti_odometry"
WIDTH, HEIGHT = 32, 20
K = np.array([[50.0, 0.0, 15.5], [0.0, 50.0, 9.5], [0.0, 0.0, 1.0]])  # KITTI pixels: centres at integers
# Rectified camera offsets t_i (P_i = K [I | t_i]): camera i sits at -t_i in camera 0's frame.
T2 = np.array([0.06, 0.001, 0.002])
T3 = np.array([-0.48, 0.0, 0.0])
# camera-0-from-LiDAR: cam x = -lidar y, cam y = -lidar z, cam z = lidar x; LiDAR 8 cm up, 27 cm back.
LIDAR_R = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
LIDAR_T = np.array([0.0, -0.08, -0.27])


def numbers(values) -> str:
    return " ".join(f"{v:.12e}" for v in np.asarray(values, dtype=np.float64).reshape(-1))


def projection(t: np.ndarray) -> np.ndarray:
    return np.concatenate([K, (K @ t)[:, None]], axis=1)


def write_png(path: Path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)).save(path)


def write_bin(path: Path, points_xyz) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    xyz = np.asarray(points_xyz, dtype=np.float32).reshape(-1, 3)
    np.concatenate([xyz, np.full((len(xyz), 1), 0.5, np.float32)], axis=1).astype("<f4").tofile(path)


def lidar_from_cam0(p_cam0) -> np.ndarray:
    return LIDAR_R.T @ (np.asarray(p_cam0) - LIDAR_T)


# A point 5 m ahead of camera 2 at frame 0: (0.52, -0.21, 5.0) in its frame, pixel
# (50 * 0.52 / 5 + 16, 50 * -0.21 / 5 + 10) = (21.2, 7.9) in nerfgen's convention -> column
# 21, row 7. In camera 3 (p_cam0 + T3 = (-0.02, -0.211, 4.998)): (15.7999, 7.8892) -> (15, 7).
NEAR_CAM0 = np.array([0.52, -0.21, 5.0]) - T2
# Twice as far along camera 2's ray: same pixel of camera 2 behind the near point; in camera 3
# at (0.5, -0.421, 9.998): (18.5005, 7.8946) -> column 18, row 7.
FAR_CAM0 = np.array([1.04, -0.42, 10.0]) - T2
# Behind camera 2, on the mirror of its ray: would land on the same pixel if not dropped.
BEHIND_CAM0 = np.array([-0.52, 0.21, -5.0]) - T2


def write_odometry(
    root: Path, sequence: str = "00", n_frames: int = 5, n_poses: int = 6, calib_keys=("P0", "P1", "P2", "P3", "Tr")
) -> Path:
    seq = root / "sequences" / sequence
    seq.mkdir(parents=True)
    matrices = {
        "P0": projection(np.zeros(3)),
        "P1": projection(np.array([-0.54, 0.0, 0.0])),
        "P2": projection(T2),
        "P3": projection(T3),
        "Tr": np.concatenate([LIDAR_R, LIDAR_T[:, None]], axis=1),
    }
    (seq / "calib.txt").write_text("".join(f"{key}: {numbers(matrices[key])}\n" for key in calib_keys))
    (seq / "times.txt").write_text("".join(f"{0.1 * i:.6e}\n" for i in range(n_poses)))
    poses = []
    for i in range(n_poses):  # straight ahead 1 m per frame; at frame 3 turned 90 degrees right
        rotation = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]) if i == 3 else np.eye(3)
        poses.append(np.concatenate([rotation, [[0.0], [0.0], [float(i)]]], axis=1))
    (root / "poses").mkdir(exist_ok=True)
    (root / "poses" / f"{sequence}.txt").write_text("".join(numbers(p) + "\n" for p in poses))
    for i in range(n_frames):
        for cam in (2, 3):
            write_png(seq / f"image_{cam}" / f"{i:06d}.png", seed=10 * i + cam)
    write_bin(seq / "velodyne" / "000000.bin", [lidar_from_cam0(p) for p in (NEAR_CAM0, FAR_CAM0, BEHIND_CAM0)])
    write_bin(seq / "velodyne" / "000003.bin", [[10.0, 0.0, 0.0]])
    return seq


def one_line_error(call) -> str:
    with pytest.raises(NerfgenError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    return message


# --- odometry --------------------------------------------------------------------------


def test_odometry_cameras(tmp_path):
    write_odometry(tmp_path)
    ds = load_dataset(tmp_path)
    assert len(ds) == 10 and ds.images.shape == (10, HEIGHT, WIDTH, 3)
    assert ds.metadata["frame_ids"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert ds.metadata["camera_ids"].tolist() == [2, 3] * 5
    assert ds.image_paths[3].parts[-2:] == ("image_3", "000001.png")
    # KITTI's principal point 15.5, 9.5 (pixel centres at integers) is 16, 10 in nerfgen's.
    assert (ds.cameras.fx == 50.0).all() and (ds.cameras.cx == 16.0).all() and (ds.cameras.cy == 10.0).all()
    # World = camera 0 at frame 0 turned z-up: (x, y, z)_cam -> (z, -x, -y). Camera 2 sits at
    # -T2 = (-0.06, -0.001, -0.002) in camera 0's frame, i.e. (-0.002, 0.06, 0.001).
    expected_frame0_cam2 = torch.tensor(
        [[0.0, 0.0, 1.0, -0.002], [-1.0, 0.0, 0.0, 0.06], [0.0, -1.0, 0.0, 0.001], [0.0, 0.0, 0.0, 1.0]]
    )
    assert torch.allclose(ds.cameras.c2w[0], expected_frame0_cam2, atol=1e-6)
    # Frame 3: 3 m ahead and turned right (forward = old +x = world -y); camera 3 sits at
    # -T3 = (0.48, 0, 0) -> turned (0, 0, -0.48) + (0, 0, 3) = (0, 0, 2.52) -> world (2.52, 0, 0).
    expected_frame3_cam3 = torch.tensor(
        [[-1.0, 0.0, 0.0, 2.52], [0.0, 0.0, -1.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    )
    assert torch.allclose(ds.cameras.c2w[7], expected_frame3_cam3, atol=1e-6)
    assert torch.allclose(ds.cameras.c2w[4, :3, 3], torch.tensor([1.998, 0.06, 0.001]), atol=1e-6)


def test_odometry_lidar_depth_and_rays(tmp_path):
    write_odometry(tmp_path)
    ds = load_dataset(tmp_path)
    depth = ds.depths_z
    assert depth.shape == (10, HEIGHT, WIDTH)
    # Camera 2, frame 0: only the near point (the far one hides behind it, the one behind
    # the camera is dropped).
    assert torch.nonzero(depth[0]).tolist() == [[7, 21]]
    assert depth[0, 7, 21].item() == pytest.approx(5.0, abs=1e-5)
    assert torch.nonzero(depth[1]).tolist() == [[7, 15], [7, 18]]
    assert depth[1, 7, 15].item() == pytest.approx(4.998, abs=1e-5)
    assert depth[1, 7, 18].item() == pytest.approx(9.998, abs=1e-5)
    assert (depth[2:6] == 0).all()  # frames 1 and 2 have no scan
    # Frame 3: the point 10 m ahead of the LiDAR is (0, -0.08, 9.73) in camera 0, so
    # (0.06, -0.079, 9.732) in camera 2 -> (16.308, 9.594) and (-0.48, -0.08, 9.73) in
    # camera 3 -> (13.533, 9.589).
    assert torch.nonzero(depth[6]).tolist() == [[9, 16]] and depth[6, 9, 16].item() == pytest.approx(9.732, abs=1e-5)
    assert torch.nonzero(depth[7]).tolist() == [[9, 13]] and depth[7, 9, 13].item() == pytest.approx(9.73, abs=1e-5)

    lidar = ds.lidar
    assert lidar.frame_ids.tolist() == [0, 3] and lidar.offsets.tolist() == [0, 3, 4]
    # LiDAR at frame 0: at (0, -0.08, -0.27) in camera 0 -> world (-0.27, 0, 0.08), axes
    # forward = world x, left = world y, up = world z.
    assert torch.allclose(
        lidar.sensor_to_world[0],
        torch.tensor([[1.0, 0.0, 0.0, -0.27], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.08], [0.0, 0.0, 0.0, 1.0]]),
        atol=1e-6,
    )
    world = lidar.points_world()
    assert torch.allclose(world[0], torch.tensor([4.998, -0.46, 0.211]), atol=1e-5)  # NEAR_CAM0 (0.46, -0.211, 4.998)
    # Frame 3: 10 m ahead of the LiDAR = (0, -0.08, 9.73) in camera 0, turned right and 3 m
    # ahead -> (9.73, -0.08, 3) in the first camera 0 -> world (3, -9.73, 0.08).
    assert torch.allclose(world[3], torch.tensor([3.0, -9.73, 0.08]), atol=1e-5)
    assert torch.allclose(lidar.origins()[3], torch.tensor([3.0, 0.27, 0.08]), atol=1e-6)  # (-0.27, -0.08, 3) turned
    assert torch.allclose(lidar.ranges[3], torch.tensor(10.0)) and torch.allclose(
        lidar.directions[3], torch.tensor([0.0, -1.0, 0.0]), atol=1e-6
    )
    assert torch.allclose(lidar.intensity, torch.tensor(0.5))


def test_odometry_depth_at_downscale(tmp_path):
    write_odometry(tmp_path)
    ds = load_dataset(tmp_path, downscale=2)
    # Camera 2 at half size: the point's (21.2, 7.9) becomes (10.6, 3.95) -> column 10, row 3.
    assert torch.nonzero(ds.depths_z[0]).tolist() == [[3, 10]]
    assert (ds.cameras.cx == 8.0).all() and (ds.cameras.fx == 25.0).all()


def test_frames_and_cameras(tmp_path):
    write_odometry(tmp_path)
    ds = load_dataset(tmp_path, frames="1:4", cameras="3")
    assert ds.metadata["frame_ids"].tolist() == [1, 2, 3] and ds.metadata["camera_ids"].tolist() == [3, 3, 3]
    assert [p.name for p in ds.image_paths] == ["000001.png", "000002.png", "000003.png"]
    assert ds.lidar.frame_ids.tolist() == [3]
    assert load_dataset(tmp_path, frames="0:5:2").metadata["frame_ids"].tolist() == [0, 0, 2, 2, 4, 4]
    assert load_dataset(tmp_path, frames="3:").metadata["frame_ids"].tolist() == [3, 3, 4, 4]
    assert load_dataset(tmp_path, frames="2", cameras="3,2").metadata["camera_ids"].tolist() == [3, 2]
    # Whole frames are held out: every 2nd of frames 0..4 with both cameras.
    ds = load_dataset(tmp_path, holdout_every=2)
    assert ds.splits["test"].tolist() == [0, 1, 4, 5, 8, 9]
    assert ds.subset("test").metadata["frame_ids"].tolist() == [0, 0, 2, 2, 4, 4]
    for spec in ("a:b", "1:2:3:4", "-1:3", "0:4:0"):
        assert "frames" in one_line_error(lambda: load_dataset(tmp_path, frames=spec))
    assert "selects none" in one_line_error(lambda: load_dataset(tmp_path, frames="7:9"))
    assert "no images of camera 1" in one_line_error(lambda: load_dataset(tmp_path, cameras="1"))
    assert "camera numbers 0..3" in one_line_error(lambda: load_dataset(tmp_path, cameras="2,2"))


def test_sequence_folder_and_choice(tmp_path):
    seq = write_odometry(tmp_path, sequence="04")
    assert load_dataset(seq, frames="0:2").metadata["frame_ids"].tolist() == [0, 0, 1, 1]
    write_odometry(tmp_path, sequence="07", n_frames=2)
    message = one_line_error(lambda: load_dataset(tmp_path))
    assert message == f"{tmp_path / 'sequences'}: several sequences: choose one (available: 04, 07)"
    assert len(load_kitti_odometry(tmp_path, sequence="07")) == 4
    assert "sequence" in one_line_error(lambda: load_dataset(seq, sequence="07"))


def test_odometry_bad_inputs(tmp_path):
    seq = write_odometry(tmp_path / "no_p2", calib_keys=("P0", "P1", "P3", "Tr"))
    assert one_line_error(lambda: load_dataset(tmp_path / "no_p2")) == f"{seq / 'calib.txt'}: has no P2"
    assert len(load_dataset(tmp_path / "no_p2", cameras="3")) == 5

    write_odometry(tmp_path / "few_poses", n_poses=3)
    poses = tmp_path / "few_poses" / "poses" / "00.txt"
    assert (
        one_line_error(lambda: load_dataset(tmp_path / "few_poses"))
        == f"{poses}: has 3 poses but 00 has images of frame 4"
    )

    seq = write_odometry(tmp_path / "truncated")
    scan = seq / "velodyne" / "000003.bin"
    scan.write_bytes(scan.read_bytes()[:-3])
    message = one_line_error(lambda: load_dataset(tmp_path / "truncated"))
    assert message.startswith(f"{scan}: truncated velodyne scan: 13 bytes")

    seq = write_odometry(tmp_path / "bad_pose")
    poses = tmp_path / "bad_pose" / "poses" / "00.txt"
    lines = poses.read_text().splitlines()
    lines[2] = lines[2].replace(lines[2].split()[3], "nan")
    poses.write_text("\n".join(lines) + "\n")
    assert (
        one_line_error(lambda: load_dataset(tmp_path / "bad_pose"))
        == f"{poses}: line 3 is not 12 finite numbers (a 3x4 pose)"
    )

    seq = write_odometry(tmp_path / "missing_image")
    (seq / "image_3" / "000002.png").unlink()
    message = one_line_error(lambda: load_dataset(tmp_path / "missing_image"))
    assert message.startswith(f"{seq / 'image_3' / '000002.png'}: image of camera 3 at frame 2 not found")


@pytest.mark.skipif(not (KITTI / "poses" / "04.txt").is_file(), reason=f"KITTI odometry not found at {KITTI}")
def test_real_odometry_sequence():
    ds = load_dataset(KITTI, downscale=2, frames="0:10")
    assert len(ds) == 10 and ds.images.shape == (10, 185, 613, 3)
    assert ds.metadata["camera_ids"].unique().tolist() == [2]
    # Driving forward along world x on a level road, the cameras level.
    centres = ds.cameras.c2w[:, :3, 3]
    assert centres[-1, 0] - centres[0, 0] > 5 and (centres[:, 1:] - centres[0, 1:]).abs().max() < 1.5
    assert (ds.cameras.c2w[:, 2, 1] < -0.99).all()  # image down = world down
    # LiDAR: the road lies about 1.7 m below the cameras; every image gets sparse depth.
    lidar = ds.lidar
    assert len(lidar) == 10 and lidar.offsets[-1] == lidar.ranges.numel() and lidar.ranges.numel() > 1_000_000
    below = lidar.points_world()[::97]
    road = below[(below[:, :2] - lidar.origins()[::97, :2]).norm(dim=-1) < 10, 2]
    assert abs(road.quantile(0.1).item() - (centres[0, 2].item() - 1.65)) < 0.3
    valid = ds.depths_z > 0
    assert (valid.flatten(1).float().mean(1) > 0.05).all()
    assert 2.0 < ds.depths_z[valid].min() and ds.depths_z[valid].max() < 120.0


# --- raw -------------------------------------------------------------------------------

ALPHA = 0.02  # R_rect_00: rotation about camera 0's x axis
R_RECT = np.array([[1.0, 0.0, 0.0], [0.0, math.cos(ALPHA), -math.sin(ALPHA)], [0.0, math.sin(ALPHA), math.cos(ALPHA)]])
IMU_TO_VELO_T = np.array([-0.81, 0.32, -0.80])  # LiDAR 0.81 m ahead of, 0.32 m right of and 0.80 m above the IMU
LAT0, LON0, ALT0 = 49.0, 8.4, 110.0
# (dlat, dlon, dalt, yaw) per frame: frame 1 a little east, frame 2 a little north and turned north.
OXTS_MOVES = [(0.0, 0.0, 0.0, 0.0), (0.0, 1e-4, 0.0, 0.0), (1e-4, 0.0, 1.0, math.pi / 2)]
# East per 1e-4 degree of longitude at 49 degrees: 6378137 m * cos(49 deg) * 1e-4 * pi / 180.
EAST_1E4 = 7.303216
# North per 1e-4 degree of latitude (Mercator scaled by cos(lat0) is metric at lat0): 6378137 m * 1e-4 * pi / 180.
NORTH_1E4 = 11.131949


def write_raw(date_dir: Path, drive: str = "0001", n_frames: int = 3, oxts_override: dict | None = None) -> Path:
    date = date_dir.name
    drive_dir = date_dir / f"{date}_drive_{drive}_sync"
    time_line = "calib_time: 09-Jan-2012 13:57:47\n"
    (date_dir / "calib_cam_to_cam.txt").parent.mkdir(parents=True, exist_ok=True)
    (date_dir / "calib_cam_to_cam.txt").write_text(
        time_line
        + "corner_dist: 9.950000e-02\n"
        + f"S_00: 1.392000e+03 5.120000e+02\nK_00: {numbers(K)}\nR_rect_00: {numbers(R_RECT)}\n"
        + f"P_rect_00: {numbers(projection(np.zeros(3)))}\n"
        + f"S_rect_02: {WIDTH:.6e} {HEIGHT:.6e}\nR_rect_02: {numbers(np.eye(3))}\n"
        + f"P_rect_02: {numbers(projection(T2))}\n"
        + f"P_rect_03: {numbers(projection(T3))}\n"
    )
    (date_dir / "calib_velo_to_cam.txt").write_text(
        time_line + f"R: {numbers(LIDAR_R)}\nT: {numbers(LIDAR_T)}\ndelta_f: 0 0\ndelta_c: 0 0\n"
    )
    (date_dir / "calib_imu_to_velo.txt").write_text(
        time_line + f"R: {numbers(np.eye(3))}\nT: {numbers(IMU_TO_VELO_T)}\n"
    )
    for i in range(n_frames):
        for cam in (2, 3):
            write_png(drive_dir / f"image_0{cam}" / "data" / f"{i:010d}.png", seed=10 * i + cam)
        dlat, dlon, dalt, yaw = OXTS_MOVES[i]
        record = [LAT0 + dlat, LON0 + dlon, ALT0 + dalt, 0.0, 0.0, yaw] + [0.0] * 24
        record = (oxts_override or {}).get(i, record)
        (drive_dir / "oxts" / "data").mkdir(parents=True, exist_ok=True)
        (drive_dir / "oxts" / "data" / f"{i:010d}.txt").write_text(" ".join(str(v) for v in record) + "\n")
        write_bin(drive_dir / "velodyne_points" / "data" / f"{i:010d}.bin", [[10.0, 0.0, 0.0], [8.0, 1.0, -0.5]])
    return drive_dir


def test_raw_cameras_from_oxts(tmp_path):
    drive = write_raw(tmp_path / "2011_09_26")
    ds = load_dataset(drive)
    assert len(ds) == 6 and ds.metadata["frame_ids"].tolist() == [0, 0, 1, 1, 2, 2]
    assert (ds.cameras.cx == 16.0).all() and (ds.cameras.fy == 50.0).all()
    c, s = math.cos(ALPHA), math.sin(ALPHA)
    # Frame 0, the IMU at the origin facing east: camera x (right) = south (0, -1, 0); y and
    # z are R_rect_00^T's (0, c, -s) and (0, s, c) in camera 0, i.e. (-s, 0, -c) and
    # (c, 0, -s) in the LiDAR (= IMU) axes. Camera 2's centre -T2 in the rectified camera 0
    # is (-0.06, -0.0010398, -0.0019796) in camera 0, (0.2680204, 0.06, -0.0789602) in the
    # LiDAR and, the LiDAR at -IMU_TO_VELO_T, (1.0780204, -0.26, 0.7210398) from the IMU.
    x, y, z = 1.0780204, -0.26, 0.7210398
    expected = torch.tensor([[0.0, -s, c, x], [-1.0, 0.0, 0.0, y], [0.0, -c, -s, z], [0.0, 0.0, 0.0, 1.0]])
    assert torch.allclose(ds.cameras.c2w[0], expected, atol=1e-6)
    # Frame 1: same rotation, EAST_1E4 east.
    assert torch.allclose(ds.cameras.c2w[2, :3, 3], torch.tensor([x + EAST_1E4, y, z]), atol=1e-4)
    assert torch.allclose(ds.cameras.c2w[2, :3, :3], expected[:3, :3], atol=1e-6)
    # Frame 2: turned to face north ((x, y) -> (-y, x)), NORTH_1E4 north and 1 m up.
    assert torch.allclose(ds.cameras.c2w[4, :3, 3], torch.tensor([-y, x + NORTH_1E4, z + 1.0]), atol=1e-4)
    assert torch.allclose(ds.cameras.c2w[4, :3, 2], torch.tensor([0.0, c, -s]).float(), atol=1e-5)


def test_raw_lidar_lands_where_the_devkit_projects_it(tmp_path):
    drive = write_raw(tmp_path / "2011_09_26", n_frames=1)
    # The devkit's projection of a LiDAR point into camera 2: y = P_rect_02 R_rect_00 Tr_velo_to_cam x.
    rect = np.eye(4)
    rect[:3, :3] = R_RECT
    velo_to_cam = np.eye(4)
    velo_to_cam[:3, :3], velo_to_cam[:3, 3] = LIDAR_R, LIDAR_T
    points = np.array([[6.0, -0.3, 0.2], [12.0, 0.9, -1.1], [-5.0, 0.0, 0.0]])  # the last one behind
    write_bin(drive / "velodyne_points" / "data" / "0000000000.bin", points)
    y = (projection(T2) @ rect @ velo_to_cam @ np.c_[points, np.ones(3)].T).T
    ds = load_dataset(drive, cameras="2")
    assert ds.depths_z[0].count_nonzero() == 2
    for u, v, w in y[:2]:
        column, row = math.floor(u / w + 0.5), math.floor(v / w + 0.5)  # KITTI pixel centres at integers
        assert ds.depths_z[0, row, column].item() == pytest.approx(w, abs=1e-4)  # P_rect_02's w is depth_z in camera 2
    # Rays: the LiDAR sits at -IMU_TO_VELO_T from the IMU at the origin.
    assert torch.allclose(ds.lidar.origins()[0], torch.tensor(-IMU_TO_VELO_T).float())
    assert torch.allclose(ds.lidar.points_world(), torch.tensor(points - IMU_TO_VELO_T).float(), atol=1e-5)


def test_raw_date_folder_and_frames(tmp_path):
    date = tmp_path / "2011_09_26"
    write_raw(date)
    ds = load_dataset(date, frames="1:", cameras="3")
    assert ds.metadata["frame_ids"].tolist() == [1, 2] and ds.lidar.frame_ids.tolist() == [1, 2]
    # The world origin stays at frame 0's IMU whatever frames are read.
    assert torch.allclose(ds.lidar.origins()[0], torch.tensor(-IMU_TO_VELO_T + [EAST_1E4, 0.0, 0.0]).float(), atol=1e-3)
    write_raw(date, drive="0002")
    assert "found: 2011_09_26_drive_0001_sync, 2011_09_26_drive_0002_sync" in one_line_error(lambda: load_dataset(date))
    assert "sequence" in one_line_error(lambda: load_dataset(date / "2011_09_26_drive_0001_sync", sequence="00"))


def test_raw_bad_inputs(tmp_path):
    record = [LAT0, float("nan"), ALT0, 0.0, 0.0, 0.0] + [0.0] * 24
    drive = write_raw(tmp_path / "a" / "2011_09_26", oxts_override={1: record})
    oxts = drive / "oxts" / "data" / "0000000001.txt"
    assert one_line_error(lambda: load_dataset(drive)).startswith(f"{oxts}: OXTS position or orientation is not finite")
    assert len(load_dataset(drive, frames="2")) == 2  # frame 1 not read

    drive = write_raw(tmp_path / "b" / "2011_09_26", oxts_override={0: [1.0, 2.0]})
    assert (
        one_line_error(lambda: load_dataset(drive))
        == f"{drive / 'oxts' / 'data' / '0000000000.txt'}: OXTS record must be 30 numbers, got 2"
    )

    drive = write_raw(tmp_path / "c" / "2011_09_26")
    calib = drive.parent / "calib_cam_to_cam.txt"
    calib.write_text("\n".join(line for line in calib.read_text().splitlines() if not line.startswith("P_rect_03")))
    assert one_line_error(lambda: load_dataset(drive)) == f"{calib}: has no P_rect_03"

    drive = write_raw(tmp_path / "d" / "2011_09_26")
    scan = drive / "velodyne_points" / "data" / "0000000001.bin"
    scan.write_bytes(scan.read_bytes() + b"\0")
    assert one_line_error(lambda: load_dataset(drive)).startswith(f"{scan}: truncated velodyne scan: 33 bytes")

    drive = write_raw(tmp_path / "e" / "2011_09_26")
    (drive / "oxts" / "data" / "0000000002.txt").unlink()
    assert (
        one_line_error(lambda: load_dataset(drive))
        == f"{drive / 'oxts' / 'data' / '0000000002.txt'}: OXTS record of frame 2 not found"
    )
