"""The training loop: random rays -> render -> photometric loss -> Adam, with the
occupancy grid kept up to date, a dynamic ray batch, checkpoints and exact resume.

Same seed and same number of steps give the same weights on CPU: every random draw
(field initialisation, occupancy-grid probes, ray batches, backgrounds) comes from one
torch.Generator, and the kernels are deterministic. A checkpoint holds everything the
next step depends on (weights, grid, Adam moments and step counts, generator state,
step, ray batch size), so a run resumed from it is bit for bit the uninterrupted run,
and two identical runs write byte-identical checkpoints. Wall-clock values never enter
a checkpoint: they go to the run's timing.json.

A `seconds` budget makes the learning-rate schedule and the stopping point follow wall
time instead, which converges faster under a deadline but is not reproducible, resumed
or not; the training seconds already spent, which a resume needs, are kept in
timing.json, for the step of each checkpoint.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from nerfgen.atomic import atomic_write_bytes
from nerfgen.data import Dataset
from nerfgen.errors import NerfgenError
from nerfgen.fields.checkpoint import take_prefixed, write_checkpoint
from nerfgen.render.depth_loss import surface_opacity_loss
from nerfgen.render.volume import render_rays, step_size
from nerfgen.train.config import RunConfig
from nerfgen.train.data import ray_table, split_indices
from nerfgen.train.progress import TrainProgress
from nerfgen.train.run import (
    TIMING_FILE,
    build_model,
    checkpoint_path,
    list_checkpoints,
    load_state,
    read_run_checkpoint,
)


@dataclass
class StepStats:
    loss: float
    psnr: float  # of this batch, against its (random-background) targets
    n_rays: int
    n_samples: int


class Trainer:
    """Trains one NGP field on the "train" frames of a dataset; see `fit` for the loop."""

    def __init__(self, config: RunConfig, dataset: Dataset, out: Path):
        self.config = config
        self.out = Path(out)
        train = config.train
        self.generator = torch.Generator().manual_seed(train.seed)
        self.field, self.grid = build_model(config, self.generator)
        self.rays = ray_table(dataset, split_indices(dataset, "train", train.holdout_every))
        mlp_params = [p for name, p in self.field.named_parameters() if not name.startswith("encoding.")]
        self.optimizer = torch.optim.Adam(
            [
                {"params": list(self.field.encoding.parameters()), "weight_decay": 0.0},
                {"params": mlp_params, "weight_decay": train.weight_decay},
            ],
            lr=train.lr,
            betas=(0.9, 0.99),
            eps=1e-15,
            fused=True,
        )
        self.step = 0
        self.n_rays = train.initial_rays
        self.elapsed = 0.0  # training seconds so far, across resumes
        self._process_rays = 0  # rays trained by this process, for the rays/s in timing.json
        self._process_seconds = 0.0
        self._step_size = step_size(config.render, self.grid.aabb)
        # Cells holding a known surface point stay occupied: the grid probes one random
        # point per cell, which rarely lands on a thin structure, and a cell marked empty
        # gives the depth loss no sample to grow it in.
        self.depth_supervised = self.rays.range is not None and train.depth_loss_weight > 0
        self.surface_cells = None
        if self.depth_supervised:
            hit = self.rays.range > 0
            surface = self.rays.origins[hit] + self.rays.directions[hit] * self.rays.range[hit, None]
            self.surface_cells = self.grid.cells_containing(surface)

    # -- one step ---------------------------------------------------------------------

    def _occupancy(self, positions: torch.Tensor) -> torch.Tensor:  # [N,3] -> [N]
        # The grid thresholds opacity of one marching step, as nerfacc does.
        return self.field.density(positions) * self._step_size

    def _surface_loss(self, idx: torch.Tensor) -> torch.Tensor:  # idx [n_rays] into self.rays
        """surface_opacity_loss half a step behind the known surface of the batch's rays."""
        known = idx[self.rays.range[idx] > 0]
        t = self.rays.range[known] + 0.5 * self._step_size
        points = self.rays.origins[known] + self.rays.directions[known] * t[:, None]
        return surface_opacity_loss(self.field.density(points), self._step_size)

    def learning_rate(self) -> float:
        train = self.config.train
        progress = self.step / train.max_steps
        if train.seconds:
            progress = max(progress, self.elapsed / train.seconds)
        return train.lr * train.lr_final_factor ** min(progress, 1.0)

    def train_step(self) -> StepStats:
        """One optimisation step; its wall time is added to `elapsed`."""
        start = time.perf_counter()
        train, grid_cfg = self.config.train, self.config.grid
        self.field.train()
        self.grid.update(
            self.step,
            self._occupancy,
            occ_thre=grid_cfg.occ_threshold,
            ema_decay=grid_cfg.ema_decay,
            warmup_steps=grid_cfg.warmup_steps,
            n=grid_cfg.update_every,
            generator=self.generator,
        )
        if self.surface_cells is not None:
            self.grid.binaries |= self.surface_cells
        idx = torch.randint(len(self.rays), (self.n_rays,), generator=self.generator)
        # Random backgrounds make transparent pixels unambiguous: only zero opacity
        # explains a target that changes with the background.
        background = torch.rand(self.n_rays, 3, generator=self.generator)
        target = self.rays.rgb[idx]
        if self.rays.alpha is not None:
            target = target + (1.0 - self.rays.alpha[idx])[:, None] * background
        elif train.background is not None:
            background = torch.tensor(train.background).expand(self.n_rays, 3)
        normals = self.field.normal_head is not None and train.normal_loss_weight > 0
        range_target = self.rays.range[idx] if self.depth_supervised else None
        out = render_rays(
            self.field,
            self.grid,
            self.rays.origins[idx],
            self.rays.directions[idx],
            background,
            self.config.render,
            normals=normals,
            distortion=train.distortion_loss_weight > 0,
            range_target=range_target,
        )
        mse = torch.nn.functional.mse_loss(out.rgb, target)
        loss = mse
        if out.normal_loss is not None:
            loss = loss + train.normal_loss_weight * out.normal_loss
        if out.distortion is not None:
            loss = loss + train.distortion_loss_weight * out.distortion
        if out.depth_loss is not None:
            # 0.1: on the street (1000 steps) lamp posts appear and held-out depth AbsRel
            # drops 13.5 % -> 4.4 %; at 1.0 surfaces thicken and PSNR falls 3 dB.
            surface = self._surface_loss(idx)
            loss = loss + train.depth_loss_weight * (out.depth_loss + 0.1 * surface)
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.step += 1
        # Keep the expensive samples per step roughly constant as the grid empties.
        scale = train.samples_per_step / max(out.n_samples, 1)
        self.n_rays = int(min(max(self.n_rays * scale, 256), train.max_rays))
        mse_value = mse.item()
        seconds = time.perf_counter() - start
        self.elapsed += seconds
        self._process_seconds += seconds
        self._process_rays += len(idx)
        return StepStats(loss.item(), -10.0 * math.log10(max(mse_value, 1e-10)), len(idx), out.n_samples)

    # -- the loop -----------------------------------------------------------------------

    def done(self) -> bool:
        train = self.config.train
        return self.step >= train.max_steps or (train.seconds is not None and self.elapsed >= train.seconds)

    def fit(self) -> None:
        """Trains until max_steps or the time budget, saving checkpoints on the way and at the end."""
        train = self.config.train
        with TrainProgress(train.max_steps, train.seconds, enabled=train.progress) as bar:
            while not self.done():
                stats = self.train_step()
                bar.update(self.step, self.elapsed, stats)
                if self.step % train.checkpoint_every == 0 and not self.done():
                    self.save()
        self.save()

    # -- checkpoints ----------------------------------------------------------------------

    def _training_state(self) -> dict[str, torch.Tensor]:
        tensors = {f"field.{k}": v for k, v in self.field.state_dict().items()}
        tensors |= {f"grid.{k}": v for k, v in self.grid.state_dict().items()}
        for i, state in self.optimizer.state_dict()["state"].items():
            tensors |= {f"optimizer.{i}.{k}": v for k, v in state.items()}
        tensors["rng"] = self.generator.get_state()
        return tensors

    def save(self) -> Path:
        """Writes the checkpoint of this step, then deletes the oldest beyond
        keep_checkpoints: a kill at any moment leaves at least one complete checkpoint."""
        path = checkpoint_path(self.out, self.step)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise NerfgenError(path.parent, f"cannot write checkpoints ({e.strerror or e})") from None
        # Timing first: every complete checkpoint has its training seconds recorded.
        self._write_timing()
        meta = {"config": self.config.to_json(), "step": self.step, "n_rays": self.n_rays}
        write_checkpoint(path, self._training_state(), meta)
        for old in list_checkpoints(self.out)[: -self.config.train.keep_checkpoints]:
            old.unlink(missing_ok=True)
        return path

    def _write_timing(self) -> None:
        """RUN/timing.json: training seconds at the step of each kept checkpoint (what a
        resume under a time budget continues from) and this process's rays per second."""
        seconds_at_step = _read_seconds_at_step(self.out) | {self.step: self.elapsed}
        kept = sorted(seconds_at_step)[-self.config.train.keep_checkpoints :]
        timing = {
            "seconds_at_step": {str(step): seconds_at_step[step] for step in kept},
            "rays_per_second": self._process_rays / max(self._process_seconds, 1e-9),
        }
        atomic_write_bytes(self.out / TIMING_FILE, (json.dumps(timing, indent=2) + "\n").encode())

    def resume(self, path: Path) -> None:
        """Restores field, grid, optimiser, RNG and counters from a checkpoint, and the
        training seconds spent until then from timing.json."""
        tensors, meta, saved = read_run_checkpoint(path)
        if (saved.field, saved.grid, saved.render, saved.aabb) != (
            self.config.field,
            self.config.grid,
            self.config.render,
            self.config.aabb,
        ):
            raise NerfgenError(path, "checkpoint was trained with a different field/grid/render config or scene box")
        load_state(self.field, take_prefixed(tensors, "field"), path, "field")
        load_state(self.grid, take_prefixed(tensors, "grid"), path, "occupancy grid")
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in take_prefixed(tensors, "optimizer").items():
            i, name = key.split(".", 1)
            state.setdefault(int(i), {})[name] = value
        optim_state = self.optimizer.state_dict()
        optim_state["state"] = state
        try:
            self.optimizer.load_state_dict(optim_state)
            self.generator.set_state(tensors["rng"])
            self.step, self.n_rays = int(meta["step"]), int(meta["n_rays"])
        except (KeyError, ValueError, RuntimeError) as e:
            raise NerfgenError(path, f"checkpoint has no usable training state ({type(e).__name__}: {e})") from None
        # Without a record (timing.json deleted) a time budget starts over.
        self.elapsed = _read_seconds_at_step(self.out).get(self.step, 0.0)


def _read_seconds_at_step(run_dir: Path) -> dict[int, float]:
    """The `seconds_at_step` of RUN/timing.json; empty when it is missing or unreadable
    (timings are informative, and only a time budget needs them)."""
    try:
        recorded = json.loads((run_dir / TIMING_FILE).read_text())["seconds_at_step"]
        return {int(step): float(seconds) for step, seconds in recorded.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
