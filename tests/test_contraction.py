"""Scene contraction: identity in the box, the L-inf form outside it, its inverse, and a field
that models space beyond its box only when contracted."""

from __future__ import annotations

import torch

from nerfgen.fields.contraction import contract, uncontract
from nerfgen.fields.ngp import NGPField, NGPFieldConfig


def test_inside_the_box_nothing_moves():
    u = torch.rand(100, 3, dtype=torch.float64) * 2 - 1
    assert torch.equal(contract(u), u)


def test_outside_points_move_to_norm_two_minus_one_over_r():
    u = torch.tensor([[4.0, 0.0, 0.0], [3.0, -6.0, 1.5], [1e6, 1.0, -2.0]], dtype=torch.float64)
    # By hand: r = |u|_inf, v = (2 - 1/r) u / r: r = 4 -> 7/16 u; r = 6 -> 11/36 u; r = 1e6.
    far = (2 - 1e-6) / 1e6
    want = torch.tensor(
        [[1.75, 0.0, 0.0], [33 / 36, -66 / 36, 16.5 / 36], [2 - 1e-6, far, -2 * far]], dtype=torch.float64
    )
    torch.testing.assert_close(contract(u), want, rtol=1e-12, atol=1e-15)


def test_uncontract_inverts_contract_everywhere():
    u = torch.randn(1000, 3, dtype=torch.float64) * torch.logspace(-2, 4, 1000, dtype=torch.float64)[:, None]
    v = contract(u)
    assert bool((v.abs().amax(-1) < 2).all())
    torch.testing.assert_close(uncontract(v), u, rtol=1e-9, atol=1e-12)


def test_a_ray_stays_ordered_and_continuous_through_the_box_face():
    t = torch.linspace(0, 50, 2001, dtype=torch.float64)
    u = torch.tensor([0.2, -0.1, 0.3], dtype=torch.float64) + t[:, None] * torch.tensor(
        [0.6, 0.0, 0.8], dtype=torch.float64
    )
    r = contract(u).abs().amax(-1)
    assert bool((r[1:] >= r[:-1]).all())
    assert float((contract(u)[1:] - contract(u)[:-1]).norm(dim=-1).max()) < 0.03


def test_a_contracted_field_has_density_beyond_its_box_and_a_bounded_one_none():
    torch.manual_seed(0)
    box = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
    far = torch.tensor([[5.0, 0.0, 0.0], [0.0, -40.0, 3.0], [300.0, 200.0, 100.0]])
    bounded = NGPField(NGPFieldConfig(), box)
    unbounded = NGPField(NGPFieldConfig(contraction=True), box)
    unbounded.load_state_dict(bounded.state_dict())
    assert torch.equal(bounded.density(far), torch.zeros(3))
    assert bool((unbounded.density(far) > 0).all())
    x = torch.tensor([[1.5, 0.0, 0.0]], requires_grad=True)
    unbounded.density(x).sum().backward()
    assert bool(torch.isfinite(x.grad).all())
