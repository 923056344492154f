"""Typed configuration of a training run (saved as RUN/config.json and in every checkpoint)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field as dc_field
from typing import Any

from nerfgen.fields.ngp import NGPFieldConfig
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


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation: steps, time budget, batch, learning-rate schedule, checkpoints."""

    max_steps: int = 20000
    """Stop after this many optimisation steps."""
    seconds: float | None = None
    """Stop after this much training time (wall clock, seconds); the LR schedule follows time then."""
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

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunConfig:
        """Strict: unknown or missing keys raise TypeError/KeyError (callers name the file)."""
        sub = {"field": NGPFieldConfig, "grid": GridConfig, "render": RenderConfig, "train": TrainConfig}
        kwargs = {k: (sub[k](**v) if k in sub else v) for k, v in d.items()}
        kwargs["aabb"] = tuple(float(x) for x in kwargs["aabb"])
        return cls(**kwargs)
