"""Reading YAML files: the one loader of every scene file (ground-truth and composed).

A `yaml.SafeLoader` (loading never executes code; anchors and aliases work) that also reads
exponent floats without a dot (`1e30`, `-2E-3`) as numbers, as YAML 1.2 and JSON do, where
PyYAML's YAML 1.1 rules would read them as strings that no number check would catch.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from nerfgen.errors import NerfgenError

_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$")


class SceneLoader(yaml.SafeLoader):
    """SafeLoader that also resolves exponent floats without a dot (`1e30`) to floats."""


SceneLoader.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+0123456789."))


def read_yaml(path: str | Path) -> Any:
    """The data of a YAML file; unreadable files and YAML syntax errors become NerfgenError."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise NerfgenError(path, f"cannot read scene file ({getattr(e, 'strerror', None) or e})") from None
    try:
        return yaml.load(text, Loader=SceneLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).strip().splitlines()[0]
        raise NerfgenError(path, f"malformed YAML{line}: {problem}") from None
