"""Python client of `nerfgen serve` (httpx): one method per endpoint, numpy in and out.

    with SensorClient("http://127.0.0.1:8000") as client:
        client.wait_until_alive()
        car = client.get_actors()[0]
        client.move_actor(car["uuid"], new_box_pose)              # [4,4] box-to-world
        rgb = client.render_image(c2w, "front")                   # uint8 [H,W,3]
        frame = client.render_labels(c2w, "front")                # Frame: labels + arrays
        sweep = client.render_lidar(lidar_to_world, "vlp16")      # Sweep: points, instance, ...

Poses are 4x4 (numpy or nested lists): cameras camera-to-world with OpenCV axes (x right,
y down, z forward), LiDARs sensor-to-world (x forward, y left, z up), actors box-to-world
(docs/serve.md). Refused requests raise `ServerError` with the status and the server's
message.
"""

from __future__ import annotations

import base64
import io
import time
from dataclasses import dataclass
from typing import Sequence

import httpx
import numpy as np
from PIL import Image

from nerfgen.labels import FrameLabels, labels_from_json

DEFAULT_URL = "http://127.0.0.1:8000"


class ServerError(Exception):
    """A request the server answered with an error status."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass
class Frame:
    """One camera's labelled frame from /render_labels or /render_batch."""

    camera_name: str
    """The camera as the server names it."""
    labels: dict
    """FrameLabels as JSON (nerfgen.labels.serialize): the camera, and one record per actor
    (2D/3D boxes, poses, occlusion, truncation) with its "uuid"."""
    arrays: dict[str, np.ndarray]
    """The requested maps: rgb, depth_z, range, normals, instance, class_id, opacity."""

    def frame_labels(self) -> FrameLabels:
        """`labels` as nerfgen's FrameLabels record (numpy arrays)."""

        return labels_from_json(self.labels)


@dataclass
class Sweep:
    """One LiDAR sweep from /render_lidar."""

    info: dict
    """lidar (name), n_beams_fired, n_points, sensor_to_world, uuids (instance id -> actor uuid)."""
    arrays: dict[str, np.ndarray]
    """points, points_world [N,3]; range, intensity [N]; ring, instance, class_id [N]."""


class SensorClient:
    """A connection to one server; use as a context manager or call close()."""

    def __init__(self, url: str = DEFAULT_URL, token: str | None = None, timeout_s: float = 120.0):
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        self._http = httpx.Client(base_url=url, headers=headers, timeout=timeout_s)

    def __enter__(self) -> SensorClient:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def alive(self) -> bool:
        return bool(self._get("/alive").json())

    def wait_until_alive(self, timeout_s: float = 60.0, interval_s: float = 0.2) -> None:
        """Polls /alive until the server answers; TimeoutError after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self.alive():
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer from {self._http.base_url} within {timeout_s} s")
            time.sleep(interval_s)

    def start_time(self) -> int:
        return int(self._get("/start_time").json())

    def cameras(self) -> list[dict]:
        return self._get("/cameras").json()

    def get_actors(self) -> list[dict]:
        """NeuRAD ActorTrajectory dicts; "poses" [K,4,4] and "timestamps" [K] as numpy."""
        actors = self._get("/get_actors").json()
        for actor in actors:
            actor["poses"] = np.asarray(actor["poses"], np.float64)
            actor["timestamps"] = np.asarray(actor["timestamps"], np.int64)
        return actors

    def update_actors(self, trajectories: Sequence[dict]) -> None:
        """Each {"uuid", "poses": [K,4,4], "timestamps": [K]} replaces that actor's trajectory."""
        body = [
            {
                "uuid": t["uuid"],
                "poses": np.asarray(t["poses"], np.float64).tolist(),
                "timestamps": [int(x) for x in t["timestamps"]],
            }
            for t in trajectories
        ]
        self._post("/update_actors", body)

    def move_actor(self, uuid: str, pose, timestamp: int = 0) -> None:
        """Puts one actor at box-to-world `pose` [4,4] from `timestamp` on (and before)."""
        self.update_actors([{"uuid": uuid, "poses": [pose], "timestamps": [timestamp]}])

    def render_image_bytes(
        self,
        pose,
        camera_name: str = "front",
        timestamp: int = 0,
        image_format: str = "png",
        width: int | None = None,
        height: int | None = None,
    ) -> bytes:
        """The response body of /render_image: PNG or JPEG bytes, or base64 .npy text for "raw"."""
        body = {"pose": _matrix(pose), "timestamp": timestamp, "camera_name": camera_name, "image_format": image_format}
        return self._post("/render_image", body | _size(width, height)).content

    def render_image(
        self,
        pose,
        camera_name: str = "front",
        timestamp: int = 0,
        image_format: str = "png",
        width: int | None = None,
        height: int | None = None,
    ) -> np.ndarray:
        """uint8 [H,W,3] image of the camera at camera-to-world `pose`."""
        content = self.render_image_bytes(pose, camera_name, timestamp, image_format, width, height)
        if image_format == "raw":
            return np.load(io.BytesIO(base64.b64decode(content)), allow_pickle=False)
        with Image.open(io.BytesIO(content)) as image:
            return np.asarray(image.convert("RGB"))

    def render_labels(
        self,
        pose,
        camera_name: str = "front",
        timestamp: int = 0,
        outputs: Sequence[str] = ("depth", "normals", "masks", "boxes"),
        encoding: str = "npz",
        width: int | None = None,
        height: int | None = None,
    ) -> Frame:
        body = {
            "pose": _matrix(pose),
            "timestamp": timestamp,
            "camera_name": camera_name,
            "outputs": list(outputs),
            "encoding": encoding,
        }
        return _frame(self._post("/render_labels", body | _size(width, height)).json())

    def render_batch(
        self,
        cameras: Sequence[tuple[str, object]],
        timestamp: int = 0,
        rig_to_world=None,
        outputs: Sequence[str] = ("rgb",),
        encoding: str = "npz",
    ) -> list[Frame]:
        """Frames of (camera name, pose) pairs at one timestamp; poses are camera-to-rig
        when `rig_to_world` is given, else camera-to-world."""
        body = {
            "cameras": [{"camera_name": name, "pose": _matrix(pose)} for name, pose in cameras],
            "timestamp": timestamp,
            "outputs": list(outputs),
            "encoding": encoding,
        }
        if rig_to_world is not None:
            body["rig_to_world"] = _matrix(rig_to_world)
        return [_frame(doc) for doc in self._post("/render_batch", body).json()["frames"]]

    def render_lidar(
        self,
        pose,
        preset: str = "vlp16",
        timestamp: int = 0,
        azimuth_resolution_deg: float | None = None,
        elevation_deg: Sequence[float] | None = None,
        min_range: float | None = None,
        max_range: float | None = None,
        encoding: str = "npz",
    ) -> Sweep:
        """One sweep from LiDAR-to-world `pose`; options not given are the preset's."""
        body = {"pose": _matrix(pose), "timestamp": timestamp, "preset": preset, "encoding": encoding}
        options = {"azimuth_resolution_deg": azimuth_resolution_deg, "min_range": min_range, "max_range": max_range}
        body |= {k: v for k, v in options.items() if v is not None}
        if elevation_deg is not None:
            body["elevation_deg"] = [float(e) for e in elevation_deg]
        doc = self._post("/render_lidar", body).json()
        return Sweep({k: v for k, v in doc.items() if k not in ("npz", "arrays")}, decode_arrays(doc))

    def _get(self, path: str) -> httpx.Response:
        return _checked(self._http.get(path))

    def _post(self, path: str, body) -> httpx.Response:
        return _checked(self._http.post(path, json=body))


def decode_arrays(doc: dict) -> dict[str, np.ndarray]:
    """The arrays of a response document, from either encoding (nerfgen.serve.encoding)."""
    if "npz" in doc:
        with np.load(io.BytesIO(base64.b64decode(doc["npz"])), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    return {
        name: np.frombuffer(base64.b64decode(a["data"]), dtype=np.dtype(a["dtype"])).reshape(a["shape"])
        for name, a in doc.get("arrays", {}).items()
    }


def _frame(doc: dict) -> Frame:
    return Frame(doc["camera_name"], doc["labels"], decode_arrays(doc))


def _matrix(pose) -> list[list[float]]:
    return np.asarray(pose, np.float64).reshape(4, 4).tolist()


def _size(width: int | None, height: int | None) -> dict:
    return {k: v for k, v in (("width", width), ("height", height)) if v is not None}


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        message = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        message = response.text
    raise ServerError(response.status_code, message)
