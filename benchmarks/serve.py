"""Latency and throughput of `nerfgen serve`, against `nerfgen render` as a process.

Starts `nerfgen serve SCENE --port 0` on 127.0.0.1 (loopback only), sends a bounded number
of requests along the street's eastbound lane from 1 and from 4 concurrent clients, then
stops the server. Two requests:

- camera: POST /render_labels, 160x120 RGB + depth (depth_z, range) + masks (instance,
  class, opacity), npz-encoded, no boxes;
- LiDAR: POST /render_lidar, a VLP-16 sweep every 0.4 deg (16 x 900 beams).

Then the same work through `nerfgen render` as a process, start-up and scene loading
included (one frame of the drive; render sweeps a LiDAR only with a camera frame, so that
row is camera + sweep). Prints one table; the server's 4 clients share its one render
worker, so their latency includes the queue.

    .venv/bin/python benchmarks/serve.py --scene demo_out/dataset/scene.yaml [--exact]
        [--requests 8] [--max-seconds 900] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from nerfgen.cameras import look_at

START_TIMEOUT_S = 300.0
CLIENTS = (1, 4)
CAMERA_BODY = {"camera_name": "front", "outputs": ["rgb", "depth", "masks"], "encoding": "npz"}
LIDAR_BODY = {"preset": "vlp16", "azimuth_resolution_deg": 0.4}
LIDAR_HEIGHT = 1.73  # m, KITTI's mount (nerfgen render's default)


def drive_poses(count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(camera-to-world, LiDAR-to-world) along the eastbound lane, as the street rig drives."""
    xs = np.linspace(-22.0, 18.0, count)
    eyes = np.stack([xs, np.full(count, -0.8), np.full(count, 1.6)], 1)
    c2w = look_at(eyes, eyes + [10.0, 0.0, -0.4])
    lidar = np.tile(np.eye(4), (count, 1, 1))
    lidar[:, :3, 3] = np.stack([xs, np.full(count, -0.8), np.full(count, LIDAR_HEIGHT)], 1)
    return list(zip(c2w, lidar))


def start_server(scene: Path, exact: bool) -> tuple[subprocess.Popen, str, float]:
    """(process, url, seconds to ready) of `nerfgen serve SCENE --port 0` on loopback."""
    args = [
        sys.executable,
        "-m",
        "nerfgen.cli",
        "serve",
        str(scene),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--queue",
        "8",
    ]
    t0 = time.perf_counter()
    process = subprocess.Popen(args + (["--exact"] if exact else []), stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        if select.select([process.stdout], [], [], 0.5)[0]:
            line = process.stdout.readline()
            if " on http://" in line:
                return process, line.rsplit(" on ", 1)[1].strip(), time.perf_counter() - t0
    process.kill()
    raise SystemExit("the server did not start")


def load(url: str, path: str, bodies: list[dict], clients: int, deadline: float) -> dict:
    """Sends `bodies` from `clients` threads (each takes the next unsent body) until all are
    sent or the deadline passes; latencies of the answered ones, error count, wall time."""
    lock, state = threading.Lock(), {"next": 0, "latencies": [], "errors": []}

    def client() -> None:
        with httpx.Client(base_url=url, timeout=max(1.0, deadline - time.monotonic())) as http:
            while time.monotonic() < deadline:
                with lock:
                    k = state["next"]
                    state["next"] += 1
                if k >= len(bodies):
                    return
                t0 = time.perf_counter()
                response = http.post(path, json=bodies[k])
                with lock:
                    if response.status_code == 200:
                        state["latencies"].append(time.perf_counter() - t0)
                    else:
                        state["errors"].append(f"{response.status_code} {response.text[:200]}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": state["latencies"], "errors": state["errors"], "wall": time.perf_counter() - t0}


def process_seconds(scene: Path, exact: bool, lidar: bool) -> float:
    """Wall time of `nerfgen render` of one drive frame (160x120 rgb, depth, masks), with a
    VLP-16 sweep at 0.4 deg when `lidar`."""
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            sys.executable,
            "-m",
            "nerfgen.cli",
            "render",
            str(scene),
            "--out",
            f"{tmp}/out",
            "--frames",
            "1",
            "--width",
            "160",
            "--height",
            "120",
            "--outputs",
            "rgb,depth,masks",
            "--trajectory",
            "drive",
        ]
        args += ["--exact"] if exact else []
        args += ["--lidar", "vlp16", "--lidar-azimuth-deg", "0.4"] if lidar else []
        t0 = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        return time.perf_counter() - t0


def summary(result: dict) -> dict:
    latencies = np.asarray(result["latencies"])
    return {
        "n": len(latencies),
        "p50_s": float(np.percentile(latencies, 50)) if len(latencies) else None,
        "p99_s": float(np.percentile(latencies, 99)) if len(latencies) else None,
        "throughput_per_s": len(latencies) / result["wall"] if result["wall"] > 0 else None,
        "errors": len(result["errors"]),
        "first_errors": result["errors"][:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scene", type=Path, default=Path("demo_out/dataset/scene.yaml"))
    parser.add_argument("--exact", action="store_true", help="serve (and render) the composed scene's exact twin")
    parser.add_argument("--requests", type=int, default=8, help="requests per kind and client count")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="stop sending after this long")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    deadline = time.monotonic() + args.max_seconds
    load_before = os.getloadavg()[0]
    poses = drive_poses(args.requests)
    camera = [{**CAMERA_BODY, "pose": c2w.tolist()} for c2w, _ in poses]
    lidar = [{**LIDAR_BODY, "pose": l2w.tolist()} for _, l2w in poses]
    process, url, startup = start_server(args.scene, args.exact)
    rows = {}
    try:
        for path, bodies in (("/render_labels", camera), ("/render_lidar", lidar)):
            load(url, path, bodies[:1], 1, deadline)  # warm-up, not measured
            for clients in CLIENTS:
                rows[f"{path} x{clients}"] = summary(load(url, path, bodies, clients, deadline))
    finally:
        process.terminate()
        process.wait(60)
    rows["nerfgen render process: camera"] = {"seconds": process_seconds(args.scene, args.exact, lidar=False)}
    rows["nerfgen render process: camera + VLP-16"] = {"seconds": process_seconds(args.scene, args.exact, lidar=True)}
    report = {
        "command": " ".join(["python", *sys.argv]),
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "scene": str(args.scene),
        "exact": args.exact,
        "server_startup_s": startup,
        # The machine may be shared: the 1-minute load average before and after tells how busy it was.
        "load_average": [load_before, os.getloadavg()[0]],
        "rows": rows,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
