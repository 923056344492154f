"""merge_samples: compiled k-way merge vs reference sorts, and the merge's defining facts."""

import pytest
import torch

from nerfgen.ops._ext import has_ext
from nerfgen.ops.march import march
from nerfgen.ops.merge import merge_samples, merge_samples_reference
from nerfgen.ops.occupancy_grid import OccupancyGrid
from nerfgen.ops.packed import PackedSamples

requires_ext = pytest.mark.skipif(not has_ext(), reason="nerfgen._C not built (make ext): nothing to compare")


def _random_field(n_rays, max_per_ray, seed, quantum=None):
    """Sorted-per-ray random samples; `quantum` rounds t so that ties across fields are common."""
    g = torch.Generator().manual_seed(seed)
    counts = torch.randint(0, max_per_ray + 1, (n_rays,), generator=g)
    counts[torch.rand(n_rays, generator=g) < 0.2] = 0  # many empty rays
    ray_indices = torch.repeat_interleave(torch.arange(n_rays), counts)
    t = torch.rand(ray_indices.shape[0], generator=g) * 5
    if quantum:
        t = (t / quantum).round() * quantum
    order = torch.argsort(ray_indices.double() * 10 + t.double())  # sort by (ray, t)
    t = t[order]
    return PackedSamples.from_ray_indices(ray_indices, t, t + 0.01, n_rays)


def _fields(n_rays=300, seeds=(0, 1, 2), quantum=0.25):
    fields = [_random_field(n_rays, 12, s, quantum) for s in seeds]
    fields.append(
        PackedSamples.from_ray_indices(torch.zeros(0, dtype=torch.long), torch.zeros(0), torch.zeros(0), n_rays)
    )
    return fields


def _assert_same(a, b):
    (ma, fa, sa), (mb, fb, sb) = a, b
    for x, y in ((ma.offsets, mb.offsets), (ma.ray_indices, mb.ray_indices), (fa, fb), (sa, sb)):
        assert torch.equal(x, y)
    assert torch.equal(ma.t_starts, mb.t_starts) and torch.equal(ma.t_ends, mb.t_ends)


def _check_merge_facts(fields, merged, field_ids, source_index):
    total = sum(f.n_samples for f in fields)
    assert merged.n_samples == total and merged.offsets[-1] == total
    assert torch.equal(merged.counts, sum(f.counts for f in fields))
    # a permutation of the inputs: every (field, row) exactly once, values carried along
    keys = field_ids * (total + 1) + source_index
    assert torch.unique(keys).numel() == total
    for i, f in enumerate(fields):
        mine = field_ids == i
        assert torch.equal(source_index[mine].sort().values, torch.arange(f.n_samples))
        assert torch.equal(merged.t_starts[mine], f.t_starts[source_index[mine]])
        assert torch.equal(merged.t_ends[mine], f.t_ends[source_index[mine]])
        assert torch.equal(merged.ray_indices[mine], f.ray_indices[source_index[mine]])
    # sorted by (ray, t_start, field, row)
    assert torch.equal(merged.ray_indices, torch.repeat_interleave(torch.arange(merged.n_rays), merged.counts))
    same_ray = merged.ray_indices[1:] == merged.ray_indices[:-1]
    dt = merged.t_starts[1:] - merged.t_starts[:-1]
    assert (dt[same_ray] >= 0).all()
    tie = same_ray & (dt == 0)
    df = field_ids[1:] - field_ids[:-1]
    assert (df[tie] >= 0).all()
    assert (source_index[1:] > source_index[:-1])[tie & (df == 0)].all()


@pytest.mark.parametrize("impl", ["ext", "reference"])
def test_merge_is_sorted_stable_permutation(impl):
    if impl == "ext" and not has_ext():
        pytest.skip("nerfgen._C not built (make ext)")
    fields = _fields()
    fn = merge_samples if impl == "ext" else merge_samples_reference
    merged, field_ids, source_index = fn(fields)
    _check_merge_facts(fields, merged, field_ids, source_index)
    same_ray = merged.ray_indices[1:] == merged.ray_indices[:-1]
    assert ((merged.t_starts[1:] == merged.t_starts[:-1]) & same_ray).any(), "test data should contain ties"


@requires_ext
@pytest.mark.parametrize("quantum", [None, 0.25])
def test_ext_matches_reference(quantum):
    fields = _fields(quantum=quantum)
    _assert_same(merge_samples(fields), merge_samples_reference(fields))


@requires_ext
def test_ext_matches_reference_edge_cases():
    single = [_random_field(50, 5, 7)]
    out = merge_samples(single)
    _assert_same(out, merge_samples_reference(single))
    assert torch.equal(out[0].t_starts, single[0].t_starts) and torch.equal(out[2], torch.arange(single[0].n_samples))
    empties = [_random_field(20, 0, s) for s in range(3)]
    out = merge_samples(empties)
    assert out[0].n_samples == 0 and out[0].offsets.tolist() == [0] * 21
    _assert_same(out, merge_samples_reference(empties))
    no_rays = [_random_field(0, 3, s) for s in range(2)]
    _assert_same(merge_samples(no_rays), merge_samples_reference(no_rays))


def test_merge_of_marched_fields():
    # two objects along the same rays: the merged samples interleave them in t order
    grid_a = OccupancyGrid([-1, -1, -1, 1, 1, 1], resolution=8)
    grid_b = OccupancyGrid([0, -1, -1, 2, 1, 1], resolution=8)
    grid_a.binaries.fill_(True)
    grid_b.binaries.fill_(True)
    g = torch.Generator().manual_seed(0)
    o = torch.tensor([-4.0, 0.0, 0.0]) + torch.randn(64, 3, generator=g) * 0.2
    d = torch.tensor([[1.0, 0.0, 0.0]]).repeat(64, 1)
    fields = [march(o, d, grid_a.binaries, grid_a.aabb, 0.05), march(o, d, grid_b.binaries, grid_b.aabb, 0.03)]
    merged, field_ids, source_index = merge_samples(fields)
    _check_merge_facts(fields, merged, field_ids, source_index)
    assert (field_ids == 0).any() and (field_ids == 1).any()
    # along each ray, field 1 starts later (its box starts at x = 0, field 0's at x = -1)
    first_of_ray = merged.offsets[:-1][merged.counts > 0]
    assert (field_ids[first_of_ray] == 0).all()


def test_mismatched_rays_rejected():
    with pytest.raises(ValueError, match="rays"):
        merge_samples([_random_field(10, 3, 0), _random_field(11, 3, 1)])
    with pytest.raises(ValueError, match="at least one"):
        merge_samples([])
