"""Lego at 100x100 (downscale 8, every 8th frame held out): held-out PSNR vs training time,
with the compiled ops and with the pure-PyTorch reference ops, in one run.

    python benchmarks/train_lego.py [--seconds 120] [--reference-seconds 120] [--out benchmarks/out]

Each side trains in its own process (NERFGEN_REFERENCE_OPS is read at import) with the
default `nerfgen train` configuration; held-out PSNR is measured at fixed training times
(evaluation time is not counted). Writes OUT/train_lego.json and OUT/train_lego.png (PSNR
vs seconds, both curves) and prints the rays/s speed-up of the extension over the reference.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

LEGO = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "nerf_synthetic" / "lego"
EVAL_TIMES = (5, 10, 15, 20, 30, 45, 60, 75, 90, 105, 120, 150, 180, 240, 300)


def worker(data: Path, seconds: float, threads: int) -> None:
    """Trains, printing one JSON line per evaluation: seconds, step, rays so far, PSNR."""
    import torch

    from nerfgen.data import load_dataset
    from nerfgen.render.image import render_image
    from nerfgen.train.config import RunConfig, TrainConfig
    from nerfgen.train.data import split_indices
    from nerfgen.train.extent import scene_extent
    from nerfgen.train.metrics import psnr
    from nerfgen.train.trainer import Trainer

    torch.set_num_threads(threads)
    train_data = load_dataset(data, downscale=8, background=(0.0, 0.0, 0.0))
    test_data = load_dataset(data, downscale=8, background=(1.0, 1.0, 1.0))
    test = split_indices(test_data, "test", 8).tolist()
    config = RunConfig(
        data=str(data),
        downscale=8,
        aabb=scene_extent(train_data, None).aabb,
        train=TrainConfig(seconds=seconds, max_steps=10**9, progress=False, threads=threads),
    )
    trainer = Trainer(config, train_data, Path("unused"))
    times = [t for t in EVAL_TIMES if t < seconds] + [seconds]
    rays = 0

    def report() -> None:
        trainer.field.eval()
        with torch.inference_mode():
            scores = [
                psnr(
                    render_image(trainer.field, trainer.grid, test_data.cameras, i, config.render).rgb,
                    test_data.images[i],
                )
                for i in test
            ]
        line = {"seconds": trainer.elapsed, "step": trainer.step, "rays": rays, "psnr": sum(scores) / len(scores)}
        print(json.dumps(line), flush=True)

    while not trainer.done():
        rays += trainer.train_step().n_rays
        if trainer.elapsed >= times[0]:
            times.pop(0)
            report()
    if times:
        report()


def plot(curves: dict[str, list[dict]], path: Path) -> None:
    """PSNR vs seconds as a PNG (Pillow only, so the benchmark needs no plotting library)."""
    from PIL import Image, ImageDraw

    w, h, margin = 720, 480, 60
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    t_max = max(p["seconds"] for c in curves.values() for p in c)
    lo = min(10.0, min(p["psnr"] for c in curves.values() for p in c))
    hi = max(35.0, max(p["psnr"] for c in curves.values() for p in c))

    def xy(t: float, v: float) -> tuple[float, float]:
        return margin + (w - 2 * margin) * t / t_max, h - margin - (h - 2 * margin) * (v - lo) / (hi - lo)

    draw.rectangle([margin, margin, w - margin, h - margin], outline="black")
    for v in range(int(lo), int(hi) + 1, 5):
        y = xy(0, v)[1]
        draw.line([margin, y, w - margin, y], fill=(225, 225, 225))
        draw.text((margin - 28, y - 6), f"{v}", fill="black")
    for k in range(6):
        t = t_max * k / 5
        draw.text((xy(t, lo)[0] - 10, h - margin + 8), f"{t:.0f}", fill="black")
    target_y = xy(0, 31.0)[1]
    draw.line([margin, target_y, w - margin, target_y], fill=(200, 120, 0))
    draw.text((w - margin - 90, target_y - 14), "31 dB target", fill=(200, 120, 0))
    colours = {"extension": (200, 30, 30), "reference": (30, 60, 200)}
    for i, (name, points) in enumerate(curves.items()):
        pts = [xy(p["seconds"], p["psnr"]) for p in points]
        if len(pts) > 1:
            draw.line(pts, fill=colours[name], width=2)
        for x, y in pts:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colours[name])
        draw.text((margin + 10, margin + 10 + 16 * i), f"{name} ops", fill=colours[name])
    draw.text((w / 2 - 120, h - 30), "training seconds (2-core CPU)", fill="black")
    draw.text((10, 20), "lego 100x100, held-out PSNR (dB) vs time", fill="black")
    img.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=LEGO.resolve())
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--reference-seconds", type=float, default=120.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    parser.add_argument("--worker", choices=["extension", "reference"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        seconds = args.seconds if args.worker == "extension" else args.reference_seconds
        worker(args.data, seconds, args.threads)
        return

    curves: dict[str, list[dict]] = {}
    for name in ("extension", "reference"):
        env = {**os.environ, "NERFGEN_REFERENCE_OPS": "1" if name == "reference" else "0"}
        cmd = [sys.executable, __file__, "--worker", name, *sys.argv[1:]]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit(f"{name} worker failed:\n{proc.stderr[-3000:]}")
        curves[name] = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        for p in curves[name]:
            print(
                f"{name:9s} {p['seconds']:7.1f} s  step {p['step']:6d}  {p['rays'] / p['seconds']:9.0f} rays/s  "
                f"held-out PSNR {p['psnr']:.2f} dB",
                flush=True,
            )
    rate = {name: c[-1]["rays"] / c[-1]["seconds"] for name, c in curves.items()}
    speedup = rate["extension"] / rate["reference"]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train_lego.json").write_text(
        json.dumps({"curves": curves, "rays_per_second": rate, "speedup": speedup}, indent=2)
    )
    plot(curves, args.out / "train_lego.png")
    print(
        f"final held-out PSNR: extension {curves['extension'][-1]['psnr']:.2f} dB "
        f"after {curves['extension'][-1]['seconds']:.0f} s, "
        f"reference {curves['reference'][-1]['psnr']:.2f} dB after {curves['reference'][-1]['seconds']:.0f} s"
    )
    print(f"rays/s: extension {rate['extension']:.0f}, reference {rate['reference']:.0f}, speed-up {speedup:.1f}x")
    print(f"wrote {args.out / 'train_lego.png'} and {args.out / 'train_lego.json'}")


if __name__ == "__main__":
    main()
