"""`nerfgen eval RUN`: metrics of a trained field on a dataset split, and side-by-side images."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass
class EvalCommand:
    """Render a split's views with a trained run; print and write RUN/eval.json and RUN/eval/*.png."""

    run: tyro.conf.Positional[Path]
    """Run directory written by `nerfgen train`."""
    threads: int = 1
    """CPU threads for torch ops (see `nerfgen train --help`)."""
    data: Path | None = None
    """Dataset to evaluate on; default: the one the run was trained on."""
    split: str = "test"
    """Split to render ("test": the dataset's test split, or every 8th frame when it has none)."""


def run_eval(cmd: tyro.conf.OmitArgPrefixes[EvalCommand]) -> None:
    """Evaluate a trained run: PSNR, SSIM, depth and normal errors, side-by-side images."""
    import torch

    from nerfgen.data import load_dataset
    from nerfgen.train import evaluate, load_trained

    torch.set_num_threads(cmd.threads)
    trained = load_trained(cmd.run)
    data = cmd.data if cmd.data is not None else Path(trained.config.data)
    dataset = load_dataset(data, downscale=trained.config.downscale, background=trained.config.train.eval_background)
    summary = evaluate(trained, dataset, cmd.split, cmd.run)
    metrics = {k: v for k, v in summary.items() if isinstance(v, float)}
    print(f"{cmd.split} ({summary['n_views']} views, step {summary['step']}): " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    print(f"wrote {cmd.run / 'eval.json'} and {cmd.run / 'eval'}/")
