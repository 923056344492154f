"""Kernel throughput: the extension vs its pure-PyTorch reference, side by side in one run.

    python benchmarks/kernels.py [--json] [--repeat 5] [--threads N] [--rounds R] [--only TEXT]

Each case module in benchmarks/ (kernels_*.py) exposes `cases()` returning Case objects;
both sides get the same inputs, and the ratio is ext / reference throughput measured in
this process, so machine noise affects both alike.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

CASE_MODULES = sorted(p.stem for p in Path(__file__).resolve().parent.glob("kernels_*.py"))


@dataclass
class Case:
    name: str  # e.g. "hash_encode forward"
    unit: str  # what one item is: "points", "rays", "samples"
    items: int  # items processed by one call
    run_ext: Callable[[], object]
    run_ref: Callable[[], object]
    target: float | None = None  # throughput the extension must reach, items/s (docs/kernels.md), if any


def _time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up (allocations, first-call dispatch)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per side and round (median)")
    parser.add_argument("--threads", type=int, help="torch (and extension) threads; default: torch's")
    parser.add_argument(
        "--rounds", type=int, default=1, help="time each side this many times, alternately (median of the rounds)"
    )
    parser.add_argument("--only", default="", help="run only the cases whose name contains this text")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)  # the extension's OpenMP follows (one libgomp)
    torch.manual_seed(0)
    from nerfgen.ops._ext import has_ext

    if not has_ext():
        sys.exit("benchmarks/kernels.py: the nerfgen._C extension is not built (run `make ext`)")
    rows = []
    for module_name in CASE_MODULES:
        for case in importlib.import_module(module_name).cases():
            if args.only not in case.name:
                continue
            t_ext, t_ref = [], []
            for _ in range(args.rounds):
                t_ext.append(_time(case.run_ext, args.repeat))
                t_ref.append(_time(case.run_ref, args.repeat))
            t_ext, t_ref = statistics.median(t_ext), statistics.median(t_ref)
            rows.append(
                {
                    "op": case.name,
                    "unit": case.unit,
                    "ext_per_s": case.items / t_ext,
                    "ref_per_s": case.items / t_ref,
                    "ratio": t_ref / t_ext,
                    "target_per_s": case.target,
                }
            )
    if args.json:
        print(json.dumps({"threads": torch.get_num_threads(), "torch": torch.__version__, "ops": rows}, indent=2))
        return
    print(f"{'op':<40} {'extension':>16} {'reference':>16} {'ratio':>8} {'target':>12}")
    for r in rows:
        tgt = f"{r['target_per_s'] / 1e6:.2f} M" if r["target_per_s"] else "-"
        print(
            f"{r['op']:<40} {r['ext_per_s'] / 1e6:>10.2f} M{r['unit'][:4]:>5}"
            f" {r['ref_per_s'] / 1e6:>10.2f} M{r['unit'][:4]:>5}"
            f" {r['ratio']:>7.1f}x {tgt:>12}"
        )


if __name__ == "__main__":
    main()
