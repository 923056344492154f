"""Benchmark cases for the rendering kernels: compositing and the hash encoding.

Both sides get identical inputs and the same loss; the reference is the pure-PyTorch
path users without the extension run.
"""

from __future__ import annotations

import torch
from kernels import Case

from nerfgen.ops.composite import composite, composite_reference
from nerfgen.ops.hash_encoding import HashEncodingConfig, hash_encode, hash_encode_reference


def _packed_samples(n_rays: int, mean_samples: int, n_channels: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    counts = torch.randint(0, 2 * mean_samples + 1, (n_rays,), generator=g)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    S = int(offsets[-1])
    dt = torch.rand(S, generator=g) * 0.02
    ends = torch.cumsum(dt, 0)  # sorted within each ray (absolute t does not matter here)
    starts = ends - dt
    sigmas = torch.rand(S, generator=g) * 20  # many rays terminate early, as in real scenes
    values = torch.rand(S, n_channels, generator=g)
    return sigmas, values, starts, ends, offsets


def _composite_fwd_bwd(fn, sigmas, values, starts, ends, offsets):
    def run():
        s = sigmas.detach().requires_grad_()
        v = values.detach().requires_grad_()
        out = fn(s, v, starts, ends, offsets)
        (out.values.sum() + out.range.sum() + out.opacity.sum()).backward()

    return run


def _hash_forward(fn, x, params, config):
    def run():
        with torch.no_grad():
            fn(x, params, config)

    return run


def _hash_fwd_bwd(fn, x, params, config, grad_encoding, x_grad: bool):
    # The encoding's gradient is a fixed dense tensor, as the MLP after the encoding hands
    # back in training. (A `.sum()` loss would hand both sides a broadcast, stride-0
    # gradient, which the extension's backward first copies to a dense one: ~9 ms of ~75.)
    def run():
        p = params.detach().requires_grad_()
        xx = x.detach().requires_grad_(x_grad)
        fn(xx, p, config).backward(grad_encoding)

    return run


def cases() -> list[Case]:
    samples = _packed_samples(n_rays=65536, mean_samples=64, n_channels=3)
    n_samples = samples[0].numel()
    config = HashEncodingConfig()  # 16 levels x 2 features, 2^19 entries per level
    g = torch.Generator().manual_seed(1)
    x = torch.rand(262144, 3, generator=g)
    params = torch.rand(config.n_levels, config.table_size, config.n_features_per_level, generator=g) * 2e-4 - 1e-4
    n = x.shape[0]
    grad_encoding = torch.randn(n, config.n_output_dims, generator=g)
    return [
        Case(
            "composite fwd+bwd (rgb, 64k rays)",
            "samples",
            n_samples,
            _composite_fwd_bwd(composite, *samples),
            _composite_fwd_bwd(composite_reference, *samples),
            target=50e6,
        ),
        Case(
            "hash_encode forward (256k pts)",
            "points",
            n,
            _hash_forward(hash_encode, x, params, config),
            _hash_forward(hash_encode_reference, x, params, config),
            target=1.5e6,
        ),
        Case(
            "hash_encode fwd+bwd params",
            "points",
            n,
            _hash_fwd_bwd(hash_encode, x, params, config, grad_encoding, False),
            _hash_fwd_bwd(hash_encode_reference, x, params, config, grad_encoding, False),
            target=0.6e6,
        ),
        Case(
            "hash_encode fwd+bwd params and x",
            "points",
            n,
            _hash_fwd_bwd(hash_encode, x, params, config, grad_encoding, True),
            _hash_fwd_bwd(hash_encode_reference, x, params, config, grad_encoding, True),
        ),
    ]
