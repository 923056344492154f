"""Pose estimation on an analytic textured sphere (exact field, so only the optimiser is
under test): SE(3) exp/log, the pose gradient against finite differences, camera
localisation from a 10 degree perturbation, parallel hypotheses, and an object's pose in
a composed scene."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
import roma
import torch

from nerfgen.cameras import Cameras, focal_from_fov, look_at
from nerfgen.fields.base import FieldOutput
from nerfgen.ops.occupancy_grid import OccupancyGrid
from nerfgen.pose import (
    LocalizeConfig,
    localize,
    localize_object,
    rotation_error_deg,
    se3_exp,
    se3_log,
    translation_error,
)
from nerfgen.pose.lie import hat, random_twists
from nerfgen.pose.localize import (
    camera_frame_directions,
    camera_renderer,
    median_depth,
    pose_twists,
    sliding_free_origins,
    twist_poses,
)
from nerfgen.pose.optimize import best_hypotheses, pixel_centres_of
from nerfgen.render.image import render_image
from nerfgen.render.volume import RenderConfig
from nerfgen.scene import SceneField, render_composed_rays
from nerfgen.train.config import RunConfig, TrainConfig
from nerfgen.train.run import TrainedField

RADIUS = 0.45
FLOOR_Z = -0.5
SIZE = (48, 36)  # width, height
RENDER = RenderConfig(steps_per_diagonal=128)
EYE = (2.0, -1.2, 1.0)


class TexturedSphereOnFloor(torch.nn.Module):
    """An opaque sphere on a floor slab inside [-1,1]^3, coloured by smooth bands of
    position: depth differences and texture make the pose observable. Every edge is soft
    (~2 cm), the floor's included, so colours are smooth in the pose and finite
    differences are meaningful."""

    aabb = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])

    def __init__(self, floor: bool = True):
        super().__init__()
        self.floor = floor

    def density(self, x):
        solid = torch.sigmoid((RADIUS - x.norm(dim=-1)) * 50.0)
        if self.floor:
            window = torch.sigmoid((0.9 - x[:, :2].abs()) * 50.0).prod(-1)
            solid = solid + torch.sigmoid((FLOOR_Z - x[:, 2]) * 50.0) * window
        return 300.0 * solid

    def forward(self, x, d, normals=False):
        rgb = 0.5 + 0.4 * torch.sin(
            torch.stack([5 * x[:, 0] + 1, 4 * x[:, 1] - 3 * x[:, 2], 3 * x[:, 0] + 6 * x[:, 2] + 2], -1)
        )
        normal = None
        if normals:
            with torch.enable_grad():
                p = x.detach().requires_grad_(True)
                (grad,) = torch.autograd.grad(self.density(p).sum(), p)
            normal = -torch.nn.functional.normalize(grad, dim=-1)
        return FieldOutput(self.density(x), rgb, normal, None)


def occupancy_grid(field: TexturedSphereOnFloor) -> OccupancyGrid:
    """The cells at the boundary of the solid (one cell either side), so rays get few samples."""
    grid = OccupancyGrid(field.aabb.reshape(6), resolution=16)
    grid.mark_from_density(field.density, 1.0)

    def dilate(cells: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.max_pool3d(cells[None].float(), 3, stride=1, padding=1)[0] > 0

    solid = grid.binaries
    grid.binaries.copy_(dilate(solid) & dilate(~solid))
    return grid


def sphere_run() -> TrainedField:
    config = RunConfig(
        data="",
        downscale=1,
        aabb=(-1.0, -1.0, -1.0, 1.0, 1.0, 1.0),
        render=RENDER,
        train=TrainConfig(background=(1.0, 1.0, 1.0)),
    )
    field = TexturedSphereOnFloor()
    return TrainedField(config, field, occupancy_grid(field), 0, Path("analytic"))


def camera(c2w: torch.Tensor) -> Cameras:
    w, h = SIZE
    f = focal_from_fov(math.radians(50.0), w)
    return Cameras.create(c2w, f, f, w / 2, h / 2, w, h)


def gt_pose() -> torch.Tensor:
    return torch.from_numpy(look_at([EYE], [(0.0, 0.0, 0.0)])[0]).float()


def perturbed(pose: torch.Tensor, rotation_deg: float, translation: float, seed: int) -> torch.Tensor:
    """pose rotated by exactly rotation_deg about a random axis through its centre and moved by `translation` metres."""
    g = torch.Generator().manual_seed(seed)
    axis = torch.nn.functional.normalize(torch.randn(3, generator=g, dtype=torch.float64), dim=0)
    direction = torch.nn.functional.normalize(torch.randn(3, generator=g, dtype=torch.float64), dim=0)
    out = pose.double().clone()
    out[:3, :3] = out[:3, :3] @ roma.rotvec_to_rotmat(axis * math.radians(rotation_deg))
    out[:3, 3] += translation * direction
    return out.float()


def target_image(trained: TrainedField, c2w: torch.Tensor) -> torch.Tensor:
    return render_image(trained.field, trained.grid, camera(c2w), 0, RENDER, (1.0, 1.0, 1.0)).rgb


# -- SE(3) ------------------------------------------------------------------------------


def test_se3_exp_matches_the_matrix_exponential_and_log_inverts_it():
    g = torch.Generator().manual_seed(0)
    xi = torch.cat(
        [
            random_twists(64, 170.0, 2.0, g),
            1e-5 * torch.randn(8, 6, generator=g, dtype=torch.float64),
            torch.zeros(1, 6, dtype=torch.float64),
        ]
    )
    twist_matrix = torch.zeros(len(xi), 4, 4, dtype=torch.float64)
    twist_matrix[:, :3, :3] = hat(xi[:, 3:])
    twist_matrix[:, :3, 3] = xi[:, :3]
    pose = se3_exp(xi)
    torch.testing.assert_close(pose, torch.linalg.matrix_exp(twist_matrix), atol=1e-12, rtol=0)
    torch.testing.assert_close(se3_log(pose), xi, atol=1e-9, rtol=0)
    torch.testing.assert_close(pose[:, :3, :3], roma.rotvec_to_rotmat(xi[:, 3:]), atol=1e-12, rtol=0)


def test_se3_exp_gradient_is_finite_at_the_identity_and_matches_finite_differences():
    xi = torch.zeros(6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(se3_exp, (xi,))
    xi = (0.3 * torch.randn(6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))).requires_grad_(True)
    assert torch.autograd.gradcheck(se3_exp, (xi,))
    assert torch.autograd.gradcheck(se3_log, (se3_exp(xi).detach().requires_grad_(True),))


@pytest.mark.parametrize("pivot_depth", [None, 1.7])
def test_pose_twists_invert_twist_poses(pivot_depth):
    init = perturbed(gt_pose(), 20.0, 0.5, seed=8).double()
    motions = se3_exp(random_twists(5, 30.0, 0.8, torch.Generator().manual_seed(9)))
    twists = pose_twists(1.9, pivot_depth)(motions)
    torch.testing.assert_close(twist_poses(init, 1.9, pivot_depth)(twists), init @ motions, atol=1e-12, rtol=0)


def test_pose_errors():
    a = gt_pose()
    b = perturbed(a, 7.0, 0.3, seed=0)
    assert rotation_error_deg(a, b).item() == pytest.approx(7.0, abs=1e-3)
    assert translation_error(a, b).item() == pytest.approx(0.3, abs=1e-5)


# -- gradients through the renderer ------------------------------------------------------


def test_photometric_loss_gradient_matches_finite_differences():
    trained = sphere_run()
    # What the gradient does not see must not change under the finite difference either:
    # with every cell occupied samples stay on one lattice from the box entry, and with
    # no alpha pruning no sample appears or vanishes as the soft surfaces move (pruning
    # makes surfaces start abruptly where alpha crosses the threshold: ~15% off here).
    trained.config = replace(trained.config, render=RenderConfig(steps_per_diagonal=512, alpha_threshold=0.0))
    trained.grid.binaries.fill_(True)
    image = target_image(trained, gt_pose())
    init = perturbed(gt_pose(), 4.0, 0.1, seed=1)
    depth = median_depth(trained, camera(init), init)
    render = camera_renderer(trained, camera(init), twist_poses(init, depth, pivot_depth=depth))
    index = torch.arange(0, SIZE[0] * SIZE[1], 3)
    uv, target = pixel_centres_of(index, SIZE[0]), image.reshape(-1, 3)[index]

    def loss(twist: torch.Tensor) -> torch.Tensor:
        return ((render(twist[None], uv)[0] - target) ** 2).mean()

    twist = torch.zeros(6, requires_grad=True)
    loss(twist).backward()
    eps = 2e-3
    numeric = torch.stack([(loss(eps * e) - loss(-eps * e)) / (2 * eps) for e in torch.eye(6)]).detach()
    torch.testing.assert_close(twist.grad, numeric, atol=0.02 * numeric.norm().item(), rtol=0.02)


def test_sliding_free_origins_keep_values_and_drop_the_gradient_along_each_ray():
    g = torch.Generator().manual_seed(6)
    directions = torch.nn.functional.normalize(torch.randn(5, 3, generator=g), dim=-1)
    origins = torch.randn(5, 3, generator=g, requires_grad=True)
    moved = sliding_free_origins(origins, directions)
    torch.testing.assert_close(moved, origins)
    weights = torch.randn(5, 3, generator=g)
    (moved * weights).sum().backward()
    across = weights - (weights * directions).sum(-1, keepdim=True) * directions
    torch.testing.assert_close(origins.grad, across)


# -- localisation -------------------------------------------------------------------------

FAST = LocalizeConfig(iterations=90, rays_per_step=256, stages=3, lr=3e-2, eval_rays=512, hypotheses=1)


def test_camera_pose_converges_from_a_10_degree_perturbation():
    trained = sphere_run()
    truth = gt_pose()
    image = target_image(trained, truth)
    init = perturbed(truth, 10.0, 0.1, seed=2)
    result = localize(trained, image, camera(init), init, FAST)
    assert rotation_error_deg(result.pose, truth).item() < 2.0
    assert translation_error(result.pose, truth).item() < 0.05  # metres; the camera is 2.5 m away
    assert result.iterations == FAST.iterations == len(result.loss_curve)
    assert result.final_loss < 1e-3
    assert result.translation_scale == pytest.approx(math.dist(EYE, (0, 0, 0)) - RADIUS, rel=0.1)


def test_parallel_hypotheses_keep_the_best_by_final_loss():
    trained = sphere_run()
    truth = gt_pose()
    image = target_image(trained, truth)
    init = perturbed(truth, 8.0, 0.05, seed=3)
    config = LocalizeConfig(
        iterations=30, rays_per_step=128, stages=2, lr=3e-2, eval_rays=256, hypotheses=3, keep_fraction=1.0
    )
    result = localize(trained, image, camera(init), init, config)
    assert result.hypothesis_poses.shape == (3, 4, 4)
    assert result.best == min(range(3), key=lambda h: result.hypothesis_losses[h])
    assert torch.equal(result.pose, result.hypothesis_poses[result.best])
    # The hypotheses started from different poses and stay different.
    assert rotation_error_deg(result.hypothesis_poses[1], result.hypothesis_poses[2]).item() > 0.1


def test_successive_halving_prunes_hypotheses_at_stage_boundaries():
    trained = sphere_run()
    truth = gt_pose()
    image = target_image(trained, truth)
    init = perturbed(truth, 8.0, 0.05, seed=3)
    config = LocalizeConfig(iterations=30, rays_per_step=128, stages=3, lr=3e-2, eval_rays=256, hypotheses=4)
    result = localize(trained, image, camera(init), init, config)
    losses = result.hypothesis_losses
    assert config.keep_fraction == 0.5 and sum(loss is not None for loss in losses) == 1  # 4 -> 2 -> 1
    assert losses[result.best] is not None and len(result.loss_curve) == 30
    assert all(math.isfinite(v) for v in result.loss_curve)
    assert torch.isfinite(result.hypothesis_poses).all()


def test_survivors_are_the_best_by_their_late_stage_loss():
    # Hypothesis 3 was pruned earlier (NaN); 0 and 2 are best over the last quarter (steps 6-7) though not at the start.
    curves = torch.tensor([[0.1, 0.2, 0.9, float("nan")]] * 6 + [[0.5, 0.6, 0.1, float("nan")]] * 2)
    torch.testing.assert_close(best_hypotheses(torch.tensor([0, 1, 2]), curves, 0.5), torch.tensor([0, 2]))
    torch.testing.assert_close(best_hypotheses(torch.tensor([0, 1, 2]), curves, 0.3), torch.tensor([2]))


def _placed(to_world: torch.Tensor, instance_id: int, floor: bool) -> SceneField:
    bounds = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]]) * (1.0 if floor else RADIUS)
    field = TexturedSphereOnFloor(floor)
    return SceneField(field, occupancy_grid(field), 2 * math.sqrt(3) / 128, 0.0, to_world, 1.0, bounds, instance_id, 1)


def test_composed_rays_without_normals_render_the_same_colours():
    sf = _placed(torch.eye(4), 1, floor=True)
    c2w = gt_pose()
    rays_d = torch.nn.functional.normalize(
        torch.randn(64, 3, generator=torch.Generator().manual_seed(4)) * 0.2 - c2w[:3, 3], dim=-1
    )
    rays_o = c2w[:3, 3].expand(64, 3)
    with torch.no_grad():
        with_normals = render_composed_rays([sf], rays_o, rays_d, torch.ones(3))
        without = render_composed_rays([sf], rays_o, rays_d, torch.ones(3), normals=False)
    torch.testing.assert_close(without.rgb, with_normals.rgb)
    assert with_normals.opacity.max() > 0.99 and without.normals.abs().max() == 0


def test_object_pose_in_a_composed_scene_converges():
    """A textured ball beside the sphere-on-floor scene; the camera is fixed and the ball's
    world pose (its texture shows the rotation) is estimated."""
    truth = torch.eye(4)
    truth[:3, :3] = roma.rotvec_to_rotmat(torch.tensor([0.2, -0.3, 0.5]))
    truth[:3, 3] = torch.tensor([0.2, 1.0, -0.05])
    c2w = torch.from_numpy(look_at([(1.6, 2.2, 0.7)], [(0.1, 0.6, -0.1)])[0]).float()
    w, h = SIZE
    f = focal_from_fov(math.radians(60.0), w)
    cams = Cameras.create(c2w, f, f, w / 2, h / 2, w, h)
    fields = [_placed(torch.eye(4), 0, floor=True), _placed(truth, 2, floor=False)]
    uv = pixel_centres_of(torch.arange(w * h), w)
    d = camera_frame_directions(cams, uv) @ c2w[:3, :3].T
    with torch.no_grad():
        image = render_composed_rays(fields, c2w[:3, 3].expand_as(d), d, torch.ones(3)).rgb.reshape(h, w, 3)
    init = perturbed(truth, 10.0, 0.05, seed=5)
    result = localize_object(fields, 1, image, cams, init, (1.0, 1.0, 1.0), FAST)
    assert rotation_error_deg(result.pose, truth).item() < 2.0
    assert translation_error(result.pose, truth).item() < 0.03
    assert result.translation_scale == pytest.approx(math.sqrt(3) * RADIUS)
