"""`nerfgen localize` end to end on a briefly trained tiny sphere run, and its bad inputs:
each is one line on stderr naming the file or argument, exit status 2."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from test_train import SIZE, write_toy_dataset
from test_train_cli import TINY_FLAGS, run_cli

from nerfgen.cli import main

FAST = ["--iterations", "4", "--rays-per-step", "64", "--eval-rays", "64"]
FOCAL = 0.5 * SIZE / math.tan(math.radians(22.5))  # the toy dataset's 45 degree field of view


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("localize")
    toy = write_toy_dataset(root / "sphere", n_views=8)
    run = root / "run"
    main(["train", str(toy), "--out", str(run), "--max-steps", "20", *TINY_FLAGS])
    return toy, run


def test_localize_from_a_frame_index_then_from_its_own_output(run, tmp_path, capsys):
    toy, run_dir = run
    out = tmp_path / "pose.json"
    code, stdout, err = run_cli(
        capsys, "localize", str(run_dir), str(toy / "images/r_1.png"), "--init", "1", "--out", str(out), *FAST
    )
    assert code == 0, err
    result = json.loads(out.read_text())
    pose = np.array(result["pose"])
    assert pose.shape == (4, 4) and np.allclose(pose[:3, :3].T @ pose[:3, :3], np.eye(3), atol=1e-5)
    assert result["iterations"] == 4 and len(result["loss_curve"]) == 4 and result["seconds"] > 0
    assert str(out) in stdout

    intrinsics = f"{FOCAL},{FOCAL},{SIZE / 2},{SIZE / 2}"
    code, stdout, err = run_cli(
        capsys,
        "localize",
        str(run_dir),
        str(toy / "images/r_1.png"),
        "--init",
        str(out),
        "--intrinsics",
        intrinsics,
        "--hypotheses",
        "2",
        *FAST,
    )
    assert code == 0, err
    printed = json.loads(stdout)
    assert len(printed["hypothesis_losses"]) == 2 and printed["best_hypothesis"] in (0, 1)


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def test_missing_image(run, tmp_path, capsys):
    _, run_dir = run
    missing = tmp_path / "nope.png"
    code, _, err = run_cli(capsys, "localize", str(run_dir), str(missing), "--init", "0", *FAST)
    _one_line_error(code, err, str(missing), "does not exist")


@pytest.mark.parametrize("text", ["100,100,16", "a,b,c,d", "100,-5,16,16", "100,100,16,nan"])
def test_malformed_intrinsics(run, capsys, text):
    toy, run_dir = run
    code, _, err = run_cli(
        capsys, "localize", str(run_dir), str(toy / "images/r_1.png"), "--init", "1", "--intrinsics", text, *FAST
    )
    _one_line_error(code, err, "--intrinsics")


def test_principal_point_outside_the_image(run, capsys):
    toy, run_dir = run
    code, _, err = run_cli(
        capsys,
        "localize",
        str(run_dir),
        str(toy / "images/r_1.png"),
        "--init",
        "1",
        "--intrinsics",
        "40,40,160,120",
        *FAST,
    )
    _one_line_error(code, err, "principal point", "outside")


def test_non_rigid_or_malformed_init_pose(run, tmp_path, capsys):
    toy, run_dir = run
    scaled = np.eye(4)
    scaled[:3, :3] *= 1.5
    bad = tmp_path / "scaled.json"
    bad.write_text(json.dumps(scaled.tolist()))
    code, _, err = run_cli(
        capsys,
        "localize",
        str(run_dir),
        str(toy / "images/r_1.png"),
        "--init",
        str(bad),
        "--intrinsics",
        "40,40,16,16",
        *FAST,
    )
    _one_line_error(code, err, str(bad), "not rigid")
    short = tmp_path / "short.npy"
    np.save(short, np.eye(3))
    code, _, err = run_cli(
        capsys,
        "localize",
        str(run_dir),
        str(toy / "images/r_1.png"),
        "--init",
        str(short),
        "--intrinsics",
        "40,40,16,16",
        *FAST,
    )
    _one_line_error(code, err, str(short), "4x4")


def test_frame_index_out_of_range(run, capsys):
    toy, run_dir = run
    code, _, err = run_cli(capsys, "localize", str(run_dir), str(toy / "images/r_1.png"), "--init", "99", *FAST)
    _one_line_error(code, err, "frame 99 does not exist")


def test_an_existing_out_file_is_kept_unless_overwrite(run, tmp_path, capsys):
    toy, run_dir = run
    out = tmp_path / "notes.json"
    out.write_text("the user's own notes\n")
    argv = ["localize", str(run_dir), str(toy / "images/r_1.png"), "--init", "1", "--out", str(out), *FAST]
    code, _, err = run_cli(capsys, *argv)
    _one_line_error(code, err, str(out), "exists; pass --overwrite")
    assert out.read_text() == "the user's own notes\n"
    code, _, err = run_cli(capsys, *argv, "--overwrite")
    assert code == 0, err
    assert json.loads(out.read_text())["iterations"] == 4
    image = toy / "images/r_1.png"
    before = image.read_bytes()
    code, _, err = run_cli(
        capsys, "localize", str(run_dir), str(image), "--init", "1", "--out", str(image), "--overwrite", *FAST
    )
    _one_line_error(code, err, "must not be or lie inside the input")
    assert image.read_bytes() == before
