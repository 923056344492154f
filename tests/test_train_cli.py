"""`nerfgen train / eval / view` end to end on the tiny sphere scene, and their bad inputs:
each bad input is one line on stderr naming the file, exit status 2."""

from __future__ import annotations

import json

import pytest
from test_train import write_toy_dataset

from nerfgen.cli import main
from nerfgen.train.run import list_checkpoints

TINY_FLAGS = [
    "--n-levels",
    "4",
    "--log2-hashmap-size",
    "12",
    "--base-resolution",
    "8",
    "--max-resolution",
    "64",
    "--hidden-dim",
    "32",
    "--resolution",
    "32",
    "--aabb",
    "-1",
    "-1",
    "-1",
    "1",
    "1",
    "1",
    "--no-progress",
]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_toy_dataset(tmp_path_factory.mktemp("toy") / "sphere", n_views=12)


def test_train_eval_view(toy, tmp_path, capsys):
    run = tmp_path / "run"
    code, out, err = run_cli(
        capsys, "train", str(toy), "--out", str(run), "--max-steps", "20", "--seed", "3", *TINY_FLAGS
    )
    assert code == 0, err
    assert "20 steps" in out
    config = json.loads((run / "config.json").read_text())
    assert config["train"]["seed"] == 3 and config["field"]["n_levels"] == 4
    assert [p.name for p in list_checkpoints(run)] == ["step-000020.safetensors"]

    code, out, err = run_cli(capsys, "eval", str(run))
    assert code == 0, err
    summary = json.loads((run / "eval.json").read_text())
    assert summary["n_views"] == 2 and summary["step"] == 20  # frames 0 and 8 of 12
    assert {"psnr", "ssim", "depth_abs_rel", "normal_median_deg", "surface_normal_median_deg"} <= summary.keys()
    assert f"psnr {summary['psnr']:.4f}" in out
    assert len(list((run / "eval").glob("*.png"))) == 2

    views = tmp_path / "orbit"
    code, out, err = run_cli(capsys, "view", str(run), "--orbit", "3", "--out", str(views))
    assert code == 0, err
    assert sorted(p.name for p in views.iterdir()) == [
        ".nerfgen-output",
        "frame_0000.png",
        "frame_0001.png",
        "frame_0002.png",
        "orbit.gif",
    ]


def test_resume_flag_continues_the_run(toy, tmp_path, capsys):
    run = tmp_path / "run"
    assert run_cli(capsys, "train", str(toy), "--out", str(run), "--max-steps", "10", *TINY_FLAGS)[0] == 0
    code, out, err = run_cli(capsys, "train", str(toy), "--out", str(run), "--max-steps", "15", "--resume", *TINY_FLAGS)
    assert code == 0, err
    assert "15 steps" in out


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_corrupt_checkpoint(toy, tmp_path, capsys):
    run = tmp_path / "run"
    assert run_cli(capsys, "train", str(toy), "--out", str(run), "--max-steps", "2", *TINY_FLAGS)[0] == 0
    checkpoint = list_checkpoints(run)[-1]
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    _one_line_error(*run_cli(capsys, "eval", str(run))[::2], str(checkpoint), "corrupt")
    _one_line_error(
        *run_cli(capsys, "train", str(toy), "--out", str(run), "--resume", *TINY_FLAGS)[::2], str(checkpoint)
    )


def test_dataset_without_frames(tmp_path, capsys):
    data = tmp_path / "empty"
    data.mkdir()
    (data / "transforms.json").write_text(json.dumps({"camera_angle_x": 0.7, "frames": []}))
    code, _, err = run_cli(capsys, "train", str(data), "--out", str(tmp_path / "run"), *TINY_FLAGS)
    _one_line_error(code, err, str(data))
    assert not list_checkpoints(tmp_path / "run")


def test_unwritable_output_dir(toy, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    code, _, err = run_cli(capsys, "train", str(toy), "--out", str(blocker / "run"), *TINY_FLAGS)
    _one_line_error(code, err, str(blocker / "run"), "cannot write")


def test_eval_of_a_missing_run(tmp_path, capsys):
    code, _, err = run_cli(capsys, "eval", str(tmp_path / "nothing"))
    _one_line_error(code, err, str(tmp_path / "nothing"))
