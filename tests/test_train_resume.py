"""Exact training resume: a run resumed from a checkpoint, in process or after a SIGKILL,
ends bit for bit where the uninterrupted run ends, identical runs write identical
checkpoint bytes, and no wall-clock value enters a checkpoint.

The grid here leaves warm-up after 8 steps and updates every 4, so the random cell
probes, the ray batches and the ray-batch controller all act after the resume point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from test_train import AABB, TINY, tiny_train, write_toy_dataset
from test_train_cli import TINY_FLAGS, run_cli

from nerfgen.data import load_dataset
from nerfgen.fields.checkpoint import read_checkpoint
from nerfgen.train import train_field
from nerfgen.train.config import GridConfig, RunConfig, TrainConfig
from nerfgen.train.run import TIMING_FILE, checkpoint_path, read_run_checkpoint
from nerfgen.train.trainer import Trainer

GRID = GridConfig(resolution=32, warmup_steps=8, update_every=4)
GRID_FLAGS = ["--warmup-steps", "8", "--update-every", "4", "--samples-per-step", "4096", "--max-rays", "2048"]


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return write_toy_dataset(tmp_path_factory.mktemp("toy") / "sphere", n_views=8)


def _trainer(toy: Path, out: Path, train: TrainConfig) -> Trainer:
    config = RunConfig(
        data=str(toy.resolve()),
        downscale=1,
        aabb=AABB,
        field=TINY["field"],
        grid=GRID,
        render=TINY["render"],
        train=train,
    )
    return Trainer(config, load_dataset(toy, background=(0.0, 0.0, 0.0)), out)


def _assert_same_training_state(a: Trainer, b: Trainer) -> None:
    assert (a.step, a.n_rays) == (b.step, b.n_rays)
    state_a, state_b = a._training_state(), b._training_state()
    assert state_a.keys() == state_b.keys()
    for name, tensor in state_a.items():
        assert tensor.dtype == state_b[name].dtype and torch.equal(tensor, state_b[name]), name


def test_resume_in_process_is_the_uninterrupted_run_bit_for_bit(toy, tmp_path):
    # 1024 rays give ~4x samples_per_step: the controller drops to its floor of 256.
    train = tiny_train(max_steps=24, checkpoint_every=1000, initial_rays=1024, samples_per_step=4096)
    global_rng = torch.get_rng_state()
    straight = _trainer(toy, tmp_path / "straight", train)
    straight.fit()
    # Every random draw (initialisation, grid probes, batches) has the trainer's generator.
    assert torch.equal(torch.get_rng_state(), global_rng)

    first = _trainer(toy, tmp_path / "resumed", train)
    for _ in range(11):
        first.train_step()
    assert first.n_rays != first.config.train.initial_rays  # the controller has state to restore
    saved = first.save()
    resumed = _trainer(toy, tmp_path / "resumed", train)
    resumed.resume(saved)
    _assert_same_training_state(first, resumed)
    # Fused Adam keeps its step counts as float32 tensors: they come back as such.
    step_count = resumed.optimizer.state_dict()["state"][0]["step"]
    assert step_count.dtype == torch.float32 and step_count.item() == 11.0

    resumed.fit()
    _assert_same_training_state(straight, resumed)
    assert checkpoint_path(resumed.out, 24).read_bytes() == checkpoint_path(straight.out, 24).read_bytes()


def test_identical_trainings_write_identical_checkpoints(toy, tmp_path):
    train = tiny_train(max_steps=24, checkpoint_every=12, keep_checkpoints=5)
    runs = [tmp_path / "a", tmp_path / "b"]
    for run in runs:
        train_field(toy, run, train=train, aabb=AABB, **{**TINY, "grid": GRID})
    for step in (12, 24):
        assert checkpoint_path(runs[0], step).read_bytes() == checkpoint_path(runs[1], step).read_bytes()
    _, meta = read_checkpoint(checkpoint_path(runs[0], 24))
    assert set(meta) == {"format", "config", "step", "n_rays"}
    # The wall-clock side of the run: training seconds at each checkpoint's step.
    timing = json.loads((runs[0] / TIMING_FILE).read_text())
    seconds = timing["seconds_at_step"]
    assert set(seconds) == {"12", "24"} and 0 < seconds["12"] < seconds["24"] and timing["rays_per_second"] > 0


def test_a_time_budget_resumes_with_the_seconds_already_spent(toy, tmp_path):
    run = tmp_path / "run"
    train = tiny_train(max_steps=10, seconds=3600.0)
    train_field(toy, run, train=train, aabb=AABB, **TINY)
    spent = json.loads((run / TIMING_FILE).read_text())["seconds_at_step"]["10"]
    config = read_run_checkpoint(checkpoint_path(run, 10))[2]  # as train_field completed it
    trainer = Trainer(config, load_dataset(toy, background=(0.0, 0.0, 0.0)), run)
    trainer.resume(checkpoint_path(run, 10))
    assert trainer.elapsed == spent > 0


def _cli_train(toy: Path, run: Path, *extra: str) -> list[str]:
    return ["train", str(toy), "--out", str(run), "--checkpoint-every", "5", *GRID_FLAGS, *TINY_FLAGS, *extra]


def start_cli(argv: list[str]) -> subprocess.Popen:
    """`nerfgen ARGV` in a subprocess (so it can be SIGKILLed)."""
    code = "from nerfgen.cli import main; main()"
    return subprocess.Popen([sys.executable, "-c", code, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_when_exists(process: subprocess.Popen, path: Path, timeout: float = 120.0) -> None:
    """SIGKILLs `process` as soon as `path` exists (it must still be running then)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.002)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stderr.close()


def test_killed_training_resumes_to_the_uninterrupted_checkpoint(toy, tmp_path, capsys):
    steps = ["--max-steps", "40"]
    straight = tmp_path / "straight"
    assert run_cli(capsys, *_cli_train(toy, straight, *steps))[0] == 0

    run = tmp_path / "run"
    kill_when_exists(start_cli(_cli_train(toy, run, *steps)), checkpoint_path(run, 5))
    assert not checkpoint_path(run, 40).exists()  # killed part-way
    code, out, err = run_cli(capsys, *_cli_train(toy, run, *steps, "--resume"))
    assert code == 0, err
    assert "40 steps" in out
    assert checkpoint_path(run, 40).read_bytes() == checkpoint_path(straight, 40).read_bytes()
