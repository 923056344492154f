"""Point cloud writers: PLY read back with plyfile, PCD parsed back, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest
from plyfile import PlyData

from nerfgen.errors import NerfgenError
from nerfgen.render.frame import LidarScan
from nerfgen.writers.pointcloud import scan_point_fields, write_pcd, write_ply


def _cloud(n=257, seed=0):
    rng = np.random.default_rng(seed)
    points = rng.normal(0, 20, (n, 3))
    fields = {
        "intensity": rng.uniform(0, 1, n).astype(np.float32),
        "instance": rng.integers(0, 60000, n).astype(np.uint16),
        "class": rng.integers(0, 20, n).astype(np.uint8),
        "ring": rng.integers(0, 64, n).astype(np.int32),
    }
    return points, fields


def test_ply_reads_back_with_plyfile(tmp_path):
    points, fields = _cloud()
    write_ply(tmp_path / "a.ply", points, fields)
    vertex = PlyData.read(str(tmp_path / "a.ply"))["vertex"]
    assert vertex.count == len(points)
    assert [p.name for p in vertex.properties] == ["x", "y", "z", "intensity", "instance", "class", "ring"]
    data = vertex.data
    assert data.dtype["x"] == np.float32 and data.dtype["instance"] == np.uint16 and data.dtype["class"] == np.uint8
    np.testing.assert_array_equal(np.stack([data["x"], data["y"], data["z"]], 1), points.astype(np.float32))
    for name, values in fields.items():
        np.testing.assert_array_equal(data[name], values)
    assert (tmp_path / "a.ply").read_bytes().startswith(b"ply\nformat binary_little_endian 1.0\n")


def test_same_input_same_bytes(tmp_path):
    points, fields = _cloud()
    for name, write in (("ply", write_ply), ("pcd", write_pcd)):
        write(tmp_path / f"a.{name}", points, fields)
        write(tmp_path / f"b.{name}", points.copy(), {k: v.copy() for k, v in fields.items()})
        assert (tmp_path / f"a.{name}").read_bytes() == (tmp_path / f"b.{name}").read_bytes()
    write_ply(tmp_path / "c.ply", *_cloud(seed=1))
    assert (tmp_path / "c.ply").read_bytes() != (tmp_path / "a.ply").read_bytes()


def test_pcd_header_and_records(tmp_path):
    points, fields = _cloud(n=5)
    write_pcd(tmp_path / "a.pcd", points, fields)
    raw = (tmp_path / "a.pcd").read_bytes()
    header, _, body = raw.partition(b"DATA binary\n")
    lines = dict(line.split(" ", 1) for line in header.decode().splitlines() if not line.startswith("#"))
    assert lines["VERSION"] == "0.7" and lines["FIELDS"] == "x y z intensity instance class ring"
    assert lines["SIZE"] == "4 4 4 4 2 1 4" and lines["TYPE"] == "F F F F U U I"
    assert lines["POINTS"] == lines["WIDTH"] == "5" and lines["HEIGHT"] == "1"
    records = np.frombuffer(
        body,
        dtype=[
            ("x", "<f4"),
            ("y", "<f4"),
            ("z", "<f4"),
            ("intensity", "<f4"),
            ("instance", "<u2"),
            ("class", "u1"),
            ("ring", "<i4"),
        ],
    )
    np.testing.assert_array_equal(records["z"], points[:, 2].astype(np.float32))
    np.testing.assert_array_equal(records["instance"], fields["instance"])
    np.testing.assert_array_equal(records["ring"], fields["ring"])


def test_pcd_and_ply_read_back_with_open3d_when_installed(tmp_path):
    o3d = pytest.importorskip("open3d")
    points, fields = _cloud()
    write_pcd(tmp_path / "a.pcd", points, {"intensity": fields["intensity"]})
    write_ply(tmp_path / "a.ply", points, fields)
    for name in ("a.pcd", "a.ply"):
        cloud = o3d.io.read_point_cloud(str(tmp_path / name))
        np.testing.assert_allclose(np.asarray(cloud.points), points.astype(np.float32), rtol=1e-6, err_msg=name)


def test_lidar_scan_fields(tmp_path):
    scan = LidarScan(
        sensor_to_world=np.eye(4),
        points_sensor=np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32),
        intensity=np.array([0.5, 0.25], np.float32),
        ring=np.array([3, 7], np.int32),
        instance=np.array([0, 2], np.int32),
        class_id=np.array([1, 5], np.int32),
        n_beams_fired=10,
    )
    write_ply(tmp_path / "scan.ply", *scan_point_fields(scan))
    data = PlyData.read(str(tmp_path / "scan.ply"))["vertex"].data
    assert data["class"].tolist() == [1, 5] and data["instance"].tolist() == [0, 2] and data["y"].tolist() == [2.0, 5.0]


@pytest.mark.parametrize(
    "points, fields, problem",
    [
        (np.zeros((3, 2)), {}, "points must have shape [N,3]"),
        (np.zeros((3, 3)), {"intensity": np.zeros(4, np.float32)}, "field 'intensity' has shape [4]"),
        (np.zeros((3, 3)), {"instance": np.zeros(3, np.int64)}, "dtype int64"),
        (np.zeros((3, 3)), {"x": np.zeros(3, np.float32)}, "duplicate point field name 'x'"),
    ],
)
def test_bad_input_names_the_file(tmp_path, points, fields, problem):
    for write in (write_ply, write_pcd):
        with pytest.raises(NerfgenError) as e:
            write(tmp_path / "bad.out", points, fields)
        assert str(e.value).startswith(str(tmp_path / "bad.out")) and problem in str(e.value)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(NerfgenError, match="cannot write file"):
        write_ply(tmp_path / "missing_dir" / "a.ply", np.zeros((1, 3)))
