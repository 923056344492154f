"""Datasets: nerfstudio/Blender loading and writing, downscaling, splits, bad input."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nerfgen.cameras import Cameras
from nerfgen.data import holdout_split, load_dataset, load_transforms, read_transforms, write_transforms
from nerfgen.errors import NerfgenError

DATA = Path(__file__).parents[1] / ".." / "shared" / "data"
LEGO = DATA / "nerf_synthetic" / "lego"
needs_lego = pytest.mark.skipif(
    not (LEGO / "transforms_train.json").is_file(), reason=f"lego dataset not found at {LEGO}"
)


def rotation_z(angle: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)


def make_cameras(n=3, distortion="none", coeffs=None, width=8, height=6) -> Cameras:
    c2w = torch.eye(4, dtype=torch.float64).repeat(n, 1, 1)
    for i in range(n):
        # Cameras on a circle looking at the origin: OpenCV z = towards origin, y = down.
        angle = 2 * math.pi * i / n
        eye = torch.tensor([3 * math.cos(angle), 3 * math.sin(angle), 1.0], dtype=torch.float64)
        z = -eye / eye.norm()
        x = torch.linalg.cross(z, torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
        x = x / x.norm()
        c2w[i, :3, :3] = torch.stack([x, torch.linalg.cross(z, x), z], -1)
        c2w[i, :3, 3] = eye
    return Cameras.create(
        c2w, [10.0 + i for i in range(n)], 11.5, width / 2 + 0.25, height / 2, width, height, distortion, coeffs
    )


def write_scene(root: Path, cams: Cameras, rgba: bool = True, **kwargs) -> Path:
    """Random small RGBA images plus transforms.json; returns the json path."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    names = []
    for i in range(len(cams)):
        h, w = int(cams.height[i]), int(cams.width[i])
        pixels = rng.integers(0, 256, size=(h, w, 4 if rgba else 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / f"img_{i}.png")
        names.append(f"img_{i}.png")
    return write_transforms(root, cams, names, **kwargs)


def edit_json(path: Path, fn) -> None:
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc))


# --- real data --------------------------------------------------------------------------


@needs_lego
def test_lego_cameras_full_resolution():
    index = read_transforms(LEGO)  # JSON and image headers only
    assert len(index.frames) == 100 and index.splits["train"].tolist() == list(range(100))
    assert torch.allclose(index.cameras.fx, torch.full((100,), 1111.111), atol=1e-2)
    assert torch.equal(index.cameras.cx, torch.full((100,), 400.0))
    assert index.cameras.width.unique().tolist() == [800]
    # Lego cameras look at the origin: the OpenCV forward axis points from the centre to it.
    c2w = index.cameras.c2w
    to_origin = -c2w[:, :3, 3] / c2w[:, :3, 3].norm(dim=-1, keepdim=True)
    assert (torch.einsum("ci,ci->c", c2w[:, :3, 2], to_origin) > 0.99).all()
    raw = json.loads((LEGO / "transforms_train.json").read_text())["frames"][0]["transform_matrix"]
    assert torch.allclose(c2w[0, :3, 3], torch.tensor(raw, dtype=torch.float32)[:3, 3])


@needs_lego
def test_lego_downscale_8():
    ds = load_dataset(LEGO, downscale=8)
    assert ds.images.shape == (100, 100, 100, 3) and ds.alphas.shape == (100, 100, 100)
    assert torch.allclose(ds.cameras.fx, torch.full((100,), 138.889), atol=1e-3)
    assert ds.cameras.width.unique().tolist() == [100] and torch.equal(ds.cameras.cx, torch.full((100,), 50.0))
    empty = ds.alphas == 0
    assert empty.float().mean() > 0.3  # plenty of background
    assert torch.equal(ds.images[empty], torch.ones_like(ds.images[empty]))  # composited on white
    assert ds.images.min() >= 0 and ds.images.max() <= 1
    assert ds.image_paths[0].name == "r_0.png"


# --- synthetic datasets -----------------------------------------------------------------


@pytest.mark.parametrize(
    "distortion, coeffs",
    [("none", None), ("opencv", [-0.1, 0.02, 0.001, -0.002, 0.003]), ("fisheye", [0.05, -0.01, 0.002, -0.0005])],
)
def test_write_load_round_trip(tmp_path, distortion, coeffs):
    cams = make_cameras(distortion=distortion, coeffs=coeffs)
    path = write_scene(tmp_path / "a", cams, extras={"aabb": [[-1, -1, -1], [1, 1, 1]], "gt_sidecar": "gt.json"})
    loaded = read_transforms(path).cameras
    assert loaded.distortion == distortion
    assert (loaded.c2w - cams.c2w).abs().max() < 1e-6
    for name in ("fx", "fy", "cx", "cy", "width", "height", "dist_coeffs"):
        assert torch.equal(getattr(loaded, name), getattr(cams, name)), name
    ds = load_transforms(tmp_path / "a")
    assert ds.metadata == {"aabb": [[-1, -1, -1], [1, 1, 1]], "gt_sidecar": "gt.json"}
    # Deterministic bytes.
    again = write_scene(tmp_path / "b", cams, extras={"gt_sidecar": "gt.json", "aabb": [[-1, -1, -1], [1, 1, 1]]})
    assert path.read_bytes() == again.read_bytes()
    frame = json.loads(path.read_text())["frames"][1]
    assert frame["fl_x"] == 11.0 and frame["w"] == 8 and frame["h"] == 6
    # OpenGL on disk: the stored z column is the negated OpenCV forward axis.
    assert torch.allclose(torch.tensor(frame["transform_matrix"])[:3, 2], -cams.c2w[1, :3, 2], atol=1e-6)


def test_rgba_composite_and_area_downscale(tmp_path):
    cams = make_cameras(n=1, width=4, height=4)
    pixels = np.zeros((4, 4, 4), np.uint8)
    pixels[0, :2] = [255, 0, 0, 255]  # top-left 2x2 block: two opaque red, two transparent
    pixels[2:, 2:] = [0, 0, 255, 255]  # bottom-right block: opaque blue
    (tmp_path / "s").mkdir()
    Image.fromarray(pixels).save(tmp_path / "s" / "im.png")
    write_transforms(tmp_path / "s", cams, ["im.png"])
    full = load_transforms(tmp_path / "s", background=(0.0, 1.0, 0.0))
    assert torch.equal(full.images[0, 1, 0], torch.tensor([0.0, 1.0, 0.0]))  # transparent -> green
    half = load_transforms(tmp_path / "s", downscale=2, background=(1.0, 1.0, 1.0))
    assert half.images.shape == (1, 2, 2, 3)
    assert torch.allclose(half.images[0, 0, 0], torch.tensor([1.0, 0.5, 0.5]))  # red over white, averaged
    assert torch.allclose(half.images[0, 1, 1], torch.tensor([0.0, 0.0, 1.0]))
    assert half.alphas[0].tolist() == [[0.5, 0.0], [0.0, 1.0]]
    assert torch.equal(half.cameras.fx, cams.fx / 2) and half.cameras.width.tolist() == [2]


def test_depth_and_masks(tmp_path):
    cams = make_cameras(n=2, width=4, height=4)
    root = tmp_path / "d"
    root.mkdir()
    depth = np.arange(16, dtype=np.float32).reshape(4, 4) * 0.5  # pixel (0,0) invalid (0)
    np.save(root / "d0.npy", depth)
    Image.fromarray((depth * 1000).astype(np.uint16)).save(root / "d1.png")  # millimetres
    mask = np.ones((4, 4), np.uint8) * 255
    mask[3, 3] = 0
    Image.fromarray(mask).save(root / "m0.png")
    extras = [{"depth_file_path": "d0.npy", "mask_path": "m0.png"}, {"depth_file_path": "d1.png"}]
    write_scene(root, cams, frame_extras=extras)
    ds = load_transforms(root)
    assert torch.equal(ds.depths_z[0], torch.from_numpy(depth))
    assert torch.allclose(ds.depths_z[1], torch.from_numpy(depth), atol=1e-6)
    assert ds.masks[0].sum() == 15 and not ds.masks[0, 3, 3] and ds.masks[1].all()
    # An explicit depth_unit_scale_factor applies to .npy too (nerfstudio semantics).
    edit_json(root / "transforms.json", lambda d: d["frames"][0].update(depth_unit_scale_factor=2.0))
    assert torch.equal(load_transforms(root).depths_z[0], torch.from_numpy(depth) * 2)
    edit_json(root / "transforms.json", lambda d: d["frames"][0].pop("depth_unit_scale_factor"))
    half = load_transforms(root, downscale=2)
    # Top-left block {0, 0.5, 2, 2.5}: mean of the three valid values.
    assert half.depths_z[0, 0, 0].item() == pytest.approx((0.5 + 2.0 + 2.5) / 3)
    assert half.masks[0].tolist() == [[True, True], [True, False]]


def test_nerfstudio_splits_and_subset(tmp_path):
    cams = make_cameras(n=4)
    path = write_scene(
        tmp_path, cams, extras={"train_filenames": ["img_0.png", "./img_2.png"], "test_filenames": ["img_3"]}
    )
    ds = load_transforms(path)
    assert ds.splits["train"].tolist() == [0, 2] and ds.splits["test"].tolist() == [3]
    test = ds.subset("test")
    assert len(test) == 1 and test.image_paths[0].name == "img_3.png"
    assert torch.equal(test.images[0], ds.images[3]) and torch.equal(test.cameras.c2w[0], ds.cameras.c2w[3])
    with pytest.raises(NerfgenError, match="no split 'val'"):
        ds.subset("val")


def test_blender_split_files(tmp_path):
    write_scene(tmp_path / "x", make_cameras(n=3), rgba=False)
    frames = json.loads((tmp_path / "x" / "transforms.json").read_text())["frames"]
    for split, idx in (("train", [0, 1]), ("test", [2])):
        doc = {
            "camera_angle_x": 0.5,
            "frames": [
                {"file_path": "./x/" + frames[i]["file_path"][:-4], "transform_matrix": frames[i]["transform_matrix"]}
                for i in idx
            ],
        }
        (tmp_path / f"transforms_{split}.json").write_text(json.dumps(doc))
    ds = load_dataset(tmp_path)
    assert ds.splits["train"].tolist() == [0, 1] and ds.splits["test"].tolist() == [2]
    assert ds.alphas is None
    assert ds.cameras.fx[0].item() == pytest.approx(0.5 * 8 / math.tan(0.25))


def test_holdout_split():
    s = holdout_split(20)
    assert s["test"].tolist() == [0, 8, 16]
    assert s["train"].tolist() == [i for i in range(20) if i % 8]


# --- bad input ----------------------------------------------------------------------------


def _bad(tmp_path, fn):
    path = write_scene(tmp_path, make_cameras(n=2))
    fn(path)
    return path


@pytest.mark.parametrize(
    "corrupt, file, problem",
    [
        (
            lambda p: p.write_text('{"frames": [\n  {"file_path": "img_0.png",}\n]}'),
            "transforms.json",
            r"malformed JSON at line 2, column 29",
        ),
        (
            lambda p: edit_json(p, lambda d: d["frames"][1].pop("transform_matrix")),
            "transforms.json",
            r"frame 1: missing key 'transform_matrix'",
        ),
        (
            lambda p: edit_json(p, lambda d: d["frames"][0].pop("fl_x")),
            "transforms.json",
            r"frame 0: missing key 'fl_x'",
        ),
        (lambda p: (p.parent / "img_1.png").unlink(), "img_1.png", r"image of frame 1 not found"),
        (
            lambda p: edit_json(
                p, lambda d: d.update(w=16, frames=[{k: v for k, v in f.items() if k != "w"} for f in d["frames"]])
            ),
            "img_0.png",
            r"image is 8x6 but the camera says 16x6",
        ),
        (
            lambda p: edit_json(p, lambda d: d["frames"][0]["transform_matrix"][0].__setitem__(1, float("nan"))),
            "transforms.json",
            r"frame 0: pose contains NaN",
        ),
        (
            lambda p: edit_json(p, lambda d: d["frames"][1]["transform_matrix"][0].__setitem__(0, 2.0)),
            "transforms.json",
            r"frame 1: pose rotation is not rigid",
        ),
        (
            lambda p: edit_json(p, lambda d: d["frames"][0].update(camera_model="EQUIRECTANGULAR")),
            "transforms.json",
            r"unknown camera_model 'EQUIRECTANGULAR'",
        ),
        (lambda p: edit_json(p, lambda d: d.update(frames=[])), "transforms.json", r"'frames' is missing or empty"),
        (
            lambda p: (p.parent / "img_0.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage"),
            "img_0.png",
            r"cannot read image",
        ),
        (
            lambda p: edit_json(p, lambda d: d["frames"][0].update(depth_file_path="nope.npy")),
            "nope.npy",
            r"depth_file_path of frame 0 not found",
        ),
        (
            lambda p: edit_json(p, lambda d: d.update(test_filenames=["other.png"])),
            "transforms.json",
            r"'test_filenames' lists 'other.png'",
        ),
    ],
    ids=[
        "json",
        "no-pose",
        "no-focal",
        "no-image",
        "size",
        "nan",
        "non-rigid",
        "model",
        "empty",
        "corrupt",
        "no-depth",
        "split",
    ],
)
def test_bad_input_names_file_and_problem(tmp_path, corrupt, file, problem):
    _bad(tmp_path, corrupt)
    with pytest.raises(NerfgenError, match=problem) as e:
        load_dataset(tmp_path)
    assert file in str(e.value) and "\n" not in str(e.value)


def test_no_dataset_here(tmp_path):
    with pytest.raises(NerfgenError, match="no dataset found") as e:
        load_dataset(tmp_path)
    assert str(tmp_path) in str(e.value)
    with pytest.raises(NerfgenError, match="does not exist"):
        load_dataset(tmp_path / "missing")
