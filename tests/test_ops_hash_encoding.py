"""Hash encoding: tcnn semantics checked by hand (vertex values, dense and hashed
indices, exact trilinear reproduction of linear functions), extension vs reference
(values, parameter and position gradients), float64 gradcheck, determinism."""

import pytest
import torch

from nerfgen.ops import _ext
from nerfgen.ops.hash_encoding import (
    HashEncoding,
    HashEncodingConfig,
    hash_encode,
    hash_encode_reference,
    level_layout,
)

needs_ext = pytest.mark.skipif(not _ext.has_ext(), reason="nerfgen._C not built")
BOTH = [hash_encode, hash_encode_reference]

SMALL = HashEncodingConfig(
    n_levels=6, n_features_per_level=2, log2_hashmap_size=10, base_resolution=4, per_level_scale=1.8
)


def random_params(config, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    shape = (config.n_levels, config.table_size, config.n_features_per_level)
    return torch.rand(shape, generator=g, dtype=dtype) * 2 - 1


def test_level_layout_default_config():
    # tcnn defaults: level 0 has scale 15 -> 16^3 = 4096 vertices, dense; the first
    # level whose res^3 exceeds 2^19 is hashed over the full table.
    config = HashEncodingConfig()
    scales = config.level_scales()
    assert scales[0] == 15.0
    assert level_layout(scales[0], config.table_size) == (16, 4096, True)
    layouts = [level_layout(s, config.table_size) for s in scales]
    dense = [d for _, _, d in layouts]
    assert dense == [r**3 <= config.table_size for r, _, _ in layouts]
    assert dense[:5] == [True] * 5 and not any(dense[5:])
    assert all(size == config.table_size for _, size, d in layouts if not d)
    assert round(scales[15]) == 4084  # 16 * 1.447^15 - 1: b = 1.447 spans 16 to 4096 in 16 levels


@pytest.mark.parametrize("fn", BOTH)
def test_vertex_returns_its_parameter_dense(fn):
    # base_resolution 5 -> scale 4, res 5, 125 vertices: dense index i + 5j + 25k.
    # x = (v - 0.5) / 4 puts pos exactly on vertex v.
    config = HashEncodingConfig(n_levels=1, n_features_per_level=2, log2_hashmap_size=10, base_resolution=5)
    params = random_params(config)
    vertices = torch.tensor([[1, 2, 3], [0, 0, 0], [4, 4, 4], [3, 0, 2]])
    x = (vertices.float() - 0.5) / 4
    out = fn(x, params, config)
    index = vertices[:, 0] + 5 * vertices[:, 1] + 25 * vertices[:, 2]
    assert torch.equal(out, params[0, index])


@pytest.mark.parametrize("fn", BOTH)
def test_vertex_returns_its_parameter_hashed(fn):
    # base_resolution 129 -> scale 128, 129^3 vertices > 1024 entries: hashed level.
    config = HashEncodingConfig(n_levels=1, n_features_per_level=1, log2_hashmap_size=10, base_resolution=129)
    assert level_layout(config.level_scales()[0], config.table_size) == (129, 1024, False)
    params = random_params(config)
    i, j, k = 3, 7, 11
    x = (torch.tensor([[i, j, k]], dtype=torch.float32) - 0.5) / 128
    expected_index = (i ^ ((j * 2654435761) % 2**32) ^ ((k * 805459861) % 2**32)) % 1024
    # By hand: 7*2654435761 mod 2^32 = 1401181143 (low 10 bits 983), 11*805459861 mod 2^32
    # = 270123879 (low 10 bits 871); 3 ^ 983 ^ 871 = 179.
    assert expected_index == 179
    assert torch.equal(fn(x, params, config), params[0, [expected_index]])


@pytest.mark.parametrize("fn", BOTH)
def test_linear_function_reproduced_in_dense_level(fn):
    # Store f(i, j, k) = a*i + b*j + c*k + d at every vertex of a dense level: trilinear
    # interpolation reproduces it exactly at any interior point (in grid units), and the
    # gradient w.r.t. x is scale * (a, b, c).
    config = HashEncodingConfig(n_levels=1, n_features_per_level=1, log2_hashmap_size=12, base_resolution=9)
    scale = config.level_scales()[0]
    res, size, dense = level_layout(scale, config.table_size)
    assert (res, dense) == (9, True)
    a, b, c, d = 0.5, -1.25, 2.0, 0.3
    ijk = torch.stack(torch.meshgrid(*[torch.arange(res)] * 3, indexing="ij"), -1).reshape(-1, 3)
    params = torch.zeros(1, config.table_size, 1, dtype=torch.float64)
    params[0, ijk[:, 0] + res * ijk[:, 1] + res * res * ijk[:, 2], 0] = (
        ijk.double() @ torch.tensor([a, b, c], dtype=torch.float64) + d
    )
    x = (
        torch.rand(50, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4)) * 0.8 + 0.1
    ).requires_grad_()
    out = fn(x, params, config)
    pos = x.detach() * scale + 0.5
    torch.testing.assert_close(out[:, 0], pos @ torch.tensor([a, b, c], dtype=torch.float64) + d, rtol=0, atol=1e-12)
    (grad_x,) = torch.autograd.grad(out.sum(), x)
    torch.testing.assert_close(grad_x, torch.tensor([a, b, c], dtype=torch.float64).expand(50, 3) * scale)


def grads(fn, x, params, config, upstream):
    x = x.clone().requires_grad_()
    params = params.clone().requires_grad_()
    out = fn(x, params, config)
    (out * upstream).sum().backward()
    return out, x.grad, params.grad


@needs_ext
@pytest.mark.parametrize("n_features", [1, 2, 4, 8])
@pytest.mark.parametrize("lo,hi", [(0.0, 1.0), (-0.5, 1.5)])  # out of range inputs wrap, identically
def test_ext_matches_reference(n_features, lo, hi):
    config = HashEncodingConfig(
        n_levels=6, n_features_per_level=n_features, log2_hashmap_size=10, base_resolution=4, per_level_scale=1.8
    )
    g = torch.Generator().manual_seed(n_features)
    x = torch.rand(2000, 3, generator=g) * (hi - lo) + lo
    x[:4] = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.5], [1.0, 0.0, 1.0]])  # domain corners
    params = random_params(config)
    upstream = torch.randn(2000, config.n_output_dims, generator=g)
    out_e, gx_e, gp_e = grads(hash_encode, x, params, config, upstream)
    out_r, gx_r, gp_r = grads(hash_encode_reference, x, params, config, upstream)
    torch.testing.assert_close(out_e, out_r, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(gp_e, gp_r, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(gx_e, gx_r, atol=1e-3, rtol=1e-5)  # d/dx scales by up to ~60


@pytest.mark.parametrize("fn", BOTH)
def test_gradcheck_float64(fn):
    config = HashEncodingConfig(
        n_levels=3, n_features_per_level=2, log2_hashmap_size=6, base_resolution=3, per_level_scale=2.0
    )
    params = random_params(config, torch.float64).requires_grad_()
    x = (
        torch.rand(20, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(5)) * 0.9 + 0.05
    ).requires_grad_()
    assert torch.autograd.gradcheck(lambda x, p: fn(x, p, config), (x, params), eps=1e-7, atol=1e-6)


@needs_ext
def test_param_gradient_deterministic_across_threads():
    config = HashEncodingConfig(n_levels=4, log2_hashmap_size=12, base_resolution=8)
    x = torch.rand(20000, 3, generator=torch.Generator().manual_seed(6))
    params = random_params(config)
    upstream = torch.randn(20000, config.n_output_dims, generator=torch.Generator().manual_seed(7))
    threads = torch.get_num_threads()
    try:
        results = []
        for n in (1, 2, 1):
            torch.set_num_threads(n)
            results.append(grads(hash_encode, x, params, config, upstream)[1:])
    finally:
        torch.set_num_threads(threads)
    for k in (0, 1):  # x and params, through the fused backward
        assert torch.equal(results[0][k], results[1][k]) and torch.equal(results[0][k], results[2][k])


@needs_ext
def test_fused_backward_matches_the_separate_ones():
    """Both gradients in one pass (what training with normals calls) against the two
    single-gradient ops, over more points than one chunk of the fused loop (2^18)."""
    from nerfgen.ops import _ext

    config = HashEncodingConfig(
        n_levels=3, n_features_per_level=2, log2_hashmap_size=14, base_resolution=8, per_level_scale=3.0
    )
    g = torch.Generator().manual_seed(8)
    n = (1 << 18) + 1000
    x = torch.rand(n, 3, generator=g) * 1.2 - 0.1
    params = random_params(config)
    upstream = torch.randn(n, config.n_output_dims, generator=g)
    scales = config.level_scales()
    grad_x, grad_params = _ext.ops().hash_encode_backward(upstream, x, params, scales)
    assert torch.equal(grad_params, _ext.ops().hash_encode_backward_params(upstream, x, params, scales))
    # the fused sum rounds each level's term before adding the levels
    torch.testing.assert_close(
        grad_x, _ext.ops().hash_encode_backward_x(upstream, x, params, scales), atol=1e-4, rtol=1e-5
    )
    assert grad_x[-1000:].abs().sum() > 0  # the second chunk was written


@pytest.mark.parametrize("fn", BOTH)
def test_no_points(fn):
    out = fn(torch.zeros(0, 3), random_params(SMALL), SMALL)
    assert out.shape == (0, SMALL.n_output_dims)


def test_module_init_and_validation():
    a, b = HashEncoding(SMALL, seed=3), HashEncoding(SMALL, seed=3)
    assert torch.equal(a.params, b.params)
    assert a.params.shape == (6, 1024, 2) and a.params.abs().max() <= 1e-4 and a.params.abs().max() > 0
    out = a(torch.rand(10, 3))
    out.sum().backward()
    assert a.params.grad is not None and a.params.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="params must be"):
        hash_encode(torch.rand(4, 3), torch.zeros(6, 512, 2), SMALL)
    with pytest.raises(ValueError, match="x must be"):
        hash_encode(torch.rand(4, 2), a.params, SMALL)
