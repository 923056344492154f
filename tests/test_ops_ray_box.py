"""ray_box_intersect: compiled op vs reference, and both vs geometric ground truth."""

import math

import pytest
import torch

from nerfgen.ops._ext import has_ext
from nerfgen.ops.ray_box import ray_box_intersect, ray_box_intersect_reference

requires_ext = pytest.mark.skipif(not has_ext(), reason="nerfgen._C not built (make ext): nothing to compare")
INF = math.inf


def _assert_same(a, b):
    (tn_a, tf_a, hit_a), (tn_b, tf_b, hit_b) = a, b
    assert torch.equal(hit_a, hit_b)
    torch.testing.assert_close(tn_a, tn_b, atol=1e-5, rtol=0)  # inf == inf passes
    torch.testing.assert_close(tf_a, tf_b, atol=1e-5, rtol=0)


def _random_scene(n_rays=500, n_boxes=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    box_min = torch.rand(n_boxes, 3, generator=g) * 4 - 2
    box_max = box_min + torch.rand(n_boxes, 3, generator=g) + 0.1
    o = torch.randn(n_rays, 3, generator=g) * 3
    # aim half the rays at a point of a random box so that hits are common
    target = box_min[torch.randint(n_boxes, (n_rays,), generator=g)] + torch.rand(n_rays, 3, generator=g) * 0.1
    d = torch.where(torch.rand(n_rays, 1, generator=g) < 0.5, target - o, torch.randn(n_rays, 3, generator=g))
    return o, d, box_min, box_max


def _random_rigid(n, seed=1):
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, 3, 3, generator=g, dtype=torch.float64))
    q = q * torch.sign(torch.linalg.det(q))[:, None, None]  # proper rotations
    m = torch.eye(4, dtype=torch.float64).repeat(n, 1, 1)
    m[:, :3, :3] = q
    m[:, :3, 3] = torch.randn(n, 3, generator=g, dtype=torch.float64)
    return m.float()


def _adversarial():
    """Rays parallel to faces (+-0 components), on faces, inside, behind, missing."""
    box_min = torch.tensor([[0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]])
    box_max = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    o = torch.tensor(
        [
            [-1.0, 0.5, 0.5],  # along +x through the unit box's middle
            [-1.0, 1.0, 0.5],  # parallel to x, exactly on the y = 1 face plane
            [-1.0, 1.5, 0.5],  # parallel to x, above the box
            [0.5, 0.5, 0.5],  # inside, axis-aligned
            [0.5, 0.5, 0.5],  # inside, oblique
            [2.0, 2.0, 2.0],  # box behind the ray
            [-1.0, -1.0, -1.0],  # through a corner
            [0.5, 0.5, -3.0],  # along +z with -0.0 components
            [0.2, 0.3, 0.4],  # zero direction, inside
            [5.0, 0.3, 0.4],  # zero direction, outside
        ]
    )
    d = torch.tensor(
        [
            [1.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0],
            [0.3, -0.4, 0.5],
            [1.0, 1.0, 1.0],
            [1.0, 1.0, 1.0],
            [-0.0, -0.0, 1.0],
            [0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0],
        ]
    )
    return o, d, box_min, box_max


@pytest.mark.parametrize("impl", ["ext", "reference"])
def test_adversarial_ground_truth(impl):
    if impl == "ext" and not has_ext():
        pytest.skip("nerfgen._C not built (make ext)")
    fn = ray_box_intersect if impl == "ext" else ray_box_intersect_reference
    t_near, t_far, hit = fn(*_adversarial())
    assert not torch.isnan(t_near).any() and not torch.isnan(t_far).any()
    unit = 0  # column of the unit box
    expected_hit = [True, True, False, True, True, False, True, True, True, False]
    assert hit[:, unit].tolist() == expected_hit
    assert (t_near[~hit] == INF).all() and (t_far[~hit] == INF).all()
    assert t_near[0, unit] == 1.0 and t_far[0, unit] == 2.0
    assert t_near[1, unit] == 1.0 and t_far[1, unit] == 2.0  # grazing a face counts as a hit
    assert t_near[3, unit] == 0.0 and t_far[3, unit] == 0.5  # origin inside: t_near clamped to 0
    assert t_near[6, unit] == 1.0 and t_far[6, unit] == 2.0
    assert t_near[7, unit] == 3.0 and t_far[7, unit] == 4.0
    assert t_near[8, unit] == 0.0 and t_far[8, unit] == INF  # zero direction inside: the whole ray
    # the bigger box contains origins 0..4 and 6 is on its corner
    assert hit[:, 1].tolist() == [True, True, False, True, True, False, True, True, True, False]


def test_hit_points_lie_on_box_surface():
    o, d, box_min, box_max = _random_scene()
    t_near, t_far, hit = ray_box_intersect(o, d, box_min, box_max)
    assert hit.any(1).float().mean() > 0.4, "scene should make hits common"
    for t, outside_only in ((t_near, True), (t_far, False)):
        p = o[:, None, :] + t[..., None] * d[:, None, :]
        dist_to_surface = torch.minimum((p - box_min).abs(), (p - box_max).abs()).amin(-1)
        inside = ((p >= box_min - 1e-4) & (p <= box_max + 1e-4)).all(-1)
        origin_inside = ((o[:, None] > box_min) & (o[:, None] < box_max)).all(-1)
        check = hit & ~origin_inside if outside_only else hit
        assert inside[check].all()
        assert (dist_to_surface[check] < 1e-4).all()
    # a point strictly between t_near and t_far is inside; misses have no such point
    mid = o[:, None, :] + ((t_near + t_far) / 2)[..., None] * d[:, None, :]
    assert ((mid >= box_min - 1e-4) & (mid <= box_max + 1e-4)).all(-1)[hit].all()


def test_misses_agree_with_dense_sampling():
    o, d, box_min, box_max = _random_scene(n_rays=200, n_boxes=3, seed=3)
    _, _, hit = ray_box_intersect(o, d, box_min, box_max)
    t = torch.linspace(0, 20, 4001)
    p = o[:, None, None, :] + t[None, :, None, None] * d[:, None, None, :]  # [n, T, 1, 3]
    sampled_hit = ((p > box_min) & (p < box_max)).all(-1).any(1)  # [n, boxes]
    assert not (sampled_hit & ~hit).any(), "a ray passing through a box was reported as a miss"


def test_oriented_boxes_world_units():
    o, d, box_min, box_max = _random_scene(n_rays=300, n_boxes=5, seed=4)
    w2b = _random_rigid(5)
    t_near, t_far, hit = ray_box_intersect(o, d, box_min, box_max, w2b)
    assert hit.any()
    # world points at t_near/t_far, mapped into each box frame, lie on that box's surface
    for t in (t_near, t_far):
        p = o[:, None, :] + t[..., None] * d[:, None, :]
        p_box = torch.einsum("bij,nbj->nbi", w2b[:, :3, :3], p) + w2b[:, :3, 3]
        inside = ((p_box >= box_min - 1e-4) & (p_box <= box_max + 1e-4)).all(-1)
        assert inside[hit].all()
    p_far = o[:, None, :] + t_far[..., None] * d[:, None, :]
    p_far_box = torch.einsum("bij,nbj->nbi", w2b[:, :3, :3], p_far) + w2b[:, :3, 3]
    on_face = torch.minimum((p_far_box - box_min).abs(), (p_far_box - box_max).abs()).amin(-1)
    assert (on_face[hit] < 1e-4).all()
    # identity transform == axis-aligned call
    eye = torch.eye(4).repeat(5, 1, 1)
    _assert_same(ray_box_intersect(o, d, box_min, box_max, eye), ray_box_intersect(o, d, box_min, box_max))


@requires_ext
@pytest.mark.parametrize("oriented", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_ext_matches_reference_random(oriented, seed):
    o, d, box_min, box_max = _random_scene(seed=seed)
    w2b = _random_rigid(box_min.shape[0], seed) if oriented else None
    ext = ray_box_intersect(o, d, box_min, box_max, w2b)
    ref = ray_box_intersect_reference(o, d, box_min, box_max, w2b)
    _assert_same(ext, ref)
    assert torch.equal(ext[0], ref[0]) and torch.equal(ext[1], ref[1]), "same float ops: expected bit-identical"


@requires_ext
def test_ext_matches_reference_adversarial():
    args = _adversarial()
    _assert_same(ray_box_intersect(*args), ray_box_intersect_reference(*args))
    w2b = _random_rigid(2, seed=7)
    _assert_same(ray_box_intersect(*args, w2b), ray_box_intersect_reference(*args, w2b))


@requires_ext
def test_ext_rejects_bad_shapes():
    o, d, box_min, box_max = _random_scene(n_rays=4, n_boxes=2)
    with pytest.raises(RuntimeError, match="box_min and box_max"):
        ray_box_intersect(o, d, box_min, box_max[:1])
    with pytest.raises(RuntimeError, match="world_to_box"):
        ray_box_intersect(o, d, box_min, box_max, torch.eye(4)[None])


def test_empty_inputs():
    t_near, t_far, hit = ray_box_intersect(torch.zeros(0, 3), torch.zeros(0, 3), torch.zeros(2, 3), torch.ones(2, 3))
    assert t_near.shape == (0, 2) and hit.dtype == torch.bool
