"""Pose estimation by inverting radiance fields (iNeRF, Parallel-iNeRF): the pose of a
camera from its image, or of an object in a composed scene seen by a known camera.

    result = localize(load_trained("runs/tabletop"), image, cameras, init_c2w)
    result.pose  # [4,4] OpenCV camera-to-world; result.loss_curve, .seconds, ...
"""

from nerfgen.pose.config import LocalizeConfig
from nerfgen.pose.lie import rotation_error_deg, se3_exp, se3_log, translation_error
from nerfgen.pose.localize import LocalizeResult, localize, localize_object

__all__ = [
    "LocalizeConfig",
    "LocalizeResult",
    "localize",
    "localize_object",
    "rotation_error_deg",
    "se3_exp",
    "se3_log",
    "translation_error",
]
