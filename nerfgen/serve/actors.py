"""Actors of a served scene: its placed objects, each following a trajectory of box poses.

An actor's pose is its 3D box in the world, as NeuRAD's closed-loop server gives actor
poses: a 4x4 box-to-world matrix whose origin is the box centre and whose axes are the
object's (x length, forward; y width, left; z height, up), and its dims are
[width, length, height]. A trajectory holds poses at timestamps (integer microseconds);
the pose at any other time is interpolated (translation linearly, rotation by slerp) and
held constant before the first and after the last timestamp.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from nerfgen.labels.boxes import box_to_world
from nerfgen.procedural.build import InstanceBox

# Fixed namespace: an object's uuid depends only on its instance id and name, so it is the
# same every time the scene is served.
ACTOR_NAMESPACE = uuid.UUID("5d1f6a64-4c52-4a8e-9d0e-2f3b7f0c1a77")


def actor_uuid(instance_id: int, name: str) -> str:
    return str(uuid.uuid5(ACTOR_NAMESPACE, f"{instance_id}:{name}"))


@dataclass(frozen=True)
class Trajectory:
    """Box-to-world poses at strictly increasing timestamps."""

    timestamps: np.ndarray
    """[K] int64 microseconds, strictly increasing, K >= 1."""
    poses: np.ndarray
    """[K,4,4] float64 rigid box-to-world poses."""

    def pose_at(self, timestamp: int) -> np.ndarray:  # [4,4]
        """The pose at `timestamp`: a stored pose exactly at its timestamp (and before the
        first or after the last), interpolated between two stored ones otherwise."""
        t = self.timestamps
        if timestamp <= t[0]:
            return self.poses[0]
        if timestamp >= t[-1]:
            return self.poses[-1]
        k = int(np.searchsorted(t, timestamp, side="right")) - 1
        if t[k] == timestamp:
            return self.poses[k]
        weight = (timestamp - int(t[k])) / (int(t[k + 1]) - int(t[k]))  # Python ints: no int64 overflow
        return interpolated_pose(self.poses[k], self.poses[k + 1], weight)


def interpolated_pose(a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:  # [4,4], [4,4] -> [4,4]
    """The rigid pose `weight` of the way from a to b (0 = a, 1 = b)."""
    rotations = Rotation.from_matrix(np.stack([a[:3, :3], b[:3, :3]]))
    pose = np.eye(4)
    pose[:3, :3] = Slerp([0.0, 1.0], rotations)([weight]).as_matrix()[0]
    pose[:3, 3] = (1.0 - weight) * a[:3, 3] + weight * b[:3, 3]
    return pose


@dataclass
class Actor:
    """One object of the scene as the server exposes it."""

    uuid: str
    """Stable id (uuid5 of the instance id and name)."""
    instance_id: int
    """Its value in instance masks and LiDAR returns."""
    name: str
    """The object's name in the scene (e.g. car_red, car_1)."""
    class_name: str
    """Its class (nerfgen.classes)."""
    size: np.ndarray
    """[3] box extents along the object's x (length), y (width), z (height), metres."""
    initial_pose: np.ndarray
    """[4,4] box-to-world where the scene file places it."""
    trajectory: Trajectory
    """Where it is over time; initially the scene file's pose at every time."""

    @property
    def dims(self) -> list[float]:
        """[width, length, height] metres, NeuRAD's order."""
        return [float(self.size[1]), float(self.size[0]), float(self.size[2])]

    def to_json(self) -> dict:
        """NeuRAD's ActorTrajectory fields (uuid, poses, timestamps, dims) and ours."""
        return {
            "uuid": self.uuid,
            "poses": self.trajectory.poses.tolist(),
            "timestamps": [int(t) for t in self.trajectory.timestamps],
            "dims": self.dims,
            "instance_id": self.instance_id,
            "name": self.name,
            "class_name": self.class_name,
        }


def actor_of(box: InstanceBox, start_time: int) -> Actor:
    """The actor of a placed object, standing at its scene-file pose from `start_time` on."""
    pose = box_to_world(np.asarray(box.center, np.float64), np.asarray(box.rotation, np.float64))
    return Actor(
        uuid=actor_uuid(box.instance_id, box.name),
        instance_id=box.instance_id,
        name=box.name,
        class_name=box.class_name,
        size=np.asarray(box.size, np.float64),
        initial_pose=pose,
        trajectory=Trajectory(np.array([start_time], np.int64), pose[None].copy()),
    )
