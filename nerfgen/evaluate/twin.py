"""A raw dataset rendered from a composed scene (`nerfgen augment`, `nerfgen render`)
against its exact twin: the same cameras and LiDAR poses ray cast on the assets'
ground-truth scenes (`nerfgen.scene.composed_gt_scene`), compared by `LabelErrors`.

    errors = compare_with_twin("out/aug/raw", "out/aug/scene.yaml")   # LabelErrors
    errors.summary()["mask_iou_mean"]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nerfgen.evaluate.compare import LabelErrors
from nerfgen.labels import cameras_of, render_frames
from nerfgen.procedural import GTRenderer
from nerfgen.progress import progress_bar
from nerfgen.scene import composed_gt_scene
from nerfgen.writers.raw import (
    read_raw_correspondences,
    read_raw_frame,
    read_raw_lidar,
    read_raw_lidar_spec,
    read_raw_meta,
)


def compare_with_twin(raw_dir: str | Path, scene_file: str | Path, progress: bool = True) -> LabelErrors:
    """Errors of every frame of `raw_dir` (maps, labels, and the correspondences and LiDAR
    sweeps it holds) against the exact twin of `scene_file`, the scene it was rendered from."""
    raw_dir = Path(raw_dir)
    meta = read_raw_meta(raw_dir)
    frames = [read_raw_frame(raw_dir, i) for i in range(meta["frame_count"])]
    lidar = read_raw_lidar_spec(raw_dir)
    scans = [read_raw_lidar(raw_dir, i) for i in range(len(frames))] if lidar is not None else None
    exact_frames = render_frames(
        GTRenderer(composed_gt_scene(scene_file)),
        cameras_of([labels for _, labels in frames], raw_dir),
        correspondences="correspondences" in meta["outputs"],
        lidar=lidar,
        lidar_poses=None if scans is None else np.stack([s.sensor_to_world for s in scans]),
    )
    errors = LabelErrors()
    with progress_bar(progress) as bar:
        task = bar.add_task("compare with the exact twin", total=len(frames))
        for index, exact in enumerate(exact_frames):
            maps, labels = frames[index]
            errors.add_frame(maps, labels, exact.maps, exact.labels)
            if exact.correspondences is not None:
                errors.add_correspondences(
                    read_raw_correspondences(raw_dir, index), exact.correspondences, exact.maps.depth_z
                )
            if scans is not None:
                errors.add_lidar(lidar, scans[index], exact.lidar)
            bar.advance(task)
    return errors
