"""How responses carry images and arrays.

Images (`/render_image`): PNG bytes exactly as `nerfgen render` writes rgb/*.png
(nerfgen.writers.encode); JPEG (quality 95); or `raw`: the base64 text of a `.npy` file of
the uint8 [H,W,3] image, which loads with np.load(..., allow_pickle=False) (NeuRAD's raw is
a base64 torch.save pickle of the same array; loading a pickle from a server runs its code).

Arrays (labels, LiDAR) go inside a JSON document, as one of:
- "npz": base64 of an .npz archive (deterministic bytes, nerfgen.writers.raw.npz_bytes),
- "raw": per array {"dtype": numpy dtype string, little-endian ("<f4", "|u1"),
  "shape": [...], "data": base64 of the C-order bytes}.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from nerfgen.writers.encode import npy_bytes, png_bytes
from nerfgen.writers.raw import npz_bytes

JPEG_QUALITY = 95
IMAGE_MEDIA_TYPES = {"raw": "text/plain", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}


def image_bytes(rgb: np.ndarray, image_format: str) -> bytes:  # uint8 [H,W,3]
    if image_format == "png":
        return png_bytes(rgb)
    if image_format in ("jpg", "jpeg"):
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=JPEG_QUALITY)
        return buf.getvalue()
    return base64.b64encode(npy_bytes(rgb))


def encoded_arrays(arrays: dict[str, np.ndarray], encoding: str) -> dict:
    """{"npz": base64} or {"arrays": {name: {"dtype", "shape", "data"}}} (module docstring)."""
    if encoding == "npz":
        return {"npz": base64.b64encode(npz_bytes(arrays)).decode("ascii")}
    return {"arrays": {name: _raw_array(a) for name, a in arrays.items()}}


def _raw_array(array: np.ndarray) -> dict:
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return {
        "dtype": little.dtype.str,
        "shape": list(little.shape),
        "data": base64.b64encode(little.tobytes()).decode("ascii"),
    }
