"""LiDAR sweeps of a composed radiance-field scene: the beams are rays like any pixel's.

Per chunk of beams, `render_composed_rays` gives the composited samples and per-ray
values; `returns_from_weights` finds where each beam's accumulated opacity crosses
`opacity_threshold` (the range; beams that never get there are dropped). Per point:
instance and class of the field with the largest accumulated weight along the beam
(only fields compete: a returned beam hit something), and `intensity_proxy` of the
rendered surface colour (the composited colour without the sky, divided by opacity)
and the rendered normal.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from nerfgen.render.frame import LidarScan
from nerfgen.render.lidar_returns import returns_from_weights
from nerfgen.render.lidar_scan import intensity_proxy, lidar_scan
from nerfgen.scene.fields import SceneField
from nerfgen.scene.render import ComposeConfig, render_composed_rays
from nerfgen.sensors.lidar import lidar_rays
from nerfgen.sensors.lidar_specs import LidarSpec


def render_composed_lidar(
    fields: Sequence[SceneField],
    spec: LidarSpec,
    sensor_to_world: np.ndarray,  # [4,4]
    sky: Tensor,  # [3]
    config: ComposeConfig = ComposeConfig(),
    opacity_threshold: float = 0.5,
) -> LidarScan:
    """One sweep of `spec` through `fields` (module docstring), in chunks of config.chunk beams."""
    rays = lidar_rays(spec, sensor_to_world)
    origins = torch.from_numpy(rays.origins).float()
    directions = torch.from_numpy(rays.directions).float()
    # Candidate 0 (label 0, weight -1) wins only when there are no fields at all.
    ids = torch.tensor([0] + [sf.instance_id for sf in fields], dtype=torch.int32)
    classes = torch.tensor([0] + [sf.class_id for sf in fields], dtype=torch.int32)
    parts: dict[str, list[Tensor]] = {k: [] for k in ("range", "returned", "colour", "normal", "field")}
    with torch.no_grad():  # not inference_mode: gradient normals need autograd
        for start in range(0, len(origins), config.chunk):
            sl = slice(start, start + config.chunk)
            out = render_composed_rays(fields, origins[sl], directions[sl], sky, config)
            s = out.samples
            range_, returned = returns_from_weights(
                out.weights, s.t_starts.double(), s.t_ends.double(), s.offsets, opacity_threshold
            )
            parts["range"].append(range_)
            parts["returned"].append(returned)
            surface = out.rgb - (1.0 - out.opacity)[:, None] * sky  # [n,3] sum of w * colour
            parts["colour"].append(surface / out.opacity.clamp_min(1e-6)[:, None])
            parts["normal"].append(out.normals)
            parts["field"].append(torch.cat([torch.full((len(out.rgb), 1), -1.0), out.field_weights], 1).argmax(1))
    cat = {k: torch.cat(v) for k, v in parts.items()}
    return lidar_scan(
        spec,
        sensor_to_world,
        rays,
        cat["range"].numpy(),
        cat["returned"].numpy(),
        intensity_proxy(cat["colour"].numpy(), cat["normal"].numpy(), rays.directions),
        ids[cat["field"]].numpy(),
        classes[cat["field"]].numpy(),
    )
