"""Loads the compiled extension (nerfgen._C) once, or falls back to the references.

Every op in nerfgen.ops has a pure-PyTorch reference; when the extension is missing
the package still works through them, with one warning. NERFGEN_REFERENCE_OPS=1 forces
the references (used to benchmark the trainer with and without the extension).
"""

from __future__ import annotations

import os
import warnings

import torch

_LOADED = False
_ERROR: str | None = None

if os.environ.get("NERFGEN_REFERENCE_OPS", "0") == "1":
    _ERROR = "NERFGEN_REFERENCE_OPS=1"
else:
    try:
        from nerfgen import _C  # noqa: F401  (registers torch.ops.nerfgen.*)

        _LOADED = True
    except ImportError as e:  # pragma: no cover - depends on the build
        _ERROR = str(e)
        warnings.warn(
            f"nerfgen._C extension not available ({e}); using the pure-PyTorch reference ops, "
            "which are much slower. Build it with `make ext`.",
            stacklevel=2,
        )


def has_ext() -> bool:
    """True when the compiled ops are loaded and not disabled."""
    return _LOADED


def use_ext(*tensors: torch.Tensor) -> bool:
    """Whether to run the compiled op for these inputs (else the reference)."""
    if not _LOADED:
        return False
    return all(t.device.type in ("cpu", "cuda") for t in tensors)


def ops():
    """torch.ops.nerfgen, the namespace the extension registers into."""
    return torch.ops.nerfgen
