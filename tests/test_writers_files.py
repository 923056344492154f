"""Depth/normal file encodings and manifest.json."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest
from PIL import Image
from test_writers_fixtures import scene_and_frames, write_all

from nerfgen.writers.coco import CocoWriter
from nerfgen.writers.depth_io import (
    depth_exr_bytes,
    depth_to_u16,
    float_map_npy,
    normals_preview_u8,
    read_depth_exr,
    u16_to_depth,
)
from nerfgen.writers.encode import png_bytes
from nerfgen.writers.info import DatasetInfo
from nerfgen.writers.manifest import build_manifest


def test_depth_u16_millimetres_round_trip_and_invalid_values():
    depth = np.array([[0.0, 0.0015, 1.2344, 65.535], [65.5356, np.nan, -1.0, np.inf]], dtype=np.float32)
    u16 = depth_to_u16(depth)
    assert u16.dtype == np.uint16
    assert u16.tolist() == [[0, 2, 1234, 65535], [0, 0, 0, 0]]  # beyond 65.535 m -> 0, not clipped
    back = u16_to_depth(u16)
    ok = u16 > 0
    assert np.abs(back[ok] - depth[ok]).max() <= 0.0005 + 1e-6
    assert depth_to_u16(np.float32([[12.3456]]), depth_scale=0.1).tolist() == [[0]]  # beyond 6.5535 m
    assert depth_to_u16(np.float32([[1.23456]]), depth_scale=0.1).tolist() == [[12346]]
    decoded = np.asarray(Image.open(io.BytesIO(png_bytes(u16))))
    np.testing.assert_array_equal(decoded, u16)


def test_float_maps_npy_and_exr_are_exact(tmp_path):
    depth = np.random.default_rng(0).uniform(0, 80, (5, 7)).astype(np.float64)
    np.testing.assert_array_equal(np.load(io.BytesIO(float_map_npy(depth))), depth.astype(np.float32))
    path = tmp_path / "d.exr"
    path.write_bytes(depth_exr_bytes(depth))
    assert depth_exr_bytes(depth) == path.read_bytes()  # deterministic
    np.testing.assert_array_equal(read_depth_exr(path), depth.astype(np.float32))


def test_normals_preview():
    n = np.array([[[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])
    assert normals_preview_u8(n).tolist() == [[[128, 128, 255], [0, 128, 128], [0, 0, 0]]]


def test_manifest_hashes_every_file_and_is_deterministic(tmp_path):
    _, frames = scene_and_frames()
    a = write_all(CocoWriter, tmp_path / "a", frames, DatasetInfo(seed=5, command=("nerfgen", "x")))
    b = write_all(CocoWriter, tmp_path / "b", frames, DatasetInfo(seed=5, command=("nerfgen", "x")))
    assert (a / "manifest.json").read_bytes() == (b / "manifest.json").read_bytes()
    manifest = json.loads((a / "manifest.json").read_text())
    assert (manifest["seed"], manifest["command"], manifest["tool"]) == (5, ["nerfgen", "x"], "nerfgen")
    files = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file() and p.name != "manifest.json")
    assert list(manifest["files"]) == files
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((a / name).read_bytes()).hexdigest() == digest
    assert build_manifest(a, 6, ["nerfgen", "x"])["seed"] == 6


@pytest.mark.parametrize("bad", [np.float32, np.int32])
def test_png_rejects_other_dtypes(bad):
    with pytest.raises(ValueError):
        png_bytes(np.zeros((2, 2), bad))
