"""Named set-ups for kinds of scene: the field, sampling and losses that suit them.

The defaults (preset "object") suit one object captured from all around: a box a few
metres wide, 256 hash cells across it, fast (lego: 31 dB in 2 minutes on 2 cores).

Preset "room" is for a box several metres wide holding centimetre-sized things, like the
tabletop scene (an 8.8 m box for the floor, a 9 cm mug on the table): at 256 cells the
mug is 3 cells wide and a marching step is 5 cm, and the held-out tabletop reaches
28.6 dB / surface normals 14 deg. 16 levels up to 2048 cells (4 mm) in 2^19-entry
tables, steps of 1.2 cm: 34.2 dB / 5.5 deg, for 3x the time per step (the
nerfacto / nerfacto-big trade in nerfstudio).

A street is a 100 m box seen from inside along a drive: at 256 cells a lamp post (16 cm)
is a third of a cell, and from drive-by views alone the field fills the street with
floaters (held-out depth AbsRel 45 %). Preset "street" is "room" (5 cm cells, steps of
12 cm there) plus depth supervision (when the frames carry depth maps: captures, or
LiDAR projected into the images, as MARS and NeuRAD train on).

    train_field(data, run, **preset("street", train=TrainConfig(max_steps=4000)))

Only values still at their defaults are replaced, so explicit settings win
(`nerfgen train DATA --preset street --max-resolution 1024`).
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, Literal

from nerfgen.fields.ngp import NGPFieldConfig
from nerfgen.render.volume import RenderConfig
from nerfgen.train.config import TrainConfig

PresetName = Literal["object", "room", "street"]

_FINE = {
    "field": {"n_levels": 16, "max_resolution": 2048, "log2_hashmap_size": 19},
    "render": {"steps_per_diagonal": 1024},
}
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "object": {},
    "room": _FINE,
    "street": {**_FINE, "train": {"depth_loss_weight": 0.1}},
}


def with_defaults_replaced(config, values: dict[str, Any]):
    """`config` with `values` for the fields still at their defaults (explicit settings win)."""
    default = type(config)()
    keep = {f.name for f in fields(config) if getattr(config, f.name) != getattr(default, f.name)}
    return replace(config, **{k: v for k, v in values.items() if k not in keep})


def preset(
    name: PresetName,
    train: TrainConfig = TrainConfig(),
    field: NGPFieldConfig = NGPFieldConfig(),
    render: RenderConfig = RenderConfig(),
) -> dict[str, Any]:
    """train/field/render configs (keyword arguments of `train_field`) with preset `name`
    filling every value the given configs leave at its default."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r} (known: {sorted(PRESETS)})")
    given = {"train": train, "field": field, "render": render}
    return {key: with_defaults_replaced(config, PRESETS[name].get(key, {})) for key, config in given.items()}
