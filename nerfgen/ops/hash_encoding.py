"""Multi-resolution hash encoding (Instant-NGP) with tiny-cuda-nn's semantics, 3-D input.

Level l has ``scale_l = 2^(l * log2(per_level_scale)) * base_resolution - 1`` (float32, as
tcnn computes it) and ``resolution_l = ceil(scale_l) + 1`` vertices per axis. A point x in
[0, 1]^3 sits at ``pos = x * scale_l + 0.5`` grid units; the encoding is the trilinear
interpolation of the 8 surrounding vertices' features. Vertex (i, j, k) lives at table
entry ``i + j*res + k*res^2`` when ``res^3`` fits in the table (dense level), else at the
spatial hash ``i ^ j*2654435761 ^ k*805459861`` (uint32); either is taken modulo the
level's size ``min(round_up(res^3, 8), table_size)``.

Differences from tcnn worth knowing: parameters are stored as ``[n_levels, table_size, F]``
(every level gets a full table; coarse dense levels use only their first ``size``
entries and the rest get zero gradient), whereas tcnn packs levels back to back. Inputs
outside [0, 1] are not clamped (as in tcnn): they wrap around the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from nerfgen.ops import _ext

_PRIMES = (1, 2654435761, 805459861)
_UINT32 = 0xFFFFFFFF


@dataclass(frozen=True)
class HashEncodingConfig:
    n_levels: int = 16
    """Number of resolution levels (L); the output has n_levels * n_features_per_level columns."""
    n_features_per_level: int = 2
    """Features stored per table entry (F): 1, 2, 4 or 8."""
    log2_hashmap_size: int = 19
    """Entries per level's table, log2 (T = 2^19 by default)."""
    base_resolution: int = 16
    """Grid resolution of the coarsest level (N_min)."""
    per_level_scale: float = 1.447
    """Resolution growth factor between consecutive levels (b); 1.447 takes 16 levels from 16 to ~4096."""

    @property
    def table_size(self) -> int:
        return 1 << self.log2_hashmap_size

    @property
    def n_output_dims(self) -> int:
        return self.n_levels * self.n_features_per_level

    def level_scales(self) -> list[float]:
        """Per-level scale in float32 arithmetic, as tcnn: exp2f(l * log2f(b)) * N_min - 1.

        Both the extension and the reference take these values, so they agree exactly on
        every level's resolution."""
        log2_b = np.log2(np.float32(self.per_level_scale))
        return [
            float(np.exp2(np.float32(level) * log2_b) * np.float32(self.base_resolution) - np.float32(1.0))
            for level in range(self.n_levels)
        ]


def level_layout(scale: float, table_size: int) -> tuple[int, int, bool]:
    """(resolution, size, dense) of one level, as the kernels compute them."""
    resolution = math.ceil(np.float32(scale)) + 1
    vertices = resolution**3
    size = min((vertices + 7) // 8 * 8, table_size)
    return resolution, size, vertices <= size


def hash_encode(
    x: Tensor,  # [N, 3] positions in [0, 1]^3
    params: Tensor,  # [n_levels, table_size, F]
    config: HashEncodingConfig,
) -> Tensor:  # [N, n_levels * F], level-major
    """Encodes positions; differentiable w.r.t. params and x (first order)."""
    _check(x, params, config)
    scales = config.level_scales()
    if _ext.use_ext(x, params):
        return _HashEncodeFunction.apply(x, params, scales)
    return hash_encode_reference(x, params, config)


def hash_encode_reference(
    x: Tensor,  # [N, 3]
    params: Tensor,  # [n_levels, table_size, F]
    config: HashEncodingConfig,
) -> Tensor:  # [N, n_levels * F]
    """Pure-PyTorch hash encoding, differentiable by autograd (params and x).

    Vectorised over points and the 8 corners, one iteration per level (levels are few,
    and a level at a time keeps the temporaries at [N, 8]). Corner indices and weights
    are built from per-axis terms by broadcasting ([N, 2] per axis -> [N, 2, 2, 2]), and
    the gather is one index_select per level. The tables are taken with
    unbind so the backward assembles the parameter gradient once, not once per level.
    uint32 index arithmetic is emulated in int64: products wrap modulo 2^64, whose low 32
    bits are the uint32 result."""
    _check(x, params, config)
    n_points = x.shape[0]
    table_size = params.shape[1]
    if n_points == 0 or config.n_levels == 0:
        return x.new_zeros(n_points, config.n_output_dims)
    step = torch.tensor([0, 1], device=x.device)  # lower / upper vertex along an axis
    tables = params.unbind(0)
    outputs = []
    for level, scale in enumerate(config.level_scales()):
        resolution, size, dense = level_layout(scale, table_size)
        pos = x * scale + 0.5  # [N, 3]
        floor = torch.floor(pos)
        frac = pos - floor  # [N, 3], carries d/dx = scale
        vertex = floor.long()[:, :, None] + step  # [N, 3, 2] lower/upper vertex per axis
        if dense:
            terms = vertex * torch.tensor([1, resolution, resolution * resolution], device=x.device)[:, None]
            index = terms[:, 2, :, None, None] + terms[:, 1, None, :, None] + terms[:, 0, None, None, :]
        else:
            terms = vertex * torch.tensor(_PRIMES, device=x.device)[:, None]
            index = terms[:, 2, :, None, None] ^ terms[:, 1, None, :, None] ^ terms[:, 0, None, None, :]
        # [N, 2, 2, 2] indexed [z][y][x] flattens to corner c = x + 2y + 4z, as the kernels.
        if size & (size - 1) == 0:
            index = index & (size - 1)  # also drops the bits above uint32
        else:
            index = (index & _UINT32) % size
        axis_weights = torch.stack([1.0 - frac, frac], dim=2)  # [N, 3, 2]
        weights = (
            axis_weights[:, 2, :, None, None] * axis_weights[:, 1, None, :, None] * axis_weights[:, 0, None, None, :]
        )
        # index_select, whose backward is an index_add (embedding_bag's sorts: 5x slower).
        values = tables[level].index_select(0, index.reshape(-1)).view(n_points, 8, -1)  # [N, 8, F]
        outputs.append((weights.reshape(n_points, 8, 1) * values).sum(1))  # [N, F]
    return torch.cat(outputs, dim=1)


class HashEncoding(torch.nn.Module):
    """Trainable hash grid: ``HashEncoding(config)(x [N, 3]) -> [N, n_levels * F]``.

    Parameters start uniform in [-1e-4, 1e-4] as in tcnn; pass ``seed`` for a
    reproducible initialisation independent of the global RNG."""

    def __init__(self, config: HashEncodingConfig = HashEncodingConfig(), seed: int | None = None):
        super().__init__()
        self.config = config
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        shape = (config.n_levels, config.table_size, config.n_features_per_level)
        init = torch.rand(shape, generator=generator) * 2e-4 - 1e-4
        self.params = torch.nn.Parameter(init)

    def forward(self, x: Tensor) -> Tensor:  # [N, 3] -> [N, n_levels * F]
        return hash_encode(x, self.params, self.config)

    def extra_repr(self) -> str:
        return repr(self.config)


def _check(x: Tensor, params: Tensor, config: HashEncodingConfig) -> None:
    if x.dim() != 2 or x.shape[1] != 3:
        raise ValueError(f"hash_encode: x must be [N, 3], got {tuple(x.shape)}")
    expected = (config.n_levels, config.table_size, config.n_features_per_level)
    if tuple(params.shape) != expected:
        raise ValueError(f"hash_encode: params must be {expected} for {config}, got {tuple(params.shape)}")
    if x.dtype != params.dtype:
        raise ValueError(f"hash_encode: x ({x.dtype}) and params ({params.dtype}) must share a dtype")


class _HashEncodeFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, params, scales):
        x, params = x.contiguous(), params.contiguous()
        ctx.save_for_backward(x, params)
        ctx.scales = scales
        return _ext.ops().hash_encode_forward(x, params, scales)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_encoding):
        x, params = ctx.saved_tensors
        grad_encoding = grad_encoding.contiguous()
        grad_x = grad_params = None
        if ctx.needs_input_grad[0] and ctx.needs_input_grad[1]:  # one pass for both (normals in training)
            grad_x, grad_params = _ext.ops().hash_encode_backward(grad_encoding, x, params, ctx.scales)
        elif ctx.needs_input_grad[0]:
            grad_x = _ext.ops().hash_encode_backward_x(grad_encoding, x, params, ctx.scales)
        elif ctx.needs_input_grad[1]:
            grad_params = _ext.ops().hash_encode_backward_params(grad_encoding, x, params, ctx.scales)
        return grad_x, grad_params, None
