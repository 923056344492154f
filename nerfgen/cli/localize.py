"""`nerfgen localize RUN IMAGE --init POSE`: camera pose of an image in a trained field (iNeRF)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Annotated

import tyro

from nerfgen.pose.config import LocalizeConfig


@dataclass
class LocalizeCommand:
    """Estimate the OpenCV camera-to-world pose of an image by optimising it against a trained
    field's renders (iNeRF; Parallel-iNeRF with --hypotheses, pruned by successive halving).
    Writes or prints JSON with the pose, the loss curve, iterations and time."""

    run: tyro.conf.Positional[Annotated[Path, tyro.conf.arg(metavar="RUN")]]
    """Run directory (or checkpoint file) written by `nerfgen train`."""
    image: tyro.conf.Positional[Annotated[Path, tyro.conf.arg(metavar="IMAGE")]]
    """Query image (PNG/JPEG; alpha is composited over the run's background)."""
    init: str
    """Initial pose: a 4x4 camera-to-world (OpenCV) .json/.npy file, or a frame index of the run's dataset."""
    intrinsics: str | None = None
    """fx,fy,cx,cy in pixels of IMAGE, or TRANSFORMS.json:FRAME (that frame's camera, rescaled to IMAGE);
    default: the camera of the --init frame when --init is a frame index."""
    out: Path | None = None
    """Write the result JSON here (atomically); default: print it. An existing file is
    replaced only with --overwrite."""
    overwrite: bool = False
    """Replace an existing --out file."""
    config: Annotated[LocalizeConfig, tyro.conf.OmitArgPrefixes] = dc_field(default_factory=LocalizeConfig)


def run_localize(cmd: tyro.conf.OmitArgPrefixes[LocalizeCommand]) -> None:
    """Estimate a camera's (or an object's) pose by inverting a trained field."""
    import torch

    from nerfgen.atomic import atomic_write_bytes
    from nerfgen.errors import NerfgenError
    from nerfgen.output_dir import check_output_file
    from nerfgen.pose import localize
    from nerfgen.pose.inputs import (
        dataset_cameras,
        frame_camera,
        parse_intrinsics,
        query_camera,
        read_pose,
        read_query_image,
    )
    from nerfgen.train import load_trained

    if cmd.out is not None:
        check_output_file(cmd.out, (cmd.run, cmd.image), cmd.overwrite)
    frame = int(cmd.init) if cmd.init.strip().lstrip("-").isdigit() else None
    intrinsics = None
    if cmd.intrinsics is not None and ":" in cmd.intrinsics:
        index_file, _, number = cmd.intrinsics.rpartition(":")
        if not number.isdigit():
            raise NerfgenError(None, f"--intrinsics {cmd.intrinsics!r}: expected TRANSFORMS.json:FRAME")
        intrinsics = frame_camera(dataset_cameras(index_file), int(number), index_file)
    elif cmd.intrinsics is not None:
        intrinsics = parse_intrinsics(cmd.intrinsics)
    elif frame is None:
        raise NerfgenError(None, "--intrinsics is required unless --init is a frame index of the run's dataset")

    trained = load_trained(cmd.run)
    image = read_query_image(cmd.image, trained.config.train.eval_background)
    if frame is not None:
        data = Path(trained.config.data)
        camera = frame_camera(dataset_cameras(data), frame, data)
        init = camera.c2w[0]
        intrinsics = camera if intrinsics is None else intrinsics
    else:
        init = read_pose(cmd.init)
    camera = query_camera(intrinsics, image.shape[1], image.shape[0], cmd.intrinsics or trained.config.data)
    torch.set_num_threads(trained.config.train.threads)
    result = localize(trained, image, camera, init, cmd.config)
    text = json.dumps({"image": str(cmd.image), "run": str(trained.checkpoint), **result.to_json()}, indent=2) + "\n"
    if cmd.out is None:
        print(text, end="")
        return
    atomic_write_bytes(cmd.out, text.encode())
    print(
        f"pose after {result.iterations} iterations ({result.seconds:.1f} s, loss {result.final_loss:.5f}) -> {cmd.out}"
    )
