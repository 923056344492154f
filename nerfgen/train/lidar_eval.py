"""LiDAR metrics on held-out scans: the field rendered along a real sweep's own beams.

Each held-out return is a ray from its scan's sensor origin along the direction the
sensor fired; the field's expected range along it (weights normalised by opacity) is
compared with the measured range where the field returns the beam (opacity >= 0.5, as
composed renders report a surface). A recorded scan holds returns only, so drop
agreement is the share of real returns the field also returns.
"""

from __future__ import annotations

import torch
from torch import Tensor

from nerfgen.data.lidar import LidarScans
from nerfgen.render.volume import render_rays
from nerfgen.train.run import TrainedField

RETURN_OPACITY = 0.5  # a beam returns where the field is at least this opaque along it
NEAR_M = 0.10  # "within 10 cm"
MAX_RETURNS = 1 << 16  # an even subsample of the held-out returns: medians to ~0.5 % in a fraction of the time


def held_out_scans(scans: LidarScans, frame_ids: Tensor | None) -> Tensor:  # -> [k] int64 scan indices
    """The scans recorded at the held-out frames (`frame_ids` of the test images)."""
    if frame_ids is None:
        return torch.empty(0, dtype=torch.int64)
    return torch.isin(scans.frame_ids, frame_ids.reshape(-1)).nonzero()[:, 0]


@torch.no_grad()
def scan_ranges(
    trained: TrainedField, origins: Tensor, directions: Tensor, chunk: int = 1 << 14
) -> tuple[Tensor, Tensor]:
    """Expected range [N] and opacity [N] of the field along rays [N,3], [N,3] (unit)."""
    ranges, opacities = [], []
    background = torch.zeros(3)
    for start in range(0, origins.shape[0], chunk):
        out = render_rays(
            trained.field, trained.grid, origins[start : start + chunk], directions[start : start + chunk],
            background, trained.config.render,
        )  # fmt: skip
        ranges.append(out.range)
        opacities.append(out.opacity)
    return torch.cat(ranges), torch.cat(opacities)


def lidar_metrics(trained: TrainedField, scans: LidarScans, scan_ids: Tensor) -> dict:
    """Range errors and drop agreement over the returns of `scan_ids` (module doc), at most
    MAX_RETURNS of them, evenly spread over the scans."""
    rows = torch.cat([torch.arange(scans.offsets[s], scans.offsets[s + 1]) for s in scan_ids.tolist()])
    if rows.numel() > MAX_RETURNS:
        rows = rows[torch.linspace(0, rows.numel() - 1, MAX_RETURNS).long()]
    origins = scans.origins()[rows].float()
    measured = scans.ranges[rows].double()
    predicted, opacity = scan_ranges(trained, origins, scans.directions[rows].float())
    returned = opacity >= RETURN_OPACITY
    error = (predicted.double() - measured).abs()[returned]
    relative = error / measured[returned]
    return {
        "scans": len(scan_ids),
        "returns": int(rows.numel()),  # evaluated
        "range_median_abs_error_m": error.median().item() if error.numel() else float("nan"),
        "range_median_rel_error_pct": 100.0 * relative.median().item() if error.numel() else float("nan"),
        "within_10cm": (error <= NEAR_M).double().mean().item() if error.numel() else 0.0,
        "drop_agreement": returned.double().mean().item(),
    }
