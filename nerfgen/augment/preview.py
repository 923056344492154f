"""`preview.png`: a contact sheet of a raw dataset for a quick look. One row per chosen
frame: RGB with visible 2D boxes (green) and 3D box wireframes (yellow), depth, normals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from nerfgen.labels.boxes import BOX_EDGES, NEAR_Z
from nerfgen.labels.types import FrameLabels
from nerfgen.render.frame import FrameMaps
from nerfgen.writers.encode import png_bytes, rgb_u8
from nerfgen.writers.raw import read_raw_frame, read_raw_meta

# Dark purple (far) -> orange -> pale yellow (near), sampled evenly over inverse depth.
_DEPTH_COLOURS = np.array(
    [[0.05, 0.03, 0.15], [0.45, 0.1, 0.45], [0.85, 0.3, 0.25], [0.98, 0.65, 0.15], [0.99, 0.95, 0.7]]
)


def depth_image(depth_z: np.ndarray) -> np.ndarray:  # [H,W] metres, 0 = none -> [H,W,3] in [0,1]
    """Inverse depth normalised over the frame (near is bright); no surface is black."""
    hit = depth_z > 0
    inverse = np.where(hit, 1.0 / np.where(hit, depth_z, 1.0), 0.0)
    lo, hi = (inverse[hit].min(), inverse[hit].max()) if hit.any() else (0.0, 1.0)
    t = (inverse - lo) / max(hi - lo, 1e-9) * (len(_DEPTH_COLOURS) - 1)
    anchors = np.arange(len(_DEPTH_COLOURS))
    rgb = np.stack([np.interp(t, anchors, _DEPTH_COLOURS[:, c]) for c in range(3)], -1)
    return np.where(hit[..., None], rgb, 0.0)


def normals_image(normals: np.ndarray) -> np.ndarray:  # [H,W,3] unit, 0 = none -> [H,W,3]
    """World normals as colours (n + 1) / 2: up (+z) is blue; no surface is black."""
    hit = np.linalg.norm(normals, axis=-1, keepdims=True) > 0
    return np.where(hit, (normals + 1.0) / 2.0, 0.0)


def boxes_image(maps: FrameMaps, labels: FrameLabels) -> Image.Image:
    """The RGB frame with 3D boxes (pinhole projection of their edges in front of the
    camera) and visible 2D boxes drawn on it."""
    image = Image.fromarray(rgb_u8(maps.rgb))
    draw = ImageDraw.Draw(image)
    for inst in labels.instances:
        p = inst.corners_cam  # [8,3]
        for a, b in BOX_EDGES:
            if p[a, 2] >= NEAR_Z and p[b, 2] >= NEAR_Z:
                uv = [
                    (labels.fx * p[k, 0] / p[k, 2] + labels.cx, labels.fy * p[k, 1] / p[k, 2] + labels.cy)
                    for k in (a, b)
                ]
                draw.line(uv, fill=(255, 220, 0), width=1)
        if inst.bbox_visible is not None:
            draw.rectangle([float(v) for v in inst.bbox_visible], outline=(0, 255, 80), width=1)
    return image


def contact_sheet(raw_dir: str | Path, rows: int = 4) -> bytes:
    """PNG bytes of `rows` evenly spaced frames of the raw dataset (all when fewer)."""
    count = read_raw_meta(raw_dir)["frame_count"]
    indices = np.unique(np.linspace(0, count - 1, min(rows, count)).round().astype(int))
    tiles = []
    for index in indices:
        maps, labels = read_raw_frame(raw_dir, int(index))
        row = [
            np.asarray(boxes_image(maps, labels)),
            rgb_u8(depth_image(maps.depth_z)),
            rgb_u8(normals_image(maps.normals_world)),
        ]
        tiles.append(np.concatenate(row, 1))
    return png_bytes(np.concatenate(tiles, 0))
