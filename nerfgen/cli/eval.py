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
    """Dataset to evaluate on; default: the one the run was trained on (with its KITTI --frames and --cameras)."""
    downscale: int | None = None
    """Downsample the dataset's images by this integer factor; default: the run's --downscale."""
    holdout_every: int | None = None
    """Data without a test split of its own holds out every this-th frame; default: the run's --holdout-every."""
    split: str = "test"
    """Split to render ("test": the dataset's test split, or every --holdout-every-th frame when it has none)."""


def run_eval(cmd: tyro.conf.OmitArgPrefixes[EvalCommand]) -> None:
    """Evaluate a trained run: PSNR, SSIM, depth and normal errors, side-by-side images."""
    import torch

    from nerfgen.data import load_dataset
    from nerfgen.errors import require_at_least_one
    from nerfgen.train import evaluate, load_trained

    require_at_least_one(cmd, ("threads",))
    torch.set_num_threads(cmd.threads)
    trained = load_trained(cmd.run)
    config = trained.config
    data = cmd.data if cmd.data is not None else Path(config.data)
    # The run's frame and camera selection belongs to its own data only.
    options = config.data_options if data.resolve() == Path(config.data) else {}
    downscale = config.downscale if cmd.downscale is None else cmd.downscale
    holdout_every = config.train.holdout_every if cmd.holdout_every is None else cmd.holdout_every
    dataset = load_dataset(data, downscale, config.train.eval_background, **options, holdout_every=holdout_every)
    summary = evaluate(trained, dataset, cmd.split, cmd.run, holdout_every)
    metrics = {k: v for k, v in summary.items() if isinstance(v, float)}
    width, height = summary["image_size"]
    print(
        f"{cmd.split} ({summary['n_views']} views of {width}x{height}, step {summary['step']}): "
        + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items())
    )
    if "lidar" in summary:
        lidar = summary["lidar"]
        print(
            f"lidar ({lidar['scans']} held-out scans, {lidar['returns']} returns): median range error "
            f"{lidar['range_median_abs_error_m']:.3f} m ({lidar['range_median_rel_error_pct']:.2f} %), "
            f"within 10 cm {lidar['within_10cm']:.3f}, drop agreement {lidar['drop_agreement']:.3f}"
        )
    print(f"wrote {cmd.run / 'eval.json'} and {cmd.run / 'eval'}/")
