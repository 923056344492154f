"""The one error type for bad user input: it prints as one line naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable


class NerfgenError(Exception):
    """Bad input or environment, reported as ``<path>: <problem>``.

    The CLI catches it, prints that single line and exits with status 2; Python
    callers can catch it to tell user errors from bugs.
    """

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else str(path)
        # One line, whatever a wrapped library's exception text held (leading or inner newlines).
        self.problem = problem = " ".join(line.strip() for line in problem.splitlines() if line.strip())
        super().__init__(problem if path is None else f"{path}: {problem}")


def require_at_least_one(config: object, names: Iterable[str]) -> None:
    """Raises for the first of `config`'s integer options `names` below 1, named as its
    command-line flag (--frames, --width, ...)."""
    require_at_least(config, names, 1)


def require_in_ranges(config: object, ranges: dict[str, tuple[float, float]]) -> None:
    """Raises for the first of `config`'s options outside its [low, high] in `ranges` (NaN
    is in none), named as its command-line flag."""
    for name, (low, high) in ranges.items():
        value = getattr(config, name)
        if not low <= value <= high:
            raise NerfgenError(None, f"--{name.replace('_', '-')} must be in [{low:g}, {high:g}], got {value}")


def require_at_least(config: object, names: Iterable[str], lowest: int) -> None:
    """Raises for the first of `config`'s integer options `names` below `lowest` (e.g. 0
    for --seed), named as its command-line flag."""
    for name in names:
        value = getattr(config, name)
        if value < lowest:
            raise NerfgenError(None, f"--{name.replace('_', '-')} must be >= {lowest}, got {value}")
