"""Checkpoint files: safetensors tensors + JSON metadata. Loading never executes code.

A checkpoint is one `.safetensors` file whose string metadata holds a single JSON
document (configs, step, anything non-tensor); tensors are stored flat under dotted
names. Any unreadable, truncated or inconsistent file becomes a one-line NerfgenError
naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import torch
from safetensors.torch import load as load_safetensors  # tensors only: never runs code
from safetensors.torch import save as save_safetensors
from torch import Tensor

from nerfgen.atomic import atomic_write_bytes
from nerfgen.errors import NerfgenError

_META_KEY = "nerfgen"
FORMAT = "nerfgen-checkpoint-1"


def write_checkpoint(path: str | Path, tensors: dict[str, Tensor], meta: dict[str, Any]) -> None:
    """Writes tensors + JSON-able metadata atomically (temp file, then rename)."""
    data = save_safetensors(
        {k: v.detach().cpu().contiguous() for k, v in tensors.items()},
        metadata={_META_KEY: json.dumps({"format": FORMAT, **meta})},
    )
    atomic_write_bytes(path, data)


def read_checkpoint(path: str | Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Reads a checkpoint written by `write_checkpoint`: (tensors on CPU, metadata)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise NerfgenError(path, f"cannot read checkpoint ({e.strerror or e})") from None
    try:
        tensors = load_safetensors(raw)
        header_len = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8 : 8 + header_len])
        meta = json.loads(header.get("__metadata__", {})[_META_KEY])
    except Exception as e:  # safetensors raises its own error type; all mean "corrupt"
        raise NerfgenError(
            path, f"corrupt checkpoint ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'unreadable'})"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise NerfgenError(path, f"not a nerfgen checkpoint (expected format {FORMAT!r})")
    return tensors, meta


def take_prefixed(tensors: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """The entries under `prefix.` with the prefix removed."""
    return {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def check_finite(path: str | Path, tensors: dict[str, Tensor], infinity_allowed: Iterable[str] = ()) -> None:
    """Raises a NerfgenError naming `path` and the tensor when a floating-point tensor holds
    NaN, or +-inf outside the names in `infinity_allowed` (NaN is refused everywhere)."""
    allowed = set(infinity_allowed)
    for name, tensor in tensors.items():
        if not tensor.is_floating_point():
            continue
        bad = torch.isnan(tensor) if name in allowed else ~torch.isfinite(tensor)
        if bool(bad.any()):
            raise NerfgenError(path, f"checkpoint holds non-finite values (NaN or inf) in {name}: refusing to load it")
