"""Request bodies of the server's endpoints (pydantic models; FastAPI validates them).

The NeuRAD-compatible ones (`ActorTrajectoryIn`, `RenderImageIn`) ignore fields they do
not know, as NeuRAD's do (NeuroNCAP sends `is_target_actor`); nerfgen's own refuse them,
so a misspelt option is an error rather than silently the default. Floats must be finite:
NaN and infinity (which Python's JSON reader accepts) are refused with 422.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Row = Annotated[list[float], Field(min_length=4, max_length=4)]
Matrix4 = Annotated[list[Row], Field(min_length=4, max_length=4)]
"""A 4x4 matrix as 4 rows of 4 numbers."""
Size = Annotated[int, Field(ge=1)]
Timestamp = Annotated[int, Field(ge=-(2**63), lt=2**63)]
"""Microseconds, within int64."""
Output = Literal["rgb", "depth", "normals", "masks", "boxes"]
Encoding = Literal["npz", "raw"]

MAX_BATCH_CAMERAS = 16


class _Compatible(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, use_attribute_docstrings=True)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, use_attribute_docstrings=True)


class ActorTrajectoryIn(_Compatible):
    """NeuRAD's ActorTrajectory: where one actor is over time."""

    uuid: str
    """The actor (GET /get_actors)."""
    poses: Annotated[list[Matrix4], Field(min_length=1)]
    """Box-to-world 4x4 poses (nerfgen.serve.actors), one per timestamp."""
    timestamps: list[Timestamp]
    """Microseconds, strictly increasing."""
    dims: list[float] | None = None
    """[width, length, height]: accepted and ignored, an object keeps its size."""


class RenderImageIn(_Compatible):
    """NeuRAD's RenderInput, plus an optional image size."""

    pose: Matrix4
    """Camera-to-world, OpenCV camera axes (x right, y down, z forward), world z up."""
    timestamp: Timestamp = 0
    """Microseconds: actors are where their trajectories put them at this time."""
    camera_name: str
    """A camera of GET /cameras (NeuRAD's CAM_FRONT finds `front`)."""
    image_format: Literal["raw", "png", "jpg", "jpeg"] = "raw"
    """raw: base64 .npy text of the uint8 [H,W,3] image; png; jpg/jpeg (quality 95)."""
    width: Size | None = None
    """Render at this width instead of the camera's (same horizontal field of view)."""
    height: Size | None = None
    """Render at this height instead of the camera's."""


class RenderLabelsIn(_Strict):
    """One camera's maps and labels."""

    pose: Matrix4
    """Camera-to-world, OpenCV camera axes."""
    timestamp: Timestamp = 0
    """Microseconds."""
    camera_name: str
    """A camera of GET /cameras."""
    outputs: list[Output] = ["depth", "normals", "masks", "boxes"]
    """What to render: rgb, depth (depth_z and range), normals, masks (instance, class_id,
    opacity), boxes (per-actor labels; costs one small render per actor in view)."""
    encoding: Encoding = "npz"
    """How arrays travel (nerfgen.serve.encoding)."""
    width: Size | None = None
    """Render at this width instead of the camera's."""
    height: Size | None = None
    """Render at this height instead of the camera's."""


class BatchCameraIn(_Strict):
    """One camera of a batch."""

    camera_name: str
    """A camera of GET /cameras (the same one may appear at several poses)."""
    pose: Matrix4
    """Camera-to-rig when the batch gives `rig_to_world`, else camera-to-world."""


class RenderBatchIn(_Strict):
    """Several cameras of one rig, rendered at one timestamp as one job (one scene state)."""

    cameras: Annotated[list[BatchCameraIn], Field(min_length=1, max_length=MAX_BATCH_CAMERAS)]
    """The cameras and their poses."""
    rig_to_world: Matrix4 | None = None
    """The rig's pose; camera poses are then relative to it."""
    timestamp: Timestamp = 0
    """Microseconds."""
    outputs: list[Output] = ["rgb"]
    """As in RenderLabelsIn."""
    encoding: Encoding = "npz"
    """How arrays travel."""


class RenderLidarIn(_Strict):
    """One LiDAR sweep."""

    pose: Matrix4
    """LiDAR-to-world, LiDAR axes (x forward, y left, z up)."""
    timestamp: Timestamp = 0
    """Microseconds."""
    preset: Literal["vlp16", "hdl32e", "hdl64e"] = "vlp16"
    """Velodyne model (nerfgen.sensors.lidar_specs): beams, resolution, range window."""
    elevation_deg: Annotated[list[float], Field(min_length=1)] | None = None
    """Explicit beam elevations in degrees (ascending), replacing the preset's."""
    azimuth_resolution_deg: Annotated[float, Field(gt=0, le=360)] | None = None
    """Degrees between firings instead of the preset's."""
    min_range: Annotated[float, Field(ge=0)] | None = None
    """Returns closer than this (metres) are dropped; default the preset's."""
    max_range: Annotated[float, Field(gt=0)] | None = None
    """Returns beyond this (metres) are dropped; default the preset's."""
    encoding: Encoding = "npz"
    """How arrays travel."""
