"""COCO instance segmentation layout (cocodataset.org/#format-data; pycocotools reads it).

    images/000000.png                   RGB
    depth/000000.npy                    float32 [H,W] depth_z metres, 0 = no surface
    depth/000000.exr                    the same float32 metres, EXR channel "Z"
    depth/000000.png                    uint16 depth_z in units of depth_png_scale_mm (1 mm), 0 = invalid
    normals/000000.npy                  float32 [H,W,3] world-frame unit normals, 0 = no surface
    normals/000000.png                  uint8 RGB visualisation round(255 (n + 1) / 2), black = no surface
    annotations/instances_{split}.json  one file per split (all frames: "train")
    manifest.json

Image records: id = frame index, file_name relative to images/, width, height, plus the
side files (relative to the dataset root: `depth_file`, `depth_exr_file`, `depth_png_file`
with `depth_png_scale_mm`, `normals_file`, `normals_vis_file`) and `camera` (fx, fy, cx,
cy in nerfgen's convention: pixel centres at +0.5; distortion, dist_coeffs, c2w OpenCV
camera-to-world 4x4), so every frame carries its full intrinsics and extrinsics.
Annotations: one per instance with visible pixels in the frame's instance map:
segmentation = compressed RLE of that mask (pycocotools mask.encode, counts as str),
area and bbox [x, y, w, h] from the same RLE (COCO's boxes use pixel edges, like
nerfgen: a mask covering columns i0..i1 has x = i0, w = i1 - i0 + 1), iscrowd 0,
category_id = nerfgen class id. Annotation ids start at 1 in each file (COCOeval
treats id 0 as "no match"). Categories: every class seen on an instance in the
dataset, the same list in every split file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nerfgen.errors import NerfgenError
from nerfgen.labels.types import FrameLabels
from nerfgen.render.frame import FrameMaps, LidarScan
from nerfgen.writers.depth_io import depth_exr_bytes, depth_to_u16, float_map_npy, normals_preview_u8
from nerfgen.writers.encode import json_bytes, png_bytes, rgb_u8
from nerfgen.writers.info import DatasetInfo
from nerfgen.writers.manifest import MANIFEST_NAME, manifest_bytes
from nerfgen.writers.sink import FileSink

DEPTH_PNG_SCALE_MM = 1.0  # millimetres per unit of the 16-bit depth PNGs (up to 65.535 m)
COCO_INFO = {
    "description": "nerfgen COCO export",
    "depth_file": "float32 .npy [H,W], metres along the optical axis (depth_z), 0 = no surface",
    "depth_exr_file": "float32 EXR channel Z [H,W], the same metres as depth_file",
    "depth_png_file": "uint16 PNG [H,W], depth_z = value * depth_png_scale_mm / 1000 metres, 0 = invalid",
    "normals_file": "float32 .npy [H,W,3], world-frame (z up) unit normals, 0 = no surface",
    "normals_vis_file": "uint8 RGB PNG [H,W,3] = round(255 (normal + 1) / 2), black = no surface",
    "camera": "OpenCV axes; c2w camera-to-world; pixel (i, j) centred at (i + 0.5, j + 0.5)",
}


def mask_annotation(mask: np.ndarray) -> dict:
    """segmentation (compressed RLE, counts as str), area and bbox [x,y,w,h] of a [H,W] bool mask."""
    from pycocotools import mask as mask_util

    rle = mask_util.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {
        "segmentation": {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")},
        "area": float(mask_util.area(rle)),
        "bbox": [float(v) for v in mask_util.toBbox(rle)],
    }


def camera_record(labels: FrameLabels) -> dict:
    return {
        "fx": float(labels.fx),
        "fy": float(labels.fy),
        "cx": float(labels.cx),
        "cy": float(labels.cy),
        "distortion": labels.distortion,
        "dist_coeffs": [float(v) for v in np.ravel(labels.dist_coeffs)],
        "c2w": np.asarray(labels.c2w, dtype=np.float64).tolist(),
    }


class CocoWriter:
    """Writes frames in the COCO layout (module doc) under `out_root`."""

    def __init__(self, out_root: str | Path, info: DatasetInfo, resume: bool = False):
        self.sink = FileSink(out_root, resume)
        self.info = info
        self.images: dict[int, dict] = {}  # frame index -> image record
        self.annotations: dict[int, list[dict]] = {}  # frame index -> annotations without ids
        self.categories: dict[int, str] = {}

    def write_frame(
        self,
        maps: FrameMaps,
        labels: FrameLabels,
        lidar: LidarScan | None = None,  # unused: COCO has no point clouds
        alone_masks: dict[int, np.ndarray] | None = None,  # unused: COCO masks are visible masks
    ) -> None:
        name = f"{labels.index:06d}"
        self.sink.frame_file(f"images/{name}.png", lambda: png_bytes(rgb_u8(maps.rgb)))
        side_files = {
            "depth_file": (f"depth/{name}.npy", lambda: float_map_npy(maps.depth_z)),
            "depth_exr_file": (f"depth/{name}.exr", lambda: depth_exr_bytes(maps.depth_z)),
            "depth_png_file": (f"depth/{name}.png", lambda: png_bytes(depth_to_u16(maps.depth_z, DEPTH_PNG_SCALE_MM))),
            "normals_file": (f"normals/{name}.npy", lambda: float_map_npy(maps.normals_world)),
            "normals_vis_file": (f"normals/{name}.png", lambda: png_bytes(normals_preview_u8(maps.normals_world))),
        }
        for relpath, encode in side_files.values():
            self.sink.frame_file(relpath, encode)
        self.images[labels.index] = {
            "id": labels.index,
            "file_name": f"{name}.png",
            "width": labels.width,
            "height": labels.height,
            **{key: relpath for key, (relpath, _) in side_files.items()},
            "depth_png_scale_mm": DEPTH_PNG_SCALE_MM,
            "camera": camera_record(labels),
        }
        annotations = []
        for inst in sorted(labels.instances, key=lambda i: i.instance_id):
            mask = maps.instance == inst.instance_id
            if not mask.any():
                continue
            self._add_category(inst.class_id, inst.class_name)
            annotations.append(
                {"image_id": labels.index, "category_id": inst.class_id, "iscrowd": 0, **mask_annotation(mask)}
            )
        self.annotations[labels.index] = annotations

    def _add_category(self, class_id: int, class_name: str) -> None:
        if self.categories.setdefault(class_id, class_name) != class_name:
            raise NerfgenError(
                None, f"class id {class_id} is named both {self.categories[class_id]!r} and {class_name!r}"
            )

    def finish(self) -> Path:
        categories = [{"id": i, "name": n, "supercategory": "object"} for i, n in sorted(self.categories.items())]
        for split, indices in self.info.resolved_splits(list(self.images)).items():
            annotations = [a for i in indices for a in self.annotations[i]]
            doc = {
                "info": COCO_INFO,
                "images": [self.images[i] for i in indices],
                "annotations": [{"id": k + 1, **a} for k, a in enumerate(annotations)],
                "categories": categories,
            }
            self.sink.dataset_file(f"annotations/instances_{split}.json", json_bytes(doc, indent=None))
        self.sink.dataset_file(MANIFEST_NAME, manifest_bytes(self.sink.root, self.info.seed, list(self.info.command)))
        return self.sink.root
