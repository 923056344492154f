"""Deterministic encoders: arrays and JSON documents to file bytes (same input, same bytes)."""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image


def png_bytes(image: np.ndarray) -> bytes:
    """PNG of a uint8 [H,W] / [H,W,3] or uint16 [H,W] image (PIL writes no timestamp)."""
    if image.dtype == np.uint16:
        if image.ndim != 2:
            raise ValueError("16-bit PNG must be single channel")
    elif image.dtype != np.uint8:
        raise ValueError(f"PNG needs uint8 or uint16, got {image.dtype}")
    pil = Image.fromarray(np.ascontiguousarray(image))  # uint16 [H,W] -> mode "I;16" (16-bit PNG)
    buf = io.BytesIO()
    pil.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    # C order whatever the input layout (bytes depend on values only); unlike
    # ascontiguousarray, require keeps a 0-d array 0-d.
    np.save(buf, np.require(array, requirements="C"), allow_pickle=False)
    return buf.getvalue()


def json_bytes(doc, indent: int | None = 2) -> bytes:
    """UTF-8 JSON, keys in the order the caller built them (callers build them sorted)."""
    separators = (",", ":") if indent is None else (",", ": ")
    return (json.dumps(doc, indent=indent, separators=separators, allow_nan=False) + "\n").encode("utf-8")


def rgb_u8(rgb: np.ndarray) -> np.ndarray:
    """[H,W,3] float in [0,1] -> uint8 by rounding (an 8-bit PNG decoded as /255 round-trips exactly)."""
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)
