"""Lambertian shading of ray hits: ambient + directional lights, optional hard shadows.

No view-dependent terms, so a pixel's colour depends only on the surface point: the
images are exactly multi-view consistent (shadows are static, so they are too).
"""

from __future__ import annotations

import numpy as np

from nerfgen.procedural.build import GTScene
from nerfgen.procedural.raycast import RayHits, embree_scene

SHADOW_OFFSET = 2e-3  # m along the normal: keeps shadow rays off their own surface


def shade(scene: GTScene, hits: RayHits) -> np.ndarray:
    """RGB [N,3] float32 in [0,1]: albedo * (ambient + sum_l intensity_l * max(0, n.l)
    * visible_l) on hits, the scene's background colour on misses."""
    lights = scene.spec.lights
    n = hits.normal[hits.hit].astype(np.float64)
    points = hits.points[hits.hit]
    irradiance = np.full(len(n), lights.ambient)
    for light in lights.directional:
        to_light = -np.asarray(light.direction)
        cos = np.clip(n @ to_light, 0.0, None)
        if lights.shadows:
            lit = cos > 0
            origins = points[lit] + SHADOW_OFFSET * n[lit]
            blocked = embree_scene(scene).occluded(origins, np.broadcast_to(to_light, origins.shape))
            cos[np.flatnonzero(lit)[blocked]] = 0.0
        irradiance += light.intensity * cos
    rgb = np.empty((len(hits.hit), 3), np.float32)
    rgb[:] = scene.spec.background
    rgb[hits.hit] = np.clip(hits.albedo[hits.hit] * irradiance[:, None], 0.0, 1.0)
    return rgb
