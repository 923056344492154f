"""The rich progress bar of long stages (capture, render, export, evaluation): on stderr,
so stdout carries only results, and transient, so it is gone when the stage ends."""

from __future__ import annotations


def progress_bar(enabled: bool = True):
    """A `rich.progress.Progress` (a context manager); disabled, it shows nothing."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    # Off a terminal a transient bar shows nothing but a blank line when it stops.
    return Progress(console=console, disable=not enabled or not console.is_interactive, transient=True)
