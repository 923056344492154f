"""A nerfstudio export trains again: render a tiny ground-truth scene, export nerfstudio
(`nerfgen render --format nerfstudio`), train a field on the export with the trainer's
tiny test configs, and check that it loads (intrinsics, poses, masks, depth) and learns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_train import TINY, tiny_train

from nerfgen.cli import main
from nerfgen.data import load_dataset
from nerfgen.train.api import train_field
from nerfgen.train.evaluate import evaluate
from nerfgen.writers.raw import read_raw_frame

SCENES = Path(__file__).resolve().parent.parent / "scenes"
CAR_AABB = (-2.6, -1.4, -0.2, 2.6, 1.4, 2.0)  # around car.yaml's 4.2 x 1.8 x 1.7 m car


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("retrain") / "car"
    main(
        [
            "render",
            str(SCENES / "car.yaml"),
            "--out",
            str(out),
            "--frames",
            "16",
            "--width",
            "32",
            "--height",
            "24",
            "--outputs",
            "rgb,depth,masks",
            "--format",
            "nerfstudio",
        ]
    )
    return out


def test_export_loads_with_the_rendered_cameras_and_depth(export):
    dataset = load_dataset(export / "nerfstudio", background=(1.0, 1.0, 1.0))
    assert len(dataset) == 16
    for index in (0, 7):
        maps, labels = read_raw_frame(export / "raw", index)
        np.testing.assert_allclose(dataset.cameras.c2w[index].double().numpy(), labels.c2w, atol=1e-5)
        assert float(dataset.cameras.fx[index]) == pytest.approx(labels.fx)
        np.testing.assert_allclose(dataset.depths_z[index].numpy(), maps.depth_z, atol=1e-6)
        np.testing.assert_array_equal(dataset.masks[index].numpy(), maps.opacity >= 0.5)


def test_a_field_trained_on_the_export_learns_it(export, tmp_path):
    data = export / "nerfstudio"
    dataset = load_dataset(data, background=(1.0, 1.0, 1.0))
    psnr = {}
    for steps in (1, 150):
        run = tmp_path / f"run{steps}"
        # car.yaml's missed rays are white; without alpha the trainer needs to be told so.
        train = tiny_train(max_steps=steps, background=(1.0, 1.0, 1.0))
        trained = train_field(data, run, train=train, aabb=CAR_AABB, **TINY)
        psnr[steps] = evaluate(trained, dataset, "test", run)["psnr"]
    assert psnr[150] > psnr[1] + 5.0 and psnr[150] > 17.0, psnr  # observed 12.4 -> 19.2 dB
