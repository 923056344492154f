"""Point clouds on disk: PLY (via plyfile) and PCD v0.7, both binary little-endian.

One vertex record per point: x, y, z float32, then the extra fields in the order given,
each keeping its numpy dtype (e.g. intensity float32, ring/instance/class int32).
Writing is deterministic (same input, same bytes) and atomic (temp file + rename).

PCD is written here directly rather than through open3d: the format is a short text
header plus packed records, and open3d (a ~1 GB optional extra, `nerfgen[open3d]`) would
drop integer fields. Readers: PCL, open3d, CloudCompare.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from plyfile import PlyData, PlyElement

from nerfgen.atomic import atomic_write_bytes
from nerfgen.errors import NerfgenError
from nerfgen.render.frame import LidarScan

# numpy dtype -> (PCD TYPE, SIZE); also the dtypes PLY accepts.
FIELD_TYPES = {
    np.dtype(np.int8): ("I", 1),
    np.dtype(np.uint8): ("U", 1),
    np.dtype(np.int16): ("I", 2),
    np.dtype(np.uint16): ("U", 2),
    np.dtype(np.int32): ("I", 4),
    np.dtype(np.uint32): ("U", 4),
    np.dtype(np.float32): ("F", 4),
    np.dtype(np.float64): ("F", 8),
}


def write_ply(path: str | Path, points: np.ndarray, fields: dict[str, np.ndarray] | None = None) -> None:
    """Writes points [N,3] (stored as float32) and per-point fields {name: [N]} as binary PLY."""
    atomic_write_bytes(path, ply_bytes(points, fields, path))


def ply_bytes(points: np.ndarray, fields: dict[str, np.ndarray] | None = None, path: str | Path | None = None) -> bytes:
    """The binary PLY file of write_ply; `path` only names the file in errors."""
    records = _records(path, points, fields or {})
    buffer = io.BytesIO()
    PlyData([PlyElement.describe(records, "vertex")], text=False, byte_order="<").write(buffer)
    return buffer.getvalue()


def write_pcd(path: str | Path, points: np.ndarray, fields: dict[str, np.ndarray] | None = None) -> None:
    """Writes points [N,3] (stored as float32) and per-point fields {name: [N]} as binary PCD v0.7."""
    records = _records(path, points, fields or {})
    types = [FIELD_TYPES[records.dtype[name].newbyteorder("=")] for name in records.dtype.names]
    header = (
        "\n".join(
            [
                "# .PCD v0.7 - Point Cloud Data file format",
                "VERSION 0.7",
                "FIELDS " + " ".join(records.dtype.names),
                "SIZE " + " ".join(str(size) for _, size in types),
                "TYPE " + " ".join(kind for kind, _ in types),
                "COUNT " + " ".join("1" for _ in types),
                f"WIDTH {len(records)}",
                "HEIGHT 1",
                "VIEWPOINT 0 0 0 1 0 0 0",
                f"POINTS {len(records)}",
                "DATA binary",
            ]
        )
        + "\n"
    )
    atomic_write_bytes(path, header.encode("ascii") + records.tobytes())


def scan_point_fields(scan: LidarScan) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A LiDAR sweep as (points [N,3] in the sensor frame, {intensity, ring, instance, class})."""
    return scan.points_sensor, {
        "intensity": scan.intensity.astype(np.float32),
        "ring": scan.ring.astype(np.int32),
        "instance": scan.instance.astype(np.int32),
        "class": scan.class_id.astype(np.int32),
    }


def scan_world_ply_bytes(scan: LidarScan) -> bytes:
    """A sweep as PLY in world coordinates (sweeps of a sequence overlay in any viewer;
    sensor-frame points are in the raw lidar/*.npz and KITTI velodyne/*.bin)."""
    points, fields = scan_point_fields(scan)
    pose = np.asarray(scan.sensor_to_world, dtype=np.float64)
    return ply_bytes(points.astype(np.float64) @ pose[:3, :3].T + pose[:3, 3], fields)


def _records(path: str | Path | None, points: np.ndarray, fields: dict[str, np.ndarray]) -> np.ndarray:
    """Packed little-endian structured array [N] of x, y, z and the fields; NerfgenError on bad input."""
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 3:
        raise NerfgenError(path, f"points must have shape [N,3], got {list(points.shape)}")
    columns = {"x": points[:, 0], "y": points[:, 1], "z": points[:, 2]}
    for name, values in fields.items():
        values = np.asarray(values)
        if not name.isidentifier() or name in columns:
            raise NerfgenError(path, f"bad or duplicate point field name {name!r}")
        if values.shape != (len(points),):
            raise NerfgenError(path, f"field {name!r} has shape {list(values.shape)}, expected [{len(points)}]")
        if values.dtype.newbyteorder("=") not in FIELD_TYPES:
            raise NerfgenError(
                path, f"field {name!r} has dtype {values.dtype}; use one of {sorted(str(d) for d in FIELD_TYPES)}"
            )
        columns[name] = values
    dtype = [(name, values.dtype.newbyteorder("<")) for name, values in columns.items()]
    dtype[:3] = [(axis, "<f4") for axis in "xyz"]
    records = np.empty(len(points), dtype=dtype)
    for name, values in columns.items():
        records[name] = values
    return records
