"""Training on a tiny analytic scene: learning, determinism, checkpoints, resume, evaluation.

The scene is a sphere with a colour pattern, rendered exactly (ray-sphere intersection)
into a Blender-style RGBA dataset with depth_z and world normals, so every metric has
exact ground truth. Configs are tiny so each training run takes a few seconds.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nerfgen.data import load_dataset
from nerfgen.errors import NerfgenError
from nerfgen.fields.ngp import NGPFieldConfig
from nerfgen.render.image import render_image
from nerfgen.render.volume import RenderConfig
from nerfgen.train import GridConfig, TrainConfig, evaluate, load_trained, train_field
from nerfgen.train.run import checkpoint_path, list_checkpoints
from nerfgen.train.trainer import Trainer

SIZE = 32
RADIUS = 0.6


def _sphere_colour(points: np.ndarray) -> np.ndarray:  # [N,3] on the sphere -> [N,3]
    n = points / RADIUS
    return np.clip(0.5 + 0.4 * np.stack([n[:, 0], np.sign(n[:, 2]) * 0.5, np.cos(4 * n[:, 1])], -1), 0, 1)


def write_toy_dataset(root: Path, n_views: int = 24) -> Path:
    """Blender-layout dataset (transforms_train.json, OpenGL poses) of a sphere at the origin."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "images").mkdir(exist_ok=True)
    fov = math.radians(45.0)
    focal = 0.5 * SIZE / math.tan(0.5 * fov)
    frames = []
    for k in range(n_views):
        azimuth = 2 * math.pi * k / n_views
        elevation = math.radians(20.0 + 25.0 * math.sin(3 * azimuth))
        eye = 2.5 * np.array(
            [math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth), math.sin(elevation)]
        )
        forward = -eye / np.linalg.norm(eye)
        right = np.cross(forward, [0, 0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        c2w_cv = np.eye(4)
        c2w_cv[:3, :3] = np.stack([right, down, forward], 1)
        c2w_cv[:3, 3] = eye
        v, u = np.meshgrid(np.arange(SIZE) + 0.5, np.arange(SIZE) + 0.5, indexing="ij")
        d_cam = np.stack([(u - SIZE / 2) / focal, (v - SIZE / 2) / focal, np.ones_like(u)], -1).reshape(-1, 3)
        z_cam = 1.0 / np.linalg.norm(d_cam, axis=-1)
        d = (d_cam * z_cam[:, None]) @ c2w_cv[:3, :3].T
        b = d @ eye
        disc = b * b - (eye @ eye - RADIUS**2)
        hit = disc > 0
        t = np.where(hit, -b - np.sqrt(np.maximum(disc, 0)), 0.0)
        points = eye + t[:, None] * d
        rgba = np.zeros((SIZE * SIZE, 4))
        rgba[hit, :3] = _sphere_colour(points[hit])
        rgba[hit, 3] = 1.0
        name = f"images/r_{k}.png"
        Image.fromarray((rgba.reshape(SIZE, SIZE, 4) * 255).round().astype(np.uint8), "RGBA").save(root / name)
        np.save(root / f"images/depth_{k}.npy", (t * z_cam).reshape(SIZE, SIZE).astype(np.float32))
        np.save(
            root / f"images/normals_{k}.npy",
            np.where(hit[:, None], points / RADIUS, 0).reshape(SIZE, SIZE, 3).astype(np.float32),
        )
        c2w_gl = c2w_cv.copy()
        c2w_gl[:3, 1:3] *= -1
        frames.append(
            {
                "file_path": name,
                "transform_matrix": c2w_gl.tolist(),
                "depth_file_path": f"images/depth_{k}.npy",
                "normals_file_path": f"images/normals_{k}.npy",
            }
        )
    doc = {"camera_angle_x": fov, "depth_unit_scale_factor": 1.0, "frames": frames}
    (root / "transforms.json").write_text(json.dumps(doc))
    return root


TINY = dict(
    field=NGPFieldConfig(n_levels=4, log2_hashmap_size=12, base_resolution=8, max_resolution=64, hidden_dim=32),
    grid=GridConfig(resolution=32, warmup_steps=64, update_every=8),
    render=RenderConfig(steps_per_diagonal=128),
)
AABB = (-1.0, -1.0, -1.0, 1.0, 1.0, 1.0)


def tiny_train(**overrides) -> TrainConfig:
    base = dict(
        max_steps=60,
        samples_per_step=1 << 12,
        initial_rays=256,
        max_rays=2048,
        lr=2e-2,
        progress=False,
        holdout_every=6,
    )
    return TrainConfig(**{**base, **overrides})


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return write_toy_dataset(tmp_path_factory.mktemp("toy") / "sphere")


@pytest.fixture(scope="module")
def trained_run(toy, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "sphere"
    trained = train_field(toy, run, train=tiny_train(max_steps=300), aabb=AABB, **TINY)
    return run, trained


def test_training_learns_the_toy_scene(trained_run, toy):
    run, trained = trained_run
    dataset = load_dataset(toy, background=(1.0, 1.0, 1.0))
    summary = evaluate(trained, dataset, "test", run)
    # An untrained field renders a grey haze (~11 dB here); 300 tiny steps must get far
    # beyond (observed ~21 dB: 20 views of 32x32 px leave novel views under-constrained).
    assert summary["psnr"] > 19.0, summary
    assert summary["depth_abs_rel"] < 0.05, summary  # observed 3%
    assert summary["normal_median_deg"] < 25.0, summary  # density-gradient normals
    written = json.loads((run / "eval.json").read_text())
    assert written["psnr"] == pytest.approx(summary["psnr"])
    assert len(list((run / "eval").glob("*.png"))) == summary["n_views"]


def test_same_seed_same_weights(toy, tmp_path):
    a = train_field(toy, tmp_path / "a", train=tiny_train(max_steps=30), aabb=AABB, **TINY)
    b = train_field(toy, tmp_path / "b", train=tiny_train(max_steps=30), aabb=AABB, **TINY)
    c = train_field(toy, tmp_path / "c", train=tiny_train(max_steps=30, seed=1), aabb=AABB, **TINY)
    for (name, pa), pb, pc in zip(
        a.field.state_dict().items(), b.field.state_dict().values(), c.field.state_dict().values()
    ):
        assert torch.equal(pa, pb), name
    assert not torch.equal(a.field.encoding.params, c.field.encoding.params)


def test_checkpoint_round_trip_renders_identically(trained_run, toy):
    run, trained = trained_run
    reloaded = load_trained(run)
    assert reloaded.step == trained.step == 300
    dataset = load_dataset(toy)
    first = render_image(trained.field, trained.grid, dataset.cameras, 0, trained.config.render)
    second = render_image(reloaded.field, reloaded.grid, dataset.cameras, 0, reloaded.config.render)
    assert torch.equal(first.rgb, second.rgb)
    assert torch.equal(first.depth_z, second.depth_z)


def test_resume_continues_exactly(toy, tmp_path):
    config = tiny_train(max_steps=40, checkpoint_every=20, keep_checkpoints=5)
    straight = train_field(toy, tmp_path / "straight", train=config, aabb=AABB, **TINY)
    run = tmp_path / "interrupted"
    train_field(toy, run, train=config, aabb=AABB, **TINY)
    checkpoint_path(run, 40).unlink()  # as if killed between step 20 and 40
    assert list_checkpoints(run)[-1] == checkpoint_path(run, 20)
    resumed = train_field(toy, run, train=config, aabb=AABB, resume=True, **TINY)
    assert resumed.step == 40
    for (name, p), q in zip(straight.field.state_dict().items(), resumed.field.state_dict().values()):
        assert torch.equal(p, q), name
    assert torch.equal(straight.grid.binaries, resumed.grid.binaries)


def test_resume_rejects_a_different_field(toy, tmp_path):
    run = tmp_path / "run"
    train_field(toy, run, train=tiny_train(max_steps=5), aabb=AABB, **TINY)
    other = {**TINY, "field": replace(TINY["field"], hidden_dim=16)}
    with pytest.raises(NerfgenError, match="different field"):
        train_field(toy, run, train=tiny_train(max_steps=10), aabb=AABB, resume=True, **other)


def test_corrupt_checkpoint_is_one_clear_error(toy, tmp_path):
    run = tmp_path / "run"
    train_field(toy, run, train=tiny_train(max_steps=5), aabb=AABB, **TINY)
    path = list_checkpoints(run)[-1]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(NerfgenError) as err:
        load_trained(run)
    assert str(path) in str(err.value) and "corrupt" in str(err.value)
    path.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(NerfgenError, match="not a nerfgen checkpoint|corrupt"):
        load_trained(path)


def test_trainer_uses_only_train_frames(toy):
    dataset = load_dataset(toy, background=(0.0, 0.0, 0.0))
    config = replace(
        __import__("nerfgen.train.config", fromlist=["RunConfig"]).RunConfig(
            data=str(toy), downscale=1, aabb=AABB, **TINY
        ),
        train=tiny_train(),
    )
    trainer = Trainer(config, dataset, Path("unused"))
    # 24 views, every 6th held out -> 20 train views of 32x32 rays.
    assert len(trainer.rays) == 20 * SIZE * SIZE
    # Premultiplied targets: background pixels are black, whatever the loader composited over.
    assert trainer.rays.rgb[trainer.rays.alpha == 0].abs().max() == 0


def test_ray_table_ranges_come_from_the_depth_maps(toy):
    dataset = load_dataset(toy, background=(0.0, 0.0, 0.0))
    config = __import__("nerfgen.train.config", fromlist=["RunConfig"]).RunConfig(
        data=str(toy), downscale=1, aabb=AABB, **TINY
    )
    rays = Trainer(config, dataset, Path("unused")).rays
    hit = rays.range > 0
    assert torch.equal(hit, rays.alpha > 0)  # the toy's depth is 0 exactly where it is transparent
    points = rays.origins[hit] + rays.range[hit, None] * rays.directions[hit]
    torch.testing.assert_close(points.norm(dim=-1), torch.full((int(hit.sum()),), RADIUS), atol=1e-4, rtol=0)


def test_depth_supervision_improves_depth(toy, tmp_path):
    dataset = load_dataset(toy, background=(1.0, 1.0, 1.0))
    errors = {}
    for weight in (0.0, 0.1):
        run = tmp_path / f"w{weight}"
        trained = train_field(toy, run, train=tiny_train(max_steps=150, depth_loss_weight=weight), aabb=AABB, **TINY)
        errors[weight] = evaluate(trained, dataset, "test", run)["depth_abs_rel"]
    assert errors[0.1] < 0.5 * errors[0.0], errors  # observed 7.3 % -> 1.3 %
