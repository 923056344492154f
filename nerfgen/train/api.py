"""`train_field`: dataset path in, trained run directory out (what `nerfgen train` calls)."""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import torch

from nerfgen.atomic import atomic_write_bytes
from nerfgen.data import load_dataset
from nerfgen.errors import NerfgenError
from nerfgen.fields.ngp import NGPFieldConfig
from nerfgen.render.volume import RenderConfig
from nerfgen.train.config import GridConfig, RunConfig, TrainConfig
from nerfgen.train.data import capture_background, scene_aabb
from nerfgen.train.run import CHECKPOINT_DIR, TrainedField, latest_checkpoint, load_trained
from nerfgen.train.trainer import Trainer


def _check_writable(out: Path) -> None:
    """Fails before any work when the run directory cannot be created or written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out).close()
    except OSError as e:
        raise NerfgenError(out, f"cannot write run directory ({e.strerror or e})") from None


def train_field(
    data: str | Path,
    out: str | Path,
    downscale: int = 1,
    train: TrainConfig = TrainConfig(),
    field: NGPFieldConfig = NGPFieldConfig(),
    grid: GridConfig = GridConfig(),
    render: RenderConfig = RenderConfig(),
    aabb: tuple[float, float, float, float, float, float] | None = None,
    resume: bool = False,
) -> TrainedField:
    """Trains a field on the "train" frames of the dataset at `data` into run directory `out`.

    Without `resume` an existing run in `out` is replaced; with it, training continues
    from its newest checkpoint (field, grid and render configs must match).
    """
    out = Path(out)
    torch.set_num_threads(train.threads)
    _check_writable(out)
    resume_from = latest_checkpoint(out) if resume else None
    dataset = load_dataset(data, downscale=downscale, background=(0.0, 0.0, 0.0))
    if len(dataset) == 0:
        raise NerfgenError(data, "dataset has no frames")
    if train.background is None:
        train = replace(train, background=capture_background(dataset))
    config = RunConfig(
        data=str(Path(data).resolve()), downscale=downscale, aabb=aabb or scene_aabb(dataset),
        field=field, grid=grid, render=render, train=train,
    )  # fmt: skip
    if resume_from is None:
        # A new run replaces the old one: stale checkpoints with higher step numbers
        # would otherwise look like the newest.
        shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
        shutil.rmtree(out / "eval", ignore_errors=True)
        (out / "eval.json").unlink(missing_ok=True)
    atomic_write_bytes(out / "config.json", (json.dumps(config.to_json(), indent=2) + "\n").encode())
    trainer = Trainer(config, dataset, out)
    if resume_from is not None:
        trainer.resume(resume_from)
    trainer.fit()
    return load_trained(out)
