"""Running the server: bind, serve with uvicorn until SIGTERM/SIGINT, stop cleanly.

The socket is bound before uvicorn starts, so the printed address (with the port the
system chose for --port 0) already accepts connections. On SIGTERM or SIGINT uvicorn stops
accepting, lets every request it has finish (at most the one rendering and the queued
ones, --queue bounds them), then the worker thread ends and the process exits with 0.
"""

from __future__ import annotations

import ipaddress
import signal
import socket

from nerfgen.errors import NerfgenError
from nerfgen.serve.app import ServeLimits, create_app
from nerfgen.serve.cameras import DEFAULT_HFOV_DEG, camera_specs
from nerfgen.serve.config import ServeConfig
from nerfgen.serve.scene import load_served_scene
from nerfgen.serve.worker import RenderWorker

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1); any other name may
    resolve to an address other machines reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_config(config: ServeConfig) -> None:
    """One-line errors for options that cannot work, before the scene is loaded."""
    if not is_loopback(config.host) and not config.token:
        raise NerfgenError(
            None, f"--host {config.host} is not a loopback address: serving it requires --token (bearer auth)"
        )
    if config.token is not None and not config.token.strip():
        raise NerfgenError(None, "--token must not be empty")
    if not 0 <= config.port <= 65535:
        raise NerfgenError(None, f"--port must be in [0, 65535], got {config.port}")
    for name in ("queue", "max_rays"):
        if getattr(config, name) < 1:
            raise NerfgenError(None, f"--{name.replace('_', '-')} must be >= 1, got {getattr(config, name)}")


def serve(config: ServeConfig) -> None:
    """Loads the scene, serves it until SIGTERM or SIGINT, then returns."""
    import uvicorn

    check_config(config)
    served = load_served_scene(config.scene, config.exact, config.supersample)
    fov = served.rig_fov_deg if served.rig_fov_deg is not None else DEFAULT_HFOV_DEG
    cameras = camera_specs(config.camera, fov)
    sock = _listening_socket(config.host, config.port)
    worker = RenderWorker(config.queue)
    app = create_app(served, cameras, worker, config.token, ServeLimits(config.max_rays))
    uvicorn_config = uvicorn.Config(app, lifespan="off", ws="none", access_log=False, log_level="warning")
    server = uvicorn.Server(uvicorn_config)
    host, port = sock.getsockname()[:2]
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    print(
        f"nerfgen serve: {config.scene} ({len(served.actors)} actors; cameras {', '.join(cameras)}) on {url}",
        flush=True,
    )
    # uvicorn re-raises the stop signal once it has shut down, to whatever handler was there
    # before it: a no-op one lets the worker finish and the process exit with 0.
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in STOP_SIGNALS}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        worker.stop()
    print("nerfgen serve: stopped", flush=True)


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        raise NerfgenError(None, f"cannot listen on {host}:{port} ({e.strerror or e})") from None
    return sock
