"""A run directory: config.json + checkpoints/step-NNNNNN.safetensors; loading trained fields.

    RUN/.nerfgen-output                  marks the directory as nerfgen's (nerfgen.output_dir)
    RUN/config.json                      the RunConfig (human-readable copy)
    RUN/checkpoints/step-000500.safetensors   field, occupancy grid, optimiser, RNG, step + config
    RUN/timing.json                      wall-clock training seconds and rays/s (never in a checkpoint)
    RUN/eval.json, RUN/eval/             written by `nerfgen eval`

Every checkpoint carries its own config, so one file is enough to rebuild the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from nerfgen.errors import NerfgenError
from nerfgen.fields.checkpoint import check_finite, read_checkpoint, take_prefixed
from nerfgen.fields.ngp import NGPField
from nerfgen.ops.occupancy_grid import OccupancyGrid
from nerfgen.train.config import RunConfig

CHECKPOINT_DIR = "checkpoints"
TIMING_FILE = "timing.json"
_CHECKPOINT_NAME = re.compile(r"step-(\d+)\.safetensors")


def checkpoint_path(run_dir: Path, step: int) -> Path:
    return run_dir / CHECKPOINT_DIR / f"step-{step:06d}.safetensors"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoints of a run, oldest first."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    found = [
        (int(m.group(1)), p) for p in folder.glob("step-*.safetensors") if (m := _CHECKPOINT_NAME.fullmatch(p.name))
    ]
    return [p for _, p in sorted(found)]


def latest_checkpoint(run_dir: str | Path) -> Path:
    """The newest checkpoint of a run directory, or the path itself if it is a checkpoint file."""
    run_dir = Path(run_dir)
    if run_dir.is_file():
        return run_dir
    if not run_dir.is_dir():
        raise NerfgenError(run_dir, "run directory does not exist")
    found = list_checkpoints(run_dir)
    if not found:
        raise NerfgenError(run_dir, f"no checkpoints in {run_dir / CHECKPOINT_DIR}")
    return found[-1]


def build_model(config: RunConfig, generator: torch.Generator | None = None) -> tuple[NGPField, OccupancyGrid]:
    """A fresh field and occupancy grid for `config`, the field's weights drawn from
    `generator` (the global RNG if None)."""
    aabb = torch.tensor(config.aabb, dtype=torch.float32)
    field = NGPField(config.field, aabb.reshape(2, 3), generator)
    grid = OccupancyGrid(aabb, resolution=config.grid.resolution, levels=config.grid.levels)
    return field, grid


def load_state(module: nn.Module, state: dict[str, torch.Tensor], path: Path, what: str) -> None:
    """load_state_dict(strict) whose shape/key mismatches become a NerfgenError naming `path`."""
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[1].strip() if len(str(e).splitlines()) > 1 else str(e)
        raise NerfgenError(path, f"checkpoint does not match its config ({what}: {first})") from None


@dataclass
class TrainedField:
    """A trained field with its occupancy grid, ready to render."""

    config: RunConfig
    field: NGPField
    grid: OccupancyGrid
    step: int
    checkpoint: Path


def parse_config(meta: dict, path: Path) -> RunConfig:
    try:
        return RunConfig.from_json(meta["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise NerfgenError(path, f"invalid config in checkpoint ({type(e).__name__}: {e})") from None


# A density past float32's range is a legitimately occupied cell, not a broken one.
_INFINITY_ALLOWED = ("grid.occs",)


def read_run_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict, RunConfig]:
    """(tensors, metadata, config) of a checkpoint, refused with one line naming `path`
    when it is unreadable, its config is invalid or out of range, or a tensor is NaN/inf."""
    tensors, meta = read_checkpoint(path)
    config = parse_config(meta, path)
    check_finite(path, tensors, _INFINITY_ALLOWED)
    return tensors, meta, config


def load_trained(run_or_checkpoint: str | Path) -> TrainedField:
    """Loads the newest checkpoint of a run (or the given checkpoint file) for rendering."""
    path = latest_checkpoint(run_or_checkpoint)
    tensors, meta, config = read_run_checkpoint(path)
    field, grid = build_model(
        config, torch.Generator()
    )  # initial weights are overwritten: keep the global RNG as it is
    load_state(field, take_prefixed(tensors, "field"), path, "field")
    load_state(grid, take_prefixed(tensors, "grid"), path, "occupancy grid")
    field.eval()
    return TrainedField(config, field, grid, int(meta.get("step", 0)), path)
