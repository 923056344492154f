"""How far rendered labels are from exact ones of the same views.

Both sides are what `nerfgen.labels.render_frames` yields (FrameMaps, FrameLabels,
correspondences, LiDAR sweeps), typically a composed radiance-field scene and its exact
twin (`nerfgen.scene.composed_gt_scene`) seen by the same cameras and LiDAR poses.
`LabelErrors` gathers errors frame by frame; `summary()` reduces them (pooled over all
frames; None where nothing was measured):

    depth_abs_rel                 mean |depth_z - exact| / exact over pixels where both see a surface
    normal_median_deg             median angle between rendered and exact world normals there
    mask_iou_mean, mask_iou_min   instance mask IoU per (frame, instance) with >= MIN_PIXELS exact pixels
    box_iou_mean                  IoU of the visible 2D boxes over the same (frame, instance) pairs
    occlusion_error_max           max |occlusion - exact| over instances with pixels when alone
    truncation_error_max          the same for truncation
    poses_exact                   1.0 when every 3D box and 6-DoF pose equals the exact one, else 0.0
    correspondence_epe_median_px  end-point error (px) of the correspondences both sides accept
    correspondence_pck_3px        share of those within PCK_PIXELS
    visibility_accuracy           share of exact-surface pixels where both agree whether the next frame sees them
    lidar_drop_agreement          share of beams that both sides return, or both drop
    lidar_range_error_median_m    median |range - exact| on beams both return (metres)
    lidar_range_rel_median        the same relative to the exact range
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from nerfgen.labels.types import FrameLabels
from nerfgen.render.frame import FrameMaps, LidarScan
from nerfgen.render.lidar_scan import beam_ranges
from nerfgen.sensors.lidar_specs import LidarSpec
from nerfgen.train.metrics import depth_abs_rel, normal_angle_deg

MIN_PIXELS = 20  # instances with fewer visible exact pixels in a frame are not scored for masks/boxes
PCK_PIXELS = 3.0
_EXACT_FIELDS = ("size", "box_to_world", "obj_to_world", "obj_to_cam", "corners_world")


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two boolean masks (1.0 when both are empty)."""
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def box_iou(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """IoU of two x0,y0,x1,y1 boxes; a missing box matches only a missing box."""
    if a is None or b is None:
        return float(a is None and b is None)
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return float(w * h / union) if union > 0 else 0.0


@dataclass
class LabelErrors:
    """Errors of rendered labels against exact ones, gathered frame by frame (module docstring)."""

    depth_abs_rel: list[tuple[float, int]] = field(default_factory=list)  # (mean, pixels) per frame
    normal_deg: list[np.ndarray] = field(default_factory=list)
    mask_iou: list[float] = field(default_factory=list)
    box_iou: list[float] = field(default_factory=list)
    occlusion_error: list[float] = field(default_factory=list)
    truncation_error: list[float] = field(default_factory=list)
    pose_mismatches: int = 0
    endpoint_error: list[np.ndarray] = field(default_factory=list)
    visibility_agrees: list[np.ndarray] = field(default_factory=list)
    lidar_drop_agrees: list[np.ndarray] = field(default_factory=list)
    lidar_range_error: list[np.ndarray] = field(default_factory=list)
    lidar_range_rel: list[np.ndarray] = field(default_factory=list)

    def add_frame(self, maps: FrameMaps, labels: FrameLabels, exact_maps: FrameMaps, exact_labels: FrameLabels) -> None:
        """Depth, normals, masks, 2D boxes, occlusion, truncation and 3D boxes/poses of one view."""
        both = torch.from_numpy((maps.depth_z > 0) & (exact_maps.depth_z > 0))
        if both.any():
            depth, exact_depth = torch.from_numpy(maps.depth_z).double(), torch.from_numpy(exact_maps.depth_z).double()
            self.depth_abs_rel.append((depth_abs_rel(depth, exact_depth, both), int(both.sum())))
            normals, exact_normals = (
                torch.from_numpy(maps.normals_world).double(),
                torch.from_numpy(exact_maps.normals_world).double(),
            )
            self.normal_deg.append(normal_angle_deg(normals, exact_normals, both).numpy())
        rendered = {i.instance_id: i for i in labels.instances}
        for exact in exact_labels.instances:
            label = rendered.get(exact.instance_id)
            if label is None or any(not np.array_equal(getattr(label, k), getattr(exact, k)) for k in _EXACT_FIELDS):
                self.pose_mismatches += 1
                continue
            if exact.px_alone > 0:
                self.occlusion_error.append(abs(label.occlusion - exact.occlusion))
                self.truncation_error.append(abs(label.truncation - exact.truncation))
            if exact.px_visible >= MIN_PIXELS:
                self.mask_iou.append(
                    mask_iou(maps.instance == exact.instance_id, exact_maps.instance == exact.instance_id)
                )
                self.box_iou.append(box_iou(label.bbox_visible, exact.bbox_visible))

    def add_correspondences(
        self,
        rendered: tuple[np.ndarray, np.ndarray],  # uv [H,W,2] in the next frame, valid [H,W]
        exact: tuple[np.ndarray, np.ndarray],
        exact_depth_z: np.ndarray,  # [H,W] of this frame, 0 = no surface
    ) -> None:
        """Correspondences from one frame to the next against the exact ones."""
        (uv, valid), (uv_exact, valid_exact) = rendered, exact
        both = valid & valid_exact
        self.endpoint_error.append(np.linalg.norm(uv[both].astype(np.float64) - uv_exact[both], axis=-1))
        self.visibility_agrees.append((valid == valid_exact)[exact_depth_z > 0])

    def add_lidar(self, spec: LidarSpec, scan: LidarScan, exact_scan: LidarScan) -> None:
        """One sweep against the exact sweep of the same beams (same spec and pose)."""
        returned, range_ = beam_ranges(spec, scan)
        exact_returned, exact_range = beam_ranges(spec, exact_scan)
        both = returned & exact_returned
        self.lidar_drop_agrees.append(returned == exact_returned)
        self.lidar_range_error.append(np.abs(range_ - exact_range)[both])
        self.lidar_range_rel.append(np.abs(range_ - exact_range)[both] / exact_range[both])

    def summary(self) -> dict[str, float | None]:
        pixels = sum(n for _, n in self.depth_abs_rel)
        epe = _pooled(self.endpoint_error)
        return {
            "depth_abs_rel": sum(m * n for m, n in self.depth_abs_rel) / pixels if pixels else None,
            "normal_median_deg": _median(_pooled(self.normal_deg)),
            "mask_iou_mean": _mean(self.mask_iou),
            "mask_iou_min": min(self.mask_iou) if self.mask_iou else None,
            "box_iou_mean": _mean(self.box_iou),
            "occlusion_error_max": max(self.occlusion_error) if self.occlusion_error else None,
            "truncation_error_max": max(self.truncation_error) if self.truncation_error else None,
            "poses_exact": float(self.pose_mismatches == 0),
            "correspondence_epe_median_px": _median(epe),
            "correspondence_pck_3px": _mean(epe <= PCK_PIXELS),
            "visibility_accuracy": _mean(_pooled(self.visibility_agrees)),
            "lidar_drop_agreement": _mean(_pooled(self.lidar_drop_agrees)),
            "lidar_range_error_median_m": _median(_pooled(self.lidar_range_error)),
            "lidar_range_rel_median": _median(_pooled(self.lidar_range_rel)),
        }


def _pooled(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)


def _mean(values) -> float | None:
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()) if values.size else None


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if values.size else None
