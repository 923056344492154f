"""COLMAP models built with pycolmap: poses, intrinsics and projection agree with COLMAP's."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nerfgen.cameras import project
from nerfgen.data import load_colmap, load_dataset, read_colmap
from nerfgen.errors import NerfgenError

pycolmap = pytest.importorskip("pycolmap")

# (model name, params) for two cameras of each case; sizes 40x30 and 32x24.
CASES = {
    "pinhole+radial": [
        ("PINHOLE", [35.0, 36.0, 20.5, 14.75]),
        ("SIMPLE_RADIAL", [30.0, 16.0, 12.0, -0.08]),
    ],
    "opencv": [
        ("OPENCV", [35.0, 36.0, 20.5, 14.75, -0.1, 0.02, 0.001, -0.002]),
        ("OPENCV", [30.0, 31.0, 16.0, 12.0, 0.05, -0.01, 0.0005, 0.0]),
    ],
    "fisheye": [
        ("OPENCV_FISHEYE", [25.0, 25.5, 20.0, 15.0, 0.04, -0.01, 0.002, -0.0004]),
        ("OPENCV_FISHEYE", [30.0, 30.0, 16.0, 12.0, -0.02, 0.004, 0.0, 0.0]),
    ],
    "simple-pinhole": [("SIMPLE_PINHOLE", [30.0, 20.0, 15.0]), ("SIMPLE_PINHOLE", [28.0, 16.0, 12.0])],
}
SIZES = [(40, 30), (32, 24)]


def build_model(root: Path, cameras) -> list[np.ndarray]:
    """Writes root/sparse/0 and root/images (3 images); returns each image's world-to-camera 3x4."""
    rec = pycolmap.Reconstruction()
    for cam_id, ((model, params), (w, h)) in enumerate(zip(cameras, SIZES), start=1):
        cam = pycolmap.Camera.create_from_model_name(cam_id, model, 1.0, w, h)
        cam.params = params
        rec.add_camera_with_trivial_rig(cam)
    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    poses = []
    for image_id, cam_id in ((1, 1), (2, 2), (3, 1)):
        quat = rng.normal(size=4)
        pose = pycolmap.Rigid3d(pycolmap.Rotation3d(quat / np.linalg.norm(quat)), rng.normal(size=3))
        name = f"frame_{image_id:02d}.png"
        rec.add_image_with_trivial_frame(pycolmap.Image(name=name, camera_id=cam_id, image_id=image_id), pose)
        w, h = SIZES[cam_id - 1]
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(root / "images" / name)
        poses.append(pose.matrix())
    (root / "sparse" / "0").mkdir(parents=True)
    rec.write(str(root / "sparse" / "0"))
    return poses


@pytest.mark.parametrize("case", list(CASES))
def test_colmap_poses_intrinsics_projection(tmp_path, case):
    w2c = build_model(tmp_path, CASES[case])
    index_sizes = [SIZES[0], SIZES[1], SIZES[0]]
    idx = read_colmap(tmp_path)
    assert [p.name for p in (f.image for f in idx.frames)] == ["frame_01.png", "frame_02.png", "frame_03.png"]
    cams = idx.cameras
    assert list(zip(cams.width.tolist(), cams.height.tolist())) == index_sizes
    rec = pycolmap.Reconstruction(str(tmp_path / "sparse" / "0"))
    for i in range(3):
        expected = np.eye(4)
        expected[:3] = w2c[i]
        assert torch.allclose(cams.c2w[i].double(), torch.from_numpy(np.linalg.inv(expected)), atol=1e-6)
        # Projection agrees with COLMAP's own camera model (same pixel convention).
        camera = rec.cameras[rec.images[i + 1].camera_id]
        rng = np.random.default_rng(i)
        p_cam = np.concatenate([rng.uniform(-0.3, 0.3, (50, 2)), np.ones((50, 1))], -1) * rng.uniform(1, 5, (50, 1))
        uv_colmap = camera.img_from_cam(p_cam)
        p_world = torch.from_numpy(p_cam) @ cams.c2w[i, :3, :3].double().T + cams.c2w[i, :3, 3].double()
        uv, depth_z = project(cams, i, p_world)
        assert np.abs(uv.numpy() - uv_colmap).max() < 1e-4
        assert np.allclose(depth_z.numpy(), p_cam[:, 2], atol=1e-5)
    assert torch.equal(cams.fx[0], torch.tensor(CASES[case][0][1][0]))


def test_colmap_single_size_loads_images(tmp_path):
    build_model(tmp_path, [("PINHOLE", [35.0, 36.0, 20.0, 15.0])] * 2)
    # Give both cameras the same size by rewriting image 2 and its camera.
    rec = pycolmap.Reconstruction(str(tmp_path / "sparse" / "0"))
    cam = rec.cameras[2]
    cam.width, cam.height = SIZES[0]
    rec.write(str(tmp_path / "sparse" / "0"))
    Image.new("RGB", SIZES[0], (255, 0, 0)).save(tmp_path / "images" / "frame_02.png")
    ds = load_dataset(tmp_path, downscale=2)
    assert ds.images.shape == (3, 15, 20, 3)
    assert torch.equal(ds.images[1], torch.tensor([1.0, 0.0, 0.0]).expand(15, 20, 3))
    assert torch.equal(ds.cameras.fx, torch.full((3,), 17.5)) and ds.splits["train"].tolist() == [0, 1, 2]


def test_colmap_bad_input(tmp_path):
    build_model(tmp_path, CASES["opencv"])
    (tmp_path / "images" / "frame_02.png").unlink()
    with pytest.raises(NerfgenError, match="frame_02.png") as e:
        load_colmap(tmp_path)
    assert "not found" in str(e.value)
    (tmp_path / "images" / "frame_02.png").write_bytes(b"")
    (tmp_path / "sparse" / "0" / "cameras.bin").write_bytes(b"\x01\x02")
    with pytest.raises(NerfgenError, match="cannot read COLMAP model"):
        load_colmap(tmp_path)


def test_colmap_fisheye_with_pinhole_is_rejected(tmp_path):
    build_model(tmp_path, [CASES["fisheye"][0], ("PINHOLE", [30.0, 30.0, 16.0, 12.0])])
    with pytest.raises(NerfgenError, match="mix distortion models"):
        read_colmap(tmp_path)
