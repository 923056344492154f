"""The public facade: `nerfgen.<name>` is the API the CLI calls, and gives the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_render_cli import files

import nerfgen
from nerfgen.cli import main
from nerfgen.procedural import GTRenderer

CAR = str(Path(__file__).resolve().parent.parent / "scenes" / "car.yaml")
SMALL = dict(frames=2, width=20, height=15)


def test_the_api_renders_what_the_cli_renders(tmp_path):
    argv = ["nerfgen", "render", CAR, "--frames", "2", "--width", "20", "--height", "15"]
    nerfgen.render_dataset(CAR, tmp_path / "api", **SMALL, command=argv)
    main(["render", CAR, "--out", str(tmp_path / "cli"), "--frames", "2", "--width", "20", "--height", "15"])
    api, cli = files(tmp_path / "api"), files(tmp_path / "cli")
    assert sorted(api) == sorted(cli)
    different = [name for name in api if api[name] != cli[name]]
    assert sorted(different) == ["manifest.json", "meta.json"]  # both record the command line


def test_export_builds_bop_models_from_the_scene_the_raw_dataset_names(tmp_path):
    raw = nerfgen.render_dataset(CAR, tmp_path / "raw", **SMALL)
    out = nerfgen.export_dataset(raw, tmp_path / "formats", "bop")
    models = sorted((out / "bop" / "models").glob("*.ply"))
    assert models and len(models) == len(nerfgen.load_scene(CAR).renderer.instances())


def test_load_scene_gives_a_frame_renderer_and_unknown_names_fail():
    scene = nerfgen.load_scene(CAR)
    assert isinstance(scene.renderer, GTRenderer) and scene.rig.segments
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        nerfgen.nope  # noqa: B018


def test_the_package_re_exports_exactly_the_api():
    import nerfgen.api

    assert set(nerfgen.api.__all__) == nerfgen._API
    assert all(getattr(nerfgen, name) is getattr(nerfgen.api, name) for name in nerfgen._API)
