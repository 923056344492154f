"""Reading frame files (images, masks, depth maps) into a `Dataset`, with downscaling.

Downscaling by an integer K crops the right/bottom W % K, H % K pixels and averages
each K x K block (area averaging), so the downscaled cameras are exactly
`cameras.rescaled(K)` (continuous point u maps to u / K, size floor(W / K)). Per kind:
- RGB with alpha: the average of the full-resolution composite over the background
  (computed from the averaged premultiplied colour; averaging straight RGB and alpha
  separately would be wrong at edges);
- alpha: averaged;
- depth_z: mean of the valid (> 0) pixels of the block, 0 where none is valid;
- masks: True only where every pixel of the block is True (mixed blocks are excluded).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from nerfgen.cameras import DISTORTION_COEFFS, Cameras
from nerfgen.data.dataset import Dataset
from nerfgen.errors import NerfgenError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG")


@dataclass
class FrameFiles:
    """The files of one frame; `source` (the index file) is named in errors."""

    image: Path
    mask: Path | None = None
    depth: Path | None = None  # depth_z: .npy float32 or 16-bit PNG
    # Metres per stored depth unit, as nerfstudio's depth_unit_scale_factor (which it
    # applies to .npy and PNG alike); None: .npy is metres, PNG is millimetres.
    depth_unit_scale: float | None = None
    source: Path | None = None


@dataclass
class FrameIndex:
    """Everything about a dataset except pixel data: full-resolution cameras and file paths."""

    root: Path
    cameras: Cameras
    frames: list[FrameFiles]
    splits: dict[str, torch.Tensor] = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    def load(self, downscale: int = 1, background=(1.0, 1.0, 1.0)) -> Dataset:
        return load_frames(self, downscale, background)


def merge_cameras(cams: list[dict], path: Path) -> Cameras:
    """One Cameras batch from per-frame `Cameras.create` keyword dicts (c2w [4,4] each).

    A batch has one distortion model: pinhole frames join OpenCV ones exactly (zero
    coefficients); a fisheye with zero coefficients is not a pinhole, so fisheye mixed
    with anything else is an error.
    """
    models = {c["distortion"] for c in cams}
    if models == {"none", "opencv"}:
        models = {"opencv"}
    if len(models) > 1:
        raise NerfgenError(path, f"frames mix distortion models {sorted(models)}; one model per dataset")
    model = models.pop()
    k = len(DISTORTION_COEFFS[model])
    coeffs = [c["dist_coeffs"] if c["distortion"] == model else [0.0] * k for c in cams]
    return Cameras.create(
        torch.stack([torch.as_tensor(c["c2w"], dtype=torch.float32) for c in cams]),
        **{key: [c[key] for c in cams] for key in ("fx", "fy", "cx", "cy", "width", "height")},
        distortion=model,
        dist_coeffs=torch.tensor(coeffs, dtype=torch.float32).reshape(len(cams), k),
        path=path,
    )


def resolve_image(root: Path, name: str, source: Path, what: str) -> Path:
    """`root / name`, trying image suffixes when `name` has none (Blender writes "./train/r_0")."""
    path = root / name
    if path.is_file():
        return path
    for suffix in IMAGE_SUFFIXES:
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            return candidate
    raise NerfgenError(path, f"{what} not found (listed in {source})")


def open_image(path: Path) -> Image.Image:
    try:
        im = Image.open(path)
        im.load()
    except FileNotFoundError:
        raise NerfgenError(path, "image not found") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise NerfgenError(path, f"cannot read image: corrupt or unsupported ({e})") from None
    return im


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file header, without decoding pixels."""
    try:
        with Image.open(path) as im:
            return im.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise NerfgenError(path, f"cannot read image: corrupt or unsupported ({e})") from None


def read_rgba(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(rgb [H,W,3] float32 in [0,1], alpha [H,W] float32 or None)."""
    im = open_image(path)
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        gray = np.asarray(im, dtype=np.float32) / 65535.0
        return np.repeat(gray[..., None], 3, -1), None
    if im.mode == "F":
        gray = np.asarray(im, dtype=np.float32)
        return np.repeat(gray[..., None], 3, -1), None
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    arr = np.asarray(im.convert("RGBA" if has_alpha else "RGB"), dtype=np.float32) / 255.0
    return (arr[..., :3], arr[..., 3]) if has_alpha else (arr, None)


def read_mask(path: Path) -> np.ndarray:
    """[H,W] bool, True where the mask is non-zero."""
    im = open_image(path)
    arr = np.asarray(im) if im.mode in ("I;16", "I;16B", "I;16L", "I", "F") else np.asarray(im.convert("L"))
    return arr > 0


def read_depth(path: Path, unit_scale: float | None) -> np.ndarray:
    """[H,W] float32 depth_z in metres, 0 where invalid (non-finite or non-positive)."""
    if path.suffix.lower() == ".npy":
        try:
            depth = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise NerfgenError(path, "depth file not found") from None
        except (OSError, ValueError) as e:
            raise NerfgenError(path, f"cannot read depth .npy ({e})") from None
        depth = np.asarray(depth, dtype=np.float32)
        if depth.ndim == 3 and depth.shape[-1] == 1:
            depth = depth[..., 0]
        if depth.ndim != 2:
            raise NerfgenError(path, f"depth must be [H,W], got shape {list(depth.shape)}")
        if unit_scale is not None:
            depth = depth * np.float32(unit_scale)
    else:
        im = open_image(path)
        if im.mode not in ("I;16", "I;16B", "I;16L", "I"):
            raise NerfgenError(path, f"depth PNG must be 16-bit single channel, got mode {im.mode}")
        depth = np.asarray(im, dtype=np.float32) * np.float32(1e-3 if unit_scale is None else unit_scale)
    return np.where(np.isfinite(depth) & (depth > 0), depth, 0.0).astype(np.float32)


def _blocks(arr: np.ndarray, k: int) -> np.ndarray:
    """[H,W,...] -> view [H//k, k, W//k, k, ...] after cropping the remainder; reduce over axes (1, 3)."""
    h, w = arr.shape[0] // k, arr.shape[1] // k
    return arr[: h * k, : w * k].reshape(h, k, w, k, *arr.shape[2:])


def downsample_mean(arr: np.ndarray, k: int) -> np.ndarray:
    """Block mean of float32 [H,W,...]; k strided in-place adds per axis are ~3x faster than .mean."""
    if k == 1:
        return arr
    blocks = _blocks(arr, k)
    rows = blocks[:, :, :, 0].copy()
    for i in range(1, k):
        rows += blocks[:, :, :, i]
    out = rows[:, 0].copy()
    for i in range(1, k):
        out += rows[:, i]
    return out * np.float32(1.0 / (k * k))


def downsample_depth(depth: np.ndarray, k: int) -> np.ndarray:
    if k == 1:
        return depth
    blocks = _blocks(depth, k)
    count = (blocks > 0).sum(axis=(1, 3))
    return np.where(count > 0, blocks.sum(axis=(1, 3)) / np.maximum(count, 1), 0.0).astype(np.float32)


def downsample_mask(mask: np.ndarray, k: int) -> np.ndarray:
    return mask if k == 1 else _blocks(mask, k).all(axis=(1, 3))


def _check_size(path: Path, arr: np.ndarray, width: int, height: int, what: str, source: Path | None) -> None:
    if arr.shape[:2] != (height, width):
        where = f" (intrinsics from {source})" if source is not None else ""
        raise NerfgenError(path, f"{what} is {arr.shape[1]}x{arr.shape[0]} but the camera says {width}x{height}{where}")


def load_frames(index: FrameIndex, downscale: int = 1, background=(1.0, 1.0, 1.0)) -> Dataset:
    """Decodes all frames of `index` (in a thread pool) into a Dataset at 1/downscale resolution."""
    if not isinstance(downscale, int) or downscale < 1:
        raise NerfgenError(index.root, f"downscale must be a positive integer, got {downscale!r}")
    cams = index.cameras
    if len(set(cams.width.tolist())) > 1 or len(set(cams.height.tolist())) > 1:
        raise NerfgenError(index.root, "frames have different image sizes; one size per dataset is supported")
    width, height = int(cams.width[0]), int(cams.height[0])
    if width < downscale or height < downscale:
        raise NerfgenError(index.root, f"downscale {downscale} is larger than the {width}x{height} images")
    bg = np.asarray(background, dtype=np.float32).reshape(3)

    def load_one(f: FrameFiles):
        rgb, alpha = read_rgba(f.image)
        _check_size(f.image, rgb, width, height, "image", f.source)
        if alpha is not None:
            # Block mean of (rgb a + bg (1 - a)) = mean(rgb a) + bg (1 - mean(a)): average the
            # premultiplied colour, then composite at the low resolution (fewer full-size passes).
            premultiplied = downsample_mean(rgb * alpha[..., None], downscale)
            alpha = downsample_mean(alpha, downscale)
            rgb = premultiplied + bg * (1.0 - alpha[..., None])
        else:
            rgb = downsample_mean(rgb, downscale)
        mask = depth = None
        if f.mask is not None:
            mask = read_mask(f.mask)
            _check_size(f.mask, mask, width, height, "mask", f.source)
            mask = downsample_mask(mask, downscale)
        if f.depth is not None:
            depth = read_depth(f.depth, f.depth_unit_scale)
            _check_size(f.depth, depth, width, height, "depth map", f.source)
            depth = downsample_depth(depth, downscale)
        return rgb, alpha, depth, mask

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        loaded = list(pool.map(load_one, index.frames))

    size = loaded[0][0].shape[:2]

    def stack(i: int, fill) -> torch.Tensor | None:
        """Stacks optional item i of every frame; frames without it get `fill`."""
        items = [item[i] for item in loaded]
        if all(x is None for x in items):
            return None
        return torch.from_numpy(np.stack([np.full(size, fill) if x is None else x for x in items]))

    images = torch.from_numpy(np.stack([item[0] for item in loaded]).astype(np.float32, copy=False))
    alphas = stack(1, np.float32(1.0))
    depths = stack(2, np.float32(0.0))
    masks = stack(3, True)
    return Dataset(
        root=index.root,
        cameras=cams.rescaled(downscale) if downscale != 1 else cams,
        image_paths=[f.image for f in index.frames],
        images=images,
        alphas=alphas,
        depths_z=depths,
        masks=masks,
        splits=dict(index.splits),
        background=tuple(float(x) for x in bg),
        metadata=dict(index.metadata),
    )
