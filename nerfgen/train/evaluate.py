"""Evaluation of a trained field on a dataset split: image and geometry metrics, images.

PSNR/SSIM compare renders over the dataset's background with its images. Where the
dataset has ground truth (captures of scenes/ do), depth_z AbsRel is measured on pixels
with valid ground-truth depth and normal angle error on pixels with a ground-truth normal.
Data with LiDAR scans gets range metrics on the scans of the held-out frames
(nerfgen.train.lidar_eval).
"""

from __future__ import annotations

import io
import json
import statistics
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from nerfgen.atomic import atomic_write_bytes
from nerfgen.data import Dataset
from nerfgen.errors import NerfgenError
from nerfgen.output_dir import output_dir
from nerfgen.render.image import ImageOutput, render_image
from nerfgen.train.data import split_indices
from nerfgen.train.lidar_eval import held_out_scans, lidar_metrics
from nerfgen.train.metrics import depth_abs_rel, normal_angle_deg, psnr, ssim
from nerfgen.train.run import TrainedField


def ground_truth_normals(dataset: Dataset, frames: Tensor) -> Tensor | None:  # -> [n,H,W,3], 0 = none
    """World normals listed as `normals_file_path` in the dataset's transforms.json
    (captures write them), box-averaged to the dataset's resolution; None when absent."""
    index_file = dataset.root / "transforms.json"
    if not index_file.is_file():
        return None
    try:
        listed = json.loads(index_file.read_text())["frames"]
    except (OSError, ValueError, KeyError) as e:
        raise NerfgenError(index_file, f"cannot read frames ({e})") from None
    by_image = {(dataset.root / f["file_path"]).resolve(): f.get("normals_file_path") for f in listed}
    h, w = dataset.images.shape[1:3]
    out = []
    for i in frames.tolist():
        name = by_image.get(dataset.image_paths[i].resolve())
        if name is None:
            return None
        path = dataset.root / name
        try:
            normals = np.load(path, allow_pickle=False).astype(np.float32)
        except (OSError, ValueError) as e:
            raise NerfgenError(path, f"cannot read normals ({e})") from None
        k = normals.shape[0] // h
        blocks = normals[: h * k, : w * k].reshape(h, k, w, k, 3).mean(axis=(1, 3))
        # A block mixing surfaces (or surface and background) has no single normal.
        length = np.linalg.norm(blocks, axis=-1, keepdims=True)
        out.append(np.where(length > 0.9, blocks / np.maximum(length, 1e-12), 0.0))
    return torch.from_numpy(np.stack(out)).float()


def _to_png(image: Tensor) -> bytes:  # [H,W,3] in [0,1]
    buf = io.BytesIO()
    Image.fromarray((image.clamp(0, 1) * 255).round().to(torch.uint8).numpy()).save(buf, format="PNG")
    return buf.getvalue()


def _depth_image(depth: Tensor, opacity: Tensor) -> Tensor:  # [H,W] -> [H,W,3] grey, near = bright
    valid = opacity > 0.5
    if not valid.any():
        return torch.zeros(*depth.shape, 3)
    lo, hi = depth[valid].min(), depth[valid].max()
    grey = torch.where(valid, 1.0 - (depth - lo) / (hi - lo).clamp_min(1e-6), torch.zeros_like(depth))
    return grey[..., None].expand(*depth.shape, 3)


def side_by_side(target: Tensor, render: ImageOutput) -> Tensor:  # -> [H, k*W, 3]
    """Ground truth | render | depth_z | surface normals | field normals (each when rendered)."""
    solid = render.opacity[..., None] > 0.5
    panels = [target, render.rgb, _depth_image(render.depth_z, render.opacity)]
    for normals in (render.surface_normals, render.normals):
        if normals is not None:
            panels.append((normals + 1.0) * 0.5 * solid)
    return torch.cat(panels, dim=1)


def _frame_ids(dataset: Dataset, frames: Tensor) -> Tensor | None:
    """The capture's frame numbers of images `frames` (readers with LiDAR record them)."""
    ids = dataset.metadata.get("frame_ids")
    return None if ids is None else torch.as_tensor(ids)[frames]


def evaluate(
    trained: TrainedField, dataset: Dataset, split: str, out_dir: Path, holdout_every: int | None = None
) -> dict:
    """Renders every frame of `split`, writes out_dir/eval.json and out_dir/eval/*.png,
    and returns the summary written to eval.json. Data without a test split holds out
    every `holdout_every`-th frame (default: the run's, `--holdout-every` of train).

    Normal errors come in two kinds: `normal_*` for the field's own normals (density
    gradient, or the predicted head) and `surface_normal_*` for normals of the rendered
    surface (nerfgen.render.surface_normals). out_dir/eval is replaced only when it is
    nerfgen's own (an earlier evaluation's)."""
    every = trained.config.train.holdout_every if holdout_every is None else holdout_every
    frames = split_indices(dataset, split, every)
    gt_normals = ground_truth_normals(dataset, frames)
    want_normals = gt_normals is not None or trained.field.normal_head is not None
    views: list[dict] = []
    all_angles: dict[str, list[Tensor]] = {}
    inputs = (trained.checkpoint, dataset.root)
    with output_dir(out_dir / "eval", "eval", inputs, overwrite=True) as image_dir:  # the run's own eval images
        for k, i in enumerate(frames.tolist()):
            render = render_image(
                trained.field,
                trained.grid,
                dataset.cameras,
                i,
                trained.config.render,
                background=dataset.background,
                normals=want_normals,
                surface_normals=True,
            )
            target = dataset.images[i]
            view = {
                "frame": i,
                "image": dataset.image_paths[i].name,
                "psnr": psnr(render.rgb, target),
                "ssim": ssim(render.rgb, target),
            }
            if dataset.depths_z is not None and (dataset.depths_z[i] > 0).any():
                view["depth_abs_rel"] = depth_abs_rel(render.depth_z, dataset.depths_z[i], dataset.depths_z[i] > 0)
            if gt_normals is not None:
                valid = gt_normals[k].norm(dim=-1) > 0.5
                for kind, normals in (("normal", render.normals), ("surface_normal", render.surface_normals)):
                    # Border pixels have no depth normal; they count as errors, not as gaps.
                    angles = normal_angle_deg(normals, gt_normals[k], valid)
                    all_angles.setdefault(kind, []).append(angles)
                    view[f"{kind}_median_deg"] = angles.median().item() if angles.numel() else float("nan")
            views.append(view)
            (image_dir / f"{k:04d}_{dataset.image_paths[i].stem}.png").write_bytes(
                _to_png(side_by_side(target, render))
            )
    summary: dict = {
        "checkpoint": str(trained.checkpoint),
        "step": trained.step,
        "split": split,
        "n_views": len(views),
        "image_size": [int(dataset.cameras.width[0]), int(dataset.cameras.height[0])],  # width, height scored
        "psnr": statistics.fmean(v["psnr"] for v in views),
        "ssim": statistics.fmean(v["ssim"] for v in views),
    }
    if all("depth_abs_rel" in v for v in views):
        summary["depth_abs_rel"] = statistics.fmean(v["depth_abs_rel"] for v in views)
    for kind, parts in all_angles.items():
        angles = torch.cat(parts)
        summary[f"{kind}_mean_deg"] = angles.mean().item()
        summary[f"{kind}_median_deg"] = angles.median().item()
    if dataset.lidar is not None:
        held_out = held_out_scans(dataset.lidar, _frame_ids(dataset, frames))
        if held_out.numel():
            summary["lidar"] = lidar_metrics(trained, dataset.lidar, held_out)
    summary["views"] = views
    atomic_write_bytes(out_dir / "eval.json", (json.dumps(summary, indent=2) + "\n").encode())
    return summary
