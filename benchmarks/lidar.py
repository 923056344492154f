"""Times HDL-64E sweeps of the bundled street (exact GT) and LiDAR returns from packed weights.

Prints rays/s and points per sweep for `lidar_scan_gt` (ray generation + Embree casting +
labels + intensity), the share of it spent in `cast_rays`, and `returns_from_weights`
samples/s against a per-ray Python loop (the ratio is the point of the vectorisation).

    .venv/bin/python benchmarks/lidar.py [--sweeps 10 --samples-per-ray 32]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from nerfgen.procedural import cast_rays, load_scene
from nerfgen.procedural.lidar import lidar_scan_gt
from nerfgen.render.lidar_returns import returns_from_weights
from nerfgen.sensors.frames import ego_poses
from nerfgen.sensors.lidar import HDL64E, lidar_rays
from nerfgen.sensors.trajectories import drive

SCENE = Path(__file__).resolve().parent.parent / "scenes" / "street.yaml"


def timed(fn, *args):
    """(fn(*args), wall seconds)."""
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def per_ray_loop(weights, t_starts, t_ends, offsets, threshold=0.5):
    """Reference: walk each ray's samples in Python."""
    out = []
    for r in range(len(offsets) - 1):
        acc = 0.0
        for s in range(int(offsets[r]), int(offsets[r + 1])):
            w = float(weights[s])
            if acc + w >= threshold:
                out.append(float(t_starts[s]) + (threshold - acc) / w * float(t_ends[s] - t_starts[s]))
                break
            acc += w
        else:
            out.append(0.0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sweeps", type=int, default=10)
    ap.add_argument("--samples-per-ray", type=int, default=32)
    args = ap.parse_args()
    scene = load_scene(SCENE)
    ego = ego_poses(drive([[-25.0, -1.75], [25.0, -1.75]], speed=10.0, fps=10.0, n=args.sweeps, height=0.0))
    poses = ego @ HDL64E.sensor_to_ego
    n_rays = HDL64E.n_beams * HDL64E.n_azimuth
    lidar_scan_gt(scene, HDL64E, poses[0])  # builds the BVH once

    scans, t_scan = zip(*(timed(lidar_scan_gt, scene, HDL64E, pose) for pose in poses))
    rays = [lidar_rays(HDL64E, pose) for pose in poses]
    t_cast = [timed(cast_rays, scene, r.origins, r.directions)[1] for r in rays]
    t_scan, t_cast = np.median(t_scan), np.median(t_cast)
    points = np.mean([len(s.ring) for s in scans])

    rng = np.random.default_rng(0)
    s = args.samples_per_ray
    weights = torch.from_numpy(rng.uniform(0, 2.0 / s, n_rays * s)).float()
    t_starts = torch.arange(n_rays * s, dtype=torch.float32) % s
    offsets = torch.arange(0, n_rays * s + 1, s)
    t_ends = t_starts + 1
    t_returns = np.median([timed(returns_from_weights, weights, t_starts, t_ends, offsets)[1] for _ in range(4)][1:])
    n_ref = 2000
    t0 = time.perf_counter()
    per_ray_loop(weights.numpy(), t_starts.numpy(), (t_starts + 1).numpy(), offsets[: n_ref + 1].numpy())
    t_ref = (time.perf_counter() - t0) * n_rays / n_ref

    print(
        f"HDL-64E on the street ({len(scene.faces)} triangles): {HDL64E.n_beams} beams x {HDL64E.n_azimuth} "
        f"azimuths = {n_rays} rays per sweep, {args.sweeps} sweeps along the eastbound lane"
    )
    print(
        f"lidar_scan_gt   {t_scan * 1e3:8.1f} ms/sweep   {n_rays / t_scan / 1e6:6.2f} Mrays/s   "
        f"{points:8.0f} points/sweep ({points / n_rays:.0%} returned)"
    )
    print(
        f"cast_rays only  {t_cast * 1e3:8.1f} ms/sweep   {n_rays / t_cast / 1e6:6.2f} Mrays/s   "
        f"({t_cast / t_scan:.0%} of lidar_scan_gt)"
    )
    print(
        f"returns_from_weights {n_rays} rays x {s} samples: {t_returns * 1e3:7.1f} ms "
        f"({n_rays * s / t_returns / 1e6:.1f} Msamples/s); per-ray Python loop ~{t_ref:.1f} s: "
        f"{t_ref / t_returns:.0f}x faster"
    )
    print("(medians over sweeps / calls)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work inflates wall times)")


if __name__ == "__main__":
    main()
