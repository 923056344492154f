"""nerfstudio export re-loads with nerfgen.data.load_dataset: same cameras, images, depth, masks."""

from __future__ import annotations

import json

import numpy as np
from test_writers_fixtures import scene_and_frames, write_all

from nerfgen.data import load_dataset
from nerfgen.writers.encode import rgb_u8
from nerfgen.writers.info import DatasetInfo
from nerfgen.writers.nerfstudio_export import NerfstudioWriter


def test_export_reloads_with_matching_cameras_and_maps(tmp_path):
    _, frames = scene_and_frames()
    root = write_all(NerfstudioWriter, tmp_path / "ns", frames, DatasetInfo(splits={"train": [0], "val": [1]}))
    data = load_dataset(root)
    cams = data.cameras
    for k, f in enumerate(frames):
        lab = f.labels
        np.testing.assert_allclose(cams.c2w[k].double().numpy(), lab.c2w, atol=1e-6)
        np.testing.assert_allclose(
            [cams.fx[k], cams.fy[k], cams.cx[k], cams.cy[k], cams.width[k], cams.height[k]],
            [lab.fx, lab.fy, lab.cx, lab.cy, lab.width, lab.height],
            atol=1e-6,
        )
        np.testing.assert_array_equal(data.images[k].numpy(), rgb_u8(f.maps.rgb) / np.float32(255.0))
        np.testing.assert_array_equal(data.depths_z[k].numpy(), f.maps.depth_z)
        np.testing.assert_array_equal(data.masks[k].numpy(), f.maps.opacity >= 0.5)
    assert cams.distortion == "none"
    assert {k: v.tolist() for k, v in data.splits.items()} == {"train": [0], "val": [1]}
    doc = json.loads((root / "transforms.json").read_text())
    assert doc["depth_unit_scale_factor"] == 1.0
    assert doc["frames"][1]["depth_file_path"] == "depth/000001.npy"
