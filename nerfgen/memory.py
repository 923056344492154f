"""Memory a rendering command will need, checked against what the machine has before
anything is allocated: a mistyped size (`--frames 1000000000`, `--width 100000`) is
refused at once, naming the options and the estimate, instead of allocating gigabytes
until the machine swaps or the kernel kills the process.

The estimates are what the renders were measured to hold (peak RSS over sizes, car.yaml
and street.yaml at 400x300 to 1600x1200), rounded up: "about", not an exact bound.
"""

from __future__ import annotations

import os
from pathlib import Path

from nerfgen.errors import NerfgenError

# One frame in memory: rays, hits, RGB, depth, range, normals, label maps, the labels'
# per-object renders and their encodings (measured ~300 bytes per pixel).
FRAME_BYTES_PER_PIXEL = 320
# Each supersample ray of the mixed pixels (s x s per pixel; ~30 bytes per pixel per
# ray on the street, whose edges and textures make it among the most mixed).
SUBPIXEL_RAY_BYTES_PER_PIXEL = 30
# Held for every frame of a sequence from the start: its camera, poses and label records.
BYTES_PER_FRAME = 1024


def available_memory() -> int:
    """Bytes the process can still allocate: the system's MemAvailable, capped by the
    cgroup (container) limit when one is set."""
    available = _meminfo_available()
    limit = _cgroup_room()
    return available if limit is None else min(available, limit)


def _meminfo_available() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _cgroup_room() -> int | None:
    """cgroup v2 memory.max - memory.current, None without a limit."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(int(limit) - int((root / "memory.current").read_text()), 0)
    except (OSError, ValueError):
        return None


def frame_bytes(width: int, height: int, supersample: int = 1) -> int:
    """Estimated bytes of one frame of width x height being rendered and labelled."""
    rays = supersample * supersample if supersample > 1 else 0
    return width * height * (FRAME_BYTES_PER_PIXEL + rays * SUBPIXEL_RAY_BYTES_PER_PIXEL)


def check_fits(options: str, needed: float, what: str) -> None:
    """NerfgenError naming `options` (e.g. "--width 100000 --height 100000") when `needed`
    bytes for `what` exceed the memory available now."""
    available = available_memory()
    if needed > available:
        raise NerfgenError(
            None, f"{options}: needs about {_gb(needed)} for {what}; at most {_gb(available)} is available"
        )


def check_render_fits(
    count_option: str, count: int, width: int, height: int, supersample: int = 1, in_flight: int = 1
) -> None:
    """The checks of a command rendering `count` frames (`count_option`, e.g. "--frames"),
    `in_flight` of them at once: the per-frame records of the whole sequence, then the
    frames being rendered (named by --width, --height and --supersample)."""
    check_fits(f"{count_option} {count}", count * BYTES_PER_FRAME, f"the cameras and labels of {count} frames")
    size = f"--width {width} --height {height}" + (f" --supersample {supersample}" if supersample > 1 else "")
    frames = f"the {in_flight} frames rendered at once" if in_flight > 1 else "one frame's images and labels"
    check_fits(size, in_flight * frame_bytes(width, height, supersample), frames)


def check_orbit_fits(views: int, width: int, height: int) -> None:
    """`nerfgen view --orbit`: every frame is kept as 8-bit RGB for the GIF, then stacked
    once more to encode it."""
    needed = views * (BYTES_PER_FRAME + 2 * 3 * width * height)
    check_fits(f"--orbit {views}", needed, f"{views} frames of {width}x{height} kept for the GIF")


def _gb(n: float) -> str:
    return f"{n / 1e9:,.0f} GB" if n >= 1e10 else f"{n / 1e9:.1f} GB"
