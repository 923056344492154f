"""`nerfgen render --resume`: a render interrupted after k frames (or during its export)
and resumed renders only the missing frames and ends with the same bytes, every file
(frames, formats, manifests) included, as an uninterrupted render; the same seed twice
gives identical manifests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_render_cli import SMALL, _cli_error, files

from nerfgen.cli import main
from nerfgen.procedural import GTRenderer
from nerfgen.writers.kitti import KittiWriter

SCENES = Path(__file__).resolve().parent.parent / "scenes"
FRAMES = ["--frames", "3", "--width", "20", "--height", "15"]
LIDAR = ["--lidar", "vlp16", "--lidar-azimuth-deg", "12"]
FORMATS = ["--format", "kitti,coco,bop,nerfstudio"]

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _argv(out: Path, *extra: str) -> list[str]:
    return ["render", str(SCENES / "car.yaml"), "--out", str(out), *FRAMES, *LIDAR, *FORMATS, *extra]


def _count_frame_renders(monkeypatch, fail_at: int | None = None) -> list[int]:
    """Records the index of every camera frame GTRenderer renders (not the alone renders of
    the labels); raises KeyboardInterrupt, as Ctrl-C would, when frame `fail_at` starts."""
    rendered, render = [], GTRenderer.render

    def counting(self, cameras, index, only_instance=None):
        if only_instance is None:
            if index == fail_at:
                raise KeyboardInterrupt
            rendered.append(index)
        return render(self, cameras, index, only_instance)

    monkeypatch.setattr(GTRenderer, "render", counting)
    return rendered


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def _interrupted(argv: list[str]) -> None:
    """Runs the CLI, which a KeyboardInterrupt stops with exit status 130."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 130


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path_factory.mktemp("resume") / "car"
    main(_argv(out, "--seed", "3"))
    return out, files(out)


def test_render_interrupted_after_two_frames_resumes_to_the_same_bytes(clean_run, monkeypatch):
    out, want = clean_run
    shutil.rmtree(out)
    partial = out.parent / f".{out.name}.partial"
    with monkeypatch.context() as patch:
        _count_frame_renders(patch, fail_at=2)
        _interrupted(_argv(out, "--seed", "3", "--resume"))
    assert not out.exists()
    assert sorted(p.name for p in (partial / "raw/labels").iterdir()) == ["000000.json", "000001.json"]
    rendered = _count_frame_renders(monkeypatch)
    main(_argv(out, "--seed", "3", "--resume"))
    assert rendered == [2]  # the finished frames are kept, not rendered again
    assert files(out) == want
    assert not partial.exists() and sorted(p.name for p in out.parent.iterdir()) == ["car"]


def test_render_interrupted_during_its_export_resumes_to_the_same_bytes(clean_run, monkeypatch):
    out, want = clean_run
    shutil.rmtree(out)
    with monkeypatch.context() as patch:
        patch.setattr(KittiWriter, "finish", _interrupt)
        _interrupted(_argv(out, "--seed", "3", "--resume"))
    rendered = _count_frame_renders(monkeypatch)
    main(_argv(out, "--seed", "3", "--resume"))
    assert rendered == []  # every frame was complete: only the export is finished
    assert files(out) == want


def test_failed_render_without_resume_keeps_nothing_to_resume(clean_run, monkeypatch):
    out, want = clean_run
    with monkeypatch.context() as patch:
        _count_frame_renders(patch, fail_at=1)
        _interrupted(_argv(out, "--seed", "3", "--overwrite"))
    assert sorted(p.name for p in out.parent.iterdir()) == ["car"] and files(out) == want  # old output kept
    rendered = _count_frame_renders(monkeypatch)
    main(_argv(out, "--seed", "3", "--resume", "--overwrite"))  # nothing to resume: renders everything
    assert rendered == [0, 1, 2] and files(out) == want


def test_resume_refuses_a_partial_render_of_other_options(tmp_path, monkeypatch, capsys):
    out = tmp_path / "car"
    with monkeypatch.context() as patch:
        _count_frame_renders(patch, fail_at=1)
        _interrupted(_argv(out, "--seed", "3", "--resume"))
    capsys.readouterr()  # the "interrupted" line
    error = _cli_error(_argv(out, "--seed", "4", "--resume"), capsys)
    assert ".car.partial: cannot resume: this partial output was made from another input or command" in error
    assert not out.exists()


def test_same_seed_twice_gives_identical_manifests(tmp_path):
    out = tmp_path / "car"
    argv = ["render", str(SCENES / "car.yaml"), "--out", str(out), *SMALL, "--format", "kitti,coco"]

    def manifests(seed: str) -> dict[str, bytes]:
        main([*argv, "--seed", seed, "--overwrite"])
        return {p: data for p, data in files(out).items() if p.endswith("manifest.json")}

    first = manifests("4")
    assert sorted(first) == ["coco/manifest.json", "kitti/manifest.json", "raw/manifest.json"]
    raw = json.loads(first["raw/manifest.json"])
    assert raw["seed"] == 4 and raw["command"][:2] == ["nerfgen", "render"] and "--resume" not in raw["command"]
    assert "meta.json" in raw["files"] and "labels/000001.json" in raw["files"]
    assert manifests("4") == first
    other = manifests("5")  # another seed moves the cameras: other images, other checksums
    assert json.loads(other["raw/manifest.json"])["files"]["rgb/000000.png"] != raw["files"]["rgb/000000.png"]
