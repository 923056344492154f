"""OccupancyGrid and march: compiled op vs reference (exact layouts) and ground truth."""

import math

import pytest
import torch

from nerfgen.ops._ext import has_ext
from nerfgen.ops.march import _prepare, march, march_reference
from nerfgen.ops.occupancy_grid import OccupancyGrid
from nerfgen.ops.ray_box import ray_box_intersect

requires_ext = pytest.mark.skipif(not has_ext(), reason="nerfgen._C not built (make ext): nothing to compare")
AABB = [-1.0, -1.0, -1.0, 1.0, 1.0, 1.0]


def _rays(n=300, seed=0, spread=3.0):
    g = torch.Generator().manual_seed(seed)
    o = torch.randn(n, 3, generator=g) * spread
    d = torch.randn(n, 3, generator=g) * 0.3 - o  # mostly towards the grid
    return o, d / d.norm(dim=1, keepdim=True)


def _adversarial_rays():
    o = torch.tensor(
        [
            [-3.0, 0.1, 0.2],  # parallel to two axes
            [-3.0, 0.0, 0.0],  # along cell faces through the centre
            [0.1, 0.2, 0.3],  # origin inside
            [3.0, 3.0, 3.0],  # pointing away: misses
            [-3.0, 1.0, 0.5],  # grazing the y = 1 face
            [0.1, 0.1, 0.1],  # zero direction
            [-3.0, -2.5, -2.0],  # oblique through a corner region
        ]
    )
    d = torch.tensor(
        [
            [1.0, 0.0, 0.0],
            [1.0, -0.0, 0.0],
            [0.2, -0.5, 0.8],
            [1.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0],
            [3.0, 2.5, 2.0],
        ]
    )
    return o, d / d.norm(dim=1, keepdim=True).clamp_min(1e-12)


def _grid(levels=2, res=16, fill="random", seed=0):
    grid = OccupancyGrid(AABB, resolution=res, levels=levels)
    g = torch.Generator().manual_seed(seed)
    if fill == "random":
        grid.binaries.copy_(torch.rand(grid.binaries.shape, generator=g) < 0.3)
    elif fill == "full":
        grid.binaries.fill_(True)
    return grid


def _run_both(rays_o, rays_d, grid, step_size, **kw):
    args = _prepare(
        rays_o,
        rays_d,
        grid.binaries,
        grid.aabb,
        step_size,
        kw.pop("cone_angle", 0.0),
        kw.pop("near_plane", 0.0),
        kw.pop("far_plane", math.inf),
        kw.pop("t_min", None),
        kw.pop("t_max", None),
        kw.pop("max_step", None),
    )
    from nerfgen.ops._ext import ops
    from nerfgen.ops.packed import PackedSamples

    ext = PackedSamples(*ops().march(*args), rays_o.shape[0])
    return ext, march_reference(*args)


def _assert_same(a, b):
    assert a.n_rays == b.n_rays
    assert torch.equal(a.offsets, b.offsets)
    assert torch.equal(a.ray_indices, b.ray_indices)
    torch.testing.assert_close(a.t_starts, b.t_starts, atol=1e-5, rtol=0)
    torch.testing.assert_close(a.t_ends, b.t_ends, atol=1e-5, rtol=0)


def _check_packed(s):
    assert s.offsets[0] == 0 and s.offsets[-1] == s.n_samples
    assert (s.counts >= 0).all()
    assert torch.equal(s.ray_indices, torch.repeat_interleave(torch.arange(s.n_rays), s.counts))
    same_ray = s.ray_indices[1:] == s.ray_indices[:-1]
    assert (s.t_starts[1:][same_ray] >= s.t_ends[:-1][same_ray] - 1e-6).all(), "samples overlap or are unsorted"
    assert (s.t_ends > s.t_starts).all()


@requires_ext
@pytest.mark.parametrize(
    "levels,res,cone_angle,fill",
    [
        (1, 16, 0.0, "random"),
        (3, 16, 0.0, "random"),
        (3, 8, 0.05, "random"),
        (2, 16, 0.0, "full"),
        (2, 16, 0.0, "empty"),
    ],
)
def test_ext_matches_reference(levels, res, cone_angle, fill):
    grid = _grid(levels, res, fill)
    o, d = _rays()
    ext, ref = _run_both(o, d, grid, 0.02, cone_angle=cone_angle)
    _assert_same(ext, ref)
    assert torch.equal(ext.t_starts, ref.t_starts), "same float ops: expected bit-identical"
    _check_packed(ext)
    if fill == "empty":
        assert ext.n_samples == 0 and (ext.offsets == 0).all()
    else:
        assert ext.n_samples > 0


@requires_ext
def test_ext_matches_reference_adversarial():
    grid = _grid(2, 16, "full")
    o, d = _adversarial_rays()
    near = torch.tensor([0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 2.0])
    ext, ref = _run_both(o, d, grid, 0.05, t_min=near, t_max=near + 3.0, near_plane=0.1, far_plane=100.0)
    _assert_same(ext, ref)
    counts = ext.counts.tolist()
    assert counts[3] == 0 and counts[5] == 0, "misses and zero directions give no samples"
    assert counts[0] > 0 and counts[1] > 0 and counts[2] > 0
    # zero-length segments
    t = torch.full((o.shape[0],), 3.5)
    ext, ref = _run_both(o, d, grid, 0.05, t_min=t, t_max=t)
    _assert_same(ext, ref)
    assert ext.n_samples == 0


@requires_ext
def test_ext_layout_independent_of_threads():
    # The CPU op marches chunks of rays on several threads and lanes into per-lane buffers
    # and packs them by ray afterwards: the result must not depend on who marched what.
    grid = _grid(3, 16, "random", seed=3)
    o, d = _rays(2000, seed=4)
    threads = torch.get_num_threads()
    try:
        results = []
        for n in (1, 2):
            torch.set_num_threads(n)
            results.append(_run_both(o, d, grid, 0.02, cone_angle=0.02))
    finally:
        torch.set_num_threads(threads)
    (ext1, ref), (ext2, _) = results
    _assert_same(ext1, ref)
    for field in ("offsets", "ray_indices", "t_starts", "t_ends"):
        assert torch.equal(getattr(ext1, field), getattr(ext2, field)), field


def test_full_grid_sample_count_and_lattice():
    # cone_angle = 0: samples tile [t0, t_end) with a constant step; the last one is the
    # last whose midpoint is before t_end, so count = ceil((t_end - t0) / step - 1/2).
    grid = _grid(1, 8, "full")
    o, d = _rays(200, seed=1)
    step = 0.01
    s = march(o, d, grid.binaries, grid.aabb, step)
    _check_packed(s)
    t0, t1, hit = ray_box_intersect(o, d, grid.aabb[None, :3], grid.aabb[None, 3:])
    t0, t1, hit = t0[:, 0].double(), t1[:, 0].double(), hit[:, 0]
    expected = torch.where(hit, torch.ceil((t1 - t0) / step - 0.5).clamp_min(0), torch.zeros_like(t0)).long()
    assert (s.counts - expected).abs().max() <= 1  # accumulated float rounding at the very end
    assert (s.counts == expected).float().mean() > 0.95
    assert torch.allclose(s.t_ends - s.t_starts, torch.full_like(s.t_starts, step), atol=1e-6)
    starts = s.offsets[:-1][s.counts > 0]
    assert torch.allclose(s.t_starts[starts].double(), t0[s.counts > 0], atol=1e-6)


def test_one_occupied_cell_samples_only_inside_it():
    res = 8
    grid = _grid(1, res, "empty")
    cell = (3, 4, 5)
    grid.binaries[0][cell] = True
    cell_size = 2.0 / res
    lo = torch.tensor([-1.0 + c * cell_size for c in cell])
    hi = lo + cell_size
    centre = (lo + hi) / 2
    g = torch.Generator().manual_seed(2)
    o = torch.randn(200, 3, generator=g) * 3
    d = centre + (torch.rand(200, 3, generator=g) - 0.5) * cell_size * 1.2 - o  # most rays hit the cell
    d = d / d.norm(dim=1, keepdim=True)
    step = 0.005
    s = march(o, d, grid.binaries, grid.aabb, step)
    _check_packed(s)
    t_in, t_out, hit = ray_box_intersect(o, d, lo[None], hi[None])
    t_in, t_out, hit = t_in[:, 0], t_out[:, 0], hit[:, 0]
    mids = (s.t_starts + s.t_ends) / 2
    r = s.ray_indices
    assert hit[r].all(), "a ray that misses the cell got samples"
    assert (mids >= t_in[r] - 1e-5).all() and (mids <= t_out[r] + 1e-5).all()
    # and the cell's t-interval is covered: count matches its length in steps
    deep = hit & (t_out - t_in > 4 * step)
    assert deep.sum() > 50
    assert ((s.counts[deep] - (t_out[deep] - t_in[deep]) / step).abs() <= 1.0).all()


def test_skipping_matches_dense_lattice_walk():
    # Ground truth without DDA: walk every lattice step t0 + (k + 1/2) * step in float64
    # and count midpoints in occupied cells. DDA skipping must not lose or add samples
    # (up to midpoints within float rounding of a cell face).
    res, step = 16, 0.01
    grid = _grid(1, res, "random", seed=5)
    o, d = _rays(100, seed=3)
    s = march(o, d, grid.binaries, grid.aabb, step)
    t0, t1, hit = (x[:, 0] for x in ray_box_intersect(o, d, grid.aabb[None, :3], grid.aabb[None, 3:]))
    k = torch.arange(int(4 / step), dtype=torch.float64)
    mids = t0.double()[:, None] + (k[None] + 0.5) * step
    valid = hit[:, None] & (mids < t1.double()[:, None])
    p = o.double()[:, None] + mids[..., None] * d.double()[:, None]
    c = ((p + 1) / 2 * res).floor().long().clamp(0, res - 1)
    occ = grid.binaries[0][c[..., 0], c[..., 1], c[..., 2]] & valid
    expected = occ.sum(1)
    assert (s.counts - expected).abs().max() <= 1
    assert (s.counts != expected).sum() <= 3
    assert s.n_samples > 500


def test_cone_angle_step_growth_and_cap():
    grid = _grid(3, 8, "full")
    o = torch.tensor([[-3.9, 0.05, 0.05]])
    d = torch.tensor([[1.0, 0.0, 0.0]])
    step, cone, max_step = 0.01, 0.1, 0.2
    s = march(o + torch.tensor([[-10.0, 0, 0]]), d, grid.binaries, grid.aabb, step, cone_angle=cone, max_step=max_step)
    dt = s.t_ends - s.t_starts
    expected = torch.clamp(s.t_starts * cone, step, max_step)
    torch.testing.assert_close(dt, expected)
    torch.testing.assert_close(dt, torch.full_like(dt, max_step))  # t >= 10 everywhere here: capped
    near = march(o, d, grid.binaries, grid.aabb, step, cone_angle=cone, max_step=max_step)
    dt = near.t_ends - near.t_starts
    assert abs(dt[0] - step) < 1e-6 and (dt[1:] >= dt[:-1] - 1e-6).all() and dt[-1] > 2 * step
    # dt is fixed at the start of each cell visit, so it never exceeds the value at t_start
    assert (dt <= torch.clamp(near.t_starts * cone, step, max_step) + 1e-6).all()


def test_levels_finest_containing_level_wins():
    grid = _grid(2, 8, "empty")
    grid.binaries[1] = True  # level 0 (the inner box) empty, level 1 full
    o, d = _rays(100, seed=4, spread=4.0)
    s = march(o, d, grid.binaries, grid.aabb, 0.02)
    assert s.n_samples > 0
    mids = o[s.ray_indices] + ((s.t_starts + s.t_ends) / 2)[:, None] * d[s.ray_indices]
    linf = mids.abs().amax(1)
    assert (linf > 1.0 - 1e-5).all() and (linf < 2.0 + 1e-5).all()


def test_near_far_planes_and_t_bounds():
    grid = _grid(1, 8, "full")
    o, d = _rays(50, seed=6)
    s = march(o, d, grid.binaries, grid.aabb, 0.01, near_plane=3.0, far_plane=3.5)
    mids = (s.t_starts + s.t_ends) / 2
    assert (s.t_starts >= 3.0).all() and (mids < 3.5).all()
    empty = march(o, d, grid.binaries, grid.aabb, 0.01, t_min=torch.full((50,), 2.0), t_max=torch.full((50,), 2.0))
    assert empty.n_samples == 0 and (empty.offsets == 0).all()


def test_reference_handles_all_miss_and_no_rays():
    grid = _grid(1, 8, "full")
    o = torch.tensor([[5.0, 5.0, 5.0]])
    d = torch.tensor([[1.0, 0.0, 0.0]])
    args = _prepare(o, d, grid.binaries, grid.aabb, 0.01, 0.0, 0.0, math.inf, None, None, None)
    s = march_reference(*args)
    assert s.n_samples == 0 and s.offsets.tolist() == [0, 0]
    s = march(torch.zeros(0, 3), torch.zeros(0, 3), grid.binaries, grid.aabb, 0.01)
    assert s.n_samples == 0 and s.offsets.tolist() == [0]


def test_bad_arguments():
    grid = _grid(1, 8, "full")
    o, d = _rays(4)
    with pytest.raises(ValueError, match="step_size"):
        march(o, d, grid.binaries, grid.aabb, 0.0)
    with pytest.raises(ValueError, match="bool"):
        march(o, d, grid.binaries.float(), grid.aabb, 0.01)


# ---- OccupancyGrid ---------------------------------------------------------------


def _ball(radius):
    return lambda x: (x.norm(dim=-1) < radius).float()


def test_mark_from_density_matches_cell_centres():
    grid = OccupancyGrid(AABB, resolution=8, levels=2)
    grid.mark_from_density(_ball(0.9), threshold=0.5)
    r = 8
    idx = torch.arange(r)
    centres0 = (idx.float() + 0.5) / r * 2 - 1
    cx, cy, cz = torch.meshgrid(centres0, centres0, centres0, indexing="ij")
    assert torch.equal(grid.binaries[0], (cx**2 + cy**2 + cz**2).sqrt() < 0.9)
    assert torch.equal(grid.binaries[1], (4 * (cx**2 + cy**2 + cz**2)).sqrt() < 0.9)  # level 1 is 2x larger


def test_update_warmup_then_ema_and_determinism():
    def run():
        torch.manual_seed(0)
        grid = OccupancyGrid(AABB, resolution=8, levels=1)
        grid.update(0, _ball(0.5), occ_thre=0.5)
        after_warmup = grid.binaries.clone(), grid.occs.clone()
        grid.update(1, _ball(0.5))  # not a multiple of n: no-op
        assert torch.equal(grid.occs, after_warmup[1])
        grid.update(256, lambda x: torch.zeros(x.shape[0]), occ_thre=0.5)  # after warm-up: subset + occupied
        return grid, after_warmup

    grid, (bin0, occs0) = run()
    grid_again, _ = run()
    assert torch.equal(grid.occs, grid_again.occs), "update must be deterministic given torch's seed"
    # warm-up evaluated every cell once; cells entirely inside the ball are occupied
    r = 8
    c = (torch.arange(r).float() + 0.5) / r * 2 - 1
    cx, cy, cz = torch.meshgrid(c, c, c, indexing="ij")
    far_corner = (cx.abs() + 1 / r) ** 2 + (cy.abs() + 1 / r) ** 2 + (cz.abs() + 1 / r) ** 2
    assert bin0[0][far_corner.sqrt() < 0.5].all()
    assert bin0.sum() < 8 * 8 * 8 // 4
    # every previously occupied cell was re-evaluated with density 0, so it decayed by 0.95
    occupied = bin0.reshape(-1)
    torch.testing.assert_close(grid.occs[0, occupied], occs0[0, occupied] * 0.95)
    changed = grid.occs[0] != occs0[0]
    assert changed[occupied].all()


@requires_ext
def test_grid_march_method_matches_functional():
    grid = OccupancyGrid(AABB, resolution=16, levels=2)
    grid.mark_from_density(_ball(0.7))
    o, d = _rays(100)
    a = grid.march(o, d, 0.02, cone_angle=0.01)
    ext, ref = _run_both(o, d, grid, 0.02, cone_angle=0.01)
    _assert_same(a, ext)
    _assert_same(a, ref)


def test_cells_containing_marks_the_finest_level_holding_each_point():
    grid = OccupancyGrid([0.0, 0.0, 0.0, 1.0, 1.0, 1.0], resolution=4, levels=2)
    points = torch.tensor([[0.1, 0.3, 0.9], [0.1, 0.3, 0.95], [1.2, -0.4, 0.5], [5.0, 5.0, 5.0]])
    cells = grid.cells_containing(points)
    assert cells.sum() == 2  # the first two share a cell; the last lies outside every level
    assert cells[0, 0, 1, 3]
    # level 1 spans [-0.5, 1.5] in 4 cells of 0.5: (1.2, -0.4, 0.5) -> (3, 0, 2)
    assert cells[1, 3, 0, 2]
