"""The CPU kernels built for every vector ISA they have a path for, bit for bit.

The extension is built with -march=native, so the suite's other tests only reach this
machine's vector width (simd.h: 16 lanes with AVX-512, 8 with AVX2, 4 otherwise; the hash
encoding's 8-corner vectors lower to one AVX2 register or two SSE ones). Here the
torch-free CPU launchers are built for baseline x86-64 and x86-64-v3 (AVX2) as well:
the march (tests/cpp/march_driver.cpp) must give the reference's samples exactly, and the
hash encoding (tests/cpp/hash_driver.cpp) the header's scalar per-point code, which is what
the CUDA kernels run.
"""

import math
import platform
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from test_ops_occupancy_march import _adversarial_rays, _grid, _rays

from nerfgen.ops.march import _prepare, march_reference

ROOT = Path(__file__).resolve().parents[1]
GXX = shutil.which("g++")
ISAS = {"x86-64": 4, "x86-64-v3": 8, "native": None}  # -march value -> expected pack width


def _build(name: str, sources: list[Path], isa: str, tmp_path_factory) -> Path:
    if GXX is None or platform.machine() != "x86_64":
        pytest.skip("needs g++ on x86-64")
    exe = tmp_path_factory.mktemp(name) / f"{name}_{isa}"
    cmd = [
        GXX,
        "-O2",
        "-std=c++20",
        "-fopenmp",
        "-ffp-contract=off",
        f"-march={isa}",
        f"-I{ROOT / 'cuda_ext' / 'include'}",
        *map(str, sources),
        "-o",
        str(exe),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return exe


@pytest.fixture(scope="module", params=list(ISAS))
def driver(request, tmp_path_factory):
    sources = [ROOT / "tests" / "cpp" / "march_driver.cpp", ROOT / "cuda_ext" / "cpu" / "march.cpp"]
    return _build("march", sources, request.param, tmp_path_factory), ISAS[request.param]


@pytest.mark.parametrize("isa", list(ISAS))
def test_hash_encoding_matches_per_point_code(isa, tmp_path_factory):
    sources = [ROOT / "tests" / "cpp" / "hash_driver.cpp", ROOT / "cuda_ext" / "cpu" / "hash_encoding.cpp"]
    exe = _build("hash", sources, isa, tmp_path_factory)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "ok 120"  # 5 outputs x 4 feature counts x 3 sizes x 2 dtypes


@pytest.mark.parametrize("levels,res,cone_angle", [(2, 16, 0.0), (4, 32, 1 / 64), (1, 8, 0.0)])
def test_driver_matches_reference(driver, tmp_path, levels, res, cone_angle):
    exe, width = driver
    o1, d1 = _rays(500, seed=levels)
    o2, d2 = _adversarial_rays()
    o, d = torch.cat([o1, o2]), torch.cat([d1, d2])
    grid = _grid(levels, res, seed=res)
    args = _prepare(o, d, grid.binaries, grid.aabb, 0.02, cone_angle, 0.0, math.inf, None, None, None)
    rays_o, rays_d, t_lo, t_hi, binaries, center, half, step, cone, max_step = args
    assert center == [0.0] * 3 and half == [1.0] * 3  # the driver's fixed box (AABB)
    inputs = tmp_path / "in.bin"
    with open(inputs, "wb") as f:
        for x in (rays_o, rays_d, t_lo, t_hi):
            f.write(x.numpy().astype(np.float32).tobytes())
        f.write(binaries.numpy().astype(np.uint8).tobytes())
    n = o.shape[0]
    proc = subprocess.run(
        [
            str(exe),
            str(inputs),
            str(tmp_path / "out.bin"),
            str(n),
            str(levels),
            str(res),
            repr(step),
            repr(cone),
            repr(max_step),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    if width is not None:
        assert int(proc.stdout) == width
    out = (tmp_path / "out.bin").read_bytes()
    counts = torch.from_numpy(np.frombuffer(out, np.int64, n).copy())
    total = int(counts.sum())
    t_starts = torch.from_numpy(np.frombuffer(out, np.float32, total, offset=8 * n).copy())
    t_ends = torch.from_numpy(np.frombuffer(out, np.float32, total, offset=8 * n + 4 * total).copy())
    ref = march_reference(*args)
    assert total > 1000
    assert torch.equal(counts, ref.counts)
    assert torch.equal(t_starts, ref.t_starts) and torch.equal(t_ends, ref.t_ends)
