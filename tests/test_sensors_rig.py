"""Camera rigs on an ego frame: index order, mounting, distortion models (fisheye FOV)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nerfgen.cameras import generate_rays, project
from nerfgen.errors import NerfgenError
from nerfgen.sensors.frames import FORWARD_CAMERA_TO_EGO, camera_mount, ego_poses, mount
from nerfgen.sensors.rig import CameraRig, RigCamera, rig_cameras
from nerfgen.sensors.trajectories import drive

FISHEYE_COEFFS = (0.02, -0.004, 0.001, -0.0002)


def pinhole(name, yaw, distortion="none", coeffs=()):
    return RigCamera(
        name, camera_mount((1.5, 0.0, 1.6), yaw_deg=yaw), 40.0, 40.0, 32.0, 24.0, 64, 48, distortion, coeffs
    )


def fisheye_radius(theta):
    """Distorted normalised radius of a ray `theta` radians off the optical axis (OpenCV fisheye)."""
    k1, k2, k3, k4 = FISHEYE_COEFFS
    t2 = theta**2
    return theta * (1 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4))))


def fisheye(name, yaw, half_fov_deg=89.0, size=100):
    # the left/right image edge centres look half_fov_deg off the optical axis
    f = (size / 2) / fisheye_radius(math.radians(half_fov_deg))
    return RigCamera(
        name,
        camera_mount((0.0, 0.0, 1.0), yaw_deg=yaw),
        f,
        f,
        size / 2,
        size / 2,
        size,
        size,
        "fisheye",
        FISHEYE_COEFFS,
    )


def test_frames_conventions():
    # a forward camera's optical axis is ego x, its image right is ego -y, image down ego -z
    np.testing.assert_array_equal(FORWARD_CAMERA_TO_EGO[:3, :3] @ [0, 0, 1], [1, 0, 0])
    np.testing.assert_array_equal(FORWARD_CAMERA_TO_EGO[:3, :3] @ [1, 0, 0], [0, -1, 0])
    np.testing.assert_allclose(mount(yaw_deg=90)[:3, :3] @ [1, 0, 0], [0, 1, 0], atol=1e-15)  # yaw 90 = left
    np.testing.assert_allclose(mount(pitch_deg=10)[:3, :3] @ [1, 0, 0] @ [0, 0, 1], -math.sin(math.radians(10)))
    # a drive trajectory's ego frame: x along the road, z up
    ego = ego_poses(drive([[0.0, 0.0], [0.0, 10.0]], 1.0, 1.0, 2, height=0.0))
    np.testing.assert_allclose(ego[:, :3, :3], [[[0, -1, 0], [1, 0, 0], [0, 0, 1]]] * 2, atol=1e-15)


def test_rig_index_order_and_mounting():
    rig = CameraRig(
        (pinhole("front", 0.0), pinhole("left", 90.0), pinhole("rear", 180.0, "opencv", (-0.1, 0.01, 0.0, 0.0, 0.0)))
    )
    ego = ego_poses(drive([[-20.0, -1.75], [20.0, -1.75]], 10.0, 10.0, 3, height=0.0))
    cams = rig_cameras(rig, ego)
    assert len(cams) == 9 and cams.distortion == "opencv"  # pinhole joins as zero-coefficient opencv
    for i in range(3):
        for k, cam in enumerate(rig.cameras):
            np.testing.assert_allclose(cams.c2w[3 * i + k].double().numpy(), ego[i] @ cam.camera_to_ego, atol=1e-5)
    np.testing.assert_array_equal(cams.dist_coeffs[[0, 1]].numpy(), 0.0)
    # the principal ray of each camera looks along its yaw in the world (ego x = +x here)
    centre = torch.tensor([[32.0, 24.0]])
    for k, expected in enumerate([[1, 0, 0], [0, 1, 0], [-1, 0, 0]]):
        ray = generate_rays(cams, 3 + k, centre)
        np.testing.assert_allclose(ray.directions[0].numpy(), expected, atol=1e-6)
        np.testing.assert_allclose(ray.origins[0].numpy(), ego[1, :3, 3] + ego[1, :3, :3] @ [1.5, 0, 1.6], atol=1e-5)
    only_rear = rig_cameras(rig, ego, names=["rear"])
    assert len(only_rear) == 3 and torch.equal(only_rear.c2w, cams.c2w[2::3])


def test_rig_rejects_mixed_fisheye_and_unknown_names():
    rig = CameraRig((pinhole("front", 0.0), fisheye("left_fisheye", 90.0)))
    ego = np.eye(4)[None]
    with pytest.raises(NerfgenError, match="mix distortion models"):
        rig_cameras(rig, ego)
    with pytest.raises(NerfgenError, match="no camera 'back'"):
        rig_cameras(rig, ego, names=["back"])
    with pytest.raises(NerfgenError, match="needs coefficients"):
        rig_cameras(CameraRig((pinhole("bad", 0.0, "opencv", (0.1,)),)), ego)
    assert rig_cameras(rig, ego, names=["left_fisheye"]).distortion == "fisheye"


def test_fisheye_rays_cover_about_180_degrees_and_project_back():
    rig = CameraRig((fisheye("left", 90.0),))
    ego = mount((5.0, 2.0, 0.0), yaw_deg=30.0)[None]
    cams = rig_cameras(rig, ego)
    bundle = generate_rays(cams, 0)  # all pixel centres, float32
    axis = (ego[0] @ rig.cameras[0].camera_to_ego)[:3, 2]
    theta = np.arccos(np.clip(bundle.directions.double().numpy() @ axis, -1, 1))  # off-axis angle per pixel
    uv = torch.stack(torch.meshgrid(torch.arange(100) + 0.5, torch.arange(100) + 0.5, indexing="xy"), -1).reshape(-1, 2)
    r_d = ((uv.double() - 50.0) / float(cams.fx[0])).norm(dim=-1).numpy()
    # nerfgen.cameras builds rays through the z = 1 plane, so only the image circle
    # within 90 degrees of the axis is representable; corners beyond it are not tested.
    circle = r_d <= fisheye_radius(math.radians(89.0))
    assert circle.mean() > 0.75
    np.testing.assert_allclose(fisheye_radius(theta[circle]), r_d[circle], atol=2e-5)  # exact lens model
    # left and right edge-centre rays span 2 x 89 = 178 degrees
    edge = generate_rays(cams, 0, torch.tensor([[0.0, 50.0], [100.0, 50.0]], dtype=torch.float64)).directions.numpy()
    assert math.degrees(math.acos(edge[0] @ edge[1])) == pytest.approx(178.0, abs=1e-3)  # fx is float32
    # the image centre looks left of the ego heading (yaw 30 + 90 degrees in the world)
    centre = generate_rays(cams, 0, torch.tensor([[50.0, 50.0]], dtype=torch.float64)).directions[0].numpy()
    np.testing.assert_allclose(centre, [math.cos(math.radians(120)), math.sin(math.radians(120)), 0.0], atol=1e-12)
    # points along every ray project back onto their pixels
    points = bundle.origins.double() + 7.0 * bundle.directions.double()
    uv_back, depth_z = project(cams, 0, points[circle])
    assert (depth_z > 0).all()
    np.testing.assert_allclose(uv_back.numpy(), uv[circle].double().numpy(), atol=2e-3)
