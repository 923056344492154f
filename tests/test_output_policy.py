"""The output policy (nerfgen.output_dir): a user's files are never replaced, nerfgen's own
outputs only with --overwrite, outputs never touch inputs, one writer at a time, partial
frames are re-rendered on --resume, files get the umask's modes."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_render_cli import files

from nerfgen.cli import main
from nerfgen.output_dir import MARKER_NAME, lock_path, output_lock
from nerfgen.procedural import GTRenderer

SCENES = Path(__file__).resolve().parent.parent / "scenes"
CAR = str(SCENES / "car.yaml")
TINY_CAPTURE = ["--views", "2", "--width", "16", "--height", "12"]
TINY_RENDER = ["--frames", "2", "--width", "16", "--height", "12"]

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _error(argv: list[str], capsys) -> str:
    """Runs the CLI expecting exit status 2; returns its single stderr line."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nerfgen: error: ") and "Traceback" not in err
    return err


def _user_dir(path: Path) -> dict[str, bytes]:
    (path / "sub").mkdir(parents=True)
    (path / "important.txt").write_text("x\n")
    return files(path)


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("policy") / "raw"
    main(["render", CAR, "--out", str(out), *TINY_RENDER])
    return out


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("command", ["capture", "render", "export", "augment"])
def test_a_users_directory_survives_every_command(command, overwrite, raw, tmp_path, capsys):
    out = tmp_path / "D"
    before = _user_dir(out)
    argv = {
        "capture": ["capture", CAR, "--out", str(out), *TINY_CAPTURE],
        "render": ["render", CAR, "--out", str(out), *TINY_RENDER],
        "export": ["export", str(raw), "--out", str(out), "--format", "coco"],
        "augment": [
            "augment",
            str(SCENES / "street.yaml"),
            "--objects",
            f"car={CAR}",
            "--out",
            str(out),
            "--frames",
            "3",
        ],
    }[command] + overwrite
    err = _error(argv, capsys)
    assert str(out) in err
    assert ("has no .nerfgen-output" in err) if overwrite else ("exists and is not empty; pass --overwrite" in err)
    assert files(out) == before and (out / "sub").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["D"]  # no partial or lock left


def test_an_empty_directory_is_used(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    main(["capture", CAR, "--out", str(out), *TINY_CAPTURE])
    assert (out / "transforms.json").is_file() and (out / MARKER_NAME).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_overwrite_replaces_a_nerfgen_output_with_the_same_bytes(tmp_path, capsys):
    out = tmp_path / "ds"
    argv = ["capture", CAR, "--out", str(out), *TINY_CAPTURE]
    main(argv)
    first = files(out)
    capsys.readouterr()
    assert "pass --overwrite" in _error(argv, capsys)
    (out / "stale.txt").write_text("left by hand in a nerfgen output")
    main(argv + ["--overwrite"])
    assert files(out) == first and sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


@pytest.mark.parametrize("where", ["folder", "parent", "file"])
def test_an_output_never_touches_an_input(where, raw, tmp_path, capsys):
    project = tmp_path / "proj"
    project.mkdir()
    scene = project / "scene.yaml"
    shutil.copy(CAR, scene)
    out = {"folder": project, "parent": tmp_path, "file": scene}[where]
    before = files(tmp_path)
    err = _error(["render", str(scene), "--out", str(out), *TINY_RENDER, "--overwrite"], capsys)
    assert "must not be, contain or lie inside the input" in err
    assert files(tmp_path) == before


@pytest.mark.parametrize("out", ["same", "inside"])
def test_export_never_writes_into_its_raw_input(out, raw, capsys):
    before = files(raw)
    target = raw if out == "same" else raw / "formats"
    err = _error(["export", str(raw), "--out", str(target), "--format", "coco", "--overwrite"], capsys)
    assert "must not be, contain or lie inside the input" in err
    assert files(raw) == before


def test_a_second_writer_fails_at_once_naming_the_first(tmp_path, capsys):
    out = tmp_path / "car"
    with output_lock(out):
        start = time.perf_counter()
        err = _error(["render", CAR, "--out", str(out), *TINY_RENDER], capsys)
        assert time.perf_counter() - start < 30  # it did not wait for the lock (generous bound)
        assert f"another nerfgen command is writing this output (pid {os.getpid()} on" in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == []


def _render_process(out: Path, *options: str) -> list[str]:
    """The command line of `nerfgen render` of the car into `out`, as a separate process."""
    return [sys.executable, "-m", "nerfgen.cli", "render", CAR, "--out", str(out), *options]


def test_two_concurrent_renders_one_wins_with_a_solo_runs_bytes(tmp_path):
    out = tmp_path / "car"
    argv = _render_process(out, "--frames", "6", "--width", "32", "--height", "24")
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out.parent / f".{out.name}.partial" / "labels").exists():
        assert first.poll() is None and time.monotonic() < deadline, "the first render never started writing"
        time.sleep(0.02)
    first.send_signal(signal.SIGSTOP)  # mid-render, holding the lock, whatever the machine's speed
    try:
        second = subprocess.run([*argv, "--seed", "9"], capture_output=True, text=True, timeout=120)
    finally:
        first.send_signal(signal.SIGCONT)
    assert second.returncode == 2 and second.stderr.count("\n") == 1
    assert "another nerfgen command is writing this output (pid" in second.stderr
    assert first.wait(timeout=300) == 0, first.stderr
    concurrent = files(out)
    shutil.rmtree(out)
    assert subprocess.run(argv, capture_output=True, timeout=300).returncode == 0
    assert files(out) == concurrent
    assert sorted(p.name for p in tmp_path.iterdir()) == ["car"]


def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path):
    out = tmp_path / "car"
    lock_path(out).write_text("pid 1 on a machine that crashed\n")  # a file nobody flocks
    main(["render", CAR, "--out", str(out), *TINY_RENDER])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["car"]


def test_a_killed_resumable_render_is_resumed_by_the_next_process(tmp_path):
    out = tmp_path / "car"
    argv = _render_process(out, "--frames", "40", "--width", "48", "--height", "36", "--resume")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    labels = out.parent / f".{out.name}.partial" / "labels"
    deadline = time.monotonic() + 120
    while not (labels.is_dir() and len(list(labels.glob("*.json"))) >= 1):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert subprocess.run(argv, capture_output=True, timeout=300).returncode == 0
    resumed = files(out)
    shutil.rmtree(out)
    assert subprocess.run(argv[:-1], capture_output=True, timeout=300).returncode == 0
    assert files(out) == resumed


@pytest.mark.parametrize("damaged", ["rgb/000001.png", "depth_z/000001.npy", "labels/000001.json"])
@pytest.mark.parametrize("how", ["emptied", "cut in half"])
def test_resume_renders_again_a_frame_emptied_or_cut_in_the_partial_output(tmp_path, monkeypatch, damaged, how):
    out = tmp_path / "car"
    argv = ["render", CAR, "--out", str(out), "--frames", "3", "--width", "16", "--height", "12", "--seed", "0"]
    main(argv)
    want = files(out)
    shutil.rmtree(out)
    rendered, stop_at, render = [], [2], GTRenderer.render

    def counting(self, cameras, index, only_instance=None):
        if only_instance is None:
            if index in stop_at:
                raise KeyboardInterrupt
            rendered.append(index)
        return render(self, cameras, index, only_instance)

    monkeypatch.setattr(GTRenderer, "render", counting)
    with pytest.raises(SystemExit):
        main(argv + ["--resume"])
    partial = out.parent / f".{out.name}.partial"
    path = partial / damaged  # a fault outside nerfgen (full disk, interrupted copy) damages a finished frame
    data = path.read_bytes()
    path.write_bytes(b"" if how == "emptied" else data[: len(data) // 2])
    rendered.clear()
    stop_at.clear()
    main(argv + ["--resume"])
    assert rendered == [1, 2]
    assert files(out) == want


def test_outputs_get_the_modes_of_the_users_umask(tmp_path):
    out = tmp_path / "ds"
    script = (
        "import os; os.umask(0o027); from nerfgen.cli import main; "
        f"main(['capture', {CAR!r}, '--out', {str(out)!r}, '--views', '2', '--width', '16', '--height', '12'])"
    )
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, timeout=300)
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    for path in (out / "transforms.json", out / "images" / "frame_00000.png", out / MARKER_NAME):
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path


def test_an_unwritable_parent_leaves_nothing(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    err = _error(["render", CAR, "--out", str(blocker / "out"), *TINY_RENDER], capsys)
    assert "cannot write output directory" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
