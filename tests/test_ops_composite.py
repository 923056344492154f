"""Compositing: extension vs reference (values and gradients), float64 gradcheck, and
analytic ground truth (constant density, opaque samples, early termination)."""

import math

import pytest
import torch

from nerfgen.ops import _ext
from nerfgen.ops.composite import composite, composite_reference

needs_ext = pytest.mark.skipif(not _ext.has_ext(), reason="nerfgen._C not built")


def packed(counts, n_channels=3, dtype=torch.float32, sigma_scale=5.0, seed=0):
    """Random packed samples: ray r gets counts[r] sorted, contiguous segments."""
    g = torch.Generator().manual_seed(seed)
    counts = torch.as_tensor(counts, dtype=torch.long)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    S = int(offsets[-1])
    dt = torch.rand(S, generator=g, dtype=dtype) * 0.1
    ray_ids = torch.repeat_interleave(torch.arange(len(counts)), counts)
    # Cumulative sum of dt within each ray gives sorted, touching segments.
    ends = torch.cumsum(dt, 0)
    ends = ends - torch.cat([ends.new_zeros(1), ends])[offsets[:-1]][ray_ids] + 0.5
    starts = ends - dt
    sigmas = torch.rand(S, generator=g, dtype=dtype) * sigma_scale
    values = torch.rand(S, n_channels, generator=g, dtype=dtype)
    return sigmas, values, starts, ends, offsets


def run_both(sigmas, values, starts, ends, offsets, threshold=1e-4):
    """Outputs and gradients (w.r.t. sigmas and values) of composite and the reference."""
    results = []
    g = torch.Generator().manual_seed(1)
    upstream = None
    for fn in (composite, composite_reference):
        s, v = sigmas.clone().requires_grad_(), values.clone().requires_grad_()
        out = fn(s, v, starts, ends, offsets, threshold)
        if upstream is None:
            upstream = [
                torch.randn(t.shape, generator=g, dtype=t.dtype)
                for t in (out.weights, out.values, out.range, out.opacity)
            ]
        loss = sum((t * u).sum() for t, u in zip((out.weights, out.values, out.range, out.opacity), upstream))
        loss.backward()
        results.append((out, s.grad, v.grad))
    return results


def assert_match(a, b, atol=1e-5):
    (out_a, gs_a, gv_a), (out_b, gs_b, gv_b) = a, b
    for name in out_a._fields:
        torch.testing.assert_close(getattr(out_a, name), getattr(out_b, name), atol=atol, rtol=1e-5, msg=name)
    torch.testing.assert_close(gs_a, gs_b, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(gv_a, gv_b, atol=1e-5, rtol=1e-5)


@needs_ext
@pytest.mark.parametrize("n_channels", [1, 3, 7])
def test_ext_matches_reference_random(n_channels):
    counts = torch.randint(0, 40, (300,), generator=torch.Generator().manual_seed(2))
    assert_match(*run_both(*packed(counts, n_channels)))


@needs_ext
def test_ext_matches_reference_adversarial():
    # empty rays, single-sample rays, zero-length segments, huge densities (termination)
    counts = [0, 1, 5, 0, 0, 12, 1, 30, 0]
    sigmas, values, starts, ends, offsets = packed(counts)
    ends[3:6] = starts[3:6]  # zero-length segments
    sigmas[7:9] = 1e6  # ray 5 (samples 6..17) saturates at its second sample
    sigmas[20] = 1e30  # ray 7: tau = inf
    sigmas[0] = 0.0
    a, b = run_both(sigmas, values, starts, ends, offsets)
    assert_match(a, b)
    out, grad_sigmas, _ = a
    assert torch.all(out.weights[9:12] == 0) and torch.all(grad_sigmas[9:12] == 0)
    assert out.opacity[0] == 0 and out.opacity[3] == 0 and out.opacity[-1] == 0  # empty rays


@needs_ext
@pytest.mark.parametrize("threshold", [0.0, 1e-2, 0.5])
def test_ext_matches_reference_thresholds(threshold):
    counts = torch.randint(0, 30, (200,), generator=torch.Generator().manual_seed(3))
    assert_match(*run_both(*packed(counts, sigma_scale=40.0), threshold=threshold))


@pytest.mark.parametrize("fn", [composite, composite_reference])
def test_no_samples(fn):
    empty = torch.zeros(0)
    out = fn(empty, torch.zeros(0, 3), empty, empty, torch.zeros(4, dtype=torch.long))
    assert out.values.shape == (3, 3) and torch.all(out.values == 0) and torch.all(out.opacity == 0)
    out = fn(empty, torch.zeros(0, 3), empty, empty, torch.zeros(1, dtype=torch.long))
    assert out.values.shape == (0, 3) and out.weights.shape == (0,)


@pytest.mark.parametrize("fn", [composite, composite_reference])
def test_gradcheck_float64(fn):
    sigmas, values, starts, ends, offsets = packed([3, 0, 1, 6], n_channels=2, dtype=torch.float64, sigma_scale=20.0)
    sigmas.requires_grad_()
    values.requires_grad_()

    def f(s, v):
        out = fn(s, v, starts, ends, offsets, 1e-3)
        return out.weights, out.values, out.range, out.opacity

    assert torch.autograd.gradcheck(f, (sigmas, values), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("fn", [composite, composite_reference])
def test_constant_density_segment_opacity(fn):
    # A segment [1, 3] of constant density split into 10 samples: the weights sum to the
    # analytic opacity 1 - exp(-sigma * L), and the range integral has a closed form.
    sigma, L, k = 0.7, 2.0, 10
    edges = torch.linspace(1.0, 1.0 + L, k + 1, dtype=torch.float64)
    out = fn(
        torch.full((k,), sigma, dtype=torch.float64),
        torch.ones(k, 1, dtype=torch.float64),
        edges[:-1],
        edges[1:],
        torch.tensor([0, k]),
        0.0,
    )
    expected = 1 - math.exp(-sigma * L)
    assert out.opacity.item() == pytest.approx(expected, rel=1e-12)
    assert out.weights.sum().item() == pytest.approx(expected, rel=1e-12)
    assert out.values[0, 0].item() == pytest.approx(expected, rel=1e-12)
    T_before = torch.exp(-sigma * (edges[:-1] - 1.0))
    torch.testing.assert_close(out.transmittance, T_before)


@pytest.mark.parametrize("fn", [composite, composite_reference])
def test_opaque_sample_range_and_termination(fn):
    # Ray 0: free space, then an opaque sample at [2, 2.5], then samples hidden behind it.
    sigmas = torch.tensor([0.0, 1e4, 3.0, 3.0])
    starts = torch.tensor([1.0, 2.0, 2.5, 3.0])
    ends = torch.tensor([2.0, 2.5, 3.0, 3.5])
    values = torch.tensor([[9.0], [0.25], [9.0], [9.0]])
    out = fn(sigmas, values, starts, ends, torch.tensor([0, 4]))
    assert out.opacity.item() == pytest.approx(1.0)
    assert (out.range / out.opacity).item() == pytest.approx(2.25)
    assert out.values.item() == pytest.approx(0.25)
    assert out.weights[2:].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("fn", [composite, composite_reference])
def test_threshold_rule(fn):
    # After the first sample T = 0.5 exactly. A threshold of 0.6 terminates the ray there
    # (second sample weight 0); 0.5 does not (T >= threshold keeps the sample).
    sigmas = torch.tensor([math.log(2.0), 1.0], dtype=torch.float64)
    starts, ends = torch.tensor([0.0, 1.0], dtype=torch.float64), torch.tensor([1.0, 2.0], dtype=torch.float64)
    values = torch.ones(2, 1, dtype=torch.float64)
    offsets = torch.tensor([0, 2])
    out = fn(sigmas, values, starts, ends, offsets, 0.6)
    assert out.weights.tolist() == pytest.approx([0.5, 0.0])
    assert out.transmittance.tolist() == pytest.approx([1.0, 0.5])
    out = fn(sigmas, values, starts, ends, offsets, 0.5 - 1e-9)
    assert out.weights[1].item() == pytest.approx(0.5 * (1 - math.exp(-1.0)))


@needs_ext
def test_rejects_bad_offsets():
    s = torch.rand(5)
    with pytest.raises(RuntimeError, match="offsets"):
        composite(s, torch.rand(5, 3), s, s + 1, torch.tensor([0, 3, 2, 5]))
    with pytest.raises(RuntimeError, match="offsets"):
        composite(s, torch.rand(5, 3), s, s + 1, torch.tensor([0, 3, 7]))
