"""Fixtures shared by several test files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nerfgen.fields.checkpoint import write_checkpoint
from nerfgen.fields.ngp import NGPFieldConfig
from nerfgen.train.config import GridConfig, RunConfig
from nerfgen.train.run import build_model, checkpoint_path


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """An untrained, tiny car-sized run whose grid is occupied over the car's box (its
    pixels are noise, but every code path of a trained run is exercised)."""
    run = tmp_path_factory.mktemp("run")
    config = RunConfig(
        data="none",
        downscale=1,
        aabb=(-2.5, -1.5, -0.2, 2.5, 1.5, 1.8),
        field=NGPFieldConfig(
            n_levels=2, log2_hashmap_size=8, base_resolution=4, max_resolution=8, hidden_dim=16, sh_degree=2
        ),
        grid=GridConfig(resolution=8),
    )
    torch.manual_seed(0)
    field, grid = build_model(config)
    grid.binaries[:, 1:7, 1:7, 1:6] = True
    tensors = {f"field.{k}": v for k, v in field.state_dict().items()} | {
        f"grid.{k}": v for k, v in grid.state_dict().items()
    }
    checkpoint_path(run, 0).parent.mkdir()
    write_checkpoint(checkpoint_path(run, 0), tensors, {"config": config.to_json(), "step": 0})
    return run
