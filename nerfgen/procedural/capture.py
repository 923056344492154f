"""Capture a nerfstudio-format dataset with exact labels from a procedural scene.

Layout of the output directory:

    transforms.json          nerfstudio format (+ our *_file_path keys, scene_aabb, gt_file)
    gt.json                  classes, lights, per-instance 3D boxes / poses / visible pixels
    images/frame_00000.png   RGB uint8, anti-aliased: mean of supersample^2 rays per pixel
    depth_z/frame_00000.npy  float32 [H,W] metres along the optical axis, 0 = miss
    range/frame_00000.npy    float32 [H,W] metres along the ray, 0 = miss
    normals/frame_00000.npy  float32 [H,W,3] world-space unit normals facing the camera, 0 = miss
    instance/frame_00000.png uint16 instance id, 0 = none (background or stuff)
    class/frame_00000.png    uint8 class id (index into gt.json "classes"), 0 = none
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from nerfgen.cameras import Cameras
from nerfgen.classes import CLASS_NAMES
from nerfgen.data import holdout_split, write_transforms
from nerfgen.errors import NerfgenError
from nerfgen.output_dir import check_output, output_dir
from nerfgen.procedural.build import GTScene, load_scene
from nerfgen.procedural.raycast import embree_scene
from nerfgen.procedural.render import GTFrames, render_gt, torch_threads
from nerfgen.procedural.rig import rig_cameras
from nerfgen.progress import progress_bar

VIEWS_PER_BATCH = 10  # views ray-cast together: few Embree calls, bounded memory
RENDER_THREADS = 2  # batches rendered side by side: Embree and numpy's array loops release the GIL
WRITER_THREADS = 4  # PNG/npy encoding releases the GIL
LAYERS = ("images", "depth_z", "range", "normals", "instance", "class")


def capture(
    scene: GTScene | str | Path,
    out: str | Path,
    views: int = 100,
    width: int = 200,
    height: int = 150,
    seed: int = 0,
    progress: bool = True,
    supersample: int = 3,
    overwrite: bool = False,
) -> Path:
    """Renders `views` views of the scene's default rig (jittered by `seed`) into `out`,
    RGB from `supersample` x `supersample` rays per pixel and labels from the pixel
    centre (see nerfgen.procedural.render; 1 gives pixel-centre RGB, aliased on fine textures).

    The directory appears only when complete (written to a temporary sibling and
    renamed; an existing non-empty `out` only with `overwrite`, see nerfgen.output_dir);
    the same arguments give byte-identical files. Returns `out`.
    """
    for name, value in (("views", views), ("width", width), ("height", height), ("supersample", supersample)):
        if value < 1:
            raise NerfgenError(None, f"{name} must be >= 1, got {value}")
    inputs = () if isinstance(scene, GTScene) else (scene,)
    check_output(out, inputs, overwrite)
    if not isinstance(scene, GTScene):
        scene = load_scene(scene)
    cameras = rig_cameras(scene.spec.rig, views, width, height, seed)
    names = [f"frame_{i:05d}" for i in range(views)]
    visible = np.zeros((views, max([b.instance_id for b in scene.instances], default=0) + 1), np.int64)
    with output_dir(out, "capture", inputs, overwrite) as tmp:
        for layer in LAYERS:
            (tmp / layer).mkdir()
        batches = [list(range(s, min(s + VIEWS_PER_BATCH, views))) for s in range(0, views, VIEWS_PER_BATCH)]
        embree_scene(scene)  # built once here, not raced by the render threads
        with (
            torch_threads(1),  # the render threads then each set and restore 1, not each other's values
            ThreadPoolExecutor(RENDER_THREADS) as renderers,
            ThreadPoolExecutor(WRITER_THREADS) as pool,
            progress_bar(progress) as bar,
        ):
            task = bar.add_task(f"capture {scene.spec.name}", total=views)
            writes = []
            # map() yields in batch order whichever thread finishes first: same files.
            rendered = renderers.map(lambda batch: render_gt(scene, cameras, batch, supersample), batches)
            for batch, frames in zip(batches, rendered):
                for k, i in enumerate(batch):
                    visible[i] = np.bincount(frames.instance[k].ravel(), minlength=visible.shape[1])
                    writes.append(pool.submit(_write_frame, tmp, names[i], frames, k))
                bar.advance(task, len(batch))
            for w in writes:
                w.result()  # re-raises a failed write
        _write_json(tmp / "gt.json", _gt_document(scene, cameras, visible, seed, supersample))
        _write_transforms(tmp, scene, cameras, names)
    return Path(out)


def _write_frame(root: Path, name: str, frames: GTFrames, k: int) -> None:
    rgb = np.round(frames.rgb[k] * 255.0).astype(np.uint8)
    # Pillow writes no timestamps or other varying chunks: same pixels, same bytes.
    Image.fromarray(rgb).save(root / "images" / f"{name}.png", compress_level=6)
    Image.fromarray(frames.instance[k].astype(np.uint16)).save(root / "instance" / f"{name}.png", compress_level=6)
    Image.fromarray(frames.class_id[k].astype(np.uint8)).save(root / "class" / f"{name}.png", compress_level=6)
    np.save(root / "depth_z" / f"{name}.npy", frames.depth_z[k])
    np.save(root / "range" / f"{name}.npy", frames.range[k])
    np.save(root / "normals" / f"{name}.npy", frames.normals[k])


def _write_transforms(root: Path, scene: GTScene, cameras: Cameras, names: list[str]) -> None:
    images = [f"images/{n}.png" for n in names]
    extras = [
        {
            "depth_file_path": f"depth_z/{n}.npy",
            "range_file_path": f"range/{n}.npy",
            "normals_file_path": f"normals/{n}.npy",
            "instance_file_path": f"instance/{n}.png",
            "class_file_path": f"class/{n}.png",
        }
        for n in names
    ]
    split = holdout_split(len(names))  # every 8th frame (0, 8, ...) is test
    write_transforms(
        root,
        cameras,
        images,
        frame_extras=extras,
        extras={
            "train_filenames": [images[i] for i in split["train"].tolist()],
            "test_filenames": [images[i] for i in split["test"].tolist()],
            "scene_aabb": scene.aabb.tolist(),
            "gt_file": "gt.json",
            # depth .npy files are metres already (nerfstudio multiplies .npy depth by this)
            "depth_unit_scale_factor": 1.0,
        },
    )


def _gt_document(scene: GTScene, cameras: Cameras, visible: np.ndarray, seed: int, supersample: int) -> dict:
    spec = scene.spec
    return {
        "scene": spec.name,
        "seed": seed,
        "rgb_supersample": supersample,
        "views": len(cameras),
        "classes": list(CLASS_NAMES),
        "background": list(spec.background),
        "lights": {
            "ambient": spec.lights.ambient,
            "shadows": spec.lights.shadows,
            "directional": [
                {"direction": list(light.direction), "intensity": light.intensity} for light in spec.lights.directional
            ],
        },
        "instances": [
            {
                "id": b.instance_id,
                "name": b.name,
                "class": b.class_name,
                "class_id": b.class_id,
                "box": {"center": b.center.tolist(), "size": b.size.tolist(), "rotation": b.rotation.tolist()},
                "pose": b.pose.tolist(),
                "visible_pixels": visible[:, b.instance_id].tolist(),
            }
            for b in scene.instances
        ],
        "conventions": {
            "world": "metres, right-handed, z up",
            "box": "center in world; size along the object axes; rotation object-to-world (columns = box axes)",
            "pose": "object-to-world 4x4",
            "normals": "world-space geometric normal of the hit triangle, facing the camera",
            "instance": "0 = background or stuff (no instance)",
        },
    }


def _write_json(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, indent=2) + "\n")
