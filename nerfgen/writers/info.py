"""`DatasetInfo`: what every writer needs to know besides the frames themselves."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from nerfgen.errors import NerfgenError


@dataclass(frozen=True)
class DatasetInfo:
    seed: int | None = None  # recorded in manifest.json
    command: tuple[str, ...] = ()  # command line recorded in manifest.json
    splits: dict[str, list[int]] | None = None  # split name -> frame indices; None: all frames are "train"

    def resolved_splits(self, written: list[int]) -> dict[str, list[int]]:
        """Split name -> sorted frame indices, checked against the frames actually written."""
        if self.splits is None:
            return {"train": sorted(written)}
        known = set(written)
        out = {}
        for name, indices in self.splits.items():
            missing = sorted(set(indices) - known)
            if missing:
                raise NerfgenError(None, f"split {name!r} lists frames that were not written: {missing[:5]}")
            out[name] = sorted(indices)
        return out

    def splits_of(self, index: int) -> list[str]:
        """Names of the splits frame `index` belongs to (["train"] when there are no splits)."""
        if self.splits is None:
            return ["train"]
        return [name for name, members in self._split_sets.items() if index in members]

    @cached_property
    def _split_sets(self) -> dict[str, set[int]]:
        return {name: set(indices) for name, indices in (self.splits or {}).items()}
