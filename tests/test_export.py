"""`nerfgen export`: raw dataset -> formats, dataset-level atomicity, resume, bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import yaml
from PIL import Image
from plyfile import PlyData
from scipy.ndimage import binary_dilation
from test_writers_fixtures import cameras, scene_and_frames, scene_data, tree_bytes, write_all

from nerfgen.cli import main
from nerfgen.errors import NerfgenError
from nerfgen.writers import export, raw
from nerfgen.writers.coco import CocoWriter
from nerfgen.writers.encode import json_bytes
from nerfgen.writers.export import export_raw
from nerfgen.writers.info import DatasetInfo
from nerfgen.writers.kitti import KittiWriter
from nerfgen.writers.nerfstudio_export import NerfstudioWriter

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def make_raw(root, scene_file=None):
    """The fixture frames (frame 1 with its LiDAR sweep) as a raw dataset."""
    scene, frames = scene_and_frames()
    for f in frames:
        raw.write_raw_frame(root, f.maps, f.labels, lidar=f.lidar)
    meta = raw.raw_meta(scene.instances, len(frames), scene=scene_file, seed=7, command=["nerfgen", "render"])
    (root / raw.META_NAME).write_bytes(json_bytes(meta))
    return root


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory):
    return make_raw(tmp_path_factory.mktemp("raw") / "raw")


def without_manifest(tree: dict) -> dict:
    return {k: v for k, v in tree.items() if not k.endswith("manifest.json")}


def test_export_equals_writers_fed_directly(raw_dir, tmp_path):
    _, frames = scene_and_frames()
    out = export_raw(raw_dir, tmp_path / "out", "kitti,coco,nerfstudio", progress=False)
    assert sorted(p.name for p in out.iterdir()) == [".nerfgen-output", "coco", "kitti", "nerfstudio"]
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    for name, writer in (("kitti", KittiWriter), ("coco", CocoWriter), ("nerfstudio", NerfstudioWriter)):
        direct = write_all(writer, tmp_path / "direct" / name, frames, DatasetInfo(seed=7))
        assert without_manifest(tree_bytes(out / name)) == without_manifest(tree_bytes(direct)), name
        manifest = json.loads((out / name / "manifest.json").read_text())
        assert manifest["seed"] == 7
        assert manifest["command"] == [
            "nerfgen",
            "export",
            str(raw_dir),
            "--out",
            str(tmp_path / "out"),
            "--format",
            "kitti,coco,nerfstudio",
        ]
    assert (out / "kitti/training/velodyne/000001.bin").is_file()


def _fail_on_frame(monkeypatch, index):
    real = raw.read_raw_frame

    def read(root, i):
        if i == index:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C here
        return real(root, i)

    monkeypatch.setattr(export, "read_raw_frame", read)  # the name export_raw reads frames through


def test_interrupted_then_resumed_export_is_byte_identical(raw_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    formats = "kitti,coco,bop,nerfstudio"
    whole = tree_bytes(export_raw(raw_dir, out, formats, progress=False))
    shutil.rmtree(out)
    with monkeypatch.context() as patch:
        _fail_on_frame(patch, 1)
        with pytest.raises(KeyboardInterrupt):
            export_raw(raw_dir, out, formats, resume=True, progress=False)
    partial = tmp_path / ".out.partial"
    assert not out.exists() and (partial / "kitti/training/image_2/000000.png").is_file()
    assert export_raw(raw_dir, out, formats, resume=True, progress=False) == out
    assert tree_bytes(out) == whole
    assert not partial.exists()


def test_failed_export_without_resume_leaves_nothing(raw_dir, tmp_path, monkeypatch):
    previous = tree_bytes(export_raw(raw_dir, tmp_path / "out", "kitti", progress=False))
    _fail_on_frame(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        export_raw(raw_dir, tmp_path / "out", "coco", progress=False, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert tree_bytes(tmp_path / "out") == previous  # the previous output is untouched


def test_resume_refuses_a_partial_export_of_another_input(raw_dir, tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        _fail_on_frame(patch, 1)
        with pytest.raises(KeyboardInterrupt):
            export_raw(raw_dir, tmp_path / "out", "kitti", resume=True, progress=False)
    with pytest.raises(NerfgenError, match="cannot resume"):
        export_raw(raw_dir, tmp_path / "out", "coco", resume=True, progress=False)


def _cli_error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


def test_bad_input_is_one_line_and_writes_nothing(raw_dir, tmp_path, capsys):
    out = tmp_path / "out"
    msg = _cli_error(capsys, ["export", str(tmp_path / "missing"), "--out", str(out)])
    assert "missing: raw dataset directory not found" in msg
    msg = _cli_error(capsys, ["export", str(raw_dir), "--out", str(out), "--format", "kitti,yolo"])
    assert "unknown format(s) ['yolo']" in msg
    corrupt = shutil.copytree(raw_dir, tmp_path / "corrupt")
    (corrupt / "labels/000001.json").write_text('{"index": 1, "c2w": [')
    msg = _cli_error(capsys, ["export", str(corrupt), "--out", str(out), "--format", "kitti,bop"])
    assert "000001.json" in msg and "invalid JSON" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt"]  # no out, no partial directory


def test_missing_raw_outputs_are_named(tmp_path, capsys):
    root = make_raw(tmp_path / "raw")
    meta = json.loads((root / raw.META_NAME).read_text())
    meta["outputs"] = ["rgb", "boxes"]
    (root / raw.META_NAME).write_text(json.dumps(meta))
    msg = _cli_error(capsys, ["export", str(root), "--out", str(tmp_path / "out"), "--format", "bop"])
    assert "format bop needs raw outputs ['depth', 'masks']" in msg


@pytest.fixture(scope="module")
def rendered_export(tmp_path_factory):
    """Frames rendered by nerfgen.labels (not the test's own records) exported with the CLI;
    the scene file named in the raw meta gives BOP its models."""
    from nerfgen.labels import render_frames
    from nerfgen.procedural import GTRenderer, load_scene

    tmp = tmp_path_factory.mktemp("rendered")
    scene_file = tmp / "writers.yaml"
    scene_file.write_text(yaml.safe_dump(scene_data()))
    scene = load_scene(scene_file)
    meta = raw.raw_meta(scene.instances, 2, scene=str(scene_file), seed=1)
    rendered = list(render_frames(GTRenderer(scene), cameras()))
    raw.write_raw_dataset(tmp / "raw", lambda first: rendered[first:], meta, progress=False)
    main(["export", str(tmp / "raw"), "--out", str(tmp / "out"), "--format", "bop,kitti"])
    return rendered, tmp / "out"


def test_render_then_export_end_to_end(rendered_export):
    rendered, out = rendered_export
    bop = out / "bop"
    gts = json.loads((bop / "train/000000/scene_gt.json").read_text())
    for frame in rendered:
        for gt, inst in zip(gts[str(frame.labels.index)], frame.labels.instances):
            v = PlyData.read(str(bop / f"models/obj_{gt['obj_id']:06d}.ply"))["vertex"]
            model = np.stack([v["x"], v["y"], v["z"]], 1).astype(np.float64)  # a box: its 8 corners, mm
            cam = model @ np.array(gt["cam_R_m2c"]).reshape(3, 3).T + gt["cam_t_m2c"]
            dist = np.linalg.norm(cam[:, None] - inst.corners_cam[None] * 1000.0, axis=-1)
            assert dist.min(1).max() < 1e-2 and sorted(dist.argmin(1).tolist()) == list(range(8))
    labels = (out / "kitti/training/label_2/000000.txt").read_text().splitlines()
    assert [line.split()[:3] for line in labels] == [["Car", "0.00", "0"], ["Car", "0.00", "1"]]


def _png(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def _surface_points(ply_path, count: int, seed: int = 0) -> np.ndarray:
    """[count,3] points drawn uniformly (by area) on the triangles of a PLY model."""
    ply = PlyData.read(str(ply_path))
    vertices = np.stack([ply["vertex"][k] for k in "xyz"], 1).astype(np.float64)
    triangles = vertices[np.stack(ply["face"]["vertex_indices"])]
    area = np.linalg.norm(np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]), axis=1)
    rng = np.random.default_rng(seed)
    chosen = triangles[rng.choice(len(triangles), count, p=area / area.sum())]
    a, b = rng.uniform(size=(2, count, 1))
    fold = a + b > 1  # reflect into the triangle
    a, b = np.where(fold, 1 - a, a), np.where(fold, 1 - b, b)
    return chosen[:, 0] + a * (chosen[:, 1] - chosen[:, 0]) + b * (chosen[:, 2] - chosen[:, 0])


def test_bop_from_raw_has_amodal_masks_that_model_poses_reproject_onto(rendered_export):
    """mask/ (each object alone, occluded parts included) comes through the raw layout; model
    surface points posed by cam_R_m2c / cam_t_m2c and projected by cam_K land on it, also
    for the partly hidden car."""
    rendered, out = rendered_export
    scene = out / "bop/train/000000"
    doc = {n: json.loads((scene / f"{n}.json").read_text()) for n in ("scene_camera", "scene_gt", "scene_gt_info")}
    occluded_checked = 0
    for frame in rendered:
        im = str(frame.labels.index)
        K = np.array(doc["scene_camera"][im]["cam_K"]).reshape(3, 3)
        for gt_idx, (gt, info) in enumerate(zip(doc["scene_gt"][im], doc["scene_gt_info"][im])):
            name = f"{int(im):06d}_{gt_idx:06d}.png"
            amodal, visible = _png(scene / "mask" / name) == 255, _png(scene / "mask_visib" / name) == 255
            np.testing.assert_array_equal(amodal, frame.alone_masks[gt["obj_id"]])
            assert not (visible & ~amodal).any() and info["px_count_all"] == amodal.sum() > 0
            assert info["visib_fract"] == pytest.approx(visible.sum() / amodal.sum())
            points = _surface_points(out / f"bop/models/obj_{gt['obj_id']:06d}.ply", 2000)
            uv = (points @ np.array(gt["cam_R_m2c"]).reshape(3, 3).T + gt["cam_t_m2c"]) @ K.T
            cols, rows = np.round(uv[:, :2] / uv[:, 2:]).astype(int).T  # integer pixel centres
            inside = (cols >= 0) & (cols < amodal.shape[1]) & (rows >= 0) & (rows < amodal.shape[0])
            on_mask = binary_dilation(amodal, np.ones((3, 3), bool))[rows[inside], cols[inside]]
            assert on_mask.mean() >= 0.99, (im, gt["obj_id"], on_mask.mean())
            occluded_checked += info["visib_fract"] < 0.9
    assert occluded_checked >= 1  # the partly hidden car of frame 0 is among them
