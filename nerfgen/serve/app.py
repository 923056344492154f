"""The HTTP API of `nerfgen serve` (FastAPI): NeuRAD's closed-loop endpoints and nerfgen's.

    GET  /alive          true
    GET  /start_time     0 (microseconds; trajectories are indexed by timestamps from it)
    GET  /cameras        the named cameras and their intrinsics
    GET  /get_actors     NeuRAD ActorTrajectory list: uuid, poses, timestamps, dims (+ instance_id, name, class_name)
    POST /update_actors  NeuRAD ActorTrajectory list: moves those actors (others keep their trajectories)
    POST /render_image   NeuRAD RenderInput: pose, timestamp, camera_name, image_format raw|png|jpg|jpeg
    POST /render_labels  one camera's depth, normals, masks, boxes (docs/serve.md)
    POST /render_batch   several cameras at one timestamp
    POST /render_lidar   one LiDAR sweep (preset or explicit beams)

Every error is a 4xx with a JSON body {"error": "..."}: 400
malformed JSON, 401 missing or wrong token, 404 unknown camera/actor/route, 413 body too
large, 422 invalid request (non-finite, non-rigid or far-off pose, image or sweep over --max-rays),
429 the render queue is full. Requests that read or change the scene run on the one
render worker (nerfgen.serve.worker).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Callable, TypeVar

import numpy as np
import torch
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from nerfgen.cameras import check_poses
from nerfgen.errors import NerfgenError
from nerfgen.sensors.lidar_specs import chosen_lidar
from nerfgen.serve.actors import Trajectory
from nerfgen.serve.cameras import CameraSpec, find_camera
from nerfgen.serve.encoding import IMAGE_MEDIA_TYPES, image_bytes
from nerfgen.serve.frames import frame_document, lidar_document, rgb_image
from nerfgen.serve.guard import RequestGuard
from nerfgen.serve.requests import (
    ActorTrajectoryIn,
    RenderBatchIn,
    RenderImageIn,
    RenderLabelsIn,
    RenderLidarIn,
)
from nerfgen.serve.scene import START_TIME, ServedScene
from nerfgen.serve.worker import QueueFull, RenderWorker
from nerfgen.writers.encode import json_bytes

T = TypeVar("T")
LOG = logging.getLogger("nerfgen.serve")
MAX_ERRORS_SHOWN = 5  # validation problems named in one error message
MAX_POSITION_M = 1e6  # beyond this float32 ray casting and marching lose all precision


class ServeError(Exception):
    """A request the server refuses: answered with `status` and {"error": message}."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ServeLimits:
    """Bounds on what one request may cost."""

    max_rays: int
    """Most rays one request casts: image pixels (per camera) or LiDAR beams."""
    max_body_bytes: int = 8 << 20
    """Largest request body (a long trajectory upload is ~400 bytes per pose)."""


def create_app(
    served: ServedScene, cameras: dict[str, CameraSpec], worker: RenderWorker, token: str | None, limits: ServeLimits
):
    """The ASGI app serving `served` through `worker` (bearer auth when `token` is set)."""
    app = FastAPI(title="nerfgen serve", docs_url=None, redoc_url=None)
    _add_error_handlers(app)
    _add_neurad_routes(app, served, cameras, worker, limits)
    _add_nerfgen_routes(app, served, cameras, worker, limits)
    return RequestGuard(app, token, limits.max_body_bytes)


def _add_neurad_routes(
    app: FastAPI, served: ServedScene, cameras: dict[str, CameraSpec], worker: RenderWorker, limits: ServeLimits
) -> None:
    @app.get("/alive")
    async def alive() -> bool:
        return True

    @app.get("/start_time")
    async def start_time() -> int:
        return START_TIME

    @app.get("/get_actors")
    async def get_actors() -> Response:
        return _json(await _on_worker(worker, lambda: [a.to_json() for a in served.actors.values()]))

    @app.post("/update_actors")
    async def update_actors(trajectories: list[ActorTrajectoryIn]) -> None:
        checked = _trajectories(served, trajectories)
        await _on_worker(worker, lambda: served.update(checked))

    @app.post("/render_image", response_class=Response)
    async def render_image(request: RenderImageIn) -> Response:
        spec = _camera(cameras, request.camera_name, limits, request.width, request.height)
        cams = spec.cameras(_pose(request.pose, "pose"), request.width, request.height)
        # Encoding on the worker too: a large PNG would otherwise stall every other request.
        body = await _on_worker(
            worker, lambda: image_bytes(rgb_image(served.renderer_at(request.timestamp), cams), request.image_format)
        )
        return Response(body, media_type=IMAGE_MEDIA_TYPES[request.image_format])


def _add_nerfgen_routes(
    app: FastAPI, served: ServedScene, cameras: dict[str, CameraSpec], worker: RenderWorker, limits: ServeLimits
) -> None:
    @app.get("/cameras")
    async def list_cameras() -> Response:
        return _json([c.to_json() for c in cameras.values()])

    @app.post("/render_labels")
    async def render_labels(request: RenderLabelsIn) -> Response:
        spec = _camera(cameras, request.camera_name, limits, request.width, request.height)
        cams = spec.cameras(_pose(request.pose, "pose"), request.width, request.height)

        def job() -> dict:
            renderer = served.renderer_at(request.timestamp)
            return frame_document(renderer, cams, served.uuids, request.outputs, request.encoding)

        doc = await _on_worker(worker, job)
        return _json({"camera_name": spec.name, "timestamp": request.timestamp, **doc})

    @app.post("/render_batch")
    async def render_batch(request: RenderBatchIn) -> Response:
        rig = np.eye(4) if request.rig_to_world is None else _pose(request.rig_to_world, "rig_to_world")
        views = []
        for k, item in enumerate(request.cameras):
            spec = _camera(cameras, item.camera_name, limits)
            views.append((spec.name, spec.cameras(rig @ _pose(item.pose, f"cameras[{k}].pose"))))

        def job() -> list[dict]:
            renderer = served.renderer_at(request.timestamp)
            return [
                {"camera_name": name, **frame_document(renderer, cams, served.uuids, request.outputs, request.encoding)}
                for name, cams in views
            ]

        frames = await _on_worker(worker, job)
        return _json({"timestamp": request.timestamp, "frames": frames})

    @app.post("/render_lidar")
    async def render_lidar(request: RenderLidarIn) -> Response:
        spec = _lidar_spec(request, limits)
        pose = _pose(request.pose, "pose")
        doc = await _on_worker(
            worker,
            lambda: lidar_document(served.renderer_at(request.timestamp), spec, pose, served.uuids, request.encoding),
        )
        return _json({"timestamp": request.timestamp, **doc})


async def _on_worker(worker: RenderWorker, job: Callable[[], T]) -> T:
    try:
        return await worker.run(job)
    except QueueFull:
        raise ServeError(429, f"the render queue is full ({worker.queue_size} requests waiting); retry later") from None


def _pose(rows: list[list[float]], what: str) -> np.ndarray:
    """A request's 4x4 pose as float64, 422 unless finite and rigid (nerfgen.cameras.check_poses)
    and within MAX_POSITION_M of the origin."""
    pose = np.asarray(rows, np.float64)
    try:
        check_poses(torch.from_numpy(pose), None)
    except NerfgenError as e:
        raise ServeError(422, f"{what}: {e.problem}") from None
    if np.abs(pose[:3, 3]).max() > MAX_POSITION_M:
        raise ServeError(422, f"{what}: position {pose[:3, 3].tolist()} is over {MAX_POSITION_M:g} m from the origin")
    return pose


def _camera(
    cameras: dict[str, CameraSpec], name: str, limits: ServeLimits, width: int | None = None, height: int | None = None
) -> CameraSpec:
    spec = find_camera(cameras, name)
    if spec is None:
        raise ServeError(404, f"unknown camera {name!r} (cameras: {', '.join(cameras)})")
    width, height = width or spec.width, height or spec.height
    if width * height > limits.max_rays:
        raise ServeError(
            422, f"a {width}x{height} image is {width * height} rays, over the server's --max-rays {limits.max_rays}"
        )
    return spec


def _lidar_spec(request: RenderLidarIn, limits: ServeLimits):
    spec = chosen_lidar(request.preset, azimuth_deg=request.azimuth_resolution_deg)
    changes = {k: v for k, v in (("min_range", request.min_range), ("max_range", request.max_range)) if v is not None}
    if request.elevation_deg is not None:
        changes["elevation_deg"] = tuple(request.elevation_deg)
    try:
        spec = dataclasses.replace(spec, **changes)
    except NerfgenError as e:
        raise ServeError(422, e.problem) from None
    rays = spec.n_azimuth * spec.n_beams
    if rays > limits.max_rays:
        raise ServeError(
            422,
            f"a sweep of {spec.n_beams} beams x {spec.n_azimuth} firings is {rays} rays, "
            f"over the server's --max-rays {limits.max_rays}",
        )
    return spec


def _trajectories(served: ServedScene, trajectories: list[ActorTrajectoryIn]) -> dict[str, Trajectory]:
    """The uploaded trajectories by uuid, all checked before any is applied (404 unknown
    actor, 422 duplicate actor, pose count or timestamps out of order, non-rigid pose)."""
    checked: dict[str, Trajectory] = {}
    for k, item in enumerate(trajectories):
        if item.uuid not in served.actors:
            raise ServeError(404, f"[{k}]: unknown actor uuid {item.uuid!r} (GET /get_actors lists them)")
        if item.uuid in checked:
            raise ServeError(422, f"[{k}]: actor {item.uuid} appears twice")
        if len(item.timestamps) != len(item.poses):
            raise ServeError(422, f"[{k}]: {len(item.poses)} poses but {len(item.timestamps)} timestamps")
        timestamps = np.asarray(item.timestamps, np.int64)
        if np.any(np.diff(timestamps) <= 0):
            raise ServeError(422, f"[{k}]: timestamps must be strictly increasing")
        poses = np.stack([_pose(p, f"[{k}].poses[{i}]") for i, p in enumerate(item.poses)])
        checked[item.uuid] = Trajectory(timestamps, poses)
    return checked


def _json(doc) -> Response:
    return Response(json_bytes(doc, indent=None), media_type="application/json")


def _error(status: int, message: str) -> Response:
    return Response(json_bytes({"error": message}, indent=None), status_code=status, media_type="application/json")


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServeError)
    async def refused(_: Request, e: ServeError) -> Response:
        return _error(e.status, e.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, e: RequestValidationError) -> Response:
        problems = e.errors()
        malformed = [p for p in problems if p["type"] == "json_invalid"]
        if malformed:
            return _error(400, f"malformed JSON ({malformed[0].get('ctx', {}).get('error', 'cannot parse the body')})")
        shown = [f"{'.'.join(str(part) for part in p['loc'])}: {p['msg']}" for p in problems[:MAX_ERRORS_SHOWN]]
        more = len(problems) - len(shown)
        return _error(422, "; ".join(shown) + (f"; and {more} more" if more > 0 else ""))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, e: HTTPException) -> Response:
        return _error(e.status_code, str(e.detail))

    @app.exception_handler(NerfgenError)
    async def bad_input(_: Request, e: NerfgenError) -> Response:
        return _error(422, str(e))

    @app.exception_handler(Exception)
    async def internal(_: Request, e: Exception) -> Response:
        LOG.exception("internal error")
        return _error(500, f"internal error ({type(e).__name__}); the server log has the details")
