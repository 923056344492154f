"""Per-frame instance labels against exact ground truth: boxes, poses, masks,
occlusion, truncation, amodal vs visible 2D boxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from nerfgen.cameras import Cameras, look_at
from nerfgen.labels import BOX_CORNER_SIGNS, frame_labels
from nerfgen.procedural import GTRenderer, load_scene, rig_cameras

SCENES = Path(__file__).resolve().parent.parent / "scenes"
W, H, F = 48, 36, 40.0  # tiny images, focal in pixels


def box_object(name: str, instance: int, center, size=(1, 1, 1), yaw=0.0) -> dict:
    return {
        "name": name,
        "class": "box",
        "instance": instance,
        "pose": {"translation": list(center), "yaw_deg": yaw},
        "parts": [
            {
                "name": "b",
                "primitive": "box",
                "size": list(size),
                "material": {"texture": "solid", "color": [0.8, 0.3, 0.2]},
            }
        ],
    }


def write_scene(tmp_path: Path, objects: list[dict]) -> Path:
    """A minimal scene file: `objects`, no shadows, a rig that is never used here."""
    doc = {
        "name": "mini",
        "background": [0.5, 0.6, 0.7],
        "lights": {"ambient": 0.5, "shadows": False, "directional": [{"direction": [0, 0, -1], "intensity": 0.5}]},
        "objects": objects,
        "rig": {
            "fov_deg": 60,
            "segments": [{"type": "orbit", "share": 1, "center": [0, 0, 0], "radius": 5, "elevation_deg": [10, 40]}],
        },
    }
    path = tmp_path / "scene.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def camera(eye, target, cx=W / 2, cy=H / 2) -> Cameras:
    c2w = look_at(np.array([eye], float), np.array([target], float))
    return Cameras.create(c2w, F, F, cx, cy, W, H)


def labels_of(scene_path: Path, cameras: Cameras, index: int = 0):
    renderer = GTRenderer(load_scene(scene_path))
    maps = renderer.render(cameras, index)
    return renderer, maps, frame_labels(renderer, cameras, index, maps)


def by_id(labels, instance_id):
    return next(i for i in labels.instances if i.instance_id == instance_id)


def test_boxes_and_poses_are_the_exact_inputs(tmp_path):
    path = write_scene(tmp_path, [box_object("a", 1, (6, 0.5, 0.2), size=(2, 1, 0.5), yaw=30)])
    cameras = camera((0, 0, 1), (6, 0, 0))
    _, _, labels = labels_of(path, cameras)
    (label,) = labels.instances
    c2w = cameras.c2w[0].double().numpy()
    yaw = np.radians(30)
    pose = np.eye(4)
    pose[:3, :3] = [[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]]
    pose[:3, 3] = (6, 0.5, 0.2)
    np.testing.assert_allclose(label.obj_to_world, pose, atol=1e-12)
    np.testing.assert_allclose(label.box_to_world, pose, atol=1e-12)  # the box is centred on the origin
    np.testing.assert_allclose(label.obj_to_cam, np.linalg.inv(c2w) @ pose, atol=1e-12)
    corners_obj = BOX_CORNER_SIGNS * np.array([2, 1, 0.5]) / 2
    np.testing.assert_allclose(label.corners_world, corners_obj @ pose[:3, :3].T + pose[:3, 3], atol=1e-12)
    corners_cam = corners_obj @ label.obj_to_cam[:3, :3].T + label.obj_to_cam[:3, 3]
    np.testing.assert_allclose(label.corners_cam, corners_cam, atol=1e-12)
    assert (label.instance_id, label.class_name, label.class_id) == (1, "box", 11)
    np.testing.assert_allclose(label.size, [2, 1, 0.5], atol=1e-12)
    assert (labels.width, labels.height, labels.fx, labels.cx) == (W, H, F, W / 2)


def test_object_fully_behind_another_is_fully_occluded(tmp_path):
    path = write_scene(tmp_path, [box_object("front", 1, (5, 0, 0)), box_object("back", 2, (10, 0, 0))])
    _, _, labels = labels_of(path, camera((0, 0, 0), (1, 0, 0)))
    front, back = by_id(labels, 1), by_id(labels, 2)
    assert back.px_visible == 0 and back.px_alone > 8 and back.occlusion == 1.0
    assert back.bbox_visible is None and back.bbox_amodal is not None
    assert front.occlusion == 0.0 and front.truncation == 0.0 and front.px_visible == front.px_alone


def test_object_half_out_of_frame_is_half_truncated(tmp_path):
    # Principal point on the left image edge: the box centred on the optical axis is cut in half.
    path = write_scene(tmp_path, [box_object("a", 1, (5, 0, 0))])
    _, _, labels = labels_of(path, camera((0, 0, 0), (1, 0, 0), cx=0.0))
    (label,) = labels.instances
    assert label.truncation == pytest.approx(0.5, abs=0.05)
    assert label.occlusion == 0.0 and label.px_visible == label.px_alone > 0
    assert label.bbox_amodal[0] == 0.0


def test_overlapping_boxes_partition_the_masks(tmp_path):
    path = write_scene(tmp_path, [box_object("near", 1, (5, -0.3, 0)), box_object("far", 2, (8, 0.5, 0.2))])
    cameras = camera((0, 0, 0), (1, 0, 0))
    renderer, maps, labels = labels_of(path, cameras)
    alone = {k: renderer.render(cameras, 0, only_instance=k).instance == k for k in (1, 2)}
    assert (alone[1] & alone[2]).any()  # they do overlap in the image
    np.testing.assert_array_equal(maps.instance == 1, alone[1])
    np.testing.assert_array_equal(maps.instance == 2, alone[2] & ~alone[1])
    for k in (1, 2):
        label, mask = by_id(labels, k), maps.instance == k
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        np.testing.assert_array_equal(label.bbox_visible, [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1])
        assert label.px_visible == mask.sum() and label.px_alone == alone[k].sum()
    far = by_id(labels, 2)
    assert far.occlusion == pytest.approx(1 - (alone[2] & ~alone[1]).sum() / alone[2].sum())
    assert 0 < far.occlusion < 1


def test_scene_without_objects_has_no_instances(tmp_path):
    ground = {
        "name": "ground",
        "class": "road",
        "instance": 0,
        "parts": [
            {
                "name": "q",
                "primitive": "quad",
                "size": [20, 20],
                "material": {"texture": "solid", "color": [0.3, 0.3, 0.3]},
            }
        ],
    }
    path = write_scene(tmp_path, [ground])
    _, maps, labels = labels_of(path, camera((0, 0, 2), (5, 0, 0)))
    assert labels.instances == [] and (maps.depth_z > 0).any() and not maps.instance.any()


def test_amodal_box_equals_the_alone_silhouette_of_a_visible_box(tmp_path):
    path = write_scene(tmp_path, [box_object("a", 1, (5, 0.3, 0.1), size=(1.5, 1, 0.8), yaw=35)])
    cameras = camera((0, -1, 1.5), (5, 0, 0))
    renderer, _, labels = labels_of(path, cameras)
    (label,) = labels.instances
    alone = renderer.render(cameras, 0, only_instance=1).instance == 1
    rows, cols = np.flatnonzero(alone.any(1)), np.flatnonzero(alone.any(0))
    assert label.truncation == 0.0 and 0 < rows[0] and rows[-1] < H - 1  # fully inside the frame
    np.testing.assert_allclose(label.bbox_amodal, [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], atol=1.0)


@pytest.mark.parametrize("scene", ["tabletop", "street"])
def test_amodal_box_contains_the_visible_box(scene):
    renderer = GTRenderer(load_scene(SCENES / f"{scene}.yaml"))
    cameras = rig_cameras(renderer.scene.spec.rig, 2, 40, 30, seed=3)
    seen = 0
    for index in range(len(cameras)):
        labels = frame_labels(renderer, cameras, index, renderer.render(cameras, index))
        for label in labels.instances:
            assert 0.0 <= label.occlusion <= 1.0 and 0.0 <= label.truncation <= 1.0
            if label.bbox_visible is None:
                continue
            seen += 1
            # The visible box has whole-pixel edges: pixels whose centre is on the object count
            # whole, so it may reach half a pixel beyond the (continuous) amodal box.
            a, v = label.bbox_amodal, label.bbox_visible
            assert a[0] <= v[0] + 0.5 and a[1] <= v[1] + 0.5 and a[2] >= v[2] - 0.5 and a[3] >= v[3] - 0.5
            assert label.px_visible <= label.px_alone
    assert seen >= 2


def test_box_through_the_camera_plane_is_clipped_at_the_near_plane(tmp_path):
    # A wall-like box from 5 m behind to 5 m in front of the camera, 0.5-1.5 m to its left:
    # its image runs from the left edge to where its far inner edge (x=5, y=0.5) projects.
    path = write_scene(tmp_path, [box_object("wall", 1, (0, 1, 0), size=(10, 1, 1))])
    _, _, labels = labels_of(path, camera((0, 0, 0), (1, 0, 0)))
    (label,) = labels.instances
    np.testing.assert_allclose(label.bbox_amodal, [0, 0, W / 2 - F * 0.5 / 5, H], atol=1e-4)
    assert label.truncation > 0.5 and label.px_visible > 0


class CountingRenderer(GTRenderer):
    def __init__(self, scene):
        super().__init__(scene)
        self.alone_renders: list[int] = []

    def render(self, cameras, index, only_instance=None):
        if only_instance is not None:
            self.alone_renders.append(only_instance)
        return super().render(cameras, index, only_instance)


def test_objects_out_of_view_are_not_rendered_alone(tmp_path):
    path = write_scene(
        tmp_path,
        [box_object("ahead", 1, (5, 0, 0)), box_object("behind", 2, (-5, 0, 0)), box_object("far_left", 3, (1, 30, 0))],
    )
    renderer = CountingRenderer(load_scene(path))
    cameras = camera((0, 0, 0), (1, 0, 0))
    labels = frame_labels(renderer, cameras, 0, renderer.render(cameras, 0))
    assert renderer.alone_renders == [1]
    for k in (2, 3):
        label = by_id(labels, k)
        assert label.bbox_amodal is None and label.px_alone == 0 and label.truncation == 1.0
        assert label.occlusion == 0.0
