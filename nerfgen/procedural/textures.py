"""Procedural albedo textures: functions of the part-local 3D position (vectorised).

Being functions of position on the surface (not of the view), they are exactly
multi-view consistent. Feature sizes are set in the scene files well above a pixel so
that a radiance field can learn them.
"""

from __future__ import annotations

import numpy as np

from nerfgen.procedural.spec import Material

_AXIS = {"x": 0, "y": 1, "z": 2}


def albedo(material: Material, points: np.ndarray) -> np.ndarray:
    """Albedo [N,3] float32 in [0,1] at part-local points [N,3] (float64)."""
    colors = np.asarray(material.colors, dtype=np.float32)
    if material.texture == "solid":
        return np.broadcast_to(colors[0], (len(points), 3)).copy()
    if material.texture == "noise":
        w = _value_noise(points / material.period, material.seed)
        return (colors[0] * (1 - w)[:, None] + colors[1] * w[:, None]).astype(np.float32)
    return colors[_pattern(material, points).astype(np.intp)]


def _pattern(material: Material, points: np.ndarray) -> np.ndarray:
    """Which of the two colours [N] bool, for the binary patterns."""
    if material.texture == "stripes":
        return _frac(points[:, _AXIS[material.axis]] / material.period) < material.duty
    if material.texture == "checker":
        cells = np.floor(points / material.period).astype(np.int64)
        return cells.sum(1) % 2 == 1
    if material.texture == "grid":
        u = _frac(points[:, _AXIS[material.axes[0]]] / material.period)
        v = _frac(points[:, _AXIS[material.axes[1]]] / material.period2)
        inside_u = np.abs(u - 0.5) < material.duty / 2
        inside_v = np.abs(v - 0.5) < material.duty2 / 2
        return inside_u & inside_v
    raise ValueError(f"unknown texture {material.texture!r}")  # parse.py rejects these first


def _frac(x: np.ndarray) -> np.ndarray:
    return x - np.floor(x)


def _lattice(cells: np.ndarray, seed: int) -> np.ndarray:
    """Deterministic pseudo-random value in [0,1) per integer lattice point [N,3]."""
    c = cells.astype(np.uint32)  # wraps negatives: only equality of cells matters
    h = c[:, 0] * np.uint32(0x8DA6B343) ^ c[:, 1] * np.uint32(0xD8163841) ^ c[:, 2] * np.uint32(0xCB1AB31F)
    h ^= np.uint32((seed * 0x9E3779B9 + 1) & 0xFFFFFFFF)
    # murmur3 finaliser: decorrelates neighbouring cells.
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h.astype(np.float32) * np.float32(1.0 / 2**32)


def _value_noise(points: np.ndarray, seed: int) -> np.ndarray:
    """Smooth 3D value noise in [0,1] [N]: two octaves, cell size 1 and 1/2."""
    total = 0.6 * _value_noise_octave(points, seed) + 0.4 * _value_noise_octave(points * 2.0, seed + 1)
    return total.astype(np.float32)


def _value_noise_octave(points: np.ndarray, seed: int) -> np.ndarray:
    base = np.floor(points)
    f = (points - base).astype(np.float32)
    f = f * f * (3 - 2 * f)  # smoothstep: continuous gradient across cells
    base = base.astype(np.int64)
    out = np.zeros(len(points), np.float32)
    for corner in range(8):
        offset = np.array([corner & 1, (corner >> 1) & 1, (corner >> 2) & 1])
        w = [f[:, k] if offset[k] else 1 - f[:, k] for k in range(3)]
        out += w[0] * w[1] * w[2] * _lattice(base + offset, seed)
    return out
