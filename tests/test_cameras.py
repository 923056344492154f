"""Cameras: distortion inverses, rays, projection round trips, rescaling, conventions."""

import math

import pytest
import torch

from nerfgen.cameras import (
    Cameras,
    check_poses,
    depth_z_to_range,
    distort,
    generate_rays,
    opencv_to_opengl,
    opengl_to_opencv,
    pixel_centres,
    project,
    range_to_depth_z,
    undistort,
    unproject,
)
from nerfgen.errors import NerfgenError

# Realistic coefficients: a mildly barrel-distorted phone lens and a GoPro-like fisheye.
COEFFS = {
    "none": [],
    "opencv": [-0.12, 0.03, 0.001, -0.0015, -0.004],
    "fisheye": [0.05, -0.01, 0.004, -0.0008],
}


def look_at_pose(eye, target, up=(0.0, 0.0, 1.0)) -> torch.Tensor:
    """OpenCV camera-to-world looking from eye at target (z forward, y down)."""
    eye, target, up = (torch.tensor(v, dtype=torch.float64) for v in (eye, target, up))
    z = target - eye
    z = z / z.norm()
    x = torch.linalg.cross(z, up)
    x = x / x.norm()
    y = torch.linalg.cross(z, x)
    c2w = torch.eye(4, dtype=torch.float64)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = x, y, z, eye
    return c2w.float()


def make_camera(model="none", width=640, height=480, fx=500.0, fy=520.0, cx=None, cy=None):
    c2w = look_at_pose((2.0, -3.0, 1.5), (0.0, 0.0, 0.3))
    return Cameras.create(
        c2w,
        fx,
        fy,
        width / 2 + 3.5 if cx is None else cx,
        height / 2 - 2.25 if cy is None else cy,
        width,
        height,
        distortion=model,
        dist_coeffs=COEFFS[model] if model != "none" else None,
    )


@pytest.mark.parametrize("model", ["opencv", "fisheye"])
def test_undistort_inverts_distort(model):
    g = torch.Generator().manual_seed(0)
    xy = (torch.rand(5000, 2, generator=g, dtype=torch.float64) - 0.5) * 1.6  # up to ~48 deg off axis
    coeffs = torch.tensor(COEFFS[model], dtype=torch.float64).expand(len(xy), -1)
    back = undistort(distort(xy, model, coeffs), model, coeffs)
    assert (back - xy).abs().max() < 1e-6
    # The distortion is not the identity, so the test exercises the model.
    assert (distort(xy, model, coeffs) - xy).abs().max() > 1e-3


def test_fisheye_matches_opencv_formula():
    x, y = 0.3, -0.4
    k = COEFFS["fisheye"]
    r = math.hypot(x, y)
    theta = math.atan(r)
    theta_d = theta * (1 + k[0] * theta**2 + k[1] * theta**4 + k[2] * theta**6 + k[3] * theta**8)
    expected = torch.tensor([[x * theta_d / r, y * theta_d / r]], dtype=torch.float64)
    got = distort(torch.tensor([[x, y]], dtype=torch.float64), "fisheye", torch.tensor([k], dtype=torch.float64))
    assert torch.allclose(got, expected, atol=1e-12)


def test_opencv_matches_formula():
    x, y = 0.25, 0.1
    k1, k2, p1, p2, k3 = COEFFS["opencv"]
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    got = distort(torch.tensor([[x, y]], dtype=torch.float64), "opencv", torch.tensor([COEFFS["opencv"]]))
    assert torch.allclose(got, torch.tensor([[xd, yd]], dtype=torch.float64), atol=1e-7)


@pytest.mark.parametrize("model", ["none", "opencv", "fisheye"])
def test_project_unproject_round_trip_full_image(model):
    cam = make_camera(model)
    uv = pixel_centres(640, 480)[::7].double()  # every 7th pixel: all rows, columns spread over the width
    # Include the exact image corners, where distortion is strongest.
    uv = torch.cat([uv, torch.tensor([[0.0, 0.0], [640.0, 0.0], [0.0, 480.0], [640.0, 480.0]], dtype=torch.float64)])
    depth = torch.linspace(0.5, 20.0, len(uv), dtype=torch.float64)
    points = unproject(cam, 0, uv, depth)
    uv2, depth2 = project(cam, 0, points)
    assert (uv2 - uv).abs().max() < 1e-4
    # float32 rotations are orthonormal to ~1e-7, which bounds the depth agreement.
    assert ((depth2 - depth) / depth).abs().max() < 1e-6


def test_pinhole_rays_known_directions():
    W, H, fx, fy, cx, cy = 8, 6, 10.0, 12.0, 4.0, 3.0
    c2w = look_at_pose((1.0, 2.0, 3.0), (0.0, 0.0, 0.0))
    cam = Cameras.create(c2w, fx, fy, cx, cy, W, H)
    # Principal point ray is the camera z axis in world.
    rays = generate_rays(cam, 0, torch.tensor([[cx, cy]]))
    assert torch.allclose(rays.directions[0], c2w[:3, 2], atol=1e-6)
    assert torch.allclose(rays.origins[0], c2w[:3, 3])
    assert rays.z_cam[0] == pytest.approx(1.0)
    # Top-left pixel centre (0.5, 0.5), by hand.
    all_rays = generate_rays(cam, 0)
    d_cam = torch.tensor([(0.5 - cx) / fx, (0.5 - cy) / fy, 1.0])
    d_cam = d_cam / d_cam.norm()
    assert torch.allclose(all_rays.directions[0], c2w[:3, :3] @ d_cam, atol=1e-6)
    assert all_rays.z_cam[0] == pytest.approx(d_cam[2].item(), abs=1e-6)
    # Row-major: pixel (col 7, row 0) is index 7, (col 0, row 1) is index 8.
    assert torch.equal(pixel_centres(W, H)[7], torch.tensor([7.5, 0.5]))
    assert torch.equal(pixel_centres(W, H)[8], torch.tensor([0.5, 1.5]))
    assert torch.allclose(all_rays.directions.norm(dim=-1), torch.ones(W * H), atol=1e-6)


@pytest.mark.parametrize("model", ["none", "opencv", "fisheye"])
def test_rays_hit_the_points_that_project_to_their_pixels(model):
    cam = make_camera(model)
    pix = pixel_centres(640, 480)[::97].double()
    rays = generate_rays(cam, 0, pix)
    depth_z = torch.linspace(1.0, 9.0, len(pix), dtype=torch.float64)
    rng = depth_z_to_range(depth_z, rays.z_cam)
    points = rays.origins + rays.directions * rng[:, None]
    assert torch.allclose(points, unproject(cam, 0, pix, depth_z), atol=1e-9)
    uv, dz = project(cam, 0, points)
    assert (uv - pix).abs().max() < 1e-4
    assert torch.allclose(range_to_depth_z(rng, rays.z_cam), dz, atol=1e-9)
    assert torch.allclose((points - rays.origins).norm(dim=-1), rng, atol=1e-9)


def test_rescale_halves_projection():
    cam = make_camera("opencv", width=641, height=480)
    half = cam.rescaled(2)
    assert (half.width.item(), half.height.item()) == (320, 240)  # floor(641 / 2)
    points = unproject(
        cam,
        0,
        torch.tensor([[100.0, 50.0], [320.0, 240.0], [600.5, 470.25]], dtype=torch.float64),
        torch.tensor([2.0, 3.0, 4.0], dtype=torch.float64),
    )
    uv_full, _ = project(cam, 0, points)
    uv_half, _ = project(half, 0, points)
    assert torch.allclose(uv_half, uv_full / 2, atol=1e-9)
    # Pixel-centre convention: the centre of full-res pixel block (0..1, 0..1) is (1, 1),
    # which is the centre (0.5, 0.5) of downsampled pixel 0.
    assert torch.allclose(half.cx, cam.cx / 2) and torch.allclose(half.fx, cam.fx / 2)


def test_indexing_and_K():
    c2w = torch.eye(4).expand(3, 4, 4)
    cams = Cameras.create(c2w, [100.0, 200.0, 300.0], 110.0, 50.0, 40.0, 100, 80)
    assert len(cams) == 3
    assert cams[1].fx.tolist() == [200.0]
    assert cams[-1].fx.tolist() == [300.0]
    assert cams[1:].fx.tolist() == [200.0, 300.0]
    assert cams[torch.tensor([2, 0])].fx.tolist() == [300.0, 100.0]
    K = cams.K()
    assert torch.equal(K[2], torch.tensor([[300.0, 0, 50.0], [0, 110.0, 40.0], [0, 0, 1.0]]))
    with pytest.raises(IndexError):
        cams[3]


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        (dict(distortion="kannala"), "unknown distortion model"),
        (dict(distortion="opencv", dist_coeffs=[0.1, 0.2]), "takes 5 coefficients"),
        (dict(fx=0.0), "focal length fx must be positive"),
        (dict(fy=-3.0), "focal length fy must be positive"),
        (dict(width=0), "image width must be positive"),
    ],
)
def test_create_rejects_bad_values(kwargs, problem):
    args = dict(c2w=torch.eye(4), fx=100.0, fy=100.0, cx=50.0, cy=50.0, width=100, height=100)
    args.update(kwargs)
    with pytest.raises(NerfgenError, match=problem) as e:
        Cameras.create(**args, path="cams.json")
    assert str(e.value).startswith("cams.json: ")


def test_opengl_opencv_round_trip_exact():
    g = torch.Generator().manual_seed(1)
    c2w = torch.randn(10, 4, 4, generator=g)
    assert torch.equal(opencv_to_opengl(opengl_to_opencv(c2w)), c2w)
    assert torch.equal(opengl_to_opencv(opencv_to_opengl(c2w)), c2w)
    # OpenGL looks down -z: the OpenCV forward axis is the negated OpenGL z column.
    gl = look_at_pose((1.0, 1.0, 1.0), (0.0, 0.0, 0.0))
    assert torch.equal(opengl_to_opencv(gl)[:3, 2], -gl[:3, 2])
    assert torch.equal(opengl_to_opencv(gl)[:3, 0], gl[:3, 0])


@pytest.mark.parametrize(
    "corrupt, problem",
    [
        (lambda p: p.__setitem__((1, 0, 0), float("nan")), "pose 1 contains NaN"),
        (lambda p: p[1, :3, :3].mul_(2.0), "pose 1 rotation is not rigid"),
        (lambda p: p[1, :3, 0].neg_(), "pose 1 rotation is not rigid"),  # mirror: det -1
        (lambda p: p.__setitem__((1, 3, 0), 0.5), "pose 1 has bottom row"),
    ],
)
def test_check_poses(corrupt, problem):
    poses = torch.stack([look_at_pose((1.0, 2.0, 3.0), (0.0, 0.0, 0.0))] * 2)
    check_poses(poses, "poses.json")
    corrupt(poses)
    with pytest.raises(NerfgenError, match=problem) as e:
        check_poses(poses, "poses.json")
    assert "poses.json" in str(e.value)


def test_fisheye_wider_than_180_degrees():
    """An equidistant fisheye with a 200 degree field of view: edge rays are 99 degrees
    off axis (pointing backwards), and projecting points along them returns the pixels."""
    import math

    from nerfgen.cameras import Cameras, generate_rays, pixel_centres, project

    size = 101
    focal = (size / 2) / math.radians(100)  # equidistant: r = f * theta
    cams = Cameras.create(
        c2w=torch.eye(4)[None],
        fx=focal,
        fy=focal,
        cx=size / 2,
        cy=size / 2,
        width=size,
        height=size,
        distortion="fisheye",
        dist_coeffs=torch.zeros(1, 4),
    )
    rays = generate_rays(cams, 0)
    z = rays.directions.reshape(size, size, 3)[50, :, 2]
    theta_edge = math.degrees(math.acos(float(z[0])))
    assert abs(theta_edge - (size / 2 - 0.5) / focal * 180 / math.pi) < 1e-4  # 99.0099 deg
    assert float(z[0]) < 0  # beyond 90 degrees the ray points behind the image plane
    uv, _ = project(cams, 0, (rays.directions * 3.0).double())
    assert (uv.float() - pixel_centres(size, size)).abs().max() < 1e-3
