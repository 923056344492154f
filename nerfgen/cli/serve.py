"""`nerfgen serve`: a closed-loop sensor server over a scene file (docs/serve.md).

A driving stack (or any client) moves the scene's objects and asks for camera images,
labels and LiDAR sweeps at poses of its choosing, over HTTP: NeuRAD's closed-loop
endpoints (/alive, /get_actors, /update_actors, /render_image, /start_time), so a
NeuroNCAP-style client works unchanged, and nerfgen's (/cameras, /render_labels,
/render_batch, /render_lidar). Python clients: nerfgen.client.SensorClient.
"""

from __future__ import annotations

import tyro

from nerfgen.serve.config import ServeConfig


def serve(config: tyro.conf.OmitArgPrefixes[ServeConfig]) -> None:
    """Serve a scene's sensors over HTTP for closed-loop simulation (NeuRAD-compatible API)."""
    from nerfgen.serve.server import serve as run_server

    run_server(config)
