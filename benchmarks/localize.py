"""Camera localisation accuracy on a trained tabletop field (issue #7, iNeRF).

capture scenes/tabletop (100 views, 200x150) -> train a field (`--seconds` of training,
default 120) -> 50 trials: a held-out view as the query image, the initial pose its
true pose rotated by up to 15 deg about a random axis and moved by up to 0.25 x the
scene radius in a random direction (uniform magnitudes, seeded) -> localise -> table.

Scene radius: the median distance of the capture's cameras from the point nearest to
all their optical axes (the rig's orbit radius, ~1.9 m for tabletop; its floor box is
8 m wide, so the box would be a meaningless scale). Success: rotation error <= 5 deg
and camera-centre error <= 5 % of that radius.

    nice .venv/bin/python benchmarks/localize.py [--trials 50 --hypotheses 1 --work /tmp/nerfgen_localize]

The capture and the run are reused when present in --work (delete them to retrain).

Measured (2 shared cores under load from other jobs, 120 s field = 852 steps, defaults:
200 iterations x 512 rays, 3 blur stages, H = 1; scene radius 1.702 m): success 74%
(37/50), short of the issue's 90%; median errors 0.40 deg and 3.1 cm (1.8% R) from a
median start of 7.4 deg / 18 cm; median 25.5 s per query. Of the 13 misses, 10 diverged
(final loss 0.021-0.035 against 0.004-0.009 for every converged trial, so they are
detectable) and 3 ended at 1.4-1.7 deg, 5.1-5.7% R. Parallel hypotheses (--hypotheses)
are the intended remedy for the divergent ones; not yet measured here.
"""
from __future__ import annotations

import argparse
import math
import statistics
import time
from dataclasses import replace
from pathlib import Path

import roma
import torch

from nerfgen.data import load_dataset
from nerfgen.gt import capture
from nerfgen.pose import LocalizeConfig, localize, rotation_error_deg, translation_error
from nerfgen.train import TrainConfig, load_trained, train_field

SCENE = Path(__file__).resolve().parent.parent / "scenes" / "tabletop.yaml"


def scene_radius(c2w: torch.Tensor) -> float:  # [C,4,4] OpenCV camera-to-world
    origins, axes = c2w[:, :3, 3].double(), c2w[:, :3, 2].double()
    proj = torch.eye(3, dtype=torch.float64) - axes[:, :, None] * axes[:, None, :]
    centre = torch.linalg.lstsq(proj.sum(0), (proj @ origins[:, :, None]).sum(0)).solution[:, 0]
    return float((origins - centre).norm(dim=-1).median())


def perturb(c2w: torch.Tensor, max_deg: float, max_translation: float, g: torch.Generator) -> torch.Tensor:
    axis = torch.nn.functional.normalize(torch.randn(3, generator=g, dtype=torch.float64), dim=0)
    direction = torch.nn.functional.normalize(torch.randn(3, generator=g, dtype=torch.float64), dim=0)
    angle = math.radians(max_deg) * torch.rand(1, generator=g, dtype=torch.float64)
    out = c2w.double().clone()
    out[:3, :3] = out[:3, :3] @ roma.rotvec_to_rotmat(axis * angle)
    out[:3, 3] += max_translation * float(torch.rand(1, generator=g, dtype=torch.float64)) * direction
    return out


def training_budget(steps: int, seconds: float | None) -> TrainConfig:
    if seconds is not None:
        return TrainConfig(seconds=seconds, max_steps=10**9, progress=False)
    return TrainConfig(max_steps=steps, progress=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/nerfgen_localize"))
    parser.add_argument("--steps", type=int, default=3500, help="training steps of the field (load-independent)")
    parser.add_argument("--seconds", type=float, default=None, help="train for this long instead of --steps")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--hypotheses", type=int, default=LocalizeConfig.hypotheses)
    parser.add_argument("--iterations", type=int, default=LocalizeConfig.iterations)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)

    data, run = args.work / "tabletop_data", args.work / "tabletop_run"
    if not data.exists():
        capture(SCENE, data, views=100, width=200, height=150, seed=0, progress=False)
    if not (run / "checkpoints").exists():
        train_field(data, run, train=training_budget(args.steps, args.seconds))
    trained = load_trained(run)
    dataset = load_dataset(data, background=trained.config.train.eval_background)
    radius = scene_radius(dataset.cameras.c2w)
    test = dataset.splits["test"].tolist()
    config = replace(LocalizeConfig(), hypotheses=args.hypotheses, iterations=args.iterations)
    print(f"trained {trained.step} steps; scene radius {radius:.3f} m; {len(test)} held-out views; {config}")

    g = torch.Generator().manual_seed(args.seed)
    rot, trans, secs, start_rot, start_trans = [], [], [], [], []
    for trial in range(args.trials):
        view = test[trial % len(test)]
        truth = dataset.cameras.c2w[view].double()
        init = perturb(truth, 15.0, 0.25 * radius, g)
        t0 = time.perf_counter()
        result = localize(trained, dataset.images[view], dataset.cameras[view], init.float(), config)
        secs.append(time.perf_counter() - t0)
        start_rot.append(rotation_error_deg(init, truth).item())
        start_trans.append(translation_error(init, truth).item())
        rot.append(rotation_error_deg(result.pose, truth).item())
        trans.append(translation_error(result.pose, truth).item())
        print(
            f"trial {trial:2d} view {view:2d}: start {start_rot[-1]:5.2f} deg {start_trans[-1]:.3f} m -> "
            f"{rot[-1]:5.2f} deg {trans[-1]:.3f} m ({trans[-1] / radius:.1%} R), loss {result.final_loss:.5f} (hypothesis {result.best}), {secs[-1]:.1f} s",
            flush=True,
        )

    success = [r <= 5.0 and t <= 0.05 * radius for r, t in zip(rot, trans)]
    print()
    print("| trials | success (<=5 deg, <=5% R) | median rot err | median trans err | median start | time/query (median) |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {len(rot)} | {sum(success) / len(success):.0%} ({sum(success)}/{len(success)}) | {statistics.median(rot):.2f} deg | "
        f"{statistics.median(trans) * 100:.1f} cm ({statistics.median(trans) / radius:.1%} R) | "
        f"{statistics.median(start_rot):.1f} deg, {statistics.median(start_trans) * 100:.0f} cm | {statistics.median(secs):.1f} s |"
    )


if __name__ == "__main__":
    main()
