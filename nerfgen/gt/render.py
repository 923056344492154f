"""Ground-truth images of a `GTScene` from `Cameras`: RGB, depth_z, range, normals, labels."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from nerfgen.cameras import Cameras, generate_rays
from nerfgen.gt.build import GTScene
from nerfgen.gt.raycast import cast_rays
from nerfgen.gt.shading import shade


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


def render_gt(scene: GTScene, cameras: Cameras, indices: list[int]) -> GTFrames:
    """Renders cameras `indices` (all of one image size) with one ray-casting call."""
    width, height = int(cameras.width[indices[0]]), int(cameras.height[indices[0]])
    if any(int(cameras.width[i]) != width or int(cameras.height[i]) != height for i in indices):
        raise ValueError("render_gt renders cameras of one image size per call")
    with torch.no_grad(), _torch_threads(1):
        bundles = [generate_rays(cameras, i) for i in indices]
        origins = torch.cat([b.origins for b in bundles]).numpy()
        directions = torch.cat([b.directions for b in bundles]).numpy()
        z_cam = torch.cat([b.z_cam for b in bundles]).numpy().astype(np.float64)
    hits = cast_rays(scene, origins, directions)
    shape = (len(indices), height, width)
    return GTFrames(
        rgb=shade(scene, hits).reshape(*shape, 3),
        depth_z=(hits.range * z_cam).astype(np.float32).reshape(shape),
        range=hits.range.astype(np.float32).reshape(shape),
        normals=hits.normal.reshape(*shape, 3),
        instance=hits.instance.reshape(shape),
        class_id=hits.class_id.reshape(shape),
    )


@contextmanager
def _torch_threads(n: int):
    """Per-view ray generation is too small to gain from intra-op threads, and on a
    loaded machine their spin-waits cost 10x; run it on `n` threads, then restore."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
