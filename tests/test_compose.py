"""The composition renderer against exact answers: analytic box fields (density =
indicator of the ground-truth scene's boxes, with a matching occupancy grid) placed by
a composed scene file, compared with the exact twin of the same file ray cast by
GTRenderer: depth order, overlaps, occlusion, truncation, holes, scale, empty scenes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import yaml

from nerfgen.cameras import Cameras, look_at
from nerfgen.fields.base import FieldOutput
from nerfgen.labels import correspondences, correspondences_from_weights, frame_labels
from nerfgen.ops.occupancy_grid import OccupancyGrid
from nerfgen.procedural import GTRenderer, load_scene_spec
from nerfgen.scene import (
    AssetField,
    NeuralSceneRenderer,
    composed_gt_scene,
    load_composed_scene,
    load_composed_scene_spec,
)

W, H, F = 48, 36, 40.0  # tiny images, focal in pixels
SIGMA = 5000.0  # opaque within one marching step
GRID_RES = 32


class BoxesField:
    """Density SIGMA inside any of the axis-aligned boxes [k,2,3]; analytic outward normals."""

    def __init__(self, boxes: torch.Tensor, rgb=(0.8, 0.3, 0.2)):
        self.boxes = boxes
        self.aabb = torch.stack([boxes[:, 0].amin(0), boxes[:, 1].amax(0)])
        self.rgb = torch.tensor(rgb)

    def _inside(self, x):  # [N,3] -> [N,k]
        return ((x[:, None] >= self.boxes[None, :, 0]) & (x[:, None] <= self.boxes[None, :, 1])).all(-1)

    def density(self, x):
        return self._inside(x).any(-1).float() * SIGMA

    def __call__(self, x, d, normals=False):
        inside = self._inside(x)
        box = self.boxes[inside.float().argmax(-1)]  # [N,2,3] the box holding each point
        q = (x - box.mean(1)) / (0.5 * (box[:, 1] - box[:, 0]))
        axis = q.abs().argmax(-1)
        n = torch.zeros_like(x)
        n[torch.arange(len(x)), axis] = torch.sign(q[torch.arange(len(x)), axis])
        return FieldOutput(self.density(x), self.rgb.expand(len(x), 3), n if normals else None, None)


def gt_boxes(path: Path) -> torch.Tensor:
    """World boxes [k,2,3] of every (unrotated) box part of a ground-truth scene file."""
    out = []
    for obj in load_scene_spec(path).objects:
        for part in obj.parts:
            assert part.primitive == "box" and obj.pose.rotation_deg == part.pose.rotation_deg == (0, 0, 0)
            c = np.add(obj.pose.translation, part.pose.translation)
            out.append([c - np.divide(part.size, 2), c + np.divide(part.size, 2)])
    return torch.tensor(np.array(out), dtype=torch.float32)


def analytic_asset(asset, where) -> AssetField:
    """An asset loader: the exact field of the asset's ground-truth boxes, with a grid whose
    occupied cells are exactly those meeting a box (conservative, as a trained grid)."""
    field = BoxesField(gt_boxes(asset.gt))
    pad = 0.05 * (field.aabb[1] - field.aabb[0]).max()
    grid = OccupancyGrid(torch.cat([field.aabb[0] - pad, field.aabb[1] + pad]), resolution=GRID_RES)
    cell = torch.arange(grid.cells_per_level)
    lo = grid.cell_points(0, cell, torch.zeros(len(cell), 3))
    hi = grid.cell_points(0, cell, torch.ones(len(cell), 3))
    meets = ((lo[:, None] <= field.boxes[None, :, 1]) & (hi[:, None] >= field.boxes[None, :, 0])).all(-1).any(-1)
    grid.binaries.copy_(meets.view_as(grid.binaries))
    step = float((grid.aabb[3:] - grid.aabb[:3]).norm()) / 1024
    return AssetField(field, grid, step, 0.0, (0.5, 0.6, 0.7))


def gt_file(tmp: Path, name: str, parts: list[tuple[tuple, tuple]], klass="box", instance=1) -> str:
    """A ground-truth scene with one object made of box parts (center, size)."""
    doc = {
        "name": name,
        "background": [0.5, 0.6, 0.7],
        "lights": {"ambient": 0.5, "shadows": False, "directional": [{"direction": [0, 0, -1], "intensity": 0.5}]},
        "objects": [
            {
                "name": name,
                "class": klass,
                "instance": instance,
                "parts": [
                    {
                        "name": f"p{i}",
                        "primitive": "box",
                        "size": list(s),
                        "pose": {"translation": list(c)},
                        "material": {"texture": "solid", "color": [0.8, 0.3, 0.2]},
                    }
                    for i, (c, s) in enumerate(parts)
                ],
            }
        ],
        "rig": {
            "fov_deg": 60,
            "segments": [{"type": "orbit", "share": 1, "center": [0, 0, 0], "radius": 5, "elevation_deg": [10, 40]}],
        },
    }
    (tmp / f"{name}.yaml").write_text(yaml.safe_dump(doc))
    return f"{name}.yaml"


def composed(tmp: Path, objects: list[dict], background: dict | None = None) -> Path:
    block = gt_file(tmp, "block", [((0, 0, 0.5), (1, 1, 1))])
    doc = {"objects": [{"asset": block, "class": "car", **o} for o in objects]}
    if background is not None:
        doc["background"] = background
    path = tmp / "composed.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def ground_background(tmp: Path, holes=(), parked=False) -> dict:
    parts = [((0, 0, -0.1), (16, 16, 0.2))] + ([((3, -2, 0.5), (1.2, 1.2, 1.0))] if parked else [])
    return {"asset": gt_file(tmp, "ground", parts, klass="road", instance=0), "holes": list(holes)}


def cameras(eyes, targets) -> Cameras:
    return Cameras.create(look_at(np.array(eyes, float), np.array(targets, float)), F, F, W / 2, H / 2, W, H)


def both(path: Path):
    """(neural renderer of the analytic fields, exact renderer of the twin) of one scene file."""
    spec = load_composed_scene_spec(path)
    return NeuralSceneRenderer(load_composed_scene(spec, analytic_asset)), GTRenderer(composed_gt_scene(spec))


def assert_maps_agree(neural, exact, cams, index, step=0.03):
    a, b = neural.render(cams, index), exact.render(cams, index)
    both_hit = (a.opacity > 0.5) & (b.opacity > 0.5)
    agree = (both_hit | ((a.opacity < 0.5) & (b.opacity < 0.5))).mean()
    assert agree > 0.97, f"coverage agrees on {agree:.3f} of pixels"
    err = np.abs(a.range - b.range)[both_hit]
    assert np.median(err) < step and np.quantile(err, 0.95) < 2 * step, (np.median(err), err.max())
    cos = (a.normals_world * b.normals_world).sum(-1)[both_hit]
    assert np.median(cos) > 0.999
    assert (a.instance == b.instance).mean() > 0.97
    assert (a.class_id[a.instance > 0] == b.class_id[a.instance > 0]).all()
    return a, b


def test_depth_order_overlap_and_scale_match_the_exact_twin(tmp_path):
    objects = [
        {"instance_id": 1, "position": [0, 0, 0], "yaw_deg": 30},
        {"instance_id": 2, "position": [-2.0, 0.8, 0], "yaw_deg": 0},  # behind object 1 from +x
        {"instance_id": 3, "position": [0.4, 0.3, 0], "yaw_deg": 45, "scale": 0.6},  # overlaps object 1
        {"instance_id": 4, "position": [0, -2.5, 0], "rotation_deg": [0, 0, -20], "scale": 1.7},
    ]
    neural, exact = both(composed(tmp_path, objects, ground_background(tmp_path)))
    # Boxes and poses are the same numbers in both (one function makes them).
    for a, b in zip(neural.instances(), exact.instances(), strict=True):
        for key in ("center", "size", "rotation", "pose"):
            np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    np.testing.assert_allclose(neural.instances()[3].size, [1.7, 1.7, 1.7])
    cams = cameras([[6, 0.5, 2.5], [-1, -7, 3]], [[0, 0, 0.5], [0, -1, 0.5]])
    for i in range(2):
        a, _ = assert_maps_agree(neural, exact, cams, i)
        assert set(np.unique(a.instance).tolist()) == ({0, 1, 2, 3, 4} if i == 0 else {0, 2, 4})


def test_fully_hidden_object_has_occlusion_one_and_truncation_matches(tmp_path):
    objects = [
        {"instance_id": 1, "position": [0, 0, 0], "scale": 2.5},  # a big block in front ...
        {"instance_id": 2, "position": [-3, 0, 0], "scale": 0.5},  # ... hides this one from +x
        {"instance_id": 3, "position": [0, 4.6, 0]},  # across the right image edge
    ]
    neural, exact = both(composed(tmp_path, objects))
    cams = cameras([[8, 0, 1.0]], [[0, 0, 1.0]])
    labels = {}
    for name, r in (("neural", neural), ("exact", exact)):
        labels[name] = {label.instance_id: label for label in frame_labels(r, cams, 0, r.render(cams, 0)).instances}
    assert labels["neural"][2].occlusion == 1.0 == labels["exact"][2].occlusion
    assert labels["neural"][2].px_alone > 0
    assert 0.3 < labels["neural"][3].truncation < 0.7
    for i in (1, 2, 3):
        assert abs(labels["neural"][i].truncation - labels["exact"][i].truncation) <= 0.05
        assert abs(labels["neural"][i].occlusion - labels["exact"][i].occlusion) <= 0.05


def test_holes_empty_the_background(tmp_path):
    hole = {"center": [3, -2, 0.6], "size": [1.6, 1.6, 1.1]}  # around the parked block, above the ground
    cams = cameras([[8, -2, 2]], [[3, -2, 0.3]])
    with_hole, exact = both(composed(tmp_path, [], ground_background(tmp_path, [hole], parked=True)))
    a, b = assert_maps_agree(with_hole, exact, cams, 0)
    without, _ = both(composed(tmp_path, [], ground_background(tmp_path, [], parked=True)))
    c = without.render(cams, 0)
    assert (np.abs(c.range - a.range) > 0.5).mean() > 0.03  # the parked block was really there
    assert a.range[a.opacity > 0.5].max() > c.range[c.opacity > 0.5].max() - 1e-3


def test_objects_outside_the_view_get_no_samples_and_empty_scene_renders_sky(tmp_path):
    neural, _ = both(
        composed(tmp_path, [{"instance_id": 1, "position": [0, 0, 0]}, {"instance_id": 2, "position": [20, 0, 0]}])
    )
    cams = cameras([[8, 0, 1.0]], [[0, 0, 1.0]])  # object 2 is behind the camera
    fields = neural.scene.fields
    assert {fields[int(k)].instance_id for k in torch.unique(_sample_fields(neural, cams))} == {1}

    empty = tmp_path / "empty.yaml"
    empty.write_text("objects: []\n")
    nothing = NeuralSceneRenderer(load_composed_scene(empty, analytic_asset))
    maps = nothing.render(cams, 0)
    assert nothing.instances() == [] and (maps.opacity == 0).all() and (maps.depth_z == 0).all()
    np.testing.assert_allclose(maps.rgb, np.broadcast_to(np.float32([1, 1, 1]), maps.rgb.shape))


def _sample_fields(neural, cams):
    from nerfgen.cameras import generate_rays
    from nerfgen.scene import render_composed_rays

    rays = generate_rays(cams, 0)
    with torch.no_grad():
        return render_composed_rays(neural.scene.fields, rays.origins, rays.directions, neural.sky).sample_fields


def test_weight_correspondences_match_exact_ones(tmp_path):
    objects = [{"instance_id": 1, "position": [0, 0, 0], "yaw_deg": 20}, {"instance_id": 2, "position": [-1, 1.5, 0]}]
    neural, exact = both(composed(tmp_path, objects, ground_background(tmp_path)))
    cams = cameras([[6, 0.5, 2.5], [5.5, 2.0, 2.6]], [[0, 0, 0.5], [0, 0.3, 0.5]])
    a = neural.render_image(cams, 0)
    depth_b = neural.render(cams, 1).depth_z
    s = a.samples
    uv, valid = correspondences_from_weights(
        cams, 0, 1, s.ray_indices, s.t_starts, s.t_ends, s.offsets, a.weights, depth_b, torch.Generator().manual_seed(0)
    )
    gt_a, gt_b = exact.render(cams, 0), exact.render(cams, 1)
    uv_gt, valid_gt = correspondences(cams, 0, 1, gt_a.depth_z, gt_b.depth_z)
    co = valid & valid_gt
    assert co.sum() > 0.5 * valid_gt.sum()
    assert (valid == valid_gt).mean() > 0.95
    epe = np.linalg.norm(uv[co] - uv_gt[co], axis=-1)
    assert np.median(epe) < 0.1 and (epe < 1.0).mean() > 0.99


def test_silhouettes_are_the_mean_of_subpixel_rays_and_labels_stay_exact(tmp_path):
    """Field renders at s = 3 against an independent computation: the 9 sub-pixel rays
    (x + (a + 0.5) / 3, y + (b + 0.5) / 3) of every pixel through the composed fields,
    averaged. Silhouette pixels (another instance, or sky, in their 3 x 3 neighbourhood)
    are that mean; the others keep their centre colour; the label maps are those of the
    pixel-centre render, bit for bit."""
    from nerfgen.cameras import generate_rays, pixel_centres
    from nerfgen.scene import render_composed_rays
    from nerfgen.scene.renderer import silhouette_pixels

    s = 3
    path = composed(tmp_path, [{"instance_id": 1, "position": [0, 0, 0], "yaw_deg": 30}], ground_background(tmp_path))
    scene = load_composed_scene(load_composed_scene_spec(path), analytic_asset)
    cams = cameras([[6, 0.5, 2.5]], [[0, 0, 0.5]])
    fine, centre = (
        NeuralSceneRenderer(scene, supersample=s).render(cams, 0),
        NeuralSceneRenderer(scene, supersample=1).render(cams, 0),
    )
    for name in ("depth_z", "range", "opacity", "normals_world", "instance", "class_id"):
        assert np.array_equal(getattr(fine, name), getattr(centre, name)), name

    offsets = (torch.arange(s, dtype=torch.float64) + 0.5) / s
    sub = torch.stack(torch.meshgrid(offsets, offsets, indexing="ij"), -1).reshape(-1, 2).flip(-1)  # (u, v)
    uv = ((pixel_centres(W, H).double() - 0.5)[:, None, :] + sub[None]).reshape(-1, 2)
    rays = generate_rays(cams, 0, uv)
    with torch.no_grad():
        full = render_composed_rays(
            scene.fields, rays.origins.float(), rays.directions.float(), torch.tensor(scene.sky)
        ).rgb
    full = full.reshape(H, W, s * s, 3).double().mean(2).numpy()

    silhouette = silhouette_pixels(centre.instance, centre.range > 0)
    assert 0.02 < silhouette.mean() < 0.5  # the block's outline and the horizon
    np.testing.assert_allclose(fine.rgb[silhouette], full[silhouette], atol=1e-5)
    assert np.array_equal(fine.rgb[~silhouette], centre.rgb[~silhouette])
    assert np.abs(fine.rgb - centre.rgb).max() > 0.1  # anti-aliasing changed the outlines
    assert np.abs(fine.rgb - full).max() < np.abs(centre.rgb - full).max()
