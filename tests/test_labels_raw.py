"""Raw dataset layout (nerfgen.writers.raw): exact round trip and deterministic bytes."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from nerfgen.errors import NerfgenError
from nerfgen.labels import FrameLabels, InstanceLabel, labels_from_json, labels_to_json, render_frames
from nerfgen.procedural import GTRenderer, load_scene, rig_cameras
from nerfgen.render.frame import LidarScan
from nerfgen.writers.encode import json_bytes
from nerfgen.writers.raw import (
    raw_meta,
    read_raw_alone_masks,
    read_raw_correspondences,
    read_raw_frame,
    read_raw_lidar,
    read_raw_meta,
    write_raw_dataset,
    write_raw_frame,
)

SCENES = Path(__file__).resolve().parent.parent / "scenes"


@pytest.fixture(scope="module")
def rendered():
    renderer = GTRenderer(load_scene(SCENES / "tabletop.yaml"))
    cameras = rig_cameras(renderer.scene.spec.rig, 2, 24, 18, seed=2)
    return renderer, cameras, list(render_frames(renderer, cameras, correspondences=True))


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_labels_equal(a: FrameLabels, b: FrameLabels) -> None:
    for f in fields(FrameLabels):
        if f.name != "instances":
            np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), err_msg=f.name)
    assert len(a.instances) == len(b.instances)
    for x, y in zip(a.instances, b.instances):
        for f in fields(InstanceLabel):
            u, v = getattr(x, f.name), getattr(y, f.name)
            assert (u is None) == (v is None), f.name
            if u is not None:
                np.testing.assert_array_equal(u, v, err_msg=f.name)
                assert type(u) is type(v), f.name  # ints stay ints, arrays stay arrays


def test_labels_json_round_trip_is_exact(rendered):
    labels = rendered[2][0].labels
    assert any(i.bbox_visible is not None for i in labels.instances)
    assert_labels_equal(labels_from_json(labels_to_json(labels)), labels)


def test_raw_round_trip_and_same_bytes(rendered, tmp_path):
    renderer, cameras, frames = rendered
    meta = raw_meta(renderer.instances(), len(frames), scene="tabletop", seed=2, command=["nerfgen", "render"])
    out = write_raw_dataset(tmp_path / "raw", lambda first: frames[first:], meta, progress=False)
    assert read_raw_meta(out) == meta and meta["classes"]["10"] == "mug"
    for frame in frames:
        maps, labels = read_raw_frame(out, frame.labels.index)
        assert_labels_equal(labels, frame.labels)
        np.testing.assert_array_equal(maps.rgb, np.round(frame.maps.rgb * 255).astype(np.uint8) / np.float32(255))
        for name in ("depth_z", "range", "opacity", "normals_world", "instance", "class_id"):
            np.testing.assert_array_equal(getattr(maps, name), getattr(frame.maps, name), err_msg=name)
            assert getattr(maps, name).dtype == getattr(frame.maps, name).dtype
        alone = read_raw_alone_masks(out, frame.labels.index)
        in_view = {i.instance_id: i for i in labels.instances if i.px_alone > 0}
        assert sorted(alone) == sorted(frame.alone_masks) == sorted(in_view) != []
        for instance_id, mask in alone.items():  # the object alone covers at least what is visible of it
            np.testing.assert_array_equal(mask, frame.alone_masks[instance_id])
            assert mask.sum() == in_view[instance_id].px_alone and not ((maps.instance == instance_id) & ~mask).any()
    uv, valid = read_raw_correspondences(out, 0)
    np.testing.assert_array_equal(uv, frames[0].correspondences[0])
    np.testing.assert_array_equal(valid, frames[0].correspondences[1])
    assert read_raw_correspondences(out, 1) is None and read_raw_lidar(out, 0) is None

    again = write_raw_dataset(tmp_path / "again", lambda first: frames[first:], meta, progress=False)
    assert files(out) == files(again)
    assert sorted(files(out)) == sorted(
        [
            f"{layer}/00000{i}.{ext}"
            for i in (0, 1)
            for layer, ext in [
                ("rgb", "png"),
                ("depth_z", "npy"),
                ("range", "npy"),
                ("normals", "npy"),
                ("instance", "png"),
                ("class", "png"),
                ("opacity", "npy"),
                ("alone", "npz"),
                ("labels", "json"),
            ]
        ]
        + ["correspondences/000000.npz", "meta.json", "manifest.json", ".nerfgen-output"]
    )


def test_lidar_round_trip_and_missing_layers(rendered, tmp_path):
    renderer, _, frames = rendered
    rng = np.random.default_rng(0)
    scan = LidarScan(
        sensor_to_world=np.eye(4),
        points_sensor=rng.normal(size=(7, 3)).astype(np.float32),
        intensity=rng.uniform(size=7).astype(np.float32),
        ring=np.arange(7, dtype=np.int32),
        instance=np.array([0, 1, 0, 2, 0, 0, 3], np.int32),
        class_id=np.array([1, 9, 1, 10, 1, 1, 11], np.int32),
        n_beams_fired=9,
    )
    frame = frames[0]
    (tmp_path / "meta.json").write_bytes(json_bytes(raw_meta(renderer.instances(), 1, outputs=["rgb", "boxes"])))
    write_raw_frame(tmp_path, frame.maps, frame.labels, ["rgb", "boxes"], lidar=scan)
    first = files(tmp_path)
    write_raw_frame(tmp_path, frame.maps, frame.labels, ["rgb", "boxes"], lidar=scan)
    assert files(tmp_path) == first  # npz members carry fixed dates
    back = read_raw_lidar(tmp_path, 0)
    for f in fields(LidarScan):
        np.testing.assert_array_equal(getattr(back, f.name), getattr(scan, f.name), err_msg=f.name)
    assert type(back.n_beams_fired) is int
    maps, _ = read_raw_frame(tmp_path, 0)
    assert not maps.depth_z.any() and not maps.instance.any() and maps.rgb.any()


def test_reading_a_directory_that_is_not_a_raw_dataset(tmp_path):
    with pytest.raises(NerfgenError, match="meta.json"):
        read_raw_frame(tmp_path, 0)
    (tmp_path / "meta.json").write_text("{not json")
    with pytest.raises(NerfgenError, match="invalid JSON"):
        read_raw_meta(tmp_path)
