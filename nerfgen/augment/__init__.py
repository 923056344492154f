"""Driving-scene augmentation: place objects on the drivable ground of a
reconstructed street and render a labelled dataset along a drive.

    result = augment("runs/street", {"car": "runs/car"}, "out/aug",
                     AugmentConfig(frames=20, seed=0, placement=PlacementConfig(n_objects=3)),
                     gt={"background": "scenes/street.yaml", "car": "scenes/car.yaml"})
    result.placements                                   # [Placement]: pose, world box, ground height

Placement on its own, on any background probe (exact mesh or trained field):

    probe = MeshProbe(composed_gt_scene(spec))          # or FieldProbe(scene_field, ...)
    road = road_from_rig(default_rig(spec), spec.path)  # the drive the background was captured along
    placements, ground = place_objects(probe, road, road.cameras(20, 160, 120), kinds, PlacementConfig(), seed=0)
"""

from nerfgen.augment.boxes import FootprintBox, boxes_overlap, footprint_of
from nerfgen.augment.config import AugmentConfig, PlacementConfig
from nerfgen.augment.ground import GroundPlane, fit_ground_plane, ground_heights
from nerfgen.augment.pipeline import AugmentResult, augment, parse_assignments
from nerfgen.augment.placement import Ground, ObjectKind, Placement, place_objects, survey_ground
from nerfgen.augment.probe import BackgroundProbe, FieldProbe, MeshProbe
from nerfgen.augment.road import Road, road_from_rig

__all__ = [
    "AugmentConfig",
    "AugmentResult",
    "BackgroundProbe",
    "FieldProbe",
    "FootprintBox",
    "Ground",
    "GroundPlane",
    "MeshProbe",
    "ObjectKind",
    "Placement",
    "PlacementConfig",
    "Road",
    "augment",
    "boxes_overlap",
    "fit_ground_plane",
    "footprint_of",
    "ground_heights",
    "parse_assignments",
    "place_objects",
    "road_from_rig",
    "survey_ground",
]
