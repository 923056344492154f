"""Pose estimation by inverting a radiance field (iNeRF; Parallel-iNeRF for H > 1).

    result = localize(trained, image, cameras, init_c2w, LocalizeConfig())   # camera pose
    result = localize_object(scene.fields, k, image, cameras, init_to_world, scene.sky)  # object pose

An object's estimate is init @ exp(xi): the twist acts in the object's frame, rotating
it about its origin. A camera's is init @ P exp(xi) P^-1 with P the translation to a
pivot on the optical axis at the median scene depth d: rotations orbit the scene there.
About the camera centre instead, a rotation by theta and a sideways step of d * theta
shift the image almost identically, a long narrow valley that Adam crawls along; about
the pivot, rotations mostly change parallax and translations shift the image, two
nearly independent directions whose different scales Adam's per-parameter steps absorb.
The translation part is optimised in units of `translation_scale` (d, or the object's
radius), so a single learning rate suits both parts.

Parallel hypotheses (H > 1) start from random rigid motions of the initial pose about
its own origin, the camera centre (`pose_twists` maps them into the pivot's twists):
rotations about the pivot mostly change parallax, so hypotheses made of them would
hardly try other image shifts.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable, Iterator, Sequence

import torch
from torch import Tensor

from nerfgen.cameras import Cameras, check_poses, generate_rays
from nerfgen.errors import NerfgenError
from nerfgen.pose.config import LocalizeConfig
from nerfgen.pose.lie import random_twists, se3_exp, se3_log
from nerfgen.pose.optimize import RenderFn, fit_twists, pixel_centres_of
from nerfgen.pose.sampling import grid_pixels
from nerfgen.render.volume import render_rays
from nerfgen.scene.fields import SceneField
from nerfgen.scene.render import ComposeConfig, render_composed_rays
from nerfgen.train.run import TrainedField

PosesFn = Callable[[Tensor], Tensor]  # twists [H,6] (optimiser units) -> poses [H,4,4] in the twists' dtype
TwistsFn = Callable[[Tensor], Tensor]  # relative motions [H,4,4] (pose = init @ motion) -> twists [H,6]


@dataclass
class LocalizeResult:
    """The estimated pose and how the optimisation went."""

    pose: Tensor  # [4,4] float64: camera-to-world (OpenCV axes), or the object's rigid to_world
    loss_curve: list[float]  # per step, the winning hypothesis's loss (blurred stages first, so not monotone)
    final_loss: float  # MSE of the winner against the sharp image on a fixed pixel grid
    hypothesis_poses: Tensor  # [H,4,4] float64, every hypothesis's final pose (a pruned one's when pruned)
    hypothesis_losses: list[float | None]  # [H] the survivors' final losses, None for pruned ones
    best: int  # index of the winner
    iterations: int
    seconds: float  # wall time of the whole estimate
    translation_scale: float  # metres per unit of the twist's translation part

    def to_json(self) -> dict:
        return {
            "pose": self.pose.tolist(),
            "final_loss": self.final_loss,
            "iterations": self.iterations,
            "seconds": self.seconds,
            "best_hypothesis": self.best,
            "hypothesis_losses": self.hypothesis_losses,
            "translation_scale": self.translation_scale,
            "loss_curve": self.loss_curve,
        }


def camera_frame_directions(cameras: Cameras, uv: Tensor) -> Tensor:  # uv [N,2] -> [N,3] unit, camera frame
    """Ray directions of camera 0 through continuous pixel positions (its distortion included)."""
    at_origin = replace(cameras[0], c2w=torch.eye(4).reshape(1, 4, 4))
    return generate_rays(at_origin, 0, uv.float()).directions


def _validate(image: Tensor, cameras: Cameras, init: Tensor) -> None:
    """The query's shapes and initial pose (LocalizeConfig checks its own ranges)."""
    if image.dim() != 3 or image.shape[-1] != 3:
        raise NerfgenError(None, f"image must be [H,W,3], got {list(image.shape)}")
    if (int(cameras.height[0]), int(cameras.width[0])) != tuple(image.shape[:2]):
        raise NerfgenError(
            None,
            f"image is {image.shape[1]}x{image.shape[0]} "
            f"but the camera is {int(cameras.width[0])}x{int(cameras.height[0])}",
        )
    check_poses(init, None)


def _start_twists(config: LocalizeConfig, twists_of: TwistsFn, translation_scale: float) -> Tensor:  # -> [H,6]
    """Hypothesis 0 is the initial pose itself; the others move it by random rigid motions
    about its own origin (the camera centre or the object's origin), rotations up to
    hypothesis_rotation_deg and translations up to hypothesis_translation (x translation_scale)."""
    generator = torch.Generator().manual_seed(config.seed + 1)
    moves = random_twists(
        config.hypotheses - 1, config.hypothesis_rotation_deg, config.hypothesis_translation, generator
    )
    moves[:, :3] *= translation_scale
    return torch.cat([torch.zeros(1, 6, dtype=torch.float64), twists_of(se3_exp(moves))]).float()


@contextmanager
def _frozen(modules: Sequence[object]) -> Iterator[None]:
    """Field parameters stop requiring gradients while the pose is optimised: backward
    then skips the hash-table and MLP weight gradients (most of its cost)."""
    params = [p for m in modules if isinstance(m, torch.nn.Module) for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _run(
    render: RenderFn,
    parameterisation: tuple[PosesFn, TwistsFn],
    image: Tensor,
    scale: float,
    config: LocalizeConfig,
    started: float,
    fields: Sequence[object],
) -> LocalizeResult:
    poses_of, twists_of = parameterisation
    with _frozen(fields):
        start = _start_twists(config, twists_of, scale)
        fit = fit_twists(render, image, start, config, torch.Generator().manual_seed(config.seed))
    poses = poses_of(fit.twists.double())
    return LocalizeResult(
        pose=poses[fit.best],
        loss_curve=fit.curves[:, fit.best].tolist(),
        final_loss=float(fit.final_losses[fit.best]),
        hypothesis_poses=poses,
        hypothesis_losses=[None if math.isnan(loss) else loss for loss in fit.final_losses.tolist()],
        best=fit.best,
        iterations=config.iterations,
        seconds=time.perf_counter() - started,
        translation_scale=scale,
    )


def _pivot(depth: float | None, dtype: torch.dtype) -> Tensor:  # [4,4] translation to the pivot (identity without one)
    pivot = torch.eye(4, dtype=dtype)
    pivot[2, 3] = depth or 0.0
    return pivot


def twist_poses(init: Tensor, translation_scale: float, pivot_depth: float | None = None) -> PosesFn:
    """init @ exp(xi), or init @ P exp(xi) P^-1 about a pivot at `pivot_depth` on the z axis
    (module docstring); xi's translation part is in units of `translation_scale`."""

    def poses_of(twists: Tensor) -> Tensor:
        scaled = torch.cat([twists[:, :3] * translation_scale, twists[:, 3:]], -1)
        pivot = _pivot(pivot_depth, twists.dtype)
        return init.to(twists.dtype) @ pivot @ se3_exp(scaled) @ torch.linalg.inv(pivot)

    return poses_of


def pose_twists(translation_scale: float, pivot_depth: float | None = None) -> TwistsFn:
    """The inverse of twist_poses: relative motions M [H,4,4] -> the twists whose poses are init @ M."""

    def twists_of(motions: Tensor) -> Tensor:
        pivot = _pivot(pivot_depth, motions.dtype)
        twists = se3_log(torch.linalg.inv(pivot) @ motions @ pivot)
        return torch.cat([twists[:, :3] / translation_scale, twists[:, 3:]], -1)

    return twists_of


def median_depth(trained: TrainedField, cameras: Cameras, c2w: Tensor, n_rays: int = 1024) -> float:
    """Median range of the surfaces a camera at `c2w` sees (a grid of pixels); when it
    sees none, its distance to the centre of the field's box."""
    height, width = int(cameras.height[0]), int(cameras.width[0])
    directions = camera_frame_directions(cameras, pixel_centres_of(grid_pixels(height, width, n_rays), width))
    with torch.no_grad():
        out = render_rays(
            trained.field,
            trained.grid,
            c2w[:3, 3].expand_as(directions),
            directions @ c2w[:3, :3].T,
            torch.zeros(3),
            trained.config.render,
        )
    hit = out.opacity > 0.5
    if hit.any():
        return float(out.range[hit].median())
    centre = 0.5 * (trained.grid.aabb[:3] + trained.grid.aabb[3:])
    return float((c2w[:3, 3] - centre).norm())


def sliding_free_origins(origins: Tensor, directions: Tensor) -> Tensor:  # [N,3] each, unit directions
    """`origins` unchanged, but their gradient keeps only the part across each ray.

    A ray's colour does not change when its origin slides along it (nothing lies in
    between), yet the quadrature's samples then slide over sharp surfaces: that
    derivative is large and biased, and summed over a mostly forward-looking image it
    pulled the camera along its optical axis, away from the truth (tabletop: the
    along-axis component dominated the twist gradient and 3 of 16 queries diverged)."""
    along = directions.detach()
    step = origins - origins.detach()
    return origins.detach() + step - (step * along).sum(-1, keepdim=True) * along


def camera_renderer(trained: TrainedField, cameras: Cameras, poses_of: PosesFn) -> RenderFn:
    """render(twists [H,6], uv [N,2]) -> rgb [H,N,3] of camera 0 at the twists' poses,
    all hypotheses in one batch of H*N rays."""
    background = torch.tensor(trained.config.train.eval_background, dtype=torch.float32)

    def render(twists: Tensor, uv: Tensor) -> Tensor:
        poses = poses_of(twists)  # [H,4,4]
        d_cam = camera_frame_directions(cameras, uv)  # [N,3]
        directions = torch.einsum("hij,nj->hni", poses[:, :3, :3], d_cam).reshape(-1, 3)
        origins = sliding_free_origins(poses[:, None, :3, 3].expand(-1, len(uv), 3).reshape(-1, 3), directions)
        out = render_rays(trained.field, trained.grid, origins, directions, background, trained.config.render)
        return out.rgb.view(len(twists), len(uv), 3)

    return render


def localize(
    trained: TrainedField,
    image: Tensor,  # [H,W,3] float32 in [0,1]
    cameras: Cameras,  # camera 0 gives the intrinsics (and distortion); its pose is ignored
    init_c2w: Tensor,  # [4,4] OpenCV camera-to-world, the starting guess
    config: LocalizeConfig = LocalizeConfig(),
) -> LocalizeResult:
    """Camera pose of `image` in the world of `trained` (module docstring)."""
    started = time.perf_counter()
    _validate(image, cameras, init_c2w)
    init = torch.as_tensor(init_c2w).float()
    depth = median_depth(trained, cameras, init)
    poses_of = twist_poses(init, depth, pivot_depth=depth)
    render = camera_renderer(trained, cameras, poses_of)
    return _run(render, (poses_of, pose_twists(depth, depth)), image.float(), depth, config, started, [trained.field])


def localize_object(
    fields: Sequence[SceneField],
    index: int,  # which of `fields` to move
    image: Tensor,  # [H,W,3] float32 in [0,1]
    cameras: Cameras,  # camera 0: intrinsics and the fixed camera-to-world pose
    init_to_world: Tensor,  # [4,4] rigid starting guess of fields[index].to_world
    sky: Sequence[float],
    config: LocalizeConfig = LocalizeConfig(),
    compose: ComposeConfig = ComposeConfig(),
) -> LocalizeResult:
    """World pose of one object of a composed scene, seen by a known camera; every other
    field stays where it is. The pose is rigid (the object's scale is kept)."""
    started = time.perf_counter()
    _validate(image, cameras, init_to_world)
    init = torch.as_tensor(init_to_world).float()
    placed = fields[index]
    box = placed.bounds if placed.bounds is not None else placed.field.aabb.reshape(2, 3)
    scale = float(0.5 * (box[1] - box[0]).norm()) * placed.scale
    c2w = cameras.c2w[0]
    sky_colour = torch.tensor(list(sky), dtype=torch.float32)
    poses_of = twist_poses(init, scale)

    def render(twists: Tensor, uv: Tensor) -> Tensor:  # [H,6], [N,2] -> [H,N,3]
        directions = camera_frame_directions(cameras, uv) @ c2w[:3, :3].T
        origins = c2w[:3, 3].expand_as(directions)
        rgb = []
        for pose in poses_of(twists):
            moved = list(fields)
            moved[index] = replace(placed, to_world=pose)
            rgb.append(render_composed_rays(moved, origins, directions, sky_colour, compose, normals=False).rgb)
        return torch.stack(rgb)

    return _run(
        render, (poses_of, pose_twists(scale)), image.float(), scale, config, started, [f.field for f in fields]
    )
