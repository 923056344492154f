"""What the render endpoints compute, on the worker thread: images, labelled frames and
LiDAR sweeps of a renderer, as JSON-ready documents (arrays encoded by nerfgen.serve.encoding)."""

from __future__ import annotations

import numpy as np

from nerfgen.cameras import Cameras
from nerfgen.labels import frame_labels_and_alone_masks, labels_to_json
from nerfgen.render.frame import FrameRenderer
from nerfgen.sensors.lidar_specs import LidarSpec
from nerfgen.serve.encoding import encoded_arrays
from nerfgen.writers.encode import rgb_u8


def rgb_image(renderer: FrameRenderer, cameras: Cameras) -> np.ndarray:  # uint8 [H,W,3]
    """The camera's image, rounded to 8 bits as `nerfgen render` writes it."""
    return rgb_u8(renderer.render(cameras, 0).rgb)


def frame_document(
    renderer: FrameRenderer, cameras: Cameras, uuids: dict[int, str], outputs: list[str], encoding: str
) -> dict:
    """One camera's labelled frame: "labels" (nerfgen.labels.serialize: the camera, and with
    output "boxes" one record per actor with its uuid: 2D/3D boxes, poses, occlusion,
    truncation) and the maps of `outputs` as arrays:
    rgb uint8 [H,W,3]; depth: depth_z, range float32 [H,W] (0 = no surface); normals:
    normals float32 [H,W,3] (world); masks: instance, class_id int32 [H,W], opacity float32."""
    maps = renderer.render(cameras, 0)
    labels, _ = frame_labels_and_alone_masks(renderer, cameras, 0, maps, with_instances="boxes" in outputs)
    doc = labels_to_json(labels)
    for instance in doc["instances"]:
        instance["uuid"] = uuids[instance["instance_id"]]
    arrays: dict[str, np.ndarray] = {}
    if "rgb" in outputs:
        arrays["rgb"] = rgb_u8(maps.rgb)
    if "depth" in outputs:
        arrays["depth_z"], arrays["range"] = maps.depth_z.astype(np.float32), maps.range.astype(np.float32)
    if "normals" in outputs:
        arrays["normals"] = maps.normals_world.astype(np.float32)
    if "masks" in outputs:
        arrays["instance"], arrays["class_id"] = maps.instance.astype(np.int32), maps.class_id.astype(np.int32)
        arrays["opacity"] = maps.opacity.astype(np.float32)
    return {"labels": doc, **encoded_arrays(arrays, encoding)}


def lidar_document(
    renderer: FrameRenderer, spec: LidarSpec, sensor_to_world: np.ndarray, uuids: dict[int, str], encoding: str
) -> dict:
    """One sweep: the returns' points in the LiDAR frame and in the world (float32 [N,3]),
    range, intensity (float32 [N]), ring, instance, class_id (int32 [N]); "uuids" names the
    actor of each instance id present."""
    scan = renderer.render_lidar(spec, sensor_to_world)
    points = scan.points_sensor.astype(np.float64)
    world = points @ sensor_to_world[:3, :3].T + sensor_to_world[:3, 3]
    arrays = {
        "points": scan.points_sensor.astype(np.float32),
        "points_world": world.astype(np.float32),
        "range": np.linalg.norm(points, axis=1).astype(np.float32),
        "intensity": scan.intensity.astype(np.float32),
        "ring": scan.ring.astype(np.int32),
        "instance": scan.instance.astype(np.int32),
        "class_id": scan.class_id.astype(np.int32),
    }
    present = sorted({int(i) for i in np.unique(scan.instance)} - {0})
    return {
        "lidar": spec.name,
        "n_beams_fired": int(scan.n_beams_fired),
        "n_points": len(points),
        "sensor_to_world": np.asarray(sensor_to_world, np.float64).tolist(),
        "uuids": {str(i): uuids[i] for i in present if i in uuids},
        **encoded_arrays(arrays, encoding),
    }
