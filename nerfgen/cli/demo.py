"""`nerfgen demo`: the end-to-end demo on the bundled scenes (nerfgen.demo)."""

from __future__ import annotations

import tyro

from nerfgen.demo import DemoConfig


def demo(config: tyro.conf.OmitArgPrefixes[DemoConfig]) -> None:
    """Capture, train, insert trained cars into a trained street, render camera + LiDAR,
    export and compare with the exact twin."""
    from nerfgen.demo import run_demo

    run_demo(config)
