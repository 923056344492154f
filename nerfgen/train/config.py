"""Typed configuration of a training run (saved as RUN/config.json and in every checkpoint)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from nerfgen.fields.ngp import NGPFieldConfig
from nerfgen.fields.sh import MAX_SH_DEGREE
from nerfgen.render.volume import RenderConfig


@dataclass(frozen=True)
class GridConfig:
    """Occupancy grid that lets the marcher skip empty space."""

    resolution: int = 64
    """Cells per side of every level (64 suffices for ~100-200 px images and updates 8x faster than 128)."""
    levels: int = 1
    """Cascade levels; level l covers the scene box scaled by 2**l (use >1 for unbounded scenes)."""
    occ_threshold: float = 0.01
    """A cell is occupied when its density * step size exceeds this."""
    ema_decay: float = 0.95
    """Decay of the running cell density between updates."""
    warmup_steps: int = 128
    """Steps during which every cell is re-evaluated on each update."""
    update_every: int = 8
    """Update the grid every this many steps."""

    def n_bytes(self) -> int:
        """Memory of the grid's cells: a float32 running density and a bool per cell."""
        return self.levels * self.resolution**3 * 5


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation: steps, time budget, batch, learning-rate schedule, checkpoints."""

    max_steps: int = 20000
    """Stop after this many optimisation steps."""
    seconds: float | None = None
    """Stop after this much training time (wall clock, seconds); the LR schedule follows time
    then, so the result is not reproducible (resume continues the time in RUN/timing.json)."""
    seed: int = 0
    """Seed of every random choice: same seed and steps give the same result on CPU."""
    lr: float = 1e-2
    """Initial Adam learning rate."""
    lr_final_factor: float = 0.03
    """Learning rate at the end of the schedule, relative to `lr` (exponential decay)."""
    weight_decay: float = 1e-6
    """Weight decay on the MLPs (not the hash table)."""
    samples_per_step: int = 1 << 13
    """Target samples through the full field per step; the ray batch adapts to keep it."""
    initial_rays: int = 512
    """Ray batch of the first step."""
    max_rays: int = 1 << 13
    """Largest ray batch."""
    distortion_loss_weight: float = 0.0
    """Weight of mip-NeRF 360's distortion loss, distances in scene-box diagonals. Compacts
    each ray's weights around one surface on object captures (0.01: car normals ~2 deg
    better, lego PSNR unchanged); off by default because on a street-sized box, in metric
    distances, it collapses the scene into floaters in front of the cameras."""
    depth_loss_weight: float = 0.0
    """Weight of depth supervision (nerfgen.render.depth_loss) on rays whose dataset frame
    has a depth map (`depth_file_path`; captures have exact ones, LiDAR projected into the
    images gives sparse ones); 0 ignores the depth maps, as RGB-only training does."""
    normal_loss_weight: float = 1e-3
    """Weight of the loss pulling predicted normals toward density-gradient normals."""
    background: tuple[float, float, float] | None = None
    """Background colour behind images without alpha; None: the capture's own (gt.json) for
    `nerfgen capture` datasets, else random colours, which force the field to be opaque.
    Images with alpha always get random ones."""
    checkpoint_every: int = 2000
    """Save a checkpoint every this many steps (and always at the end)."""
    keep_checkpoints: int = 2
    """Older checkpoints beyond this many are deleted."""
    holdout_every: int = 8
    """Without a test split in the data, every this-th frame is held out (0, 8, 16, ...)."""
    progress: bool = True
    """Show a progress bar."""
    threads: int = 1
    """CPU threads for torch ops. 1 is fastest unless the cores are otherwise idle: with more
    threads than free cores every parallel op waits for a descheduled thread (5x slower)."""

    @property
    def eval_background(self) -> tuple[float, float, float]:
        """The colour renders are composited over for evaluation and viewing."""
        return self.background if self.background is not None else (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a trained field: its data and every config above."""

    data: str
    downscale: int
    aabb: tuple[float, float, float, float, float, float]  # min x, y, z, max x, y, z (metres)
    field: NGPFieldConfig = dc_field(default_factory=NGPFieldConfig)
    grid: GridConfig = dc_field(default_factory=GridConfig)
    render: RenderConfig = dc_field(default_factory=RenderConfig)
    train: TrainConfig = dc_field(default_factory=TrainConfig)
    data_options: dict[str, str] = dc_field(default_factory=dict)
    """Options of nerfgen.data.load_dataset the data was read with (KITTI frames, cameras, sequence)."""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunConfig:
        """Strict: unknown or missing keys raise TypeError/KeyError, values outside their
        ranges ValueError (check_ranges), before anything is allocated (callers name the file)."""
        sub = {"field": NGPFieldConfig, "grid": GridConfig, "render": RenderConfig, "train": TrainConfig}
        kwargs = {k: (sub[k](**v) if k in sub else v) for k, v in d.items()}
        kwargs["aabb"] = tuple(float(x) for x in kwargs["aabb"])
        config = cls(**kwargs)
        check_ranges(config)
        return config


_MANY = 1 << 62
INT_RANGES: dict[str, tuple[int, int]] = {
    "downscale": (1, 1 << 16),
    "field.n_levels": (1, 32),
    "field.features_per_level": (1, 8),
    "field.log2_hashmap_size": (4, 24),
    "field.base_resolution": (1, 1 << 16),
    "field.max_resolution": (1, 1 << 16),
    "field.hidden_dim": (1, 1024),
    "field.density_layers": (0, 16),
    "field.color_layers": (0, 16),
    "field.geo_feature_dim": (0, 1024),
    "field.sh_degree": (1, MAX_SH_DEGREE),
    "grid.resolution": (1, 1024),
    "grid.levels": (1, 16),
    "grid.warmup_steps": (0, _MANY),
    "grid.update_every": (1, _MANY),
    "render.steps_per_diagonal": (1, 1 << 20),
    "train.max_steps": (0, _MANY),
    "train.seed": (0, (1 << 63) - 1),
    "train.samples_per_step": (1, 1 << 30),
    "train.initial_rays": (1, 1 << 24),
    "train.max_rays": (1, 1 << 24),
    "train.checkpoint_every": (1, _MANY),
    "train.keep_checkpoints": (1, 1 << 20),
    "train.holdout_every": (0, _MANY),
    "train.threads": (1, 1 << 12),
}
"""Allowed [min, max] of every integer setting, by its dotted key."""

MAX_MODEL_BYTES = 4 << 30
"""Largest field + occupancy grid accepted (float32 parameters and grid cells); training
needs about four times this for gradients and Adam's two moments."""


def check_ranges(config: RunConfig) -> None:
    """Raises ValueError naming the first key whose value is of the wrong kind or out of
    range, or the keys whose sizes make the model too large to allocate."""
    values = _flatten(dataclasses.asdict(config))
    for key, (low, high) in INT_RANGES.items():
        value = values[key]
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{key} = {value!r} is not an integer")
        if not low <= value <= high:
            raise ValueError(f"{key} = {value} is outside [{low}, {high}]")
    for key, value in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{key} = {value} is not finite")
    lo, hi = config.aabb[:3], config.aabb[3:]
    if not all(math.isfinite(v) for v in config.aabb) or not all(a < b for a, b in zip(lo, hi)):
        raise ValueError(f"aabb = {list(config.aabb)} is not a box (min x y z < max x y z, finite)")
    model_bytes = 4 * config.field.n_parameters() + config.grid.n_bytes()
    if model_bytes > MAX_MODEL_BYTES:
        raise ValueError(
            f"field.n_levels, field.log2_hashmap_size, field.features_per_level, field.hidden_dim, grid.levels and "
            f"grid.resolution give a {model_bytes / 2**30:.1f} GiB model, over the {MAX_MODEL_BYTES >> 30} GiB limit"
        )


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, dict):
            flat |= _flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat
