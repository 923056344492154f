"""Configuration of object placement (flat fields: the CLI shows each as one flag)."""

from __future__ import annotations

from dataclasses import dataclass

from nerfgen.errors import require_in_ranges
from nerfgen.sensors.lidar_specs import LidarChoice

# The values each placement option may take (NaN is in none): distances in metres up to
# a kilometre; grid spacings from a centimetre, so the heightmap and the occupancy probes
# of a corridor stay small.
_RANGES: dict[str, tuple[float, float]] = {
    "n_objects": (0, 10_000),
    "min_visible_frames": (0, 1_000_000),
    "min_box_height_px": (0.0, 1e6),
    "max_lateral": (0.1, 1000.0),
    "ground_cell": (0.01, 100.0),
    "ground_tolerance": (0.0, 1000.0),
    "max_ground_step": (0.0, 1000.0),
    "min_gap": (0.0, 1000.0),
    "clearance": (0.0, 1000.0),
    "occupancy_spacing": (0.01, 100.0),
    "occupancy_opacity": (0.01, 0.99),
    "ego_length": (0.1, 100.0),
    "ego_width": (0.1, 100.0),
    "yaw_jitter_deg": (0.0, 180.0),
    "tries_per_object": (1, 1_000_000),
}


@dataclass(frozen=True)
class PlacementConfig:
    """Where objects may go: on drivable ground beside the drive, apart from each other and
    from the background's matter, seen by the drive's cameras."""

    n_objects: int = 3
    """Objects to place; object k takes the k-th class of --objects, cycling."""
    min_visible_frames: int = 1
    """Each object's 3D box must project at least --min-box-height-px tall into this many frames."""
    min_box_height_px: float = 8.0
    """Projected box height (pixels, clipped to the image) that counts as visible in a frame."""
    max_lateral: float = 6.0
    """Objects stand within this many metres left or right of the drive path."""
    ground_cell: float = 0.5
    """Spacing (m) of the heightmap of downward rays over that corridor (for the road plane)."""
    ground_tolerance: float = 0.1
    """Drivable: the median ground height under an object is within this (m) of the road plane
    (bundled street: its kerbs and sidewalks are 0.15 m up)."""
    max_ground_step: float = 0.1
    """Drivable: ground heights under an object's footprint differ by at most this (m)."""
    min_gap: float = 0.3
    """Minimum horizontal distance (m) between placed boxes, and between them and the ego's path."""
    clearance: float = 0.1
    """Background matter may reach this far (m) into a box (the ground it stands on, the
    fuzzy surfaces of trained fields); deeper, the spot is taken."""
    occupancy_spacing: float = 0.15
    """Spacing (m) of the points probed for background matter inside a candidate box."""
    occupancy_opacity: float = 0.5
    """Trained backgrounds: a point is matter where one spacing of travel there is this opaque."""
    ego_length: float = 4.5
    """Length (m) of the ego vehicle carrying the cameras: nothing is placed in its way."""
    ego_width: float = 1.8
    """Width (m) of the ego vehicle."""
    yaw_jitter_deg: float = 10.0
    """Objects face along the road turned by up to this many degrees either way (seeded)."""
    oncoming_left: bool = True
    """Right-hand traffic: objects left of the road's centre line face against the drive."""
    tries_per_object: int = 300
    """Candidate spots drawn per object before the request is declared unsatisfiable."""

    def __post_init__(self) -> None:
        require_in_ranges(self, _RANGES)


@dataclass(frozen=True)
class AugmentConfig:
    """What `augment` renders besides the placement: the drive, the files, the seed."""

    frames: int = 20
    """Frames rendered along the drive, evenly spaced from the road path's start to its end."""
    width: int = 160
    """Image width in pixels."""
    height: int = 120
    """Image height in pixels."""
    seed: int = 0
    """Seed of the placement; the same seed gives the same placement and byte-identical files."""
    format: str = "kitti,coco"
    """Comma-separated dataset formats written next to the raw dataset: kitti, coco, bop, nerfstudio."""
    path: str = ""
    """Road path x0,y0,x1,y1[,...] (world metres) to drive along; empty: the background rig's
    first line segment (the drive it was captured along)."""
    remove: tuple[int, ...] = ()
    """Instance ids of the background's ground-truth scene to cut out of it (box holes)."""
    exact: bool = False
    """Place on and render the exact twin (every asset's ground-truth scene) instead of the
    trained fields; implied when every asset is a ground-truth scene YAML."""
    place_on_gt: bool = False
    """Place on the background's ground-truth scene (--gt background=SCENE.yaml) while rendering
    the trained fields: for a background trained too briefly to have a road surface yet."""
    supersample: int = 3
    """RGB anti-aliasing with supersample x supersample rays per pixel where one ray aliases
    (as `nerfgen render --supersample`): the silhouettes of field renders, every colour edge of
    exact ones; 1: one ray through each pixel centre."""
    correspondences: bool = False
    """Also write dense correspondences from each frame to the next (raw/correspondences/)."""
    lidar: LidarChoice = "none"
    """A LiDAR sweep per frame (Velodyne preset) from KITTI's mount, 1.73 m above the ground
    under each camera (as `nerfgen render --lidar`): raw lidar/ and pointcloud/, KITTI velodyne/."""
    lidar_azimuth_deg: float | None = None
    """Degrees between LiDAR firings instead of the preset's (e.g. 1.0 for a quick, sparse sweep)."""
    preview_rows: int = 4
    """Frames shown in preview.png."""
    placement: PlacementConfig = PlacementConfig()
