"""Output directories that never destroy a user's files.

The one policy every command follows for its output directory OUT:

- OUT does not exist, or is an empty directory: it is used.
- OUT holds files: refused (`exists and is not empty; pass --overwrite to replace it`),
  unless `overwrite` is given *and* OUT holds the marker `.nerfgen-output` that nerfgen
  writes into every output it makes: nerfgen only ever replaces what it wrote itself.
  `resume` continues OUT (or its partial sibling) where the command has it.
- OUT equal to an input, inside one, or containing one is always refused.

Work happens in the hidden sibling `.OUT.partial` and is renamed to OUT when complete,
so a failed command leaves no half-written output. One writer at a time: the lock
`.OUT.lock` beside OUT is `flock`ed for the whole command (it names the owner's pid and
host); a second writer fails at once, and a lock left by a killed process is free again
(the kernel drops `flock`s with their process), so `--resume` takes over its partial
output. A partial output carries a stamp of the command's inputs
(`RESUME_STAMP_NAME`): a resume never mixes two different inputs or commands.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from nerfgen.atomic import atomic_write_bytes, file_mode
from nerfgen.errors import NerfgenError

MARKER_NAME = ".nerfgen-output"
RESUME_STAMP_NAME = ".resume-stamp.json"


def partial_path(out: Path) -> Path:
    return out.absolute().parent / f".{out.name}.partial"


def lock_path(out: Path) -> Path:
    return out.absolute().parent / f".{out.name}.lock"


def is_nerfgen_output(path: Path) -> bool:
    return (path / MARKER_NAME).is_file()


def write_marker(directory: Path, kind: str) -> None:
    """Marks `directory` as written by nerfgen (`kind`: the command), so --overwrite may replace it."""
    atomic_write_bytes(directory / MARKER_NAME, json.dumps({"tool": "nerfgen", "kind": kind}).encode() + b"\n")


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_inputs(out: str | Path, inputs: Iterable[str | Path]) -> None:
    """Raises NerfgenError when the output directory `out` is, contains or lies inside an input."""
    target = Path(out).resolve()
    for given in inputs:
        source = Path(given).resolve()
        if _within(target, source) or _within(source, target):
            raise NerfgenError(out, f"output must not be, contain or lie inside the input {given}")


def check_output(
    out: str | Path, inputs: Iterable[str | Path] = (), overwrite: bool = False, resumable: bool = False
) -> None:
    """Raises NerfgenError when writing `out` would destroy a file that nerfgen may not replace
    (module doc); call it before any work, so a refusal costs nothing. `resumable`: the
    command continues an existing `out` with --resume (training), said in the refusal."""
    out = Path(out)
    check_inputs(out, inputs)
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir():
        raise NerfgenError(out, "output path exists and is not a directory")
    if not any(out.iterdir()):
        return
    if not overwrite:
        also = " or --resume to continue it" if resumable else ""
        raise NerfgenError(out, f"exists and is not empty; pass --overwrite to replace it{also}")
    if not is_nerfgen_output(out):
        raise NerfgenError(
            out, f"--overwrite replaces only directories written by nerfgen, and this one has no {MARKER_NAME}"
        )


def check_output_file(out: str | Path, inputs: Iterable[str | Path] = (), overwrite: bool = False) -> None:
    """The policy for a command whose output is one file: an existing file is replaced only
    with `overwrite`, never when it is (or lies inside) an input; a directory never."""
    out = Path(out)
    target = out.resolve()
    for given in inputs:
        if _within(target, Path(given).resolve()):
            raise NerfgenError(out, f"output must not be or lie inside the input {given}")
    if out.is_dir():
        raise NerfgenError(out, "output path is a directory; give a file name")
    if out.exists() and not overwrite:
        raise NerfgenError(out, "exists; pass --overwrite to replace it")


@contextmanager
def output_lock(out: str | Path) -> Iterator[None]:
    """Holds the exclusive lock `.OUT.lock` beside `out` for the block; fails at once with
    one line naming the owner when another process holds it."""
    out = Path(out)
    path = lock_path(out)
    fd = _acquire(path, out)
    try:
        yield
    finally:
        # Unlinked while still held: a process that opened the old file meanwhile sees the
        # inode change after its flock and retries on the new file (_acquire).
        path.unlink(missing_ok=True)
        os.close(fd)


def _acquire(path: Path, out: Path) -> int:
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, file_mode())
        except OSError as e:
            raise NerfgenError(out, f"cannot write output directory ({e.strerror or e})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise NerfgenError(
                out, f"another nerfgen command is writing this output ({owner}); wait for it or choose another --out"
            ) from None
        try:
            same_file = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same_file = False
        if same_file:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
            return fd
        os.close(fd)


@contextmanager
def output_dir(
    out: str | Path,
    kind: str,
    inputs: Iterable[str | Path] = (),
    overwrite: bool = False,
    resume: bool = False,
    stamp: bytes = b"",
) -> Iterator[Path]:
    """Yields the partial directory `.OUT.partial` that becomes `out` only if the block
    succeeds, under the output policy and lock of the module doc; `kind` names the
    command in the marker.

    Without `resume` the partial directory starts empty and is deleted on failure. With
    `resume`, one left by an earlier `resume` run with the same `stamp` (bytes describing
    the inputs and command) is yielded as it is and kept on failure; the block skips the
    work that is already done there.
    """
    out = Path(out)
    inputs = tuple(inputs)
    check_output(out, inputs, overwrite)
    with output_lock(out):
        check_output(out, inputs, overwrite)  # another writer may have finished meanwhile
        work = _partial_dir(out, stamp, resume)
        try:
            yield work
            (work / RESUME_STAMP_NAME).unlink(missing_ok=True)
            write_marker(work, kind)
            _replace_dir(work, out)
        except BaseException:
            if not resume:
                shutil.rmtree(work, ignore_errors=True)
            raise


def _partial_dir(out: Path, stamp: bytes, resume: bool) -> Path:
    work = partial_path(out)
    if resume and work.is_dir():
        stamp_path = work / RESUME_STAMP_NAME
        if not stamp_path.is_file() or stamp_path.read_bytes() != stamp:
            raise NerfgenError(work, "cannot resume: this partial output was made from another input or command")
        return work
    shutil.rmtree(work, ignore_errors=True)  # nerfgen's own leftover: we hold the lock
    try:
        work.mkdir()
        atomic_write_bytes(work / RESUME_STAMP_NAME, stamp)
    except (OSError, NerfgenError) as e:
        shutil.rmtree(work, ignore_errors=True)
        raise NerfgenError(
            out, f"cannot write output directory ({getattr(e, 'strerror', None) or getattr(e, 'problem', e)})"
        ) from None
    return work


def _replace_dir(new: Path, out: Path) -> None:
    """Renames the finished directory `new` to `out`. `out` is absent, empty (rename(2)
    replaces an empty directory) or a nerfgen output that check_output allowed to go."""
    if out.is_dir() and any(out.iterdir()):
        old = out.absolute().parent / f".{out.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(new, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, out)
