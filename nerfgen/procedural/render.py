"""Ground-truth images of a `GTScene` from `Cameras`: RGB, depth_z, range, normals, labels.

RGB can be anti-aliased by supersampling: the mean of s x s rays on a regular grid over
the pixel (a box filter, as a sensor integrates over its pixel and as Blender-based
generators render with many samples per pixel). Without it, textures and edges alias
into patterns that no other view reproduces, which misrepresents a camera and caps any
reconstruction trained on the images (held-out PSNR of the car: 30.8 dB aliased, 36.4 dB
at s = 3). Sampling is adaptive, as production renderers' is: a pixel whose 3 x 3
neighbourhood of pixel-centre colours lies within MIXED_TOLERANCE of its own is smooth
over its footprint and keeps its centre colour (the box filter of a smooth colour is the
centre value to second order); the others (edges, texture and shadow boundaries: 10-40 %
of the bundled scenes' pixels) get s x s rays. The labels stay those of the pixel-centre
ray: exact per-pixel values, as label maps are (unfiltered in Kubric and BlenderProc too).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from nerfgen.cameras import Cameras, generate_rays
from nerfgen.procedural.build import GTScene
from nerfgen.procedural.raycast import cast_rays
from nerfgen.procedural.shading import shade
from nerfgen.render.supersample import any_neighbour, box_filter, subpixel_uv

MIXED_TOLERANCE = 4.0 / 255.0  # colour step (any channel) that marks a pixel for supersampling


@dataclass(frozen=True)
class GTFrames:
    """B frames of one size H x W (0 where a ray misses, except rgb = background).

    rgb [B,H,W,3] float32 in [0,1]; depth_z, range [B,H,W] float32 metres;
    normals [B,H,W,3] float32 world-space unit normals facing the camera;
    instance [B,H,W] int32 (0 = background or stuff); class_id [B,H,W] int32.
    """

    rgb: np.ndarray
    depth_z: np.ndarray
    range: np.ndarray
    normals: np.ndarray
    instance: np.ndarray
    class_id: np.ndarray


def render_gt(scene: GTScene, cameras: Cameras, indices: list[int], supersample: int = 1) -> GTFrames:
    """Renders cameras `indices` (all of one image size) with one ray-casting call, plus
    one for the sub-pixel rays of the mixed pixels when `supersample` > 1 (see above)."""
    width, height = int(cameras.width[indices[0]]), int(cameras.height[indices[0]])
    if any(int(cameras.width[i]) != width or int(cameras.height[i]) != height for i in indices):
        raise ValueError("render_gt renders cameras of one image size per call")
    if supersample < 1:
        raise ValueError(f"render_gt: supersample must be >= 1, got {supersample}")
    with torch.no_grad(), torch_threads(1):
        bundles = [generate_rays(cameras, i) for i in indices]
        origins = torch.cat([b.origins for b in bundles]).numpy()
        directions = torch.cat([b.directions for b in bundles]).numpy()
        z_cam = torch.cat([b.z_cam for b in bundles]).numpy().astype(np.float64)
    hits = cast_rays(scene, origins, directions)
    shape = (len(indices), height, width)
    rgb = shade(scene, hits).reshape(*shape, 3)
    if supersample > 1:
        _antialias(scene, cameras, indices, supersample, rgb)
    return GTFrames(
        rgb=rgb,
        depth_z=(hits.range * z_cam).astype(np.float32).reshape(shape),
        range=hits.range.astype(np.float32).reshape(shape),
        normals=hits.normal.reshape(*shape, 3),
        instance=hits.instance.reshape(shape),
        class_id=hits.class_id.reshape(shape),
    )


def mixed_pixels(rgb: np.ndarray) -> np.ndarray:  # [H,W,3] -> [H,W] bool
    """Pixels whose 3 x 3 neighbourhood holds a colour more than MIXED_TOLERANCE away
    (in any channel) from theirs: those an edge or a texture boundary may cross."""
    return any_neighbour(rgb, lambda neighbour, pixel: (np.abs(neighbour - pixel) > MIXED_TOLERANCE).any(-1))


def _antialias(scene: GTScene, cameras: Cameras, indices: list[int], s: int, rgb: np.ndarray) -> None:
    """Replaces the mixed pixels of the views' rgb [B,H,W,3] (in place) by the mean colour
    of their s x s sub-pixel rays (nerfgen.render.supersample); one ray-casting call for
    all views."""
    mixed = [np.nonzero(mixed_pixels(view)) for view in rgb]
    if not any(len(ys) for ys, _ in mixed):
        return  # e.g. views of the background alone
    origins, directions = [], []
    for i, (ys, xs) in zip(indices, mixed):
        with torch.no_grad(), torch_threads(1):
            rays = generate_rays(cameras, i, torch.from_numpy(subpixel_uv(ys, xs, s)))
        origins.append(rays.origins.numpy())
        directions.append(rays.directions.numpy())
    means = box_filter(shade(scene, cast_rays(scene, np.concatenate(origins), np.concatenate(directions))), s)
    start = 0
    for k, (ys, xs) in enumerate(mixed):
        rgb[k, ys, xs] = means[start : start + len(ys)]
        start += len(ys)


@contextmanager
def torch_threads(n: int):
    """Per-view ray generation is too small to gain from intra-op threads, and on a
    loaded machine their spin-waits cost 10x; run it on `n` threads, then restore.
    The setting is process-wide: callers rendering on several Python threads enter this
    once around them (nerfgen.procedural.capture), so no thread restores another's value."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
