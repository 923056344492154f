"""Times `nerfgen capture` of the bundled street: 100 views at 200x150 (target < 10 s).

Prints seconds and pixels per second for the whole capture (ray casting, shading,
textures, PNG/npy writes; a pixel is one label ray, plus 3x3 sub-pixel rays where it is
mixed, for anti-aliased RGB) and rays per second for casting the pixel-centre rays alone.

    .venv/bin/python benchmarks/capture.py [--views 100 --width 200 --height 150 --supersample 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from nerfgen.cameras import generate_rays
from nerfgen.procedural import capture, cast_rays, load_scene, rig_cameras

SCENE = Path(__file__).resolve().parent.parent / "scenes" / "street.yaml"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--views", type=int, default=100)
    ap.add_argument("--width", type=int, default=200)
    ap.add_argument("--height", type=int, default=150)
    ap.add_argument("--supersample", type=int, default=3, help="capture's RGB anti-aliasing (1: pixel centres)")
    args = ap.parse_args()
    rays = args.views * args.width * args.height

    t0 = time.perf_counter()
    scene = load_scene(SCENE)
    t_load = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        capture(
            scene,
            Path(tmp) / "street",
            views=args.views,
            width=args.width,
            height=args.height,
            progress=False,
            supersample=args.supersample,
        )
        t_capture, cpu_capture = time.perf_counter() - t0, time.process_time() - c0

    cameras = rig_cameras(scene.spec.rig, args.views, args.width, args.height, seed=0)
    bundles = [generate_rays(cameras, i) for i in range(args.views)]
    origins = np.concatenate([b.origins.numpy() for b in bundles])
    directions = np.concatenate([b.directions.numpy() for b in bundles])
    t0, c0 = time.perf_counter(), time.process_time()
    cast_rays(scene, origins, directions)
    t_cast, cpu_cast = time.perf_counter() - t0, time.process_time() - c0

    print(
        f"street: {len(scene.faces)} triangles, {args.views} views at {args.width}x{args.height} = {rays} pixels, "
        f"supersample {args.supersample}"
    )
    print(f"load scene      {t_load:7.3f} s")
    verdict = "ok" if t_capture < 10 else "MISSED"
    print(
        f"capture (total) {t_capture:7.3f} s wall ({cpu_capture:6.3f} s CPU)   "
        f"{rays / t_capture / 1e6:6.2f} Mpixels/s   target < 10 s: {verdict}"
    )
    print(f"cast_rays only  {t_cast:7.3f} s wall ({cpu_cast:6.3f} s CPU)   {rays / t_cast / 1e6:6.2f} Mrays/s")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work inflates wall times)")


if __name__ == "__main__":
    main()
