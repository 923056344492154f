"""Adaptive anti-aliasing: s x s rays on a regular grid over a pixel, averaged (a box
filter, as a sensor integrates over its pixel), on the pixels that need it.

Shared by the ray-cast renders (nerfgen.procedural.render: every pixel a colour edge crosses)
and the composed radiance-field renders (nerfgen.scene.renderer: silhouettes). Labels
stay those of the pixel-centre ray in both.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def any_neighbour(image: np.ndarray, differs: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """[H,W] bool: pixels for which differs(neighbour, pixel) holds for some pixel of their
    3 x 3 neighbourhood. `image` is [H,W,...]; `differs` maps two such arrays to [H,W] bool."""
    height, width = image.shape[:2]
    padded = np.pad(image, ((1, 1), (1, 1)) + ((0, 0),) * (image.ndim - 2), mode="edge")
    found = np.zeros((height, width), bool)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            found |= differs(padded[dy : dy + height, dx : dx + width], image)
    return found


def subpixel_uv(ys: np.ndarray, xs: np.ndarray, s: int) -> np.ndarray:  # [M], [M] -> [M*s*s, 2] float32
    """Pixel coordinates (u, v) of the s x s sub-pixel rays of pixels (ys, xs), pixel by
    pixel: (x + (a + 0.5) / s, y + (b + 0.5) / s), a fastest."""
    offsets = (np.arange(s, dtype=np.float32) + 0.5) / s
    sub_u = xs[:, None, None].astype(np.float32) + offsets[None, None, :]  # [M, s (v), s (u)]
    sub_v = ys[:, None, None].astype(np.float32) + offsets[None, :, None]
    return np.stack(np.broadcast_arrays(sub_u, sub_v), -1).reshape(-1, 2)


def box_filter(colours: np.ndarray, s: int) -> np.ndarray:  # [M*s*s, 3] -> [M, 3] float64
    """Mean colour of each pixel's s x s sub-pixel rays, in subpixel_uv's order."""
    return colours.astype(np.float64).reshape(-1, s * s, colours.shape[-1]).mean(1)
