"""LLFF captures: `poses_bounds.npy` with `images/` and/or `images_N/` folders.

poses_bounds.npy is an N x 17 array: per image a row-major 3x5 matrix [R | t | (h, w, f)]
and then its near and far depth bounds. R's columns are the camera's down, right and
backwards axes in the world, t its centre, (h, w, f) the full-resolution image size and
focal length in pixels. Row i belongs to the i-th image of a folder in name order.

- Cameras: pinhole, OpenCV axes (right, down, forward) = (R[:,1], R[:,0], -R[:,2]),
  principal point at the image centre (W/2, H/2 in nerfgen's corner convention).
- World: LLFF's (COLMAP's) world turned by the smallest rotation that takes the mean of
  the cameras' up axes to +z (nerfstudio's "up" orientation); that rotation is
  `metadata["world_from_llff"]` [4,4]. Units are the reconstruction's, not metres.
- Bounds: `metadata["bounds"]` [C,2] float32, each image's (near, far) depth_z bounds.
- Resolution: `downscale` K asks for the full size / K. `images_K/` is read as it is when
  present; else the smallest folder whose images are at least floor(W/K) x floor(H/K) is
  box-filtered to that size, or the largest folder is read as it is when all are smaller
  (upsampling adds no detail). Folder names are not trusted for sizes (copies of these sets
  ship `images/` already reduced): the focal length is always scaled from `hwf` to the
  images actually read, fx = f w / W and fy = f h / H.
- Splits: every `holdout_every`-th image (0, k, 2k, ...) is "test", the rest "train".
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from nerfgen.cameras import Cameras, check_poses
from nerfgen.data.dataset import Dataset, holdout_split
from nerfgen.data.frames import IMAGE_SUFFIXES, image_size, read_rgba
from nerfgen.errors import NerfgenError

POSES_BOUNDS = "poses_bounds.npy"
ROW_SIZE = 17  # 3x5 pose-and-hwf matrix + near, far


def read_poses_bounds(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(c2w [N,4,4] OpenCV axes in LLFF's world, hwf [N,3], bounds [N,2]) from poses_bounds.npy."""
    try:
        table = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise NerfgenError(path, f"cannot read poses_bounds array ({e})") from None
    if (
        table.ndim != 2
        or table.shape[0] == 0
        or table.shape[1] != ROW_SIZE
        or not np.issubdtype(table.dtype, np.number)
    ):
        raise NerfgenError(
            path, f"expected a numeric N x {ROW_SIZE} array, got {table.dtype} of shape {list(table.shape)}"
        )
    table = table.astype(np.float64)
    bad = ~np.isfinite(table).all(axis=1)
    if bad.any():
        raise NerfgenError(path, f"row {int(np.argmax(bad))} holds NaN or inf")
    matrices = table[:, :15].reshape(-1, 3, 5)
    hwf, bounds = matrices[:, :, 4], table[:, 15:]
    for i in range(len(table)):
        if (hwf[i] <= 0).any() or not 0 < bounds[i, 0] <= bounds[i, 1]:
            raise NerfgenError(
                path,
                f"row {i}: need positive h, w, f and 0 < near <= far, "
                f"got hwf {hwf[i].tolist()}, bounds {bounds[i].tolist()}",
            )
    down, right, backwards = matrices[:, :, 0], matrices[:, :, 1], matrices[:, :, 2]
    c2w = np.tile(np.eye(4), (len(table), 1, 1))
    c2w[:, :3, :3] = np.stack([right, down, -backwards], axis=-1)
    c2w[:, :3, 3] = matrices[:, :, 3]
    check_poses(torch.from_numpy(c2w), path)
    return c2w, hwf, bounds


def up_to_z(c2w: np.ndarray) -> np.ndarray:  # [N,4,4] -> [4,4]
    """The smallest rotation taking the cameras' mean up axis (-y in OpenCV) to +z (Rodrigues)."""
    up = -c2w[:, :3, 1].mean(axis=0)
    up /= np.linalg.norm(up)
    axis, cos = np.cross(up, [0.0, 0.0, 1.0]), up[2]
    world = np.eye(4)
    if 1.0 + cos < 1e-9:  # up is -z: any half turn about a horizontal axis
        world[:3, :3] = np.diag([1.0, -1.0, -1.0])
        return world
    skew = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    world[:3, :3] = np.eye(3) + skew + skew @ skew / (1.0 + cos)
    return world


def image_folders(root: Path) -> dict[Path, list[Path]]:
    """`images/` and `images_*/` folders holding images -> their image files in name order."""
    found = {}
    for folder in sorted(
        p for p in root.glob("images*") if p.is_dir() and (p.name == "images" or p.name.startswith("images_"))
    ):
        files = sorted(p for p in folder.iterdir() if p.suffix in IMAGE_SUFFIXES)
        if files:
            found[folder] = files
    return found


def choose_folder(
    root: Path, full_size: tuple[int, int], downscale: int
) -> tuple[list[Path], tuple[int, int], tuple[int, int]]:
    """The images to read, their (width, height) and the size to read them at (module docstring)."""
    folders = image_folders(root)
    if not folders:
        raise NerfgenError(root / "images", "no LLFF images folder (images/ or images_N/ with images) found")
    sizes = {folder: image_size(files[0]) for folder, files in folders.items()}
    named = root / f"images_{downscale}"
    if named in folders:
        return folders[named], sizes[named], sizes[named]
    target = (full_size[0] // downscale, full_size[1] // downscale)
    large_enough = [f for f in folders if sizes[f][0] >= target[0] and sizes[f][1] >= target[1]]
    if large_enough:
        nearest = min(large_enough, key=lambda f: sizes[f][0])
        return folders[nearest], sizes[nearest], target
    largest = max(folders, key=lambda f: sizes[f][0])
    return folders[largest], sizes[largest], sizes[largest]


def read_resized(path: Path, folder_size: tuple[int, int], size: tuple[int, int], background: np.ndarray) -> np.ndarray:
    """An image of a folder of `folder_size` images as float32 RGB [H,W,3] (alpha composited
    over `background`), box-filtered to `size` (w, h)."""
    rgb, alpha = read_rgba(path)
    if rgb.shape[1::-1] != folder_size:
        raise NerfgenError(
            path,
            f"is {rgb.shape[1]}x{rgb.shape[0]}, unlike the folder's first image ({folder_size[0]}x{folder_size[1]})",
        )
    if alpha is not None:
        rgb = rgb * alpha[..., None] + background * (1.0 - alpha[..., None])
    if rgb.shape[1::-1] == size:
        return rgb
    channels = [np.asarray(Image.fromarray(rgb[..., c]).resize(size, Image.Resampling.BOX)) for c in range(3)]
    return np.stack(channels, axis=-1)


def load_llff(path: str | Path, downscale: int = 1, background=(1.0, 1.0, 1.0), holdout_every: int = 8) -> Dataset:
    """Loads an LLFF capture (the folder holding poses_bounds.npy); see the module docstring."""
    root = Path(path)
    if not isinstance(downscale, int) or downscale < 1:
        raise NerfgenError(root, f"downscale must be a positive integer, got {downscale!r}")
    c2w, hwf, bounds = read_poses_bounds(root / POSES_BOUNDS)
    full_size = (int(round(hwf[0, 1])), int(round(hwf[0, 0])))
    files, folder_size, (width, height) = choose_folder(root, full_size, downscale)
    if len(files) != len(c2w):
        raise NerfgenError(files[0].parent, f"holds {len(files)} images but {root / POSES_BOUNDS} has {len(c2w)} poses")
    bg = np.asarray(background, dtype=np.float32).reshape(3)
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        images = list(pool.map(lambda p: read_resized(p, folder_size, (width, height), bg), files))
    world = up_to_z(c2w)
    cameras = Cameras.create(
        torch.from_numpy(world @ c2w).float(),
        fx=hwf[:, 2] * width / hwf[:, 1],
        fy=hwf[:, 2] * height / hwf[:, 0],
        cx=width / 2,
        cy=height / 2,
        width=width,
        height=height,
        path=root / POSES_BOUNDS,
    )
    return Dataset(
        root=root,
        cameras=cameras,
        image_paths=files,
        images=torch.from_numpy(np.stack(images).astype(np.float32, copy=False)),
        splits=holdout_split(len(files), holdout_every),
        background=tuple(float(x) for x in bg),
        # world_from_llff is a list: tensor metadata is per image.
        metadata={"bounds": torch.from_numpy(bounds).float(), "world_from_llff": world.tolist()},
    )
