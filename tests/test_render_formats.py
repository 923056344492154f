"""`nerfgen render --format`: OUT/raw plus an export per format, all appearing together;
the exports equal `nerfgen export` of OUT/raw (up to the command in their manifests);
bad formats fail before rendering and a failed render leaves nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_render_cli import SMALL, _cli_error, files

from nerfgen.cli import main
from nerfgen.procedural import GTRenderer

SCENES = Path(__file__).resolve().parent.parent / "scenes"
FORMATS = ("kitti", "coco", "bop", "nerfstudio")


def test_render_with_formats_equals_render_then_export(tmp_path):
    out = tmp_path / "car"
    main(["render", str(SCENES / "car.yaml"), "--out", str(out), *SMALL, "--format", ",".join(FORMATS)])
    assert sorted(p.name for p in out.iterdir()) == sorted([".nerfgen-output", "raw", *FORMATS])
    assert [p.name for p in tmp_path.iterdir()] == ["car"]  # no temporary leftovers
    main(["export", str(out / "raw"), "--out", str(tmp_path / "exported"), "--format", ",".join(FORMATS)])
    command = json.loads((out / "raw" / "meta.json").read_text())["command"]
    for fmt in FORMATS:
        together, separate = files(out / fmt), files(tmp_path / "exported" / fmt)
        manifest = json.loads(together.pop("manifest.json"))
        assert manifest["command"] == command  # the render that made it, not a temporary path
        assert manifest["files"] == json.loads(separate.pop("manifest.json"))["files"]
        assert together == separate


def test_format_needing_unrendered_outputs_fails_before_rendering(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(GTRenderer, "render", lambda *a, **k: pytest.fail("rendered"))
    argv = ["render", str(SCENES / "car.yaml"), "--out", str(tmp_path / "out"), *SMALL]
    assert "format coco needs raw outputs ['normals']" in _cli_error(
        [*argv, "--outputs", "rgb,depth,masks,boxes", "--format", "kitti,coco"], capsys
    )
    assert "unknown format(s) ['png']" in _cli_error([*argv, "--format", "png"], capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("formats", [[], ["--format", "kitti"]])
def test_failed_render_leaves_nothing_and_keeps_the_old_output(tmp_path, monkeypatch, formats):
    out = tmp_path / "car"
    argv = ["render", str(SCENES / "car.yaml"), "--out", str(out), *SMALL, *formats]
    main(argv)
    before = files(out)
    render = GTRenderer.render

    def fail_on_second_frame(self, cameras, index, only_instance=None):
        if index == 1:
            raise RuntimeError("renderer crashed")
        return render(self, cameras, index, only_instance)

    monkeypatch.setattr(GTRenderer, "render", fail_on_second_frame)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        main([*argv, "--seed", "5", "--overwrite"])
    assert [p.name for p in tmp_path.iterdir()] == ["car"] and files(out) == before
