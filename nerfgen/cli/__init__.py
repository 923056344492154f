"""`nerfgen` command line: tyro subcommands over dataclass configs.

Each subcommand lives in its own module as a function taking one config dataclass
(fields documented by docstrings, so `nerfgen CMD --help` documents itself) and is a
thin shell over the public Python API. Modules import heavy dependencies inside the
function so `nerfgen --help` stays quick.
"""
from __future__ import annotations

import importlib
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


def _load(spec: str):
    module, func = spec.split(":")
    return getattr(importlib.import_module(module), func)


def main(argv: list[str] | None = None) -> None:
    import tyro

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
