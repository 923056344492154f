"""The NGP field and its pieces: SH basis, density outside the box, gradient normals."""

from __future__ import annotations

import math

import pytest
import torch

from nerfgen.fields.ngp import NGPField, NGPFieldConfig
from nerfgen.fields.sh import sh_encode

SMALL = NGPFieldConfig(n_levels=4, log2_hashmap_size=12, base_resolution=4, max_resolution=32, hidden_dim=16)
BOX = torch.tensor([[-1.0, -2.0, 0.0], [1.0, 2.0, 1.5]])


def _fibonacci_sphere(n: int) -> torch.Tensor:  # [n,3] near-uniform unit vectors
    i = torch.arange(n, dtype=torch.float64) + 0.5
    z = 1 - 2 * i / n
    phi = math.pi * (3 - math.sqrt(5)) * i
    r = torch.sqrt(1 - z * z)
    return torch.stack([r * torch.cos(phi), r * torch.sin(phi), z], -1)


@pytest.mark.parametrize("degree", [1, 2, 3, 4])
def test_sh_basis_is_orthonormal_on_the_sphere(degree):
    y = sh_encode(_fibonacci_sphere(200_000), degree)  # [N, degree^2]
    gram = 4 * math.pi * (y.T @ y) / y.shape[0]
    assert y.shape[1] == degree**2
    torch.testing.assert_close(gram, torch.eye(degree**2, dtype=torch.float64), atol=1e-3, rtol=0)


def test_sh_rejects_unsupported_degree():
    with pytest.raises(ValueError, match="degree"):
        sh_encode(torch.zeros(1, 3), 5)


def _field(seed: int = 0) -> NGPField:
    torch.manual_seed(seed)
    field = NGPField(SMALL, BOX)
    # Larger table values than the 1e-4 init so the density varies visibly in space.
    with torch.no_grad():
        field.encoding.params.uniform_(-1.0, 1.0)
    return field


def test_density_is_zero_outside_the_box_only():
    field = _field()
    inside = BOX[0] + torch.rand(500, 3) * (BOX[1] - BOX[0])
    outside = inside + torch.tensor([2.5, 0.0, 0.0])
    assert (field.density(inside) > 0).all()
    assert (field.density(outside) == 0).all()


def test_gradient_normals_are_minus_the_normalised_density_gradient():
    field = _field().double()
    x = (BOX[0] + (0.1 + 0.8 * torch.rand(64, 3)) * (BOX[1] - BOX[0])).double()
    d = torch.nn.functional.normalize(torch.randn(64, 3, dtype=torch.float64), dim=-1)
    with torch.no_grad():
        out = field(x, d, normals=True)
        eps = 1e-6
        grad = torch.stack(
            [
                (field.density(x + eps * e) - field.density(x - eps * e)) / (2 * eps)
                for e in torch.eye(3, dtype=torch.float64)
            ],
            -1,
        )
    expected = -torch.nn.functional.normalize(grad, dim=-1)
    torch.testing.assert_close(out.normals, expected, atol=1e-4, rtol=0)
    assert not out.normals.requires_grad  # evaluation under no_grad stays graph-free


def test_normals_do_not_change_density_or_colour():
    field = _field()
    x = BOX[0] + torch.rand(100, 3) * (BOX[1] - BOX[0])
    d = torch.nn.functional.normalize(torch.randn(100, 3), dim=-1)
    plain = field(x, d)
    with_normals = field(x, d, normals=True)
    assert plain.normals is None and plain.pred_normals is None
    torch.testing.assert_close(plain.density, with_normals.density)
    torch.testing.assert_close(plain.rgb, with_normals.rgb)
    # Training through normals keeps the graph: the colour loss still reaches the table.
    with_normals.rgb.sum().backward()
    assert field.encoding.params.grad.abs().sum() > 0


def test_predicted_normal_head_outputs_unit_vectors():
    torch.manual_seed(0)
    field = NGPField(NGPFieldConfig(**{**SMALL.__dict__, "predicted_normals": True}), BOX)
    x = BOX[0] + torch.rand(50, 3) * (BOX[1] - BOX[0])
    out = field(x, torch.nn.functional.normalize(torch.randn(50, 3), dim=-1), normals=True)
    torch.testing.assert_close(out.pred_normals.norm(dim=-1), torch.ones(50))
