"""`FileSink`: where a writer puts its files, each one atomic, with resume by skipping.

Every file is written to a temporary name and renamed, so a file that exists is
complete. Per-frame files depend only on their frame's records and encoders are
deterministic, so on `resume` a per-frame file that already exists is kept as is:
an interrupted export continued with resume ends with the same bytes as one
uninterrupted run. Dataset-level files (indices, JSON collections) depend on every
frame and are always rewritten at the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from nerfgen.atomic import atomic_write_bytes
from nerfgen.errors import NerfgenError


class FileSink:
    def __init__(self, root: str | Path, resume: bool = False):
        self.root = Path(root)
        self.resume = resume
        self._made_dirs: set[Path] = set()

    def frame_file(self, relpath: str, encode: Callable[[], bytes]) -> None:
        """Writes `encode()` to root/relpath, unless resuming and the file already exists."""
        path = self.root / relpath
        if self.resume and path.is_file():
            return
        self._write(path, encode())

    def dataset_file(self, relpath: str, data: bytes) -> None:
        self._write(self.root / relpath, data)

    def _write(self, path: Path, data: bytes) -> None:
        parent = path.parent
        if parent not in self._made_dirs:
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise NerfgenError(parent, f"cannot create directory ({e.strerror or e})") from None
            self._made_dirs.add(parent)
        atomic_write_bytes(path, data)
