"""The one semantic class table shared by every bundled scene.

Fixed ids (not per-scene) so that a car captured alone and a car inserted into the
street carry the same class id in every label map. Id 0 means "no surface" (sky,
background).
"""

from __future__ import annotations

CLASS_NAMES: tuple[str, ...] = (
    "none",
    "road",
    "lane_marking",
    "sidewalk",
    "building",
    "car",
    "pole",
    "tree",
    "terrain",
    "table",
    "mug",
    "box",
    "ball",
    "torus",
    "cone",
    "floor",
)

CLASS_IDS: dict[str, int] = {name: i for i, name in enumerate(CLASS_NAMES)}

# Instance ids are stored in 16-bit PNG masks (captures and raw datasets): 0 = none.
MAX_INSTANCE_ID = 65535
