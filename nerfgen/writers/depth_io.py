"""Depth and normal maps on disk: float32 .npy / EXR, 16-bit PNG, 8-bit normal previews.

Depth here is always `depth_z` (metres along the optical axis, 0 = no surface); which
kind a file holds is stated by the writer's metadata, never guessed from the values.

16-bit PNG depth stores integer units of `depth_scale` millimetres (BOP's meaning of
depth_scale: value * depth_scale = depth in mm). 0 means invalid: no surface,
non-finite depth, or depth beyond the largest storable value 65535 * depth_scale mm
(65.535 m at depth_scale 1). Such overflow is written as 0 rather than clipped, since a
clipped value would be a wrong depth that looks valid.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from nerfgen.errors import NerfgenError
from nerfgen.writers.encode import npy_bytes

U16_MAX = 65535


def float_map_npy(values: np.ndarray) -> bytes:
    """A depth [H,W] or normal [H,W,3] map as a float32 .npy file."""
    return npy_bytes(np.asarray(values, dtype=np.float32))


def depth_to_u16(depth_z: np.ndarray, depth_scale: float = 1.0) -> np.ndarray:
    """[H,W] metres -> [H,W] uint16 in units of `depth_scale` mm, 0 = invalid (see module doc)."""
    units = np.asarray(depth_z, dtype=np.float64) * (1000.0 / depth_scale)
    valid = np.isfinite(units) & (units > 0) & (np.round(units) <= U16_MAX)
    return np.where(valid, np.round(np.where(valid, units, 0.0)), 0).astype(np.uint16)


def u16_to_depth(values: np.ndarray, depth_scale: float = 1.0) -> np.ndarray:
    """Inverse of depth_to_u16: [H,W] uint16 -> [H,W] float32 metres (0 stays 0)."""
    return (values.astype(np.float64) * (depth_scale / 1000.0)).astype(np.float32)


def depth_exr_bytes(depth_z: np.ndarray) -> bytes:
    """OpenEXR file with one float32 channel "Z" (ZIP compression, scanlines)."""
    import OpenEXR

    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    buf = io.BytesIO()
    OpenEXR.File(header, {"Z": np.ascontiguousarray(depth_z, dtype=np.float32)}).write(buf)
    return buf.getvalue()


def read_depth_exr(path: str | Path) -> np.ndarray:
    """[H,W] float32 from the "Z" channel of an EXR file."""
    import OpenEXR

    try:
        with OpenEXR.File(str(path)) as f:
            channels = f.channels()
            if "Z" not in channels:
                raise NerfgenError(path, f"EXR has no 'Z' channel (channels: {sorted(channels)})")
            return np.asarray(channels["Z"].pixels, dtype=np.float32)
    except (OSError, RuntimeError) as e:
        raise NerfgenError(path, f"cannot read EXR ({e})") from None


def normals_preview_u8(normals: np.ndarray) -> np.ndarray:
    """[H,W,3] unit normals -> [H,W,3] uint8 RGB = round(255 (n + 1) / 2); no surface (n = 0) -> black,
    so misses stay distinguishable from normals that map to mid-grey."""
    normals = np.asarray(normals, dtype=np.float64)
    rgb = np.round(np.clip((normals + 1.0) * 0.5, 0.0, 1.0) * 255.0).astype(np.uint8)
    rgb[~np.any(normals != 0, axis=-1)] = 0
    return rgb
