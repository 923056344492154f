"""Atomic output directories: write everything into a temporary sibling, rename when done.

A command that fails half-way leaves no half-written dataset behind, and a re-run
replaces the previous output cleanly.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from nerfgen.errors import NerfgenError


@contextmanager
def atomic_output_dir(out: str | Path) -> Iterator[Path]:
    """Yields a temporary directory that becomes ``out`` only if the block succeeds."""
    out = Path(out)
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    except OSError as e:
        raise NerfgenError(out, f"cannot write output directory ({e.strerror or e})") from None
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        if not out.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
            raise NerfgenError(out, "output path exists and is not a directory")
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent))
        os.replace(out, old / out.name)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Writes one file atomically (temp file in the same directory, then rename)."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.absolute().parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        raise NerfgenError(path, f"cannot write file ({e.strerror or e})") from None
