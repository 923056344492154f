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
    predicted_normals: bool = False
    """Add a predicted-normal head, regularised toward the density-gradient normals (smoother on
    long runs; on short CPU runs the gradient normals are more accurate, hence off)."""

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


def _mlp(n_in: int, hidden: int, n_hidden_layers: int, n_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(n_hidden_layers):
        layers += [nn.Linear(n_in if i == 0 else hidden, hidden), nn.ReLU(inplace=True)]
    layers.append(nn.Linear(hidden if n_hidden_layers else n_in, n_out))
    return nn.Sequential(*layers)


class NGPField(nn.Module):
    """The radiance field of one scene or object, inside `aabb` [2,3] (world metres)."""

    def __init__(self, config: NGPFieldConfig, aabb: Tensor):
        super().__init__()
        self.config = config
        self.register_buffer("aabb", torch.as_tensor(aabb, dtype=torch.float32).reshape(2, 3).clone())
        self.encoding = HashEncoding(config.hash_config())
        n_enc = config.n_levels * config.features_per_level
        c = config
        self.density_mlp = _mlp(n_enc, c.hidden_dim, c.density_layers, 1 + c.geo_feature_dim)
        self.color_mlp = _mlp(c.sh_degree**2 + c.geo_feature_dim, c.hidden_dim, c.color_layers, 3)
        # The head sees the hash features too (nerfstudio gives it the position): geo
        # features alone are shaped by colour and carry too little of the geometry.
        self.normal_head = _mlp(n_enc + c.geo_feature_dim, c.hidden_dim, 1, 3) if c.predicted_normals else None

    def _geometry(self, positions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """positions [N,3] -> density [N], hash features [N,L*F], geo features [N,G]."""
        x01 = (positions - self.aabb[0]) / (self.aabb[1] - self.aabb[0])
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
