"""Closed-loop driving against `nerfgen serve`: a car is placed ahead in the ego's lane,
and a simple controller drives down the street seeing only what the server renders.

Each step (0.1 s) the ego asks the server for its front camera's depth and boxes at its
current pose and time, then:
- lane keeping: the right kerb is found in the depth (points 5-35 cm above the road, right
  of the ego, outside every actor's box), a line is fitted to it, and pure pursuit steers
  to hold a fixed distance from it;
- braking: the free distance ahead is the nearest of the depth points in the ego's
  corridor (35 cm to 2 m high) and the boxes that overlap the corridor; the speed is
  capped so that the ego can stop comfortably before it.
The placed car drives ahead for a while and stops (a trajectory uploaded once with
/update_actors; the server puts it where it is at each request's timestamp). The run
fails (exit 1) if the ego's footprint ever touches the car's box. The camera frames, with
the boxes drawn, go to a GIF.

    nerfgen demo                                        # trained street and cars: demo_out/dataset/scene.yaml
    python examples/closed_loop.py --steps 100 --gif closed_loop.gif
    python examples/closed_loop.py --scene scenes/street.yaml      # the exact ground-truth street
    python examples/closed_loop.py --url http://127.0.0.1:8000     # a server already running

Without --url the example starts `nerfgen serve` on a free loopback port and stops it.
"""

from __future__ import annotations

import math
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro
from PIL import Image, ImageDraw

from nerfgen.client import Frame, SensorClient
from nerfgen.sensors.frames import camera_mount

EGO_LENGTH, EGO_WIDTH = 4.2, 1.8  # m
FRONT_OVERHANG = 0.8  # m from the ego origin (under the camera) to the front bumper
CAMERA_HEIGHT = 1.6  # m
CAMERA_PITCH_DEG = 2.0  # tilted down a little, to see the road close ahead
KERB_BAND = (0.05, 0.35)  # m above the road: kerb faces and sidewalk edges, not the road
OBSTACLE_BAND = (0.35, 2.0)  # m above the road: what the ego would hit
BOX_MARGIN = 0.2  # m around actor boxes whose points are not kerb
CORRIDOR_MARGIN = 0.1  # m each side of the ego's width
MIN_OBSTACLE_POINTS = 8  # depth points in one 0.5 m slice that make an obstacle
START_TIMEOUT_S = 300.0


@dataclass
class ClosedLoopConfig:
    """Drive down the street behind a placed car, closed loop through `nerfgen serve`."""

    scene: Path = Path("demo_out/dataset/scene.yaml")
    """Scene to serve (ignored with --url): the demo's composed street, or scenes/street.yaml."""
    exact: bool = False
    """Serve a composed scene's exact twin instead of its fields."""
    url: str | None = None
    """Use this running server instead of starting one."""
    token: str | None = None
    """Bearer token of the server at --url."""
    steps: int = 100
    """Control steps of `dt` seconds."""
    dt: float = 0.1
    """Seconds per step."""
    width: int = 160
    """Camera image width (the server's camera `front` when this example starts it)."""
    height: int = 120
    """Camera image height."""
    start: tuple[float, float, float] = (-24.0, -0.8, 0.0)
    """Ego start: x, y metres and yaw degrees (the eastbound lane runs along +x at y < 0)."""
    kerb_distance: float = 3.1
    """Distance to keep from the right kerb, metres (the kerb face is at y = -3.5)."""
    cruise_speed: float = 8.0
    """m/s."""
    lead_start: float = 20.0
    """Where the placed car starts, metres ahead of the ego, in the lane."""
    lead_speed: float = 4.0
    """Its speed, m/s, until it stops after `lead_drive_s`."""
    lead_drive_s: float = 5.0
    """Seconds it drives before stopping."""
    gif: Path = Path("closed_loop.gif")
    """Output animation of the camera frames with the boxes."""


@dataclass
class Ego:
    """The ego vehicle's state on the road plane."""

    x: float
    """World x of the ego origin (on the ground under the camera), metres."""
    y: float
    """World y, metres."""
    yaw: float
    """Heading, radians from +x towards +y."""
    speed: float = 0.0
    """m/s, never negative."""

    def to_world(self) -> np.ndarray:  # [4,4] ego frame (x forward, y left, z up, origin on the ground)
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        m = np.eye(4)
        m[:2, :2] = [[c, -s], [s, c]]
        m[:2, 3] = self.x, self.y
        return m

    def step(self, acceleration: float, curvature: float, dt: float) -> None:
        self.speed = max(0.0, self.speed + acceleration * dt)
        self.yaw += self.speed * curvature * dt
        self.x += self.speed * math.cos(self.yaw) * dt
        self.y += self.speed * math.sin(self.yaw) * dt


@dataclass
class Perception:
    """What the controller takes from one frame."""

    kerb_line: tuple[float, float] | None
    """The right kerb as y = a + b x in the ego frame (a, b); None when not seen."""
    gap: float | None
    """Free metres from the front bumper to the nearest obstacle ahead; None when none."""


def points_in_ego(frame: Frame, camera_to_ego: np.ndarray) -> np.ndarray:  # [N,3]
    """Every pixel with depth, unprojected through the frame's pinhole camera, in the ego frame."""
    depth = frame.arrays["depth_z"]
    labels = frame.labels
    rows, cols = np.nonzero(depth > 0)
    z = depth[rows, cols].astype(np.float64)
    x = (cols + 0.5 - labels["cx"]) / labels["fx"] * z
    y = (rows + 0.5 - labels["cy"]) / labels["fy"] * z
    points = np.stack([x, y, z], 1)
    return points @ camera_to_ego[:3, :3].T + camera_to_ego[:3, 3]


def boxes_in_ego(frame: Frame, camera_to_ego: np.ndarray) -> list[tuple[dict, np.ndarray]]:
    """(instance record, [8,3] ego-frame corners) of every actor with pixels in the frame."""
    return [
        (i, np.asarray(i["corners_cam"]) @ camera_to_ego[:3, :3].T + camera_to_ego[:3, 3])
        for i in frame.labels["instances"]
        if i["px_visible"] > 0
    ]


def outside_boxes(points: np.ndarray, boxes: list[tuple[dict, np.ndarray]]) -> np.ndarray:  # [N] bool
    keep = np.ones(len(points), bool)
    for _, corners in boxes:
        centre = corners.mean(0)
        axes = np.stack(
            [corners[1] - corners[0], corners[2] - corners[0], corners[4] - corners[0]]
        )  # BOX_CORNER_SIGNS order
        half = np.linalg.norm(axes, axis=1) / 2 + BOX_MARGIN
        local = (points - centre) @ (axes / np.linalg.norm(axes, axis=1, keepdims=True)).T
        keep &= ~(np.abs(local) <= half).all(1)
    return keep


def perceive(frame: Frame, camera_to_ego: np.ndarray) -> Perception:
    points = points_in_ego(frame, camera_to_ego)
    boxes = boxes_in_ego(frame, camera_to_ego)
    gap = free_distance(points, boxes)
    # The kerb is only trusted short of the nearest obstacle: beyond it the obstacle hides
    # the kerb, and the innermost low points there are sidewalk further out.
    visible_to = 20.0 if gap is None else min(20.0, gap + FRONT_OVERHANG)
    return Perception(kerb_line(points, boxes, visible_to), gap)


def free_distance(points: np.ndarray, boxes: list[tuple[dict, np.ndarray]]) -> float | None:
    """Metres from the front bumper to the nearest obstacle in the corridor: depth points
    (a 0.5 m slice with enough of them) or actor boxes overlapping it."""
    half = EGO_WIDTH / 2 + CORRIDOR_MARGIN
    ahead = (points[:, 0] > FRONT_OVERHANG) & (np.abs(points[:, 1]) < half)
    ahead &= (points[:, 2] > OBSTACLE_BAND[0]) & (points[:, 2] < OBSTACLE_BAND[1])
    gaps = []
    if ahead.any():
        slices = np.floor(points[ahead, 0] / 0.5).astype(int)
        dense = np.flatnonzero(np.bincount(slices - slices.min()) >= MIN_OBSTACLE_POINTS)
        if len(dense):
            gaps.append((dense[0] + slices.min()) * 0.5 - FRONT_OVERHANG)
    for _, corners in boxes:
        if corners[:, 0].max() > FRONT_OVERHANG and corners[:, 1].min() < half and corners[:, 1].max() > -half:
            gaps.append(corners[:, 0].min() - FRONT_OVERHANG)
    return min(gaps) if gaps else None


def kerb_line(
    points: np.ndarray, boxes: list[tuple[dict, np.ndarray]], visible_to: float
) -> tuple[float, float] | None:
    """The right kerb as (a, b), y = a + b x: per 1 m slice from 3 m to `visible_to`, the
    innermost low point right of the corridor; a line through them, refitted without the
    slices more than 0.2 m off it. Slices where an actor stands are skipped: a car parked
    at the kerb hides it, and the innermost low points there are sidewalk further out."""
    half = EGO_WIDTH / 2 + CORRIDOR_MARGIN
    low = (points[:, 2] > KERB_BAND[0]) & (points[:, 2] < KERB_BAND[1]) & (points[:, 1] < -half) & (points[:, 1] > -6.0)
    low &= (points[:, 0] > 3.0) & (points[:, 0] < visible_to)
    slices = np.floor(points[low, 0]).astype(int)
    blocked = set(slices[~outside_boxes(points[low], boxes)])
    edge = np.array(
        [
            (s + 0.5, points[low, 1][slices == s].max())
            for s in np.unique(slices)
            if s not in blocked and (slices == s).sum() >= 3
        ]
    )
    for _ in range(2):
        if len(edge) < 3:
            return None
        b, a = np.polyfit(edge[:, 0], edge[:, 1], 1)
        edge = edge[np.abs(edge[:, 1] - (a + b * edge[:, 0])) <= 0.2]
    return float(a), float(b)


def control(perception: Perception, ego: Ego, config: ClosedLoopConfig) -> tuple[float, float]:
    """(acceleration m/s^2, curvature 1/m)."""
    curvature = 0.0
    if perception.kerb_line is not None:
        a, b = perception.kerb_line
        lookahead = max(6.0, 1.2 * ego.speed)
        lateral = (a + b * lookahead) + config.kerb_distance  # lane target, left of the kerb
        curvature = float(np.clip(2.0 * lateral / lookahead**2, -0.1, 0.1))  # pure pursuit
    target = config.cruise_speed
    if perception.gap is not None:
        standstill, comfortable = 4.0, 2.5  # m, m/s^2
        target = min(target, math.sqrt(2.0 * comfortable * max(0.0, perception.gap - standstill)))
    acceleration = float(np.clip((target - ego.speed) / config.dt, -7.0, 2.0))
    return acceleration, curvature


def footprint(to_world: np.ndarray, length: float, width: float, centre_x: float = 0.0) -> np.ndarray:  # [4,2]
    local = np.array([[centre_x + sx * length / 2, sy * width / 2] for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))])
    return local @ to_world[:2, :2].T + to_world[:2, 3]


def rectangles_touch(a: np.ndarray, b: np.ndarray) -> bool:
    """Separating-axis test of two convex quadrilaterals [4,2]."""
    for poly in (a, b):
        for k in range(4):
            edge = poly[(k + 1) % 4] - poly[k]
            axis = np.array([-edge[1], edge[0]])
            pa, pb = a @ axis, b @ axis
            if pa.max() < pb.min() or pb.max() < pa.min():
                return False
    return True


def lead_trajectory(actor: dict, ego: Ego, config: ClosedLoopConfig) -> dict:
    """The placed car: in the ego's lane `lead_start` ahead, heading along the road, driving
    `lead_speed` for `lead_drive_s`, then standing (held after the last timestamp)."""
    height = actor["poses"][0][2, 3]  # keep its box centre height: its wheels stay on the road
    start = np.eye(4)
    start[:3, 3] = [ego.x + config.lead_start, ego.y, height]
    stop = start.copy()
    stop[0, 3] += config.lead_speed * config.lead_drive_s
    return {"uuid": actor["uuid"], "poses": [start, stop], "timestamps": [0, round(config.lead_drive_s * 1e6)]}


def start_server(config: ClosedLoopConfig) -> tuple[subprocess.Popen, str]:
    args = [
        sys.executable,
        "-m",
        "nerfgen.cli",
        "serve",
        str(config.scene),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--camera",
        f"front={config.width}x{config.height}@70",
    ] + (["--exact"] if config.exact else [])
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        if select.select([process.stdout], [], [], 0.5)[0]:
            line = process.stdout.readline()
            if " on http://" in line:
                return process, line.rsplit(" on ", 1)[1].strip()
    process.kill()
    raise SystemExit(f"nerfgen serve {config.scene} did not start")


def annotated(frame: Frame, lead_uuid: str, text: str) -> Image.Image:
    image = Image.fromarray(frame.arrays["rgb"]).resize(
        (2 * frame.labels["width"], 2 * frame.labels["height"]), Image.NEAREST
    )
    draw = ImageDraw.Draw(image)
    for instance in frame.labels["instances"]:
        if instance["bbox_visible"] is not None:
            colour = (255, 40, 40) if instance["uuid"] == lead_uuid else (255, 220, 0)
            draw.rectangle([2 * v for v in instance["bbox_visible"]], outline=colour, width=2)
    draw.text((4, 4), text, fill=(255, 255, 255))
    return image


def drive(client: SensorClient, config: ClosedLoopConfig) -> bool:
    """Runs the loop; True when the ego never touched the placed car."""
    ego = Ego(config.start[0], config.start[1], math.radians(config.start[2]))
    ego.speed = config.cruise_speed
    camera_to_ego = camera_mount((0.0, 0.0, CAMERA_HEIGHT), pitch_deg=CAMERA_PITCH_DEG)
    lead = next(a for a in client.get_actors() if a["class_name"] == "car")
    client.update_actors([lead_trajectory(lead, ego, config)])
    images, touched, closest = [], False, math.inf
    for step in range(config.steps):
        timestamp = round(step * config.dt * 1e6)
        frame = client.render_labels(
            ego.to_world() @ camera_to_ego, "front", timestamp, outputs=["rgb", "depth", "boxes"]
        )
        perception = perceive(frame, camera_to_ego)
        acceleration, curvature = control(perception, ego, config)
        (lead_label,) = [i for i in frame.labels["instances"] if i["uuid"] == lead["uuid"]]
        lead_box = np.asarray(lead_label["box_to_world"])
        ego_print = footprint(ego.to_world(), EGO_LENGTH, EGO_WIDTH, FRONT_OVERHANG - EGO_LENGTH / 2)
        lead_print = footprint(lead_box, lead_label["size"][0], lead_label["size"][1])
        touched |= rectangles_touch(ego_print, lead_print)
        distance = float(np.linalg.norm(lead_box[:2, 3] - ego.to_world()[:2, 3]))
        closest = min(closest, distance)
        gap = "-" if perception.gap is None else f"{perception.gap:.1f} m"
        text = f"t {step * config.dt:4.1f} s  v {ego.speed:4.1f} m/s  gap {gap}"
        images.append(annotated(frame, lead["uuid"], text))
        if step % 10 == 0 or step == config.steps - 1:
            kerb = "-" if perception.kerb_line is None else f"{-perception.kerb_line[0]:.2f} m"
            print(f"{text}  x {ego.x:6.2f}  y {ego.y:5.2f}  kerb {kerb}", flush=True)
        ego.step(acceleration, curvature, config.dt)
    images[0].save(config.gif, save_all=True, append_images=images[1:], duration=round(config.dt * 1000), loop=0)
    print(
        f"{config.steps} steps, closest centre distance to the placed car {closest:.2f} m, "
        f"{'TOUCHED it' if touched else 'never touched it'}; {config.gif}"
    )
    return not touched


def main(config: ClosedLoopConfig) -> None:
    process = None
    url = config.url
    if url is None:
        process, url = start_server(config)
    try:
        with SensorClient(url, config.token) as client:
            client.wait_until_alive()
            ok = drive(client, config)
    finally:
        if process is not None:
            process.terminate()
            process.wait(60)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main(tyro.cli(ClosedLoopConfig))
