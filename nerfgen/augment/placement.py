"""Seeded rejection sampling of object placements along a drive.

A heightmap of the drive corridor (rays cast down every `ground_cell` metres, arc
length along the road x lateral offset) gives the road plane and its drivable cells.
For each object in turn, candidate spots are drawn uniformly over the cells where the
narrowest object fits (drivable cells eroded by its half width, beside the ego's path),
and kept only if, in order of cost:

1. its footprint (grown by `min_gap`/2) overlaps no placed box and not the ego's path;
2. the ground under it (rays cast down at 3x3 footprint points) is found everywhere,
   flat within `max_ground_step` and within `ground_tolerance` of the road plane; the
   object is then snapped so the bottom centre of its box sits at the median height;
3. its box projects at least `min_box_height_px` tall into `min_visible_frames` frames;
4. no background matter lies inside the box shrunk by `clearance` (lattice of probes).

The same seed gives the same placements. When an object finds no spot within
`tries_per_object` draws, the request is unsatisfiable and a NerfgenError says why
instead of placing fewer objects.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from scipy.ndimage import binary_erosion

from nerfgen.augment.boxes import FootprintBox, box_lattice, boxes_overlap, footprint_of, footprint_samples
from nerfgen.augment.config import PlacementConfig
from nerfgen.augment.ground import GroundPlane, fit_ground_plane, ground_heights
from nerfgen.augment.probe import BackgroundProbe
from nerfgen.augment.road import Road
from nerfgen.cameras import Cameras
from nerfgen.errors import NerfgenError
from nerfgen.labels.boxes import NEAR_Z, box_corners, box_to_world, clip_to_image, projected_extent
from nerfgen.procedural.build import InstanceBox
from nerfgen.procedural.spec import Pose
from nerfgen.scene.placement import placed_instance_box
from nerfgen.scene.spec import Asset, PlacedObject

FOOTPRINT_SAMPLES = 3  # per axis: corners, edge midpoints and centre of the footprint
FOOTPRINT_INSET = 0.05  # m: ground samples stay this far inside the footprint's edges


@dataclass(frozen=True)
class ObjectKind:
    """A class of object to insert: its asset and the asset-frame box around it."""

    class_name: str
    asset: Asset
    box: InstanceBox  # asset frame (from its ground-truth scene, or the field's occupied cells)


@dataclass(frozen=True)
class Placement:
    obj: PlacedObject  # what the composed scene file gets
    box: InstanceBox  # its world box
    ground_z: float  # snapped ground height under its bottom centre
    tries: int  # candidates drawn until this one was accepted


@dataclass(frozen=True)
class Ground:
    """The background's ground along the drive corridor."""

    plane: GroundPlane
    drivable_area: float  # m^2 of heightmap cells near the plane, beside the ego's path
    cells: np.ndarray  # [M,2] (arc length, lateral) m: cells where an object's centre may go
    cell_size: float  # m
    centre_lateral: float  # m left of the drive path where the drivable ground is centred


def survey_ground(probe: BackgroundProbe, road: Road, config: PlacementConfig, half_width: float = 0.0) -> Ground:
    """Heightmap over the corridor (every `ground_cell` m), the road plane, the drivable area
    and the cells where an object `half_width` m wide on either side may be centred."""
    s = np.arange(0.0, road.length + 1e-9, config.ground_cell)
    lateral = np.arange(-config.max_lateral, config.max_lateral + 1e-9, config.ground_cell)
    ss, ll = (a.ravel() for a in np.meshgrid(s, lateral, indexing="ij"))
    xy, _ = road.at(ss, ll)
    heights = ground_heights(probe, xy)
    # The plane is fitted under the ego's own path, the one surface known to be driven on:
    # over the whole corridor, sidewalks can cover almost as much as the road.
    beside_ego = np.abs(ll) > config.ego_width / 2
    plane = fit_ground_plane(np.concatenate([xy, heights[:, None]], 1)[~beside_ego])
    if plane is None:
        raise NerfgenError(None, "found no ground under the drive path")
    drivable = np.abs(heights - plane.height(xy)) <= config.ground_tolerance  # nan compares False
    radius = int(np.ceil(half_width / config.ground_cell))
    fits = binary_erosion(
        drivable.reshape(len(s), len(lateral)), np.ones((2 * radius + 1,) * 2, bool), border_value=1
    ).ravel()
    clear_of_ego = np.abs(ll) >= config.ego_width / 2 + config.min_gap + half_width
    area = float((drivable & beside_ego).sum()) * config.ground_cell**2
    cells = np.stack([ss, ll], 1)[fits & clear_of_ego]
    return Ground(plane, area, cells, config.ground_cell, float(np.median(ll[drivable])))


def ego_path_boxes(cameras: Cameras, config: PlacementConfig) -> list[FootprintBox]:
    """Boxes the ego vehicle sweeps between consecutive frames (one box for one frame)."""
    eyes = cameras.c2w[:, :2, 3].double().numpy()  # [F,2]
    ends = np.stack([eyes[:-1], eyes[1:]], 1) if len(eyes) > 1 else eyes[:, None].repeat(2, 1)  # [S,2,2]
    boxes = []
    for a, b in ends:
        d = b - a
        yaw = float(np.arctan2(d[1], d[0])) if np.any(d) else 0.0
        half = np.array([np.linalg.norm(d) + config.ego_length, config.ego_width]) / 2
        boxes.append(FootprintBox((a + b) / 2, half, yaw, -np.inf, np.inf))
    return boxes


def visible_frames(box: InstanceBox, cameras: Cameras, min_height_px: float, enough: int) -> int:
    """Frames (up to `enough`) into which the box projects at least `min_height_px` tall."""
    corners = box_corners(box.size, box_to_world(box.center, box.rotation))  # [8,3]
    w2c = np.linalg.inv(cameras.c2w.double().numpy())  # [F,4,4]
    corners_z = np.einsum("fj,ij->fi", w2c[:, 2, :3], corners) + w2c[:, 2, 3, None]  # [F,8]
    count = 0
    for index in np.flatnonzero((corners_z >= NEAR_Z).any(1)):
        width, height = int(cameras.width[index]), int(cameras.height[index])
        extent = clip_to_image(projected_extent(cameras, int(index), corners, corners_z[index]), width, height)
        if extent is not None and extent[3] - extent[1] >= min_height_px:
            count += 1
            if count >= enough:
                break
    return count


def _placed(
    kind: ObjectKind, instance_id: int, bottom_centre: np.ndarray, yaw: float
) -> tuple[PlacedObject, InstanceBox]:
    """The object posed so that its box's bottom centre is at `bottom_centre` [3], turned by `yaw`."""
    c, s = np.cos(yaw), np.sin(yaw)
    rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    bottom_local = np.asarray(kind.box.center) - np.asarray(kind.box.rotation)[:, 2] * kind.box.size[2] / 2
    position = np.round(bottom_centre - rz @ bottom_local, 4)
    obj = PlacedObject(
        kind.asset,
        kind.class_name,
        instance_id,
        Pose(tuple(float(v) for v in position), (0.0, 0.0, round(float(np.degrees(yaw)), 2))),
    )
    return obj, placed_instance_box(obj, kind.box, f"{kind.class_name}_{instance_id}")


class CandidateChecker:
    """The checks of the module docstring (`try_place`), the draw of candidates, and counts
    of why candidates were rejected (`rejected`)."""

    def __init__(self, probe: BackgroundProbe, road: Road, cameras: Cameras, ground: Ground, config: PlacementConfig):
        self.probe, self.road, self.cameras, self.ground, self.config = probe, road, cameras, ground, config
        self.ego = ego_path_boxes(cameras, config)
        self.rejected: Counter[str] = Counter()

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        c, g = self.config, self.ground
        if len(g.cells) == 0:
            raise NerfgenError(None, "no drivable ground beside the ego's path: nowhere to place objects")
        distance, lateral = g.cells[rng.integers(len(g.cells))] + rng.uniform(-g.cell_size / 2, g.cell_size / 2, 2)
        xy, heading = self.road.at(np.array([distance]), np.array([lateral]))
        oncoming = c.oncoming_left and lateral > self.ground.centre_lateral
        yaw = heading[0] + (np.pi if oncoming else 0.0) + np.radians(rng.uniform(-c.yaw_jitter_deg, c.yaw_jitter_deg))
        return np.round(xy[0], 3), float(np.radians(round(np.degrees(np.arctan2(np.sin(yaw), np.cos(yaw))), 2)))

    def try_place(
        self, kind: ObjectKind, instance_id: int, xy: np.ndarray, yaw: float, placed: Sequence[Placement]
    ) -> Placement | None:
        c = self.config
        z0 = float(self.ground.plane.height(xy[None])[0])
        obj, box = _placed(kind, instance_id, np.append(xy, z0), yaw)
        footprint = footprint_of(box)
        grown = footprint.grown(c.min_gap / 2)
        if any(boxes_overlap(grown, footprint_of(p.box).grown(c.min_gap / 2)) for p in placed) or any(
            boxes_overlap(grown, e) for e in self.ego
        ):
            return self._reject("overlap")
        under = footprint_samples(footprint, FOOTPRINT_SAMPLES, FOOTPRINT_INSET)
        heights = ground_heights(self.probe, under)
        if np.isnan(heights).any() or np.ptp(heights) > c.max_ground_step:
            return self._reject("uneven ground")
        ground_z = float(np.median(heights))
        if abs(ground_z - z0) > c.ground_tolerance:
            return self._reject("off the road plane")
        obj, box = _placed(kind, instance_id, np.append(xy, ground_z), yaw)
        if visible_frames(box, self.cameras, c.min_box_height_px, c.min_visible_frames) < c.min_visible_frames:
            return self._reject("not visible")
        if self.probe.occupied(box_lattice(footprint_of(box), c.occupancy_spacing, c.clearance)).any():
            return self._reject("background in the way")
        return Placement(obj, box, ground_z, 0)

    def _reject(self, why: str) -> None:
        self.rejected[why] += 1
        return None


def place_objects(
    probe: BackgroundProbe,
    road: Road,
    cameras: Cameras,
    kinds: Sequence[ObjectKind],
    config: PlacementConfig = PlacementConfig(),
    seed: int = 0,
) -> tuple[list[Placement], Ground]:
    """Places `config.n_objects` objects (instance ids 1..n, kinds cycling) beside the drive
    seen by `cameras`, on the ground of `probe`, deterministically for `seed`."""
    _check_request(config, kinds, len(cameras))
    ground = survey_ground(probe, road, config, min((k.box.size[1] / 2 for k in kinds), default=0.0))
    order = [kinds[k % len(kinds)] for k in range(config.n_objects)]
    needed = sum(float(np.prod(k.box.size[:2] + config.min_gap)) for k in order)
    if needed > ground.drivable_area:
        raise NerfgenError(
            None,
            f"{config.n_objects} objects need {needed:.0f} m^2 of drivable ground, the drive corridor has "
            f"{ground.drivable_area:.0f} m^2 beside the ego's path: ask for fewer objects or a longer drive",
        )
    sampler = CandidateChecker(probe, road, cameras, ground, config)
    rng = np.random.default_rng(seed)
    placed: list[Placement] = []
    for k, kind in enumerate(order):
        for tries in range(1, config.tries_per_object + 1):
            found = sampler.try_place(kind, k + 1, *sampler.draw(rng), placed)
            if found is not None:
                placed.append(replace(found, tries=tries))
                break
        else:
            reasons = ", ".join(f"{n} {why}" for why, n in sampler.rejected.most_common())
            raise NerfgenError(
                None,
                f"placed {k} of {config.n_objects} objects: no spot for a {kind.class_name} after "
                f"{config.tries_per_object} tries (rejected so far: {reasons}); ask for fewer objects, "
                "fewer --min-visible-frames or a smaller --min-gap",
            )
    return placed, ground


def _check_request(config: PlacementConfig, kinds: Sequence[ObjectKind], frames: int) -> None:
    """What a request asks of this drive and these assets (PlacementConfig checks its own ranges)."""
    if config.n_objects and not kinds:
        raise NerfgenError(None, "no object assets given (--objects class=RUN)")
    if config.min_visible_frames > frames:
        raise NerfgenError(
            None, f"--min-visible-frames {config.min_visible_frames} is more than the {frames} frames rendered"
        )
