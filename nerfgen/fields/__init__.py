"""Radiance fields: what the renderer queries for density, colour and normals."""

from nerfgen.fields.base import Field, FieldOutput
from nerfgen.fields.ngp import NGPField, NGPFieldConfig

__all__ = ["Field", "FieldOutput", "NGPField", "NGPFieldConfig"]
