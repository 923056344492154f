"""Driving-scene augmentation end to end: timings and placement quality.

capture street + car (ground truth) -> train both (short budgets) -> `augment` the trained
street with 3 trained cars along the street's drive -> raw + KITTI + COCO. Placement runs
on the trained street's density (ground from rays cast down through the field); its
quality is measured against the ground truth: snapped height minus the exact road
height under each car, and how much of each placed box the exact street fills. The same
seed on the exact twin (--exact) is the reference for timings.

    nice .venv/bin/python benchmarks/augment.py [--seconds 90 --frames 20 --work /tmp/nerfgen_augment]

Captures and runs are reused when present in --work (benchmarks/compose.py makes the
same ones: pass its --work to share them).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from compose import SCENES, train_once  # same captures and budgets as the composition benchmark

from nerfgen.augment import AugmentConfig, MeshProbe, PlacementConfig, augment, footprint_of
from nerfgen.augment.boxes import box_lattice
from nerfgen.procedural import load_scene
from nerfgen.scene import ComposedSceneSpec, composed_gt_scene, load_composed_scene_spec


def filled_fraction(out: Path, placements) -> list[float]:
    """Fraction of a 10 cm lattice inside each placed box (5 cm in from its faces) that the
    exact street (with the scene's holes) fills."""
    spec = load_composed_scene_spec(out / "scene.yaml")
    probe = MeshProbe(composed_gt_scene(ComposedSceneSpec(spec.path, spec.background, (), None)))
    return [float(probe.occupied(box_lattice(footprint_of(p.box), 0.1, 0.05)).mean()) for p in placements]


def report(name: str, result, out: Path) -> None:
    error = np.abs(result.ground_error_gt)
    filled = filled_fraction(out, result.placements)
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    print(f"{name}: {stages}")
    for p, e, f in zip(result.placements, result.ground_error_gt, filled):
        x, y, z = p.obj.pose.translation
        print(
            f"  {p.obj.class_name}_{p.obj.instance_id} at ({x:6.2f}, {y:5.2f}, {z:6.3f})"
            f" yaw {p.obj.pose.rotation_deg[2]:7.2f}"
            f"  ground error {e * 100:+.1f} cm  exact street inside box {f:.1%}  tries {p.tries}"
        )
    print(
        f"  ground error |mean| {error.mean() * 100:.1f} cm, max {error.max() * 100:.1f} cm;"
        f" plane {result.ground.plane}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=Path("/tmp/nerfgen_augment"))
    ap.add_argument("--seconds", type=float, default=90.0, help="training budget per field")
    ap.add_argument("--capture-views", type=int, default=100)
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--width", type=int, default=160)
    ap.add_argument("--height", type=int, default=120)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    street = train_once("street", args.work, args.seconds, args.capture_views, (200, 150))
    car = train_once("car", args.work, args.seconds, args.capture_views, (160, 120))
    print(f"captures + runs ready in {time.perf_counter() - t0:.0f} s")
    parked = [b.instance_id for b in load_scene(SCENES / "street.yaml").instances if b.class_name == "car"]
    config = AugmentConfig(
        frames=args.frames,
        width=args.width,
        height=args.height,
        seed=args.seed,
        remove=tuple(parked),
        placement=PlacementConfig(n_objects=3),
    )
    gt = {"background": SCENES / "street.yaml", "car": SCENES / "car.yaml"}
    for name, exact in (("trained fields", False), ("exact twin", True)):
        out = args.work / f"augmented_{'exact' if exact else 'neural'}"
        t = time.perf_counter()
        result = augment(street, {"car": car}, out, replace(config, exact=exact), gt)
        print(
            f"\n{name}: {args.frames} frames {args.width}x{args.height}, 3 cars, "
            f"KITTI + COCO in {time.perf_counter() - t:.1f} s -> {out}"
        )
        report(name, result, out)


if __name__ == "__main__":
    main()
