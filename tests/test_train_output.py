"""`nerfgen train` never destroys a user's files, and a run's checkpoints are checked on
load: what is refused (one line on stderr, exit status 2, nothing touched), what
--overwrite and --resume may do, and checkpoints with NaN weights or absurd sizes."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import torch
from test_train import write_toy_dataset
from test_train_cli import TINY_FLAGS, run_cli
from test_train_resume import kill_when_exists, start_cli

from nerfgen.cli import main
from nerfgen.errors import NerfgenError
from nerfgen.fields.checkpoint import read_checkpoint, write_checkpoint
from nerfgen.fields.ngp import NGPField, NGPFieldConfig
from nerfgen.output_dir import MARKER_NAME, lock_path, output_lock, partial_path, write_marker
from nerfgen.train import api, load_trained
from nerfgen.train.run import list_checkpoints


def files(root: Path) -> dict[str, bytes]:
    """Every file under `root` (hidden ones too) and its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def one_line_error(result: tuple[int, str, str], *needles: str) -> str:
    code, _, err = result
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return write_toy_dataset(tmp_path_factory.mktemp("toy") / "sphere", n_views=8)


@pytest.fixture(scope="module")
def base_run(toy, tmp_path_factory) -> Path:
    """A finished 4-step run; tests copy it before changing anything."""
    run = tmp_path_factory.mktemp("base") / "run"
    main(["train", str(toy), "--out", str(run), "--max-steps", "4", *TINY_FLAGS])
    return run


def copy_run(base_run: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    return run


def train(capsys, toy: Path, run: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "train", str(toy), "--out", str(run), "--max-steps", "4", *TINY_FLAGS, *extra)


# -- the run directory ----------------------------------------------------------------


@pytest.mark.parametrize("flags", [[], ["--overwrite"]])
def test_a_users_directory_survives_train(flags, toy, tmp_path, capsys):
    run = tmp_path / "mine"
    run.mkdir()
    (run / "thesis.tex").write_text("years of work\n")
    before = files(run)
    expected = "pass --overwrite" if not flags else MARKER_NAME
    one_line_error(train(capsys, toy, run, *flags), str(run), expected)
    assert files(run) == before
    assert not partial_path(run).exists() and not lock_path(run).exists()


def test_a_new_run_is_marked_and_trained_in_place(toy, tmp_path, capsys):
    run = tmp_path / "empty"
    run.mkdir()  # an empty directory the user made is used as it is
    code, _, err = train(capsys, toy, run)
    assert code == 0, err
    assert (run / MARKER_NAME).is_file() and (run / "config.json").is_file()
    assert [p.name for p in list_checkpoints(run)] == ["step-000004.safetensors"]
    one_line_error(train(capsys, toy, run), "pass --overwrite to replace it or --resume to continue it")


def test_overwrite_keeps_the_old_run_until_the_new_one_is_complete(toy, base_run, tmp_path, capsys):
    run = copy_run(base_run, tmp_path)
    old = files(run)
    new = [
        "train",
        str(toy),
        "--out",
        str(run),
        "--max-steps",
        "400",
        "--checkpoint-every",
        "2",
        *TINY_FLAGS,
        "--overwrite",
    ]
    kill_when_exists(start_cli(new), partial_path(run) / "checkpoints" / "step-000002.safetensors")
    assert files(run) == old  # killed part-way: the old run is whole and loads
    assert load_trained(run).step == 4

    code, _, err = train(capsys, toy, run, "--max-steps", "6", "--overwrite")
    assert code == 0, err
    assert [p.name for p in list_checkpoints(run)] == ["step-000006.safetensors"]
    assert load_trained(run).step == 6 and (run / MARKER_NAME).is_file()
    assert not partial_path(run).exists()


@pytest.mark.parametrize("state", ["missing", "empty", "foreign", "render output"])
def test_resume_needs_a_run(state, toy, tmp_path, capsys):
    run = tmp_path / "run"
    if state != "missing":
        run.mkdir()
    if state == "foreign":
        (run / "notes.txt").write_text("mine\n")
    if state == "render output":
        write_marker(run, "render")
    before = files(run) if run.exists() else None
    one_line_error(train(capsys, toy, run, "--resume"), str(run))
    assert (files(run) if run.exists() else None) == before
    assert run.exists() == (state != "missing")


def test_resume_of_a_run_killed_before_its_first_checkpoint_starts_it_over(toy, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    write_marker(run, "train")
    code, out, err = train(capsys, toy, run, "--resume")
    assert code == 0, err
    assert "4 steps" in out and [p.name for p in list_checkpoints(run)] == ["step-000004.safetensors"]


def test_a_second_writer_fails_at_once(toy, tmp_path, capsys):
    run = tmp_path / "run"
    with output_lock(run):
        start = time.monotonic()
        one_line_error(train(capsys, toy, run), str(run), "another nerfgen command is writing")
        assert time.monotonic() - start < 10.0  # no training happened
        assert not run.exists()


@pytest.mark.parametrize("where", ["same", "inside", "around"])
def test_data_and_run_must_not_nest(where, toy, capsys):
    run = {"same": toy, "inside": toy / "run", "around": toy.parent}[where]
    before = files(toy)
    one_line_error(train(capsys, toy, run, *(["--overwrite"] if where == "around" else [])), "input")
    assert files(toy) == before and not (toy / "run").exists()


def test_view_never_writes_over_the_run(base_run, tmp_path, capsys):
    run = copy_run(base_run, tmp_path)
    before = files(run)
    one_line_error(run_cli(capsys, "view", str(run), "--orbit", "1", "--out", str(run), "--overwrite"), "input")
    assert files(run) == before


def test_a_failed_training_leaves_no_run(toy, tmp_path, capsys, monkeypatch):
    empty_data = tmp_path / "nothing"
    empty_data.mkdir()
    (empty_data / "transforms.json").write_text(json.dumps({"camera_angle_x": 0.7, "frames": []}))
    run = tmp_path / "runs" / "run"
    one_line_error(train(capsys, empty_data, run), str(empty_data))
    assert not run.exists() and not lock_path(run).exists()

    def fail(self):
        raise NerfgenError(None, "disk full")

    monkeypatch.setattr(api.Trainer, "fit", fail)
    one_line_error(train(capsys, toy, run), "disk full")
    assert not run.exists()
    run.mkdir()
    one_line_error(train(capsys, toy, run), "disk full")
    assert run.is_dir() and not any(run.iterdir())  # the user's empty directory, as it was


def test_a_failure_after_a_checkpoint_keeps_the_run_for_resume(toy, tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    fit = api.Trainer.fit

    def fit_then_fail(self):
        fit(self)
        raise NerfgenError(None, "disk full")

    monkeypatch.setattr(api.Trainer, "fit", fit_then_fail)
    one_line_error(train(capsys, toy, run), "disk full")
    assert [p.name for p in list_checkpoints(run)] == ["step-000004.safetensors"]


# -- checkpoints checked on load ------------------------------------------------------


def _rewrite_checkpoint(run: Path, tensors_change=None, config_change=None) -> Path:
    path = list_checkpoints(run)[-1]
    tensors, meta = read_checkpoint(path)
    if tensors_change:
        tensors_change(tensors)
    if config_change:
        config_change(meta["config"])
    write_checkpoint(path, tensors, {k: v for k, v in meta.items() if k != "format"})
    return path


@pytest.mark.parametrize("command", ["view", "eval", "resume"])
def test_a_checkpoint_with_a_nan_weight_is_refused(command, toy, base_run, tmp_path, capsys):
    run = copy_run(base_run, tmp_path)

    def poison(tensors: dict[str, torch.Tensor]) -> None:
        tensors["field.color_mlp.0.weight"][3, 1] = float("nan")

    path = _rewrite_checkpoint(run, poison)
    before = files(run)
    argv = {
        "view": ["view", str(run), "--orbit", "1", "--out", str(tmp_path / "orbit")],
        "eval": ["eval", str(run)],
        "resume": ["train", str(toy), "--out", str(run), "--max-steps", "6", *TINY_FLAGS, "--resume"],
    }[command]
    one_line_error(run_cli(capsys, *argv), str(path), "non-finite", "field.color_mlp.0.weight")
    assert files(run) == before and not (tmp_path / "orbit").exists()


@pytest.mark.parametrize(
    "key, value, needle",
    [
        ("log2_hashmap_size", 40, "field.log2_hashmap_size = 40 is outside [4, 24]"),
        ("hidden_dim", 1e9, "field.hidden_dim = 1000000000.0 is not an integer"),
        ("n_levels", -1, "field.n_levels = -1 is outside"),
        ("max_resolution", 1 << 30, "field.max_resolution"),
    ],
)
def test_absurd_checkpoint_sizes_are_refused(key, value, needle, base_run, tmp_path, capsys, monkeypatch):
    run = copy_run(base_run, tmp_path)
    path = _rewrite_checkpoint(run, config_change=lambda config: config["field"].update({key: value}))
    monkeypatch.setattr(NGPFieldConfig, "hash_config", None)  # refused before any field is built
    one_line_error(run_cli(capsys, "eval", str(run)), str(path), needle)


def test_a_model_too_large_to_allocate_is_refused(base_run, tmp_path, capsys):
    run = copy_run(base_run, tmp_path)
    sizes = {"n_levels": 32, "log2_hashmap_size": 24, "features_per_level": 8}  # each in range, 16 GiB together
    path = _rewrite_checkpoint(run, config_change=lambda config: config["field"].update(sizes))
    one_line_error(
        run_cli(capsys, "view", str(run), "--out", str(tmp_path / "orbit")), str(path), "field.log2_hashmap_size", "GiB"
    )


@pytest.mark.parametrize(
    "config", [NGPFieldConfig(), NGPFieldConfig(n_levels=3, density_layers=0, predicted_normals=True, sh_degree=2)]
)
def test_the_size_estimate_counts_every_parameter(config):
    field = NGPField(config, torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]]))
    assert config.n_parameters() == sum(p.numel() for p in field.parameters())
