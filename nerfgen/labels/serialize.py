"""`FrameLabels` / `InstanceLabel` <-> JSON-ready dicts, exactly invertible.

Arrays become nested lists of Python floats; `json` writes each float as its shortest
round-tripping repr, so reading a document back gives bit-identical float64 arrays and
the same records always give the same text. Keys follow the dataclass field order.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from nerfgen.labels.types import FrameLabels, InstanceLabel

_INSTANCE_ARRAYS = ("size", "box_to_world", "obj_to_world", "obj_to_cam", "corners_world", "corners_cam")
_INSTANCE_OPTIONAL_ARRAYS = ("bbox_amodal", "bbox_visible")
_FRAME_ARRAYS = ("c2w", "dist_coeffs")


def instance_to_json(label: InstanceLabel) -> dict:
    return {f.name: _to_json(getattr(label, f.name)) for f in fields(InstanceLabel)}


def instance_from_json(doc: dict) -> InstanceLabel:
    values = {f.name: doc[f.name] for f in fields(InstanceLabel)}
    for name in _INSTANCE_ARRAYS:
        values[name] = np.asarray(values[name], dtype=np.float64)
    for name in _INSTANCE_OPTIONAL_ARRAYS:
        values[name] = None if values[name] is None else np.asarray(values[name], dtype=np.float64)
    return InstanceLabel(**values)


def labels_to_json(labels: FrameLabels) -> dict:
    doc = {f.name: _to_json(getattr(labels, f.name)) for f in fields(FrameLabels) if f.name != "instances"}
    doc["instances"] = [instance_to_json(i) for i in labels.instances]
    return doc


def labels_from_json(doc: dict) -> FrameLabels:
    values = {f.name: doc[f.name] for f in fields(FrameLabels)}
    for name in _FRAME_ARRAYS:
        values[name] = np.asarray(values[name], dtype=np.float64)
    values["instances"] = [instance_from_json(i) for i in values["instances"]]
    return FrameLabels(**values)


def _to_json(value):
    if isinstance(value, np.ndarray):
        return value.astype(np.float64).tolist()
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value
