"""Exact ground truth from procedural scenes (`scenes/*.yaml`): geometry, labels, images.

scene = load_scene("scenes/street.yaml")            # GTScene: triangles, labels, 3D boxes
hits = cast_rays(scene, origins, directions)        # RayHits: range, normals, ids per ray
maps = GTRenderer(scene).render(cameras, 0)         # FrameMaps (nerfgen.render.frame.FrameRenderer)
capture(scene, "out/street", views=100, seed=0)     # nerfstudio dataset + gt.json
"""

from nerfgen.procedural.build import GTScene, InstanceBox, build_scene, load_scene
from nerfgen.procedural.capture import capture
from nerfgen.procedural.parse import load_scene_spec
from nerfgen.procedural.raycast import RayHits, cast_rays
from nerfgen.procedural.render import GTFrames, render_gt
from nerfgen.procedural.renderer import GTRenderer
from nerfgen.procedural.rig import rig_cameras
from nerfgen.procedural.shading import shade
from nerfgen.procedural.subset import instance_subscene

__all__ = [
    "GTFrames",
    "GTRenderer",
    "GTScene",
    "InstanceBox",
    "RayHits",
    "build_scene",
    "capture",
    "cast_rays",
    "instance_subscene",
    "load_scene",
    "load_scene_spec",
    "render_gt",
    "rig_cameras",
    "shade",
]
