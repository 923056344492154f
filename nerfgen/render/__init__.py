"""Rendering rays through fields into per-ray outputs (colour, opacity, range, normals)."""

from nerfgen.render.volume import RenderConfig, RenderOutput, render_rays

__all__ = ["RenderConfig", "RenderOutput", "render_rays"]
