"""A rich progress bar for training: step, loss, batch PSNR, rays per second."""

from __future__ import annotations

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


class TrainProgress:
    """Context manager; `update` is cheap and refreshes the text at most every 10 steps."""

    def __init__(self, max_steps: int, seconds: float | None, enabled: bool = True):
        self.max_steps, self.seconds, self.enabled = max_steps, seconds, enabled
        self._progress = Progress(
            TextColumn("[bold]train[/] step {task.fields[step]}"),
            BarColumn(),
            TextColumn(
                "loss {task.fields[loss]:.4f}  PSNR {task.fields[psnr]:.2f} dB  {task.fields[rays_per_s]:,.0f} rays/s"
            ),
            TimeElapsedColumn(),
            disable=not enabled,
        )
        self._rays = 0
        self._last_elapsed = 0.0

    def __enter__(self) -> TrainProgress:
        self._progress.__enter__()
        self._task = self._progress.add_task("train", total=1.0, step=0, loss=0.0, psnr=0.0, rays_per_s=0.0)
        return self

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)

    def update(self, step: int, elapsed: float, stats) -> None:
        self._rays += stats.n_rays
        if not self.enabled or step % 10:
            return
        fraction = step / self.max_steps
        if self.seconds:
            fraction = max(fraction, elapsed / self.seconds)
        rate = self._rays / max(elapsed - self._last_elapsed, 1e-9)
        self._rays, self._last_elapsed = 0, elapsed
        self._progress.update(
            self._task, completed=min(fraction, 1.0), step=step, loss=stats.loss, psnr=stats.psnr, rays_per_s=rate
        )
