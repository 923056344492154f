"""Atomic output directories: write everything into a temporary sibling, rename when done.

A command that fails half-way leaves no half-written dataset behind, and a re-run
replaces the previous output cleanly.

`resumable_output_dir` is the variant for long commands (`nerfgen render`, `nerfgen
export`): its temporary sibling has a fixed name, `.NAME.partial`, and a failed run
with `resume` keeps it, so the next `resume` run continues where it stopped. The
partial directory carries a stamp of the command's inputs (`RESUME_STAMP_NAME`), so
a resume never mixes two different inputs or commands.
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
    if out.exists() and not out.is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
        raise NerfgenError(out, "output path exists and is not a directory")
    _replace_dir(tmp, out)


RESUME_STAMP_NAME = ".resume-stamp.json"


@contextmanager
def resumable_output_dir(out: str | Path, stamp: bytes = b"", resume: bool = False) -> Iterator[Path]:
    """Yields `.NAME.partial` next to `out`, which becomes `out` only if the block succeeds.

    Without `resume` the partial directory starts empty and is deleted on failure. With
    `resume` a partial directory left by an earlier `resume` run with the same `stamp`
    (bytes describing the inputs and command) is yielded as it is, and kept on failure;
    the block skips the work that is already done there.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NerfgenError(out, "output path exists and is not a directory")
    work = _partial_dir(out, stamp, resume)
    try:
        yield work
    except BaseException:
        if not resume:
            shutil.rmtree(work, ignore_errors=True)
        raise
    (work / RESUME_STAMP_NAME).unlink()
    _replace_dir(work, out)


def _partial_dir(out: Path, stamp: bytes, resume: bool) -> Path:
    work = out.absolute().parent / f".{out.name}.partial"
    if resume and work.is_dir():
        stamp_path = work / RESUME_STAMP_NAME
        if not stamp_path.is_file() or stamp_path.read_bytes() != stamp:
            raise NerfgenError(work, "cannot resume: this partial output was made from another input or command")
        return work
    shutil.rmtree(work, ignore_errors=True)
    try:
        work.mkdir(parents=True)
        (work / RESUME_STAMP_NAME).write_bytes(stamp)
    except OSError as e:
        raise NerfgenError(work, f"cannot write output directory ({e.strerror or e})") from None
    return work


def _replace_dir(new: Path, out: Path) -> None:
    """Renames the finished directory `new` to `out`, replacing an older `out` (a directory)."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.absolute().parent))
        os.replace(out, old / out.name)
    os.replace(new, out)
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
