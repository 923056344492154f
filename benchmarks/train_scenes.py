"""Reconstruction quality on captures of the bundled scenes: PSNR, SSIM, depth
AbsRel and normal errors on held-out views against the captures' exact ground truth.

capture SCENE (100 views, 200x150) -> `nerfgen train` defaults for --seconds, or for
--steps (load-independent: on a busy shared machine a time budget buys fewer steps) ->
`nerfgen eval` on every 8th view. Normals are reported twice: the field's own
(density gradient) and the rendered surface's (plane fit, nerfgen.render.surface_normals).

    nice .venv/bin/python benchmarks/train_scenes.py [--scenes car tabletop street] [--seconds 120 | --steps 4000]

Captures are reused when present in --work; runs are retrained.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from nerfgen.data import load_dataset
from nerfgen.procedural import capture
from nerfgen.train.api import train_field
from nerfgen.train.config import TrainConfig
from nerfgen.train.evaluate import evaluate
from nerfgen.train.presets import preset
from nerfgen.train.run import load_trained

SCENES = Path(__file__).resolve().parent.parent / "scenes"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", nargs="+", default=["car", "tabletop", "street"])
    ap.add_argument("--work", type=Path, default=Path("/tmp/nerfgen_train_scenes"))
    ap.add_argument(
        "--seconds", type=float, default=None, help="training budget per scene (default 120 without --steps)"
    )
    ap.add_argument("--steps", type=int, default=None, help="train this many steps instead of a time budget")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--preset",
        nargs="*",
        default=["tabletop=room", "street=street"],
        metavar="SCENE=PRESET",
        help="nerfgen.train.presets per scene (default: tabletop=room street=street; others: object)",
    )
    args = ap.parse_args()
    args.preset = dict(item.split("=", 1) for item in args.preset)
    if args.steps is not None:
        budget = TrainConfig(max_steps=args.steps, progress=False, threads=args.threads)
    else:
        budget = TrainConfig(seconds=args.seconds or 120.0, max_steps=10**9, progress=False, threads=args.threads)

    rows = []
    for name in args.scenes:
        data, run = args.work / f"{name}_data", args.work / f"{name}_run"
        if not data.exists():
            capture(SCENES / f"{name}.yaml", data, views=100, width=200, height=150, seed=0, progress=False)
        t0 = time.perf_counter()
        train_field(
            data, run, overwrite=True, **preset(args.preset.get(name, "object"), train=budget)
        )  # a rerun retrains
        seconds = time.perf_counter() - t0
        trained = load_trained(run)
        dataset = load_dataset(data, background=trained.config.train.eval_background)
        summary = evaluate(trained, dataset, "test", run)
        rows.append((name, trained.step, seconds, summary))
        print(f"{name}: {trained.step} steps in {seconds:.0f} s, psnr {summary['psnr']:.2f}", flush=True)

    print()
    print("| scene | steps (s) | PSNR | SSIM | depth AbsRel | normals median: field / surface |")
    print("|---|---|---|---|---|---|")
    for name, steps, seconds, s in rows:
        print(
            f"| {name} | {steps} ({seconds:.0f} s) | {s['psnr']:.2f} | {s['ssim']:.3f} | {s['depth_abs_rel']:.2%} | "
            f"{s['normal_median_deg']:.1f} / {s['surface_normal_median_deg']:.1f} deg |"
        )


if __name__ == "__main__":
    main()
