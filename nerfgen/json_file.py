"""Reading a JSON document that must be an object, with one-line errors naming the file."""

from __future__ import annotations

import json
from pathlib import Path

from nerfgen.errors import NerfgenError


def read_json_object(path: Path) -> dict:
    """The JSON object in the UTF-8 file `path`; unreadable, malformed or non-object
    content becomes a NerfgenError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise NerfgenError(path, f"cannot read file ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise NerfgenError(path, "not a UTF-8 text file") from None
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as e:
        raise NerfgenError(path, f"malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    if not isinstance(meta, dict):
        raise NerfgenError(path, "expected a JSON object at the top level")
    return meta
