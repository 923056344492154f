"""Moving an object of a served scene is the same as placing it there in the scene file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from nerfgen.procedural import build_scene, load_scene_spec
from nerfgen.procedural.spec import Pose
from nerfgen.procedural.transforms import pose_matrix
from nerfgen.serve.actors import Trajectory
from nerfgen.serve.moving import displacement, moved_gt_scene

SCENES = Path(__file__).resolve().parent.parent / "scenes"


def test_moved_mesh_equals_the_mesh_built_at_the_new_pose():
    spec = load_scene_spec(SCENES / "car.yaml")
    (car,) = [o for o in spec.objects if o.instance > 0]
    new_pose = Pose(translation=(1.5, -2.0, 0.0), rotation_deg=(0.0, 0.0, 30.0))
    moved_spec = dataclasses.replace(
        spec, objects=tuple(dataclasses.replace(o, pose=new_pose) if o is car else o for o in spec.objects)
    )
    scene, expected = build_scene(spec), build_scene(moved_spec)
    delta = pose_matrix(new_pose) @ np.linalg.inv(pose_matrix(car.pose))
    moved = moved_gt_scene(scene, {car.instance: delta})
    for name in ("vertices", "face_normals", "face_offsets", "world_to_part"):
        np.testing.assert_allclose(getattr(moved, name), getattr(expected, name), atol=1e-12, err_msg=name)
    (box,), (expected_box,) = moved.instances, expected.instances
    for name in ("center", "size", "rotation", "pose"):
        np.testing.assert_allclose(getattr(box, name), getattr(expected_box, name), atol=1e-12, err_msg=name)
    assert moved_gt_scene(scene, {}).vertices.tolist() == scene.vertices.tolist()


def test_displacement_makes_the_rotation_rigid():
    initial = np.eye(4)
    target = np.eye(4)
    target[:3, :3] = np.float32(pose_matrix(Pose(rotation_deg=(0.0, 0.0, 37.0)))[:3, :3])  # rigid to ~1e-7 only
    delta = displacement(initial, target)
    np.testing.assert_allclose(delta[:3, :3].T @ delta[:3, :3], np.eye(3), atol=1e-15)
    np.testing.assert_allclose(delta[:3, :3], target[:3, :3], atol=1e-6)


def test_trajectory_holds_ends_and_hits_stored_poses_exactly():
    a, b = np.eye(4), pose_matrix(Pose(translation=(4.0, 0.0, 0.0), rotation_deg=(0.0, 0.0, 90.0)))
    trajectory = Trajectory(np.array([100, 300], np.int64), np.stack([a, b]))
    assert np.array_equal(trajectory.pose_at(-5), a) and np.array_equal(trajectory.pose_at(10**20), b)
    assert np.array_equal(trajectory.pose_at(300), b)
    half = trajectory.pose_at(200)
    np.testing.assert_allclose(half[:3, 3], [2.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(half[:3, :3], pose_matrix(Pose(rotation_deg=(0.0, 0.0, 45.0)))[:3, :3], atol=1e-12)
