"""BOP 6D-pose layout (bop_toolkit docs/bop_datasets_format.md, BOP-scenewise).

    models/obj_000001.ply              object model, mm, in the BOP model frame
    models/models_info.json            diameter, min_x/y/z, size_x/y/z (mm) per obj_id
    {split}/000000/rgb/000000.png      RGB, file name = im_id = frame index
    {split}/000000/depth/000000.png    uint16 depth_z in units of depth_scale mm (0 = invalid)
    {split}/000000/mask/{im_id:06d}_{gt_idx:06d}.png        object silhouette ignoring occlusion
    {split}/000000/mask_visib/{im_id:06d}_{gt_idx:06d}.png  visible part (255 = object)
    {split}/000000/scene_camera.json   cam_K, cam_R_w2c, cam_t_w2c (mm), depth_scale
    {split}/000000/scene_gt.json       cam_R_m2c, cam_t_m2c (mm), obj_id per annotated object
    {split}/000000/scene_gt_info.json  bbox_obj, bbox_visib, px_count_{all,valid,visib}, visib_fract
    manifest.json

One scene (000000) per split (all frames: "train"). Conventions:
- obj_id = nerfgen instance id (ids start at 1, stable over the frames of a scene);
  several instances of one asset therefore get one model each.
- Model frame = BOP's: origin at the centre of the object's 3D bounding box, axes =
  the object's (z up) = nerfgen's box frame (`InstanceLabel.box_to_world`), so
  [cam_R_m2c | cam_t_m2c] = world-to-camera @ box_to_world, translations in mm.
- cam_K uses integer pixel centres (nerfgen cx - 0.5, see nerfgen.writers.pinhole).
- An object is annotated (gt_idx, in instance-id order) when it is in view
  (px_alone > 0), also when fully occluded (visib_fract 0), as BOP does.
- Boxes [x, y, w, h] in integer pixels with BOP's edge convention (pixels i0..i1 give
  x = i0, w = i1 - i0 + 1; [-1, -1, -1, -1] when empty).
- The silhouette ignoring occlusion needs the object's alone mask (`alone_masks`,
  instance id -> [H,W] bool; the raw layout's alone/, which `nerfgen render` writes
  with outputs masks and boxes). Without it, mask/ is not written, px_count_all is
  px_alone, bbox_obj is the projected 3D box (bbox_amodal, looser than the silhouette)
  and px_count_valid counts the occluded part as valid (a nearer surface covers it).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from nerfgen.errors import NerfgenError
from nerfgen.labels.types import FrameLabels, InstanceLabel
from nerfgen.render.frame import FrameMaps, LidarScan
from nerfgen.writers.depth_io import depth_to_u16
from nerfgen.writers.encode import json_bytes, png_bytes, rgb_u8
from nerfgen.writers.info import DatasetInfo
from nerfgen.writers.manifest import MANIFEST_NAME, manifest_bytes
from nerfgen.writers.pinhole import check_pinhole, integer_centre_K
from nerfgen.writers.sink import FileSink

MM_PER_M = 1000.0
SCENE = "000000"
EMPTY_BOX = [-1, -1, -1, -1]

Mesh = tuple[np.ndarray, np.ndarray]  # vertices [V,3] metres in the model frame, faces [F,3] int


def mask_box(mask: np.ndarray) -> list[int]:
    """[x, y, w, h] of a [H,W] bool mask in BOP's convention, EMPTY_BOX when empty."""
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return list(EMPTY_BOX)
    return [int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1), int(rows.max() - rows.min() + 1)]


def edge_box(box: np.ndarray | None) -> list[int]:
    """nerfgen (x0, y0, x1, y1) pixel-edge box -> the smallest integer [x, y, w, h] covering it."""
    if box is None:
        return list(EMPTY_BOX)
    x0, y0 = math.floor(box[0]), math.floor(box[1])
    return [x0, y0, math.ceil(box[2]) - x0, math.ceil(box[3]) - y0]


def model_to_cam(instance: InstanceLabel, c2w: np.ndarray) -> np.ndarray:
    """[4,4] BOP model (= nerfgen box) frame -> OpenCV camera, metres."""
    return np.linalg.inv(c2w) @ instance.box_to_world


def model_diameter(vertices: np.ndarray) -> float:
    """Largest distance between two vertices; the farthest pair lies on the convex hull."""
    from scipy.spatial import ConvexHull, QhullError
    from scipy.spatial.distance import pdist

    try:
        points = vertices[ConvexHull(vertices).vertices]
    except (QhullError, ValueError):  # flat or tiny point sets have no 3D hull
        points = vertices
    return float(pdist(points).max()) if len(points) > 1 else 0.0


def ply_bytes(vertices_mm: np.ndarray, faces: np.ndarray) -> bytes:
    """ASCII PLY with vertex normals (BOP models carry them), as bop_toolkit's inout.load_ply reads."""
    import io

    import trimesh
    from plyfile import PlyData, PlyElement

    normals = trimesh.Trimesh(vertices_mm, faces, process=False).vertex_normals
    vertex = np.empty(len(vertices_mm), dtype=[(k, "f4") for k in ("x", "y", "z", "nx", "ny", "nz")])
    for k, column in zip(("x", "y", "z", "nx", "ny", "nz"), np.column_stack([vertices_mm, normals]).T):
        vertex[k] = column
    face = np.empty(len(faces), dtype=[("vertex_indices", "i4", (3,))])
    face["vertex_indices"] = faces
    buf = io.BytesIO()
    PlyData([PlyElement.describe(vertex, "vertex"), PlyElement.describe(face, "face")], text=True).write(buf)
    return buf.getvalue()


def models_from_gt_scene(scene) -> dict[int, Mesh]:
    """obj_id (= instance id) -> the instance's triangles of a `nerfgen.procedural.GTScene` in its box frame."""
    models = {}
    for box in scene.instances:
        faces = scene.faces[scene.face_instance == box.instance_id]
        used, remapped = np.unique(faces, return_inverse=True)
        vertices = (scene.vertices[used] - box.center) @ box.rotation  # world -> box frame: R^T (v - c)
        models[box.instance_id] = (vertices, remapped.reshape(faces.shape))
    return models


class BopWriter:
    """Writes frames in the BOP layout (module doc) under `out_root`.

    `models`: obj_id -> (vertices [V,3] metres in the model frame, faces [F,3]) for
    models/ (e.g. models_from_gt_scene); `depth_scale`: mm per depth PNG unit.
    """

    def __init__(
        self,
        out_root: str | Path,
        info: DatasetInfo,
        resume: bool = False,
        models: dict[int, Mesh] | None = None,
        depth_scale: float = 1.0,
    ):
        if not depth_scale > 0:
            raise NerfgenError(None, f"BOP depth_scale must be positive (mm per depth unit), got {depth_scale}")
        self.sink = FileSink(out_root, resume)
        self.info = info
        self.models = models or {}
        self.depth_scale = float(depth_scale)
        self.written: list[int] = []
        # split -> file name -> im_id -> record
        self.scene_files: dict[str, dict[str, dict[int, object]]] = {}

    def write_frame(
        self,
        maps: FrameMaps,
        labels: FrameLabels,
        lidar: LidarScan | None = None,  # unused: BOP has no point clouds
        alone_masks: dict[int, np.ndarray] | None = None,  # instance id -> [H,W] bool silhouette alone
    ) -> None:
        check_pinhole(labels, "BOP")
        im = labels.index
        depth = depth_to_u16(maps.depth_z, self.depth_scale)
        w2c = np.linalg.inv(labels.c2w)
        camera = {
            "cam_K": integer_centre_K(labels).ravel().tolist(),
            "cam_R_w2c": w2c[:3, :3].ravel().tolist(),
            "cam_t_w2c": (w2c[:3, 3] * MM_PER_M).tolist(),
            "depth_scale": self.depth_scale,
        }
        annotated = sorted((i for i in labels.instances if i.px_alone > 0), key=lambda i: i.instance_id)
        gts, infos, masks = [], [], []
        for gt_idx, inst in enumerate(annotated):
            pose = model_to_cam(inst, labels.c2w)
            gts.append(
                {
                    "cam_R_m2c": pose[:3, :3].ravel().tolist(),
                    "cam_t_m2c": (pose[:3, 3] * MM_PER_M).tolist(),
                    "obj_id": inst.instance_id,
                }
            )
            visible = maps.instance == inst.instance_id
            alone = None if alone_masks is None else alone_masks.get(inst.instance_id)
            infos.append(self._gt_info(inst, visible, alone, depth > 0))
            masks.append((f"{im:06d}_{gt_idx:06d}.png", visible, alone))

        for split in self.info.splits_of(im):
            root = f"{split}/{SCENE}"
            self.sink.frame_file(f"{root}/rgb/{im:06d}.png", lambda: png_bytes(rgb_u8(maps.rgb)))
            self.sink.frame_file(f"{root}/depth/{im:06d}.png", lambda: png_bytes(depth))
            for name, visible, alone in masks:
                self.sink.frame_file(f"{root}/mask_visib/{name}", lambda m=visible: png_bytes(_mask_u8(m)))
                if alone is not None:
                    self.sink.frame_file(f"{root}/mask/{name}", lambda m=alone: png_bytes(_mask_u8(m)))
            files = self.scene_files.setdefault(split, {"scene_camera": {}, "scene_gt": {}, "scene_gt_info": {}})
            files["scene_camera"][im], files["scene_gt"][im], files["scene_gt_info"][im] = camera, gts, infos
        self.written.append(im)

    @staticmethod
    def _gt_info(inst: InstanceLabel, visible: np.ndarray, alone: np.ndarray | None, valid: np.ndarray) -> dict:
        px_visib = int(visible.sum())
        if alone is not None:
            px_all, px_valid, bbox_obj = int(alone.sum()), int((alone & valid).sum()), mask_box(alone)
        else:
            px_all = int(inst.px_alone)
            px_valid = int((visible & valid).sum()) + max(px_all - px_visib, 0)
            bbox_obj = edge_box(inst.bbox_amodal)
        return {
            "bbox_obj": bbox_obj,
            "bbox_visib": mask_box(visible),
            "px_count_all": px_all,
            "px_count_valid": px_valid,
            "px_count_visib": px_visib,
            "visib_fract": px_visib / px_all if px_all > 0 else 0.0,
        }

    def finish(self) -> Path:
        self.info.resolved_splits(self.written)  # checks the splits name written frames only
        for split, files in sorted(self.scene_files.items()):
            for name, per_image in files.items():
                doc = {str(im): per_image[im] for im in sorted(per_image)}
                self.sink.dataset_file(f"{split}/{SCENE}/{name}.json", json_bytes(doc))
        models_info = {}
        for obj_id, (vertices, faces) in sorted(self.models.items()):
            # float32, as stored in the PLY, so models_info describes the written vertices exactly
            vertices_mm = (np.asarray(vertices, dtype=np.float64) * MM_PER_M).astype(np.float32).astype(np.float64)
            self.sink.dataset_file(f"models/obj_{obj_id:06d}.ply", ply_bytes(vertices_mm, np.asarray(faces)))
            lo, hi = vertices_mm.min(0), vertices_mm.max(0)
            models_info[str(obj_id)] = {
                "diameter": model_diameter(vertices_mm),
                **{f"min_{a}": float(v) for a, v in zip("xyz", lo)},
                **{f"size_{a}": float(v) for a, v in zip("xyz", hi - lo)},
            }
        if models_info:
            self.sink.dataset_file("models/models_info.json", json_bytes(models_info))
        self.sink.dataset_file(MANIFEST_NAME, manifest_bytes(self.sink.root, self.info.seed, list(self.info.command)))
        return self.sink.root


def _mask_u8(mask: np.ndarray) -> np.ndarray:
    return np.where(mask, 255, 0).astype(np.uint8)
