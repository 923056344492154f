"""Ray casting, textures and shading against analytic answers on tiny scenes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nerfgen.procedural import build_scene, cast_rays, shade
from nerfgen.procedural.parse import parse_scene


def _scene(objects, shadows=False, direction=(0, 0, -1)):
    data = {
        "name": "t",
        "background": [0.1, 0.2, 0.3],
        "lights": {
            "ambient": 0.25,
            "shadows": shadows,
            "directional": [{"direction": list(direction), "intensity": 0.5}],
        },
        "objects": objects,
        "rig": {
            "fov_deg": 60,
            "segments": [{"type": "orbit", "share": 1, "center": [0, 0, 0], "radius": 5, "elevation_deg": [10, 50]}],
        },
    }
    return build_scene(parse_scene(Path("t.yaml"), data))


def _box(name, instance, size, translation, material, yaw=0.0):
    return {
        "name": name,
        "class": "box",
        "instance": instance,
        "pose": {"translation": list(translation), "yaw_deg": yaw},
        "parts": [{"name": "p", "primitive": "box", "size": list(size), "material": material}],
    }


SOLID = {"texture": "solid", "color": [0.8, 0.6, 0.4]}


def test_far_hits_are_exact_in_float64():
    # a wall 60 m away, hit at grazing-ish angles: range must match the analytic plane distance.
    scene = _scene([_box("wall", 1, [1, 40, 10], [60.5, 0, 0], SOLID), _box("near", 2, [1, 1, 1], [-30, 0, 0], SOLID)])
    rng = np.random.default_rng(0)
    n = 2000
    origins = np.tile([0.0, 0.0, 0.0], (n, 1))
    d = np.stack([np.ones(n), rng.uniform(-0.3, 0.3, n), rng.uniform(-0.07, 0.07, n)], 1)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    hits = cast_rays(scene, origins, d)
    assert hits.hit.all() and (hits.instance == 1).all()
    np.testing.assert_allclose(hits.range, 60.0 / d[:, 0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(hits.points[:, 0], 60.0, atol=1e-9)
    np.testing.assert_allclose(hits.normal, np.tile([-1.0, 0, 0], (n, 1)))


def test_misses_and_nearest_hit():
    scene = _scene([_box("a", 1, [1, 1, 1], [5, 0, 0], SOLID), _box("b", 2, [1, 1, 1], [10, 0, 0], SOLID)])
    hits = cast_rays(scene, np.zeros((3, 3)), np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 0, 1.0]]))
    assert hits.hit.tolist() == [True, False, False]
    assert hits.instance.tolist() == [1, 0, 0] and hits.triangle[1] == -1
    assert hits.range.tolist() == [4.5, 0.0, 0.0]
    assert not hits.normal[1:].any() and not hits.albedo[1:].any()


def test_checker_face_on_cell_boundary_is_one_colour():
    # faces at x = +-0.5 lie exactly on checker cell boundaries (period 0.5)
    checker = {"texture": "checker", "period": 0.5, "colors": [[0, 0, 0], [1, 1, 1]]}
    scene = _scene([_box("c", 1, [1, 1, 1], [0, 0, 0], checker)])
    ys, zs = np.meshgrid(np.linspace(0.01, 0.49, 20), np.linspace(0.01, 0.49, 20))
    origins = np.stack([np.full(ys.size, 5.0), ys.ravel(), zs.ravel()], 1)
    hits = cast_rays(scene, origins, np.tile([-1.0, 0, 0], (ys.size, 1)))
    assert len(np.unique(hits.albedo, axis=0)) == 1


def test_texture_is_attached_to_the_object():
    # the same stripe pattern seen on a moved + rotated copy, at the corresponding local points
    stripes = {"texture": "stripes", "axis": "y", "period": 0.2, "duty": 0.5, "colors": [[1, 0, 0], [0, 0, 1]]}
    a = _scene([_box("s", 1, [1, 1, 1], [0, 0, 0], stripes)])
    b = _scene([_box("s", 1, [1, 1, 1], [3, 4, 0], stripes, yaw=90)])
    y = np.linspace(-0.44, 0.46, 37)  # no point on a stripe edge (multiples of 0.1)
    local_dirs = np.tile([-1.0, 0, 0], (len(y), 1))
    local_origins = np.stack([np.full_like(y, 5.0), y, np.full_like(y, 0.1)], 1)
    rot = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    hits_a = cast_rays(a, local_origins, local_dirs)
    hits_b = cast_rays(b, local_origins @ rot.T + [3, 4, 0], local_dirs @ rot.T)
    np.testing.assert_array_equal(hits_a.albedo, hits_b.albedo)
    assert len(np.unique(hits_a.albedo, axis=0)) == 2


def test_lambert_shading_and_hard_shadows():
    floor = {
        "name": "floor",
        "class": "floor",
        "instance": 0,
        "parts": [{"name": "q", "primitive": "quad", "size": [10, 10], "material": SOLID}],
    }
    blocker = _box("blocker", 1, [1, 1, 0.1], [0, 0, 2], SOLID)
    scene = _scene([floor, blocker], shadows=True, direction=(0, 0, -1))
    origins = np.array([[0.0, 0.2, 1.0], [3.0, 0, 1.0], [3.0, 0, 1.0]])
    dirs = np.array([[0.0, 0, -1], [0, 0, -1], [0, 0, 1]])
    hits = cast_rays(scene, origins, dirs)
    rgb = shade(scene, hits)
    albedo = np.array([0.8, 0.6, 0.4], np.float32)
    np.testing.assert_allclose(rgb[0], albedo * 0.25, rtol=1e-6)  # in the blocker's shadow
    np.testing.assert_allclose(rgb[1], albedo * 0.75, rtol=1e-6)  # lit, cos = 1
    np.testing.assert_allclose(rgb[2], [0.1, 0.2, 0.3], rtol=1e-6)  # sky
