"""The composed scene file an augmentation renders (written into its output, so that
`nerfgen render OUT/scene.yaml` reproduces it): the background with holes where objects
were removed, and the placed objects. Built as YAML data and validated by the scene
parser, so it is exactly what reading the file back gives."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from nerfgen.augment.boxes import footprint_of
from nerfgen.augment.placement import Placement
from nerfgen.procedural.build import InstanceBox
from nerfgen.scene.spec import Asset, PlacedObject

# Around a removed object: horizontal margin along its length, its width (parked cars sit
# 0.0-0.1 m from the kerb, which must stay) and above it; the bottom stays 3 cm above the
# object's box so the road under it (lane markings are 1 cm) is kept.
HOLE_MARGIN = np.array([0.15, 0.05, 0.15])
HOLE_KEEP_BELOW = 0.03


def hole_around(box: InstanceBox) -> dict:
    """A scene-file hole (center, size, yaw_deg) covering an upright object's box."""
    f = footprint_of(box)
    bottom, top = f.z_min + HOLE_KEEP_BELOW, f.z_max + HOLE_MARGIN[2]
    size = [*(2 * (f.half_xy + HOLE_MARGIN[:2])), top - bottom]
    center = [*f.center_xy, (bottom + top) / 2]
    return {
        "center": [round(float(v), 4) for v in center],
        "size": [round(float(v), 4) for v in size],
        "yaw_deg": round(float(np.degrees(f.yaw)), 4),
    }


def asset_doc(asset: Asset) -> dict:
    doc = {"asset": str(asset.path)}
    if asset.gt is not None and asset.gt != asset.path:
        doc["gt"] = str(asset.gt)
    return doc


def object_doc(obj: PlacedObject) -> dict:
    return {
        **asset_doc(obj.asset),
        "class": obj.class_name,
        "instance_id": obj.instance_id,
        "position": list(obj.pose.translation),
        "yaw_deg": obj.pose.rotation_deg[2],
    }


def composed_doc(background: Asset, holes: Sequence[dict], placements: Sequence[Placement]) -> dict:
    return {
        "background": {**asset_doc(background), "holes": list(holes)},
        "objects": [object_doc(p.obj) for p in placements],
    }
