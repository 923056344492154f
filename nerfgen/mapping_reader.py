"""Reading the typed fields of one mapping of loaded YAML or JSON, with one-line errors.

`MappingReader` refuses every bad value where it is read: wrong types, NaN and
infinities, numbers beyond `LIMIT`, values out of a field's range, and (`check_keys`)
keys the format does not have, suggesting the closest one.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nerfgen.errors import NerfgenError

# Largest magnitude of any number in a scene or dataset file (metres, degrees, scales...):
# far beyond any real scene, and far below where float32 geometry loses all precision.
LIMIT = 1e6
# Smallest positive value (sizes, radii, scales, periods, angles of view): below it,
# geometry degenerates to points and normals and view directions to 0 / 0.
SMALLEST = 1e-6


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class MappingReader:
    """Reads typed fields out of a mapping; `where` says which entry in errors.

    Every number read must be finite and within +-LIMIT (or the tighter `limit` given),
    besides the field's own bounds; `positive` ones at least SMALLEST. A default of None
    makes a field optional: its getter returns None when the key is absent.
    """

    def __init__(self, file: Path, data: Any, where: str):
        self.file = file
        self.where = where
        if not isinstance(data, dict):
            self.fail(f"expected a mapping, got {type(data).__name__}")
        self.data = data

    def fail(self, problem: str):
        raise NerfgenError(self.file, f"{self.where}: {problem}")

    def has(self, key: str) -> bool:
        return key in self.data

    def check_keys(self, allowed: Iterable[str], what: str = "") -> None:
        """Refuses the first key not in `allowed` (a misspelt key would otherwise be ignored),
        suggesting the closest allowed one; `what` qualifies it ("for texture 'solid'")."""
        allowed = sorted(allowed)
        for key in self.data:
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(allowed)}"
            self.fail(f"unknown key {key!r}{' ' + what if what else ''} ({hint})")

    def raw(self, key: str, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                self.fail(f"missing key '{key}'")
            return default
        return self.data[key]

    def child(self, key: str, where: str) -> MappingReader:
        return MappingReader(self.file, self.raw(key), where)

    def _absent(self, key: str, default: Any) -> bool:
        return default is None and key not in self.data

    def text(self, key: str, default: Any = ...) -> str:
        if self._absent(key, default):
            return None  # type: ignore[return-value]
        v = self.raw(key, default)
        if not isinstance(v, str):
            self.fail(f"'{key}' must be a string, got {v!r}")
        return v

    def integer(self, key: str, default: Any = ..., min_value: int | None = None, max_value: int | None = None) -> int:
        if self._absent(key, default):
            return None  # type: ignore[return-value]
        v = self.raw(key, default)
        if isinstance(v, float) and v.is_integer() and abs(v) < LIMIT:
            v = int(v)  # JSON writers may write 64.0 for 64
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(f"'{key}' must be an integer, got {v!r}")
        if min_value is not None and v < min_value:
            self.fail(f"'{key}' must be >= {min_value}, got {v}")
        if max_value is not None and v > max_value:
            self.fail(f"'{key}' must be <= {max_value}, got {v}")
        return v

    def flag(self, key: str, default: Any = ...) -> bool:
        v = self.raw(key, default)
        if not isinstance(v, bool):
            self.fail(f"'{key}' must be true or false, got {v!r}")
        return v

    def number(
        self,
        key: str,
        default: Any = ...,
        positive: bool = False,
        min_value: float | None = None,
        max_value: float | None = None,
        limit: float = LIMIT,
    ) -> float:
        """A finite number with |v| < limit and the given bounds."""
        if self._absent(key, default):
            return None  # type: ignore[return-value]
        v = self.raw(key, default)
        if not _is_number(v) or not math.isfinite(v):
            self.fail(f"'{key}' must be a finite number, got {v!r}")
        self._check_range(key, v, positive, min_value, max_value, limit)
        return float(v)

    def numbers(
        self, key: str, n: int, default: Any = ..., positive: bool = False, limit: float = LIMIT
    ) -> tuple[float, ...]:
        v = self.raw(key, default)
        ok = isinstance(v, (list, tuple)) and len(v) == n and all(_is_number(x) and math.isfinite(x) for x in v)
        if not ok:
            self.fail(f"'{key}' must be a list of {n} finite numbers, got {v!r}")
        for x in v:
            self._check_range(key, x, positive, None, None, limit, whole=v)
        return tuple(float(x) for x in v)

    def _check_range(self, key, v, positive, min_value, max_value, limit, whole=None) -> None:
        shown = repr(list(whole) if whole is not None else v)
        if positive and not v >= SMALLEST:
            self.fail(f"'{key}' must be positive (at least {SMALLEST:g}), got {shown}")
        if not abs(v) < limit:
            self.fail(f"'{key}' must be within +-{limit:g}, got {shown}")
        if min_value is not None and v < min_value:
            self.fail(f"'{key}' must be >= {min_value:g}, got {shown}")
        if max_value is not None and v > max_value:
            self.fail(f"'{key}' must be <= {max_value:g}, got {shown}")

    def items(self, key: str) -> list:
        v = self.raw(key)
        if not isinstance(v, list) or not v:
            self.fail(f"'{key}' must be a non-empty list")
        return v
