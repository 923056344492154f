"""LLFF captures (poses_bounds.npy + images folders): poses, intrinsics from hwf at the
size actually read, folder choice, bounds, splits, bad inputs; the real flower set."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nerfgen.cameras import project, unproject
from nerfgen.data import load_dataset, load_llff
from nerfgen.errors import NerfgenError

FLOWER = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "nerf_llff_data" / "flower"
H, W, F = 60, 80, 100.0  # full-size hwf of the fixtures

# A levelled camera in a y-down world (COLMAP's usual): columns down, right, backwards.
LOOKING_Z = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])  # looks along +z
LOOKING_X = np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])  # yawed: looks along +x


def llff_row(rotation_columns: np.ndarray, centre, near: float, far: float) -> np.ndarray:
    """rotation_columns: [3,3] whose columns are the camera's down, right, backwards axes."""
    matrix = np.concatenate([rotation_columns, np.reshape(centre, (3, 1)), [[H], [W], [F]]], axis=1)
    return np.concatenate([matrix.reshape(-1), [near, far]])


def write_images(folder: Path, n: int, width: int, height: int, seed: int = 0) -> list[np.ndarray]:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    images = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(n)]
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"IMG_{i:04d}.png")
    return images


def write_capture(root: Path, n: int = 9, folders=((1, W, H), (4, 20, 15))) -> dict[int, list[np.ndarray]]:
    """poses_bounds.npy (camera i at (i, 0, 0), every third one yawed) and image folders
    {factor: (width, height)} (factor 1 is `images/`); returns the images per folder."""
    root.mkdir(parents=True, exist_ok=True)
    rows = [llff_row(LOOKING_X if i % 3 == 2 else LOOKING_Z, (float(i), 0.0, 0.0), 2.0 + i, 50.0 + i) for i in range(n)]
    np.save(root / "poses_bounds.npy", np.stack(rows))
    return {
        factor: write_images(root / ("images" if factor == 1 else f"images_{factor}"), n, w, h, seed=factor)
        for factor, w, h in folders
    }


def test_poses_turned_to_opencv_and_z_up(tmp_path):
    write_capture(tmp_path)
    ds = load_llff(tmp_path)
    # The cameras' up is -y of the LLFF world, so the world turns by -90 degrees about x:
    # (x, y, z) -> (x, z, -y). Camera 0 looks along +z there, so along +y here, with
    # right = +x and down = -z; camera 2 looks along +x there and here, right = -y.
    assert torch.allclose(
        ds.cameras.c2w[0],
        torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]),
        atol=1e-6,
    )
    assert torch.allclose(
        ds.cameras.c2w[2],
        torch.tensor([[0.0, 0.0, 1.0, 2.0], [-1.0, 0.0, 0.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]),
        atol=1e-6,
    )
    assert np.allclose(
        ds.metadata["world_from_llff"], [[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]], atol=1e-12
    )
    assert torch.equal(ds.metadata["bounds"][3], torch.tensor([5.0, 53.0]))


def test_world_already_z_up_is_kept(tmp_path):
    # down = -z, looking along +y: OpenCV (right, down, forward) = (+x, -z, +y), no turn needed.
    rows = [
        llff_row(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]]), (0.0, i, 1.5), 1.0, 9.0)
        for i in range(2)
    ]
    np.save(tmp_path / "poses_bounds.npy", np.stack(rows))
    write_images(tmp_path / "images", 2, W, H)
    ds = load_llff(tmp_path)
    assert torch.allclose(
        ds.cameras.c2w[1],
        torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0], [0.0, -1.0, 0.0, 1.5], [0.0, 0.0, 0.0, 1.0]]),
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "downscale, folder, size, fx, fy",
    [
        (1, "images", (80, 60), 100.0, 100.0),
        (4, "images_4", (20, 15), 25.0, 25.0),
        (2, "images", (40, 30), 50.0, 50.0),  # no images_2: images/ box-filtered to 40x30
        (8, "images_4", (10, 7), 12.5, 100.0 * 7 / 60),  # floor(60 / 8) = 7 rows: fy from the rows read
    ],
)
def test_folder_choice_and_focal_from_the_size_read(tmp_path, downscale, folder, size, fx, fy):
    write_capture(tmp_path)
    ds = load_llff(tmp_path, downscale=downscale)
    assert ds.image_paths[0].parent.name == folder
    assert ds.images.shape == (9, size[1], size[0], 3)
    assert torch.allclose(ds.cameras.fx, torch.tensor(fx)) and torch.allclose(ds.cameras.fy, torch.tensor(fy))
    assert (ds.cameras.cx == size[0] / 2).all() and (ds.cameras.cy == size[1] / 2).all()
    assert (ds.cameras.width == size[0]).all() and (ds.cameras.height == size[1]).all()


def test_box_filter_is_the_block_mean(tmp_path):
    full = write_capture(tmp_path)[1]
    ds = load_llff(tmp_path, downscale=2)
    expected = full[3].astype(np.float64).reshape(30, 2, 40, 2, 3).mean(axis=(1, 3)) / 255.0
    assert np.abs(ds.images[3].numpy() - expected).max() < 1e-5


def test_images_folder_already_reduced(tmp_path):
    # Copies of LLFF sets ship images/ at 1/4 size while hwf keeps the full 80x60.
    images = write_capture(tmp_path, folders=((1, 20, 15),))[1]
    ds = load_llff(tmp_path)
    assert ds.images.shape == (9, 15, 20, 3)
    assert torch.allclose(ds.cameras.fx, torch.tensor(25.0)) and torch.allclose(ds.cameras.fy, torch.tensor(25.0))
    assert np.array_equal((ds.images[5].numpy() * 255).round().astype(np.uint8), images[5])


def test_splits_bounds_and_load_dataset(tmp_path):
    write_capture(tmp_path)
    ds = load_dataset(tmp_path, downscale=4)
    assert ds.splits["test"].tolist() == [0, 8]
    assert ds.splits["train"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    ds = load_dataset(tmp_path, downscale=4, holdout_every=3)
    assert ds.splits["test"].tolist() == [0, 3, 6]
    test = ds.subset("test")
    assert [p.name for p in test.image_paths] == ["IMG_0000.png", "IMG_0003.png", "IMG_0006.png"]
    assert test.metadata["bounds"].tolist() == [[2.0, 50.0], [5.0, 53.0], [8.0, 56.0]]
    with pytest.raises(NerfgenError, match="frames"):
        load_dataset(tmp_path, frames="0:2")


def one_line_error(call) -> str:
    with pytest.raises(NerfgenError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    return message


def test_malformed_poses_bounds(tmp_path):
    write_capture(tmp_path)
    file = tmp_path / "poses_bounds.npy"
    table = np.load(file)
    np.save(file, table[:, :15])
    assert one_line_error(lambda: load_llff(tmp_path)).startswith(f"{file}: expected a numeric N x 17 array")
    bad = table.copy()
    bad[4, 7] = np.nan
    np.save(file, bad)
    assert one_line_error(lambda: load_llff(tmp_path)) == f"{file}: row 4 holds NaN or inf"
    bad = table.copy()
    bad[1, 15:] = [5.0, 1.0]  # near > far
    np.save(file, bad)
    assert one_line_error(lambda: load_llff(tmp_path)).startswith(
        f"{file}: row 1: need positive h, w, f and 0 < near <= far"
    )
    bad = table.copy()
    bad[2, 0] = 2.0  # scaled rotation
    np.save(file, bad)
    assert "rotation is not rigid" in one_line_error(lambda: load_llff(tmp_path))
    np.save(file, np.array([{"poses": 1}], dtype=object), allow_pickle=True)
    assert one_line_error(lambda: load_llff(tmp_path)).startswith(f"{file}: cannot read poses_bounds array")


def test_missing_or_mismatched_images(tmp_path):
    rows = [llff_row(LOOKING_Z, (float(i), 0.0, 0.0), 1.0, 5.0) for i in range(3)]
    np.save(tmp_path / "poses_bounds.npy", np.stack(rows))
    assert one_line_error(lambda: load_llff(tmp_path)).startswith(f"{tmp_path / 'images'}: no LLFF images folder")
    write_images(tmp_path / "images_8", 2, 10, 7)
    assert one_line_error(lambda: load_llff(tmp_path)).startswith(f"{tmp_path / 'images_8'}: holds 2 images but")
    Image.fromarray(np.zeros((8, 10, 3), dtype=np.uint8)).save(tmp_path / "images_8" / "IMG_0002.png")
    message = one_line_error(lambda: load_llff(tmp_path, downscale=8))
    assert message.startswith(f"{tmp_path / 'images_8' / 'IMG_0002.png'}: is 10x8")


@pytest.mark.skipif(not (FLOWER / "poses_bounds.npy").is_file(), reason=f"LLFF flower not found at {FLOWER}")
def test_real_flower():
    table = np.load(FLOWER / "poses_bounds.npy", allow_pickle=False)
    ds = load_dataset(FLOWER, downscale=8)
    assert len(ds) == 34 and ds.images.shape == (34, 378, 504, 3)
    assert ds.image_paths[0].parent.name == "images_8"
    assert torch.allclose(ds.cameras.fx, torch.from_numpy(table[:, 14] * 504 / table[:, 9]).float())
    assert ds.splits["test"].tolist() == [0, 8, 16, 24, 32]
    # The default asks for the full 4032x3024, which is not there: images_8 as it is.
    assert load_dataset(FLOWER).images.shape == (34, 378, 504, 3)

    c2w = ds.cameras.c2w.double()
    forward = c2w[:, :3, 2]
    mean_forward = forward.mean(0) / forward.mean(0).norm()
    assert (forward @ mean_forward).min() > math.cos(math.radians(15))  # a forward-facing capture
    assert (-c2w[:, :3, 1] @ torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)).min() > math.cos(
        math.radians(15)
    )  # upright
    bounds = ds.metadata["bounds"].double()
    centres = c2w[:, :3, 3]
    assert (centres - centres.mean(0)).norm(dim=-1).max() < bounds[:, 0].min()  # cameras closer together than the scene
    # The points the middle camera sees at its near and far bounds through its image
    # centre are in front of every camera and inside its image.
    middle = int((centres - centres.mean(0)).norm(dim=-1).argmin())
    centre_pixel = torch.tensor([[252.0, 189.0], [252.0, 189.0]])
    points = unproject(ds.cameras, middle, centre_pixel, bounds[middle].float())
    for i in range(len(ds)):
        uv, depth_z = project(ds.cameras, i, points)
        assert (depth_z > 0).all(), i
        assert ((uv >= 0) & (uv <= torch.tensor([504.0, 378.0]))).all(), (i, uv)
