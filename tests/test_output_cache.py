"""The extension's output cache (cuda_ext/torch/output_cache.cpp): large CPU outputs reuse
blocks freed by earlier outputs, so every kernel must overwrite its output in full. These
tests make a reused block hold stale values first and check the next result exactly."""

import os
import subprocess
import sys

import pytest
import torch

from nerfgen.ops import _ext
from nerfgen.ops.composite import composite, composite_reference
from nerfgen.ops.hash_encoding import HashEncodingConfig, hash_encode, hash_encode_reference

pytestmark = pytest.mark.skipif(not _ext.has_ext(), reason="nerfgen._C not built")

# 16 levels x 2^17 entries x 2 float32 features: a 16 MiB table, above the cache's 4 MiB.
CONFIG = HashEncodingConfig(log2_hashmap_size=17)


def _params(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(CONFIG.n_levels, CONFIG.table_size, CONFIG.n_features_per_level, generator=g) * 2 - 1


def _param_grad(fn, x, params):
    p = params.detach().requires_grad_()
    fn(x, p, CONFIG).sum().backward()
    return p.grad


def test_encoding_reuses_a_freed_block_and_overwrites_it():
    g = torch.Generator().manual_seed(1)
    params = _params()
    with torch.no_grad():
        first = hash_encode(torch.rand(65536, 3, generator=g), params, CONFIG)  # 8 MiB
        address = first.data_ptr()
        del first
        x = torch.rand(60000, 3, generator=g)  # a little smaller: served by the same block
        second = hash_encode(x, params, CONFIG)
    assert second.data_ptr() == address
    torch.testing.assert_close(second, hash_encode_reference(x, params, CONFIG), atol=1e-6, rtol=1e-5)


def test_parameter_gradient_in_a_reused_block_is_zero_where_no_point_landed():
    g = torch.Generator().manual_seed(2)
    params = _params()
    full = _param_grad(hash_encode, torch.rand(50000, 3, generator=g), params)
    assert (full != 0).float().mean() > 0.5  # the block now holds mostly non-zero values
    address = full.data_ptr()
    del full
    x = torch.rand(3, 3, generator=g)
    sparse = _param_grad(hash_encode, x, params)
    assert sparse.data_ptr() == address
    expected = _param_grad(hash_encode_reference, x, params)
    assert int((expected != 0).sum()) <= 3 * 8 * CONFIG.n_levels * 2
    torch.testing.assert_close(sparse, expected, atol=1e-6, rtol=1e-5)


def test_composite_gradients_in_reused_blocks_are_exact():
    # [S, 16] float32 gradients of 2^18 samples: 16 MiB. The second call terminates rays
    # early (dense samples), so its gradients are zero after termination: written, not left.
    def inputs(sigma_scale, seed):
        g = torch.Generator().manual_seed(seed)
        n_rays, per_ray = 4096, 64
        offsets = torch.arange(n_rays + 1) * per_ray
        ends = torch.cumsum(torch.rand(n_rays * per_ray, generator=g) * 0.05, 0)
        starts = ends - 0.01
        sigmas = torch.rand(n_rays * per_ray, generator=g) * sigma_scale
        values = torch.rand(n_rays * per_ray, 16, generator=g)
        return sigmas, values, starts, ends, offsets

    def grads(fn, sigmas, values, starts, ends, offsets):
        s, v = sigmas.detach().requires_grad_(), values.detach().requires_grad_()
        out = fn(s, v, starts, ends, offsets)
        (out.values.sum() + out.range.sum()).backward()
        return s.grad, v.grad

    first = grads(composite, *inputs(0.1, 0))
    address = first[1].data_ptr()
    del first
    dense = inputs(500.0, 1)
    got, expected = grads(composite, *dense), grads(composite_reference, *dense)
    assert got[1].data_ptr() == address
    after = expected[1] == 0  # samples past termination: most of them
    assert after.float().mean() > 0.5
    assert torch.equal(got[1][after], expected[1][after])  # exactly zero, not stale
    for a, b in zip(got, expected):  # the reference's global cumsums round differently
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_cache_can_be_turned_off():
    script = (
        "import torch\n"
        "from nerfgen.ops.hash_encoding import HashEncodingConfig, hash_encode, hash_encode_reference\n"
        "c = HashEncodingConfig(log2_hashmap_size=17)\n"
        "p = torch.rand(c.n_levels, c.table_size, 2)\n"
        "for n in (65536, 60000):\n"
        "    x = torch.rand(n, 3)\n"
        "    torch.testing.assert_close(hash_encode(x, p, c), hash_encode_reference(x, p, c), atol=1e-6, rtol=1e-5)\n"
    )
    env = dict(os.environ, NERFGEN_OUTPUT_CACHE_MB="0")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
