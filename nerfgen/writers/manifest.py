"""`manifest.json`: what made a dataset directory and a checksum of every file in it.

Contents: tool version, seed, command line, and `files`: relative POSIX path -> sha256,
sorted by path. Nothing time- or machine-dependent, so the same command with the same
seed gives an identical manifest; comparing manifests compares datasets.
Hidden files (names starting with '.', e.g. temporary files of an atomic write) and
the manifest itself are not listed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from nerfgen.writers.encode import json_bytes

MANIFEST_NAME = "manifest.json"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_manifest(root: str | Path, seed: int | None, command: list[str]) -> dict:
    import nerfgen

    root = Path(root)
    relative = (p.relative_to(root) for p in root.rglob("*") if p.is_file())
    files = sorted(
        r.as_posix() for r in relative if r.as_posix() != MANIFEST_NAME and not any(s.startswith(".") for s in r.parts)
    )
    return {
        "tool": "nerfgen",
        "version": nerfgen.__version__,
        "seed": seed,
        "command": list(command),
        "files": {name: file_sha256(root / name) for name in files},
    }


def manifest_bytes(root: str | Path, seed: int | None, command: list[str]) -> bytes:
    """The manifest of `root` as file bytes (write it with the caller's atomic sink)."""
    return json_bytes(build_manifest(root, seed, command))
