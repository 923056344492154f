"""`nerfgen` command line: tyro subcommands over dataclass configs.

Each subcommand lives in its own module as a function taking one config dataclass
(fields documented by docstrings, so `nerfgen CMD --help` documents itself) and is a
thin shell over the public Python API. Modules import heavy dependencies inside the
function so `nerfgen --help` stays quick.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys

from nerfgen.errors import NerfgenError

# name -> "module:function"; every entry is a working command.
SUBCOMMANDS: dict[str, str] = {}
SUBCOMMANDS["capture"] = "nerfgen.cli.capture:capture"
SUBCOMMANDS["demo"] = "nerfgen.cli.demo:demo"
SUBCOMMANDS["train"] = "nerfgen.cli.train:run_train"
SUBCOMMANDS["eval"] = "nerfgen.cli.eval:run_eval"
SUBCOMMANDS["view"] = "nerfgen.cli.view:run_view"
SUBCOMMANDS["render"] = "nerfgen.cli.render:render"
SUBCOMMANDS["export"] = "nerfgen.cli.export:export"
SUBCOMMANDS["localize"] = "nerfgen.cli.localize:run_localize"
SUBCOMMANDS["augment"] = "nerfgen.cli.augment:augment"
SUBCOMMANDS["serve"] = "nerfgen.cli.serve:serve"


def _load(spec: str):
    module, func = spec.split(":")
    return getattr(importlib.import_module(module), func)


def reflow_help(text: str) -> str:
    """A field docstring as --help should show it: each paragraph on one line (the help
    formatter wraps it to the terminal), list items ("- ", "* ") on lines of their own."""
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", inspect.cleandoc(text)):
        lines: list[str] = []
        for line in paragraph.splitlines():
            line = line.strip()
            if lines and not line.startswith(("- ", "* ")):
                lines[-1] += " " + line
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def _use_reflow_help(tyro) -> None:
    # tyro (1.0.17) joins a docstring's lines before dedenting it, so every indented
    # continuation line of a multi-line field docstring started a new line in --help.
    strings = getattr(tyro, "_strings", None)
    if strings is not None and hasattr(strings, "remove_single_line_breaks"):
        strings.remove_single_line_breaks = reflow_help


def main(argv: list[str] | None = None) -> None:
    import tyro

    _use_reflow_help(tyro)
    commands = {name: _load(spec) for name, spec in SUBCOMMANDS.items()}
    try:
        tyro.extras.subcommand_cli_from_dict(
            commands,
            args=argv,
            description="nerfgen: reconstruct radiance fields, compose scenes, render labelled datasets.",
        )
    except NerfgenError as e:
        print(f"nerfgen: error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("nerfgen: interrupted", file=sys.stderr)
        sys.exit(130)
