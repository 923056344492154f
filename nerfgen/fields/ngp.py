"""Instant-NGP field: multi-resolution hash encoding + tiny MLPs inside an axis-aligned box.

    x (world) -> x01 in [0,1]^3 -> hash grid [L*F] -> density MLP -> (log sigma, geo features)
    (SH(direction), geo features) -> colour MLP -> rgb
    geo features -> normal head -> predicted normal (optional)

Normals come from the density gradient (autograd through the hash encoding w.r.t. x);
the optional predicted-normal head is trained toward them (nerfstudio's
`pred_normal_loss`) and is smoother, because an MLP on the geo features averages the
per-level hash noise that the raw gradient carries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nerfgen.fields.base import FieldOutput
from nerfgen.fields.contraction import contract
from nerfgen.fields.sh import sh_encode
from nerfgen.ops.hash_encoding import HashEncoding, HashEncodingConfig


@dataclass(frozen=True)
class NGPFieldConfig:
    """Size of the hash grid and the MLPs. Defaults suit ~100-200 px training images on a CPU."""

    n_levels: int = 8
    """Hash-grid levels (resolutions spaced geometrically from base to max)."""
    features_per_level: int = 2
    """Features stored per table entry."""
    log2_hashmap_size: int = 17
    """log2 of the entries per level; levels with fewer cells are stored densely."""
    base_resolution: int = 16
    """Coarsest grid resolution across the box."""
    max_resolution: int = 256
    """Finest grid resolution across the box (2-4x the image resolution over the object)."""
    hidden_dim: int = 64
    """Width of every hidden layer."""
    density_layers: int = 1
    """Hidden layers of the density MLP."""
    color_layers: int = 2
    """Hidden layers of the colour MLP."""
    geo_feature_dim: int = 15
    """Geometry features passed from the density MLP to the colour MLP and normal head."""
    sh_degree: int = 4
    """Spherical-harmonics degree of the view-direction encoding (degree^2 values)."""
    contraction: bool = False
    """Model the space beyond the box too (real photos and drives): positions are contracted
    (nerfgen.fields.contraction), the box filling the middle half of the hash grid and the
    space out to infinity the rest, so sky and far background become part of the field
    instead of a background colour. Off for objects and captures, whose box holds everything."""
    predicted_normals: bool = False
    """Add a predicted-normal head, regularised toward the density-gradient normals (smoother on
    long runs; on short CPU runs the gradient normals are more accurate, hence off)."""

    def n_parameters(self) -> int:
        """Trainable parameters of the field this config builds (without allocating it)."""
        n_enc = self.n_levels * self.features_per_level
        n = self.n_levels * (1 << self.log2_hashmap_size) * self.features_per_level
        n += _mlp_parameters(n_enc, self.hidden_dim, self.density_layers, 1 + self.geo_feature_dim)
        n += _mlp_parameters(self.sh_degree**2 + self.geo_feature_dim, self.hidden_dim, self.color_layers, 3)
        if self.predicted_normals:
            n += _mlp_parameters(n_enc + self.geo_feature_dim, self.hidden_dim, 1, 3)
        return n

    def hash_config(self) -> HashEncodingConfig:
        per_level_scale = math.exp(math.log(self.max_resolution / self.base_resolution) / max(self.n_levels - 1, 1))
        return HashEncodingConfig(
            n_levels=self.n_levels,
            n_features_per_level=self.features_per_level,
            log2_hashmap_size=self.log2_hashmap_size,
            base_resolution=self.base_resolution,
            per_level_scale=per_level_scale,
        )


class _TruncExp(torch.autograd.Function):
    """exp with its gradient clamped (Instant-NGP): a large log-density cannot blow up Adam."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.exp(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.exp(x.clamp(max=15.0))


def _mlp_parameters(n_in: int, hidden: int, n_hidden_layers: int, n_out: int) -> int:
    """Weights and biases of `_mlp(n_in, hidden, n_hidden_layers, n_out)`."""
    widths = [n_in] + [hidden] * n_hidden_layers + [n_out]
    return sum((a + 1) * b for a, b in zip(widths, widths[1:]))


def _linear(n_in: int, n_out: int, generator: torch.Generator | None) -> nn.Linear:
    """nn.Linear with its default initialisation drawn from `generator` (global RNG if None)."""
    if generator is None:
        return nn.Linear(n_in, n_out)
    layer = torch.nn.utils.skip_init(nn.Linear, n_in, n_out)  # allocated, not drawn from the global RNG
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        bound = 1.0 / math.sqrt(n_in)
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return layer


def _mlp(n_in: int, hidden: int, n_hidden_layers: int, n_out: int, generator: torch.Generator | None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(n_hidden_layers):
        layers += [_linear(n_in if i == 0 else hidden, hidden, generator), nn.ReLU(inplace=True)]
    layers.append(_linear(hidden if n_hidden_layers else n_in, n_out, generator))
    return nn.Sequential(*layers)


class NGPField(nn.Module):
    """The radiance field of one scene or object, inside `aabb` [2,3] (world metres), or
    everywhere with `config.contraction`.

    Its initial weights are drawn from `generator` (the global RNG if None), so a
    seeded generator gives the same field without touching the global RNG."""

    def __init__(self, config: NGPFieldConfig, aabb: Tensor, generator: torch.Generator | None = None):
        super().__init__()
        self.config = config
        self.register_buffer("aabb", torch.as_tensor(aabb, dtype=torch.float32).reshape(2, 3).clone())
        hash_seed = None if generator is None else int(torch.randint(1 << 62, (), generator=generator))
        self.encoding = HashEncoding(config.hash_config(), seed=hash_seed)
        n_enc = config.n_levels * config.features_per_level
        c, g = config, generator
        self.density_mlp = _mlp(n_enc, c.hidden_dim, c.density_layers, 1 + c.geo_feature_dim, g)
        self.color_mlp = _mlp(c.sh_degree**2 + c.geo_feature_dim, c.hidden_dim, c.color_layers, 3, g)
        # The head sees the hash features too (nerfstudio gives it the position): geo
        # features alone are shaped by colour and carry too little of the geometry.
        self.normal_head = _mlp(n_enc + c.geo_feature_dim, c.hidden_dim, 1, 3, g) if c.predicted_normals else None

    def _geometry(self, positions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """positions [N,3] -> density [N], hash features [N,L*F], geo features [N,G]."""
        x01 = (positions - self.aabb[0]) / (self.aabb[1] - self.aabb[0])
        if self.config.contraction:
            encoded = self.encoding((contract(2.0 * x01 - 1.0) + 2.0) * 0.25)
            h = self.density_mlp(encoded)
            return _TruncExp.apply(h[:, 0]), encoded, h[:, 1:]
        inside = ((x01 >= 0) & (x01 <= 1)).all(-1)
        encoded = self.encoding(x01.clamp(0.0, 1.0))
        h = self.density_mlp(encoded)
        # Outside the box the field is empty, whatever the clamped encoding says.
        density = _TruncExp.apply(h[:, 0]) * inside
        return density, encoded, h[:, 1:]

    def density(self, positions: Tensor) -> Tensor:  # [N,3] -> [N]
        return self._geometry(positions)[0]

    def forward(self, positions: Tensor, directions: Tensor, normals: bool = False) -> FieldOutput:
        """positions [N,3] world, directions [N,3] unit -> FieldOutput."""
        gradient_normals = None
        if normals:
            # The gradient w.r.t. x is taken even under no_grad (evaluation); in training
            # the graph is kept so the loss can still backpropagate through `density`.
            grad_enabled = torch.is_grad_enabled()
            with torch.enable_grad():
                x = positions.detach().requires_grad_(True)
                density, encoded, geo = self._geometry(x)
                (grad,) = torch.autograd.grad(density.sum(), x, retain_graph=grad_enabled)
            gradient_normals = -F.normalize(grad, dim=-1)
            if not grad_enabled:
                density, encoded, geo = density.detach(), encoded.detach(), geo.detach()
        else:
            density, encoded, geo = self._geometry(positions)
        rgb = torch.sigmoid(self.color_mlp(torch.cat([sh_encode(directions, self.config.sh_degree), geo], -1)))
        pred_normals = None
        if normals and self.normal_head is not None:
            pred_normals = F.normalize(self.normal_head(torch.cat([encoded, geo], -1)), dim=-1)
        return FieldOutput(density, rgb, gradient_normals, pred_normals)
