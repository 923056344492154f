"""Atomic file writes: a temporary file in the same directory, renamed when complete.

A reader never sees a half-written file, and a killed writer leaves at most a hidden
temporary file. Files get the modes the user's umask gives (as `open` would), not the
0600 of `mkstemp`. Output directories as a whole: nerfgen.output_dir.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from nerfgen.errors import NerfgenError


def _read_umask() -> int:
    # The only way to read the umask is to set it: done once at import, before any
    # worker thread could create a file under the briefly changed value.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def file_mode() -> int:
    """The mode a new regular file gets under the process's umask."""
    return 0o666 & ~_UMASK


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Writes one file atomically (temp file in the same directory, then rename)."""
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.absolute().parent)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), file_mode())
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise NerfgenError(path, f"cannot write file ({e.strerror or e})") from None
