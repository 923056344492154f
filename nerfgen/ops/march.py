"""Marching rays through a multi-level occupancy grid into packed samples.

Rules (the compiled op, cuda_ext/include/nerfgen/march.h, follows them line by line):
- Rays are clipped to the outermost level's box and to [t_min, t_max] and
  [near_plane, far_plane]; t starts at the first of these (never below 0).
- A cell visit at t uses the step dt = clamp(t * cone_angle, step_size, max_step)
  (Instant-NGP: constant steps for cone_angle = 0, steps growing with distance otherwise,
  capped by default at one cell of the coarsest level). Points are judged by a step's
  midpoint: the visit finds the finest level containing t + dt/2, its cell, and the
  distance to the cell's exit face (DDA), hence k = the number of whole steps of dt whose
  midpoints lie in the cell. An occupied cell emits those k samples [t + j*dt, t + (j+1)*dt]
  whose midpoints are before the ray's end; an empty cell is skipped in one jump. t then
  advances by k*dt. So skipping is exact (never sample by sample), dt is constant within a
  cell visit and grows between visits, and for cone_angle = 0 samples lie on the lattice
  t0 + j * step_size up to float rounding. t_ends may stick out of a cell or of the box by
  up to half a step.
- Rays with zero direction produce no samples; a ray stops if dt falls below float
  resolution at its t.
Floats: the reference repeats the kernel's float32 operations in the same order, so
results are bit-identical on CPU. On CUDA the kernel uses non-fused IEEE intrinsics; the
remaining difference is that --use_fast_math flushes denormals (tests compare floats to
1e-5 anyway, integers exactly).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from nerfgen.ops import _ext
from nerfgen.ops.packed import PackedSamples
from nerfgen.ops.ray_box import _slabs


def _f32(x: float) -> float:
    """x rounded to float32, so the kernel's float casts and the reference see one value."""
    return float(torch.tensor(x, dtype=torch.float32))


def march(
    rays_o: Tensor,  # [n_rays, 3]
    rays_d: Tensor,  # [n_rays, 3]
    binaries: Tensor,  # [levels, res, res, res] bool, level l = aabb scaled by 2**l about its centre
    aabb: Tensor,  # [6] level-0 box: xmin, ymin, zmin, xmax, ymax, zmax
    step_size: float,
    cone_angle: float = 0.0,
    near_plane: float = 0.0,
    far_plane: float = math.inf,
    t_min: Tensor | None = None,  # [n_rays] optional per-ray start
    t_max: Tensor | None = None,  # [n_rays] optional per-ray end
    max_step: float | None = None,  # default: edge of one coarsest-level cell (smallest axis)
) -> PackedSamples:
    """Samples of every ray in occupied cells, packed and sorted by t (module docstring)."""
    args = _prepare(
        rays_o, rays_d, binaries, aabb, step_size, cone_angle, near_plane, far_plane, t_min, t_max, max_step
    )
    if _ext.use_ext(args[0], args[1], args[4]):
        ray_indices, t_starts, t_ends, offsets = _ext.ops().march(*args)
        return PackedSamples(ray_indices, t_starts, t_ends, offsets, rays_o.shape[0])
    return march_reference(*args)


def _prepare(rays_o, rays_d, binaries, aabb, step_size, cone_angle, near_plane, far_plane, t_min, t_max, max_step):
    """Arguments of the compiled op / the reference, with every float already float32-exact."""
    if binaries.dim() != 4 or binaries.dtype != torch.bool:
        raise ValueError(
            "march: binaries must be a bool [levels, res, res, res] tensor, "
            f"got {binaries.dtype} {tuple(binaries.shape)}"
        )
    if not step_size > 0:
        raise ValueError(f"march: step_size must be > 0, got {step_size}")
    box = aabb.detach().to("cpu", torch.float32).reshape(6)
    center = ((box[:3] + box[3:]) * 0.5).tolist()
    half = ((box[3:] - box[:3]) * 0.5).tolist()
    levels, res = binaries.shape[0], binaries.shape[1]
    if max_step is None:
        max_step = 2.0 * min(half) * 2.0 ** (levels - 1) / res
    step_size, max_step = _f32(step_size), _f32(max(max_step, step_size))
    n = rays_o.shape[0]
    dev = rays_o.device
    t_lo = torch.full((n,), near_plane, device=dev) if t_min is None else t_min.float().clamp_min(near_plane)
    t_hi = torch.full((n,), far_plane, device=dev) if t_max is None else t_max.float().clamp_max(far_plane)
    return (
        rays_o.contiguous().float(),
        rays_d.contiguous().float(),
        t_lo.contiguous(),
        t_hi.contiguous(),
        binaries.contiguous(),
        center,
        half,
        step_size,
        _f32(cone_angle),
        max_step,
    )


def march_reference(
    rays_o: Tensor,  # [n_rays, 3]
    rays_d: Tensor,  # [n_rays, 3]
    t_lo: Tensor,  # [n_rays]
    t_hi: Tensor,  # [n_rays]
    binaries: Tensor,  # [levels, res, res, res] bool
    center: list[float],  # [3] level-0 box centre (float32 values)
    half: list[float],  # [3] level-0 box half size
    step_size: float,
    cone_angle: float,
    max_step: float,
) -> PackedSamples:
    """Pure-PyTorch march: every live ray makes one cell visit per iteration (no loop over rays).

    Each iteration is one pass of the loop in march_ray() (march.h) for all live rays, with
    the same float32 operations in the same order; rays that end leave the working set.
    An occupied visit's k samples are expanded with repeat_interleave. Samples are grouped
    by ray at the end with a stable sort (per ray they are produced in t order).
    """
    n_rays, dev = rays_o.shape[0], rays_o.device
    levels, res = binaries.shape[0], binaries.shape[1]
    c = torch.tensor(center, dtype=torch.float32, device=dev)
    h = torch.tensor(half, dtype=torch.float32, device=dev)
    uo = (rays_o - c) / h
    ud = rays_d / h
    outer = torch.full((3,), float(2 ** (levels - 1)), device=dev)
    t_near, t_far, hit = _slabs(uo, ud, -outer, outer)
    live = hit & (ud != 0).any(1)
    rid = torch.arange(n_rays, device=dev)[live]
    t = torch.maximum(t_lo, t_near)[live]
    t_end = torch.minimum(t_hi, t_far)[live]
    uo, ud = uo[live], ud[live]
    inv_ud = torch.where(ud != 0, 1.0 / ud, torch.zeros_like(ud))

    scales = 2.0 ** torch.arange(levels, device=dev, dtype=torch.float32)
    inv_scales = 0.5 ** torch.arange(levels, device=dev, dtype=torch.float32)
    bits = binaries.reshape(-1)
    half_res = 0.5 * res
    cell_v = float(torch.tensor(2.0) / res)  # 2.0f / res in float32, as in the binding
    inf = torch.tensor(float("inf"), device=dev)
    out_rid, out_t0, out_t1 = [], [], []
    while rid.numel() > 0:
        dt = torch.clamp(t * cone_angle, step_size, max_step)
        half_dt = dt * 0.5
        alive = (t + half_dt) < t_end
        if not bool(alive.all()):
            rid, t, t_end, uo, ud, inv_ud, dt, half_dt = (
                x[alive] for x in (rid, t, t_end, uo, ud, inv_ud, dt, half_dt)
            )
            if rid.numel() == 0:
                break
        mid = t + half_dt
        u = uo + mid[:, None] * ud
        level = (u.abs().amax(1)[:, None] > scales[:-1]).sum(1)
        scale = scales[level]
        cell = ((u * inv_scales[level][:, None] + 1.0) * half_res).clamp(0, res - 1).floor()
        face = torch.where(ud > 0, cell + 1.0, cell)
        bound = (face * cell_v - 1.0) * scale[:, None]
        t_exit = torch.where(ud != 0, (bound - u) * inv_ud, inf).amin(1)
        k = torch.ceil(t_exit / dt).clamp_min(1.0)
        ci = cell.long()
        occupied = bits[((level * res + ci[:, 0]) * res + ci[:, 1]) * res + ci[:, 2]]
        if bool(occupied.any()):
            _emit_visit(
                rid[occupied],
                t[occupied],
                dt[occupied],
                half_dt[occupied],
                t_end[occupied],
                k[occupied],
                out_rid,
                out_t0,
                out_t1,
            )
        t_next = t + k * dt
        moving = t_next > t
        t = t_next
        if not bool(moving.all()):
            rid, t, t_end, uo, ud, inv_ud = (x[moving] for x in (rid, t, t_end, uo, ud, inv_ud))

    if not out_rid:
        empty = torch.empty(0, device=dev)
        return PackedSamples.from_ray_indices(empty.long(), empty, empty.clone(), n_rays)
    ray_indices = torch.cat(out_rid)
    order = torch.sort(ray_indices, stable=True).indices
    return PackedSamples.from_ray_indices(
        ray_indices[order], torch.cat(out_t0)[order], torch.cat(out_t1)[order], n_rays
    )


def _emit_visit(rid, t, dt, half_dt, t_end, k, out_rid, out_t0, out_t1) -> None:
    """Samples j = 0..k-1 of occupied visits whose midpoints t + j*dt + dt/2 are before t_end.

    Midpoints grow with j, so the kept ones are a prefix; candidates are capped a little
    above (t_end - t) / dt so a huge k near the end of a ray expands nothing.
    """
    cap = torch.ceil((t_end - t) / dt) + 2.0
    n = torch.minimum(k, cap).long()
    visit = torch.repeat_interleave(torch.arange(rid.shape[0], device=rid.device), n)
    first = torch.cumsum(n, 0) - n
    j = (torch.arange(visit.shape[0], device=rid.device) - first[visit]).float()
    dt_v = dt[visit]
    tj = t[visit] + j * dt_v
    keep = (tj + half_dt[visit]) < t_end[visit]
    out_rid.append(rid[visit][keep])
    out_t0.append(tj[keep])
    out_t1.append((tj + dt_v)[keep])
