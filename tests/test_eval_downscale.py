"""`nerfgen eval`: --downscale overrides the run's, --holdout-every the run's held-out
frames; the KITTI frame and camera selection of `nerfgen train` carries over to eval."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from test_data_kitti import write_odometry
from test_train import write_toy_dataset
from test_train_cli import TINY_FLAGS, run_cli

from nerfgen.cli import main


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    """A 2-step run trained at downscale 2 on 12 views of 32x32 (so 16x16)."""
    root = tmp_path_factory.mktemp("eval_downscale")
    data = write_toy_dataset(root / "sphere", n_views=12)
    run = root / "run"
    main(["train", str(data), "--out", str(run), "--max-steps", "2", "--downscale", "2", *TINY_FLAGS])
    return data, run


def eval_summary(capsys, run, *flags: str) -> tuple[dict, str]:
    code, out, err = run_cli(capsys, "eval", str(run), *flags)
    assert code == 0, err
    return json.loads((run / "eval.json").read_text()), out


def test_eval_downscale_defaults_to_the_runs_and_can_be_overridden(toy_run, capsys):
    data, run = toy_run
    summary, out = eval_summary(capsys, run, "--data", str(data))
    assert summary["image_size"] == [16, 16] and "views of 16x16" in out
    summary, out = eval_summary(capsys, run, "--data", str(data), "--downscale", "1")
    assert summary["image_size"] == [32, 32] and "views of 32x32" in out
    image = Image.open(next((run / "eval").glob("*.png")))
    assert image.height == 32  # ground truth | render | ... side by side at full size


def test_eval_holdout_every(toy_run, capsys):
    _, run = toy_run
    summary, _ = eval_summary(capsys, run)
    assert [v["frame"] for v in summary["views"]] == [0, 8]  # the run's holdout_every = 8
    summary, _ = eval_summary(capsys, run, "--holdout-every", "4")
    assert [v["frame"] for v in summary["views"]] == [0, 4, 8]


def test_kitti_frames_and_cameras_carry_over_to_eval(tmp_path, capsys):
    write_odometry(tmp_path / "kitti")
    run = tmp_path / "run"
    code, _, err = run_cli(
        capsys,
        "train",
        str(tmp_path / "kitti"),
        "--out",
        str(run),
        "--max-steps",
        "2",
        "--frames",
        "0:3",
        "--cameras",
        "2",
        "--holdout-every",
        "2",
        *TINY_FLAGS,
    )
    assert code == 0, err
    config = json.loads((run / "config.json").read_text())
    assert config["data_options"] == {"frames": "0:3", "cameras": "2"}
    summary, _ = eval_summary(capsys, run)
    # Frames 0 and 2 of 0..2 are held out, camera 2 only; depth is scored where a scan was (frame 0).
    assert [v["image"] for v in summary["views"]] == ["000000.png", "000002.png"]
    assert "depth_abs_rel" in summary["views"][0] and "depth_abs_rel" not in summary["views"][1]
    code, _, err = run_cli(
        capsys, "train", str(tmp_path / "kitti"), "--out", str(tmp_path / "bad"), "--frames", "x", *TINY_FLAGS
    )
    assert code == 2 and err.count("\n") == 1 and "frames 'x' must be START:END[:STEP]" in err
