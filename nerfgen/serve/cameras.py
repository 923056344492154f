"""The named cameras a server renders: pinhole, principal point at the image centre.

`--camera NAME=WxH[@HFOV]` names one (HFOV in degrees, horizontal); without any, the
server has one camera `front`. Their intrinsics are computed as the scene rig's cameras
are (nerfgen.procedural.rig_cameras), so a camera of the rig's field of view and size renders the
same pixels as `nerfgen render` at the same pose.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from nerfgen.cameras import Cameras, focal_from_fov
from nerfgen.errors import NerfgenError

DEFAULT_CAMERA = "front"
DEFAULT_WIDTH, DEFAULT_HEIGHT = 160, 120
DEFAULT_HFOV_DEG = 70.0
NEURAD_PREFIX = "CAM_"  # NeuRAD clients name cameras CAM_FRONT, CAM_BACK_LEFT, ...
_CAMERA_TEXT = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)=(?P<width>\d+)x(?P<height>\d+)(?:@(?P<hfov>\d+(?:\.\d*)?))?$")


@dataclass(frozen=True)
class CameraSpec:
    """A named pinhole camera; requests give its pose (and may change its size)."""

    name: str
    """What requests call it."""
    width: int
    """Image width in pixels."""
    height: int
    """Image height in pixels."""
    hfov_deg: float
    """Horizontal field of view in degrees (kept when a request changes the size)."""

    def cameras(self, c2w: np.ndarray, width: int | None = None, height: int | None = None) -> Cameras:
        """One camera (C = 1) at the OpenCV camera-to-world pose c2w [4,4], optionally of
        another image size with the same horizontal field of view."""
        width, height = width or self.width, height or self.height
        focal = focal_from_fov(math.radians(self.hfov_deg), width)
        return Cameras.create(c2w, focal, focal, width / 2, height / 2, width, height)

    def to_json(self) -> dict:
        focal = focal_from_fov(math.radians(self.hfov_deg), self.width)
        return {
            "name": self.name,
            "width": self.width,
            "height": self.height,
            "hfov_deg": self.hfov_deg,
            "fx": focal,
            "fy": focal,
            "cx": self.width / 2,
            "cy": self.height / 2,
            "distortion": "none",
        }


def parse_camera(text: str, default_hfov_deg: float) -> CameraSpec:
    """`NAME=WxH[@HFOV]`, e.g. front=160x120@70."""
    match = _CAMERA_TEXT.match(text)
    if match is None:
        raise NerfgenError(None, f"--camera {text!r}: expected NAME=WxH[@HFOV], e.g. front=160x120@70")
    width, height = int(match["width"]), int(match["height"])
    hfov = float(match["hfov"]) if match["hfov"] else default_hfov_deg
    if width < 1 or height < 1:
        raise NerfgenError(None, f"--camera {text!r}: width and height must be >= 1")
    if not 0 < hfov < 180:
        raise NerfgenError(None, f"--camera {text!r}: the field of view must be in (0, 180) degrees")
    return CameraSpec(match["name"], width, height, hfov)


def camera_specs(texts: tuple[str, ...], default_hfov_deg: float) -> dict[str, CameraSpec]:
    """The cameras of `--camera` options by name; `front` (160x120) when there are none."""
    if not texts:
        return {DEFAULT_CAMERA: CameraSpec(DEFAULT_CAMERA, DEFAULT_WIDTH, DEFAULT_HEIGHT, default_hfov_deg)}
    specs: dict[str, CameraSpec] = {}
    for text in texts:
        spec = parse_camera(text, default_hfov_deg)
        if spec.name in specs:
            raise NerfgenError(None, f"--camera {spec.name!r} is given twice")
        specs[spec.name] = spec
    return specs


def find_camera(specs: dict[str, CameraSpec], name: str) -> CameraSpec | None:
    """The camera called `name`, or else `name` without NeuRAD's CAM_ prefix, in lower case
    (CAM_FRONT finds front); None if neither exists."""
    if name in specs:
        return specs[name]
    if name.startswith(NEURAD_PREFIX):
        return specs.get(name[len(NEURAD_PREFIX) :].lower())
    return None
