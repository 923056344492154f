"""`train_field`: dataset path in, trained run directory out (what `nerfgen train` calls)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from functools import partial
from pathlib import Path

import torch

from nerfgen.atomic import atomic_write_bytes
from nerfgen.data import Dataset, load_dataset
from nerfgen.errors import NerfgenError
from nerfgen.fields.ngp import NGPFieldConfig
from nerfgen.output_dir import MARKER_NAME, check_inputs, check_output, output_dir, output_lock, write_marker
from nerfgen.render.volume import RenderConfig
from nerfgen.train.config import GridConfig, RunConfig, TrainConfig, check_ranges
from nerfgen.train.data import capture_background, split_indices
from nerfgen.train.extent import describe_extent, scene_extent, unbounded_configs
from nerfgen.train.run import TrainedField, list_checkpoints, load_trained
from nerfgen.train.trainer import Trainer


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
    overwrite: bool = False,
    data_options: dict[str, str | None] | None = None,
) -> TrainedField:
    """Trains a field on the "train" frames of the dataset at `data` into run directory `out`.

    `data_options` are load_dataset's format options (KITTI frames, cameras, sequence;
    None = not given); the run keeps them so that evaluation reads the same frames.

    `out` follows nerfgen.output_dir's policy, one writer at a time:
    - absent or empty: trained in place, so checkpoints appear as training goes and a
      killed run can be resumed; a run that fails before its first checkpoint leaves
      nothing behind.
    - `resume`: continues the nerfgen run in `out` from its newest checkpoint (field,
      grid and render configs and the scene box must match), from the start if it has
      none yet.
    - `overwrite`: a run (any nerfgen output) in `out` is replaced, by a new run trained
      beside it that takes its place only when complete: until then the old run is whole.
    - anything else in `out` is refused before any work, as is a `data` that contains,
      is or lies inside `out`.
    """
    out, data = Path(out), Path(data)
    if resume and overwrite:
        raise NerfgenError(None, "--resume continues a run and --overwrite replaces it: pass one of them")
    if resume:
        _check_resumable(out, data)
    else:
        check_output(out, (data,), overwrite=overwrite, resumable=True)
    if train.threads < 1:
        raise NerfgenError(None, f"--threads must be >= 1, got {train.threads}")
    torch.set_num_threads(train.threads)
    data_options = {k: v for k, v in (data_options or {}).items() if v is not None}
    prepare = partial(_prepare, data, downscale, train, field, grid, render, aabb, data_options)
    # The lock comes before the dataset is loaded: a second writer fails at once.
    if resume:
        with output_lock(out):
            _check_resumable(out, data)
            dataset, config = prepare()
            _resume_in_place(config, dataset, out)
    elif overwrite and _holds_files(out):
        with output_dir(out, "train", inputs=(data,), overwrite=True) as work:
            dataset, config = prepare()
            _write_config(work, config)
            Trainer(config, dataset, work).fit()
    else:
        with output_lock(out):
            check_output(out, (data,), resumable=True)  # another writer may have filled it meanwhile
            dataset, config = prepare()
            _train_in_place(config, dataset, out)
    return load_trained(out)


def _prepare(
    data: Path,
    downscale: int,
    train: TrainConfig,
    field: NGPFieldConfig,
    grid: GridConfig,
    render: RenderConfig,
    aabb: tuple[float, float, float, float, float, float] | None,
    data_options: dict[str, str],
) -> tuple[Dataset, RunConfig]:
    """The dataset and the run's config, validated before any file is written."""
    dataset = load_dataset(data, downscale, (0.0, 0.0, 0.0), **data_options, holdout_every=train.holdout_every)
    if len(dataset) == 0:
        raise NerfgenError(data, "dataset has no frames")
    if train.background is None:
        train = replace(train, background=capture_background(dataset))
    training_frames = dataset.take(split_indices(dataset, "train", train.holdout_every), "train")
    extent = scene_extent(training_frames, train.background, aabb)
    if extent.unbounded:
        field, grid, render = unbounded_configs(extent, field, grid, render)
    if train.progress:
        print(describe_extent(extent, grid))
    config = RunConfig(
        data=str(data.resolve()),
        downscale=downscale,
        aabb=extent.aabb,
        field=field,
        grid=grid,
        render=render,
        train=train,
        data_options=data_options,
    )
    try:
        check_ranges(config)
    except ValueError as e:
        raise NerfgenError(None, f"invalid training configuration: {e}") from None
    return dataset, config


def _holds_files(out: Path) -> bool:
    return out.is_dir() and any(out.iterdir())


def _check_resumable(out: Path, data: Path) -> None:
    """--resume keeps what is in `out`, so of check_output's rules only the one on inputs
    applies; `out` must be a training run."""
    check_inputs(out, (data,))
    if not out.is_dir() or not any(out.iterdir()):
        raise NerfgenError(out, "nothing to resume here: train without --resume to start a run")
    if not _is_training_run(out) and not list_checkpoints(out):
        raise NerfgenError(
            out, f"cannot resume: not a nerfgen training run (no checkpoints, no {MARKER_NAME} of train)"
        )


def _is_training_run(out: Path) -> bool:
    """Whether `out` carries the marker of `train` (other commands' outputs have theirs)."""
    try:
        return json.loads((out / MARKER_NAME).read_text()).get("kind") == "train"
    except (OSError, ValueError, AttributeError):
        return False


def _write_config(run_dir: Path, config: RunConfig) -> None:
    atomic_write_bytes(run_dir / "config.json", (json.dumps(config.to_json(), indent=2) + "\n").encode())


def _resume_in_place(config: RunConfig, dataset: Dataset, out: Path) -> None:
    trainer = Trainer(config, dataset, out)
    checkpoints = list_checkpoints(out)
    if checkpoints:
        trainer.resume(checkpoints[-1])
    write_marker(out, "train")
    _write_config(out, config)
    trainer.fit()


def _train_in_place(config: RunConfig, dataset: Dataset, out: Path) -> None:
    """Trains into the absent or empty `out`; a failure before the first checkpoint
    removes what this run wrote (and `out`, if this run made it)."""
    made_out = not out.exists()
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise NerfgenError(out, f"cannot write run directory ({e.strerror or e})") from None
        write_marker(out, "train")
        _write_config(out, config)
        Trainer(config, dataset, out).fit()
    except BaseException:
        if not list_checkpoints(out):
            _remove_run(out, made_out)
        raise


def _remove_run(out: Path, made_out: bool) -> None:
    """Removes `out` (made by this run), or only its contents: `out` was empty under the lock."""
    if made_out:
        shutil.rmtree(out, ignore_errors=True)
        return
    for child in out.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
