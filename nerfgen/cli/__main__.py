"""`python -m nerfgen.cli`: the same as the `nerfgen` command."""

from nerfgen.cli import main

main()
