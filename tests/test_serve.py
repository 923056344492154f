"""`nerfgen serve` as a real server process on a free loopback port, spoken to over HTTP:
actors move what is rendered, images are the bytes `nerfgen render` writes, bad requests
get 4xx JSON errors, tokens are enforced, a full queue answers 429, SIGTERM ends cleanly.

Every server is started with `--port 0` on 127.0.0.1 (the port it prints) and killed by
its fixture's finalizer; every wait is bounded.
"""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
import yaml

from nerfgen.cli import main
from nerfgen.client import SensorClient, ServerError

SCENES = Path(__file__).resolve().parent.parent / "scenes"
START_TIMEOUT_S = 90.0  # loading torch and a scene on a busy 2-core machine
REQUEST_TIMEOUT_S = 60.0
SIZE = (64, 48)  # camera `front` of every server here
SIDE_VIEW = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, -9.0], [0.0, -1.0, 0.0, 0.8], [0.0, 0.0, 0.0, 1.0]])
"""Camera 9 m south of the car looking north (+y), level: world +x is image right."""


@dataclass
class Server:
    process: subprocess.Popen
    stderr: Path
    url: str = ""


def launch(tmp: Path, *args: str) -> Server:
    """`nerfgen serve ARGS --port 0` started (not yet ready: see `ready`)."""
    with open(tmp / "serve.stderr", "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "nerfgen.cli", "serve", *args, "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=tmp,
        )
    return Server(process, tmp / "serve.stderr")


def ready(server: Server) -> Server:
    """The server once it printed its address (the port it got); killed if it does not in time."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.url and time.monotonic() < deadline and server.process.poll() is None:
        if select.select([server.process.stdout], [], [], 0.5)[0]:
            line = server.process.stdout.readline()
            if " on http://" in line:
                server.url = line.rsplit(" on ", 1)[1].strip()
    if not server.url:
        stop(server)
        raise AssertionError(f"server {server.process.args[4:]} did not start: {server.stderr.read_text()[-2000:]}")
    return server


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.kill()
    server.process.wait(10)
    server.process.stdout.close()


@pytest.fixture(scope="module")
def servers(tmp_path_factory, composed_scene):
    """Every server of this module, started at once (start-up is mostly imports, which
    overlap), each killed at the end whatever happened."""
    camera = ["--camera", f"front={SIZE[0]}x{SIZE[1]}"]
    car = str(SCENES / "car.yaml")
    args = {
        "car": [car, *camera],
        "composed": [str(composed_scene), *camera],
        "guarded": [car, "--token", "s3cret", "--queue", "1", *camera],
        "doomed": [car, *camera],  # receives SIGTERM
    }
    started = {name: launch(tmp_path_factory.mktemp(name), *a) for name, a in args.items()}
    try:
        yield {name: ready(server) for name, server in started.items()}
    finally:
        for server in started.values():
            stop(server)


@pytest.fixture(scope="module")
def car_server(servers) -> Server:
    return servers["car"]


@pytest.fixture(scope="module")
def composed_server(servers) -> Server:
    return servers["composed"]


@pytest.fixture(scope="module")
def guarded_server(servers) -> Server:
    return servers["guarded"]


@pytest.fixture(scope="module")
def composed_scene(tmp_path_factory, tiny_run) -> Path:
    """A composed scene of one trained (tiny) car field, rendered neurally."""
    path = tmp_path_factory.mktemp("composed") / "composed.yaml"
    car = {
        "asset": str(tiny_run),
        "gt": str(SCENES / "car.yaml"),
        "class": "car",
        "instance_id": 1,
        "position": [0, 0, 0],
    }
    path.write_text(yaml.safe_dump({"objects": [car]}))
    return path


def rendered_frame(tmp: Path, scene: Path) -> tuple[bytes, np.ndarray]:
    """(rgb/000000.png, its camera-to-world) of `nerfgen render` of the scene's first rig frame."""
    out = tmp / "render"
    main(
        [
            "render",
            str(scene),
            "--out",
            str(out),
            "--frames",
            "1",
            "--width",
            str(SIZE[0]),
            "--height",
            str(SIZE[1]),
            "--outputs",
            "rgb",
        ]
    )
    c2w = np.array(json.loads((out / "labels" / "000000.json").read_text())["c2w"])
    return (out / "rgb" / "000000.png").read_bytes(), c2w


@pytest.mark.parametrize("which", ["ground truth", "composed"])
def test_png_is_the_bytes_nerfgen_render_writes(tmp_path, request, which):
    scene, server = {
        "ground truth": (SCENES / "car.yaml", "car_server"),
        "composed": (request.getfixturevalue("composed_scene"), "composed_server"),
    }[which]
    png, c2w = rendered_frame(tmp_path, scene)
    with SensorClient(request.getfixturevalue(server).url) as client:
        assert client.render_image_bytes(c2w, "front", image_format="png") == png
        raw = client.render_image(c2w, "CAM_FRONT", image_format="raw")  # NeuRAD's camera naming
    assert raw.dtype == np.uint8 and raw.shape == (SIZE[1], SIZE[0], 3)
    from PIL import Image

    assert np.array_equal(raw, np.asarray(Image.open(tmp_path / "render" / "rgb" / "000000.png")))


def centroid_u(instance: np.ndarray, instance_id: int) -> float:
    return float(np.nonzero(instance == instance_id)[1].mean())


@pytest.mark.parametrize("server_name", ["car_server", "composed_server"])
def test_moved_actor_moves_in_the_next_mask_and_boxes(request, server_name):
    shift = np.array([0.6, 0.0, 0.0])  # world +x: to the right in SIDE_VIEW
    with SensorClient(request.getfixturevalue(server_name).url) as client:
        (actor,) = client.get_actors()
        assert actor["dims"] == pytest.approx([1.86, 4.34, 1.675], abs=0.01)  # width, length, height
        before = client.render_labels(SIDE_VIEW, "front", outputs=["masks", "boxes"])
        pose = actor["poses"][0].copy()
        pose[:3, 3] += shift
        client.move_actor(actor["uuid"], pose)
        after = client.render_labels(SIDE_VIEW, "front", outputs=["masks", "boxes"])
        assert client.get_actors()[0]["poses"][0].tolist() == pose.tolist()
        client.move_actor(actor["uuid"], actor["poses"][0])  # back where the scene file put it
        again = client.render_labels(SIDE_VIEW, "front", outputs=["masks", "boxes"])
    (box_before,), (box_after,) = before.labels["instances"], after.labels["instances"]
    assert box_before["uuid"] == box_after["uuid"] == actor["uuid"]
    world_to_cam = np.linalg.inv(SIDE_VIEW)
    expected = np.array(box_before["corners_cam"]) + world_to_cam[:3, :3] @ shift
    np.testing.assert_allclose(box_after["corners_cam"], expected, atol=1e-9)
    np.testing.assert_allclose(np.array(box_after["box_to_world"])[:3, 3], pose[:3, 3], atol=1e-12)
    fx = before.labels["fx"]
    centre_z = np.mean(np.array(box_before["corners_cam"])[:, 2])
    projected = fx * shift[0] / centre_z  # pixels to the right
    moved = centroid_u(after.arrays["instance"], 1) - centroid_u(before.arrays["instance"], 1)
    assert moved == pytest.approx(projected, rel=0.25)
    assert np.array_equal(again.arrays["instance"], before.arrays["instance"])  # same state, same render


def test_trajectory_is_interpolated_between_timestamps(car_server):
    with SensorClient(car_server.url) as client:
        (actor,) = client.get_actors()
        start = actor["poses"][0]
        end = start.copy()
        end[:3, 3] += [2.0, 0.0, 0.0]
        client.update_actors([{"uuid": actor["uuid"], "poses": [start, end], "timestamps": [0, 1_000_000]}])
        boxes = {
            t: client.render_labels(SIDE_VIEW, "front", timestamp=t, outputs=["boxes"]).labels["instances"][0]
            for t in (0, 250_000, 2_000_000)
        }
        client.move_actor(actor["uuid"], start)
    for t, along in ((0, 0.0), (250_000, 0.5), (2_000_000, 2.0)):  # held after the last timestamp
        np.testing.assert_allclose(np.array(boxes[t]["box_to_world"])[:3, 3], start[:3, 3] + [along, 0, 0], atol=1e-9)


def test_lidar_batch_and_raw_encoding(car_server):
    lidar_to_world = np.eye(4)
    lidar_to_world[:3, 3] = [0.0, -9.0, 1.0]
    with SensorClient(car_server.url) as client:
        sweep = client.render_lidar(lidar_to_world, "vlp16", azimuth_resolution_deg=2.0)
        explicit = client.render_lidar(
            lidar_to_world, elevation_deg=[-5.0, 0.0], azimuth_resolution_deg=2.0, encoding="raw"
        )
        frames = client.render_batch(
            [("front", SIDE_VIEW), ("front", np.eye(4))], rig_to_world=np.eye(4), outputs=["rgb", "depth"]
        )
        npz = client.render_labels(SIDE_VIEW, "front", outputs=["depth", "masks"])
        raw = client.render_labels(SIDE_VIEW, "front", outputs=["depth", "masks"], encoding="raw")
    assert sweep.info["n_beams_fired"] == 16 * 180 and (sweep.arrays["instance"] == 1).any()
    assert sweep.info["uuids"] == {"1": client_uuid(car_server)}
    np.testing.assert_allclose(np.linalg.norm(sweep.arrays["points"], axis=1), sweep.arrays["range"], rtol=1e-6)
    assert explicit.info["n_beams_fired"] == 2 * 180 and set(np.unique(explicit.arrays["ring"])) <= {0, 1}
    assert [f.arrays["rgb"].shape for f in frames] == [(SIZE[1], SIZE[0], 3)] * 2
    assert set(npz.arrays) == set(raw.arrays) == {"depth_z", "range", "instance", "class_id", "opacity"}
    for name in npz.arrays:
        assert np.array_equal(npz.arrays[name], raw.arrays[name]) and npz.arrays[name].dtype == raw.arrays[name].dtype


def client_uuid(server: Server) -> str:
    with SensorClient(server.url) as client:
        return client.get_actors()[0]["uuid"]


POSE = SIDE_VIEW.tolist()


@pytest.mark.parametrize(
    "path, body, status",
    [
        ("/render_image", {"pose": POSE, "camera_name": "rear"}, 404),
        (
            "/render_image",
            {"pose": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]], "camera_name": "front"},
            422,
        ),
        (
            "/render_image",
            '{"pose": [[NaN, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], "camera_name": "front"}',
            422,
        ),
        ("/render_image", {"pose": [[1, 0, 0], [0, 1, 0]], "camera_name": "front"}, 422),
        ("/render_image", {"pose": POSE, "camera_name": "front", "width": 20000, "height": 20000}, 422),
        ("/render_image", '{"pose": [[1, 0', 400),
        ("/render_labels", {"pose": POSE, "camera_name": "front", "outputs": ["xray"]}, 422),
        ("/render_lidar", {"pose": POSE, "azimuth_resolution_deg": 0.0001}, 422),
        ("/update_actors", [{"uuid": "no-such-actor", "poses": [POSE], "timestamps": [0]}], 404),
        ("/update_actors", [{"uuid": "no-such-actor", "poses": [POSE], "timestamps": [0, 1]}], 404),
        ("/no_such_endpoint", {}, 404),
    ],
)
def test_bad_requests_get_4xx_with_a_json_error(car_server, path, body, status):
    content = body if isinstance(body, str) else json.dumps(body)
    response = httpx.post(
        car_server.url + path, content=content, headers={"content-type": "application/json"}, timeout=REQUEST_TIMEOUT_S
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["error"], str) and "Traceback" not in response.text


def test_unknown_actor_in_a_valid_upload_changes_nothing(car_server):
    with SensorClient(car_server.url) as client:
        (actor,) = client.get_actors()
        moved = actor["poses"][0].copy()
        moved[0, 3] += 1.0
        with pytest.raises(ServerError) as refused:
            client.update_actors(
                [
                    {"uuid": actor["uuid"], "poses": [moved], "timestamps": [0]},
                    {"uuid": "nobody", "poses": [moved], "timestamps": [0]},
                ]
            )
        assert refused.value.status == 404 and "nobody" in refused.value.message
        assert np.array_equal(client.get_actors()[0]["poses"][0], actor["poses"][0])


def test_oversized_body_is_refused_with_413(car_server):
    response = httpx.post(
        car_server.url + "/update_actors", content=b"[" + b" " * (9 << 20) + b"]", timeout=REQUEST_TIMEOUT_S
    )
    assert response.status_code == 413 and "error" in response.json()


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": "s3cret"}, 401),
        ({"Authorization": "Bearer s3cret"}, 200),
    ],
)
def test_token_is_required_when_given(guarded_server, headers, status):
    for path in ("/alive", "/get_actors"):
        response = httpx.get(guarded_server.url + path, headers=headers, timeout=REQUEST_TIMEOUT_S)
        assert response.status_code == status
        if status == 401:
            assert "error" in response.json() and response.headers["www-authenticate"] == "Bearer"


SLOW_SWEEP = {"pose": np.eye(4).tolist(), "preset": "hdl64e", "azimuth_resolution_deg": 0.1}  # 230k beams


def post_all(url: str, body: dict, count: int, headers: dict) -> list[httpx.Response]:
    """`count` concurrent POSTs released together; each bounded by REQUEST_TIMEOUT_S."""
    barrier, responses = threading.Barrier(count), [None] * count

    def send(k: int) -> None:
        barrier.wait(REQUEST_TIMEOUT_S)
        responses[k] = httpx.post(url, json=body, headers=headers, timeout=REQUEST_TIMEOUT_S)

    threads = [threading.Thread(target=send, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(2 * REQUEST_TIMEOUT_S)
    return responses


def test_full_queue_answers_429_at_once(guarded_server):
    responses = post_all(guarded_server.url + "/render_lidar", SLOW_SWEEP, 5, {"Authorization": "Bearer s3cret"})
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) >= 1 and statuses.count(429) >= 2 and set(statuses) <= {200, 429}, statuses
    assert all("queue is full" in r.json()["error"] for r in responses if r.status_code == 429)


def test_sigterm_finishes_the_request_in_flight_and_exits_0(servers):
    server = servers["doomed"]
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.update(
            r=httpx.post(server.url + "/render_lidar", json=SLOW_SWEEP, timeout=REQUEST_TIMEOUT_S)
        )
    )
    thread.start()
    time.sleep(0.5)  # the sweep is on the worker by now
    server.process.send_signal(signal.SIGTERM)
    thread.join(REQUEST_TIMEOUT_S)
    assert result["r"].status_code == 200 and result["r"].json()["n_beams_fired"] == 64 * 3600
    assert server.process.wait(30) == 0
    assert "nerfgen serve: stopped" in server.process.stdout.read()


@pytest.mark.parametrize(
    "args, problem",
    [
        (["--host", "0.0.0.0"], "requires --token"),
        (["--camera", "front=160by120"], "expected NAME=WxH[@HFOV]"),
        (["--camera", "a=16x12", "--camera", "a=32x24"], "given twice"),
        (["--queue", "0"], "--queue must be >= 1"),
    ],
)
def test_bad_options_are_one_line_errors_before_anything_listens(capsys, args, problem):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", str(SCENES / "car.yaml"), *args])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(err.splitlines()) == 1 and problem in err, err
