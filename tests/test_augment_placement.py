"""Object placement against exact answers: the bundled street's ground truth
(road top at z = 0, kerbs and sidewalks 0.15 m up, parked cars), rasterised box overlap,
planes with known coefficients, and an analytic radiance field as a trained background."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from test_compose import analytic_asset, ground_background, gt_file

from nerfgen.augment import (
    FieldProbe,
    FootprintBox,
    MeshProbe,
    ObjectKind,
    PlacementConfig,
    Road,
    boxes_overlap,
    fit_ground_plane,
    footprint_of,
    ground_heights,
    place_objects,
    road_from_rig,
)
from nerfgen.augment.boxes import box_lattice
from nerfgen.augment.placement import CandidateChecker, survey_ground, visible_frames
from nerfgen.errors import NerfgenError
from nerfgen.procedural import cast_rays, load_scene
from nerfgen.scene import composed_gt_scene, default_rig, load_composed_scene
from nerfgen.scene.load import asset_gt_box
from nerfgen.scene.spec import Asset, Background, ComposedSceneSpec

SCENES = Path(__file__).resolve().parent.parent / "scenes"
STREET = load_scene(SCENES / "street.yaml")


def gt_asset(name: str) -> Asset:
    return Asset(SCENES / f"{name}.yaml", True, SCENES / f"{name}.yaml")


@pytest.fixture(scope="module")
def street():
    """(exact probe of the street, its road, 6 drive cameras, the car kind)."""
    spec = ComposedSceneSpec(SCENES / "augment.yaml", Background(gt_asset("street")), (), None)
    road = road_from_rig(default_rig(spec), spec.path)
    car = gt_asset("car")
    kind = ObjectKind("car", car, asset_gt_box(car, spec.path))
    return MeshProbe(composed_gt_scene(spec)), road, road.cameras(6, 64, 48), kind


def test_box_overlap_agrees_with_rasterised_boxes():
    rng = np.random.default_rng(0)
    grid = np.stack(np.meshgrid(*[np.linspace(-4, 4, 161)] * 2, indexing="ij"), -1).reshape(-1, 2)

    def inside(box: FootprintBox) -> np.ndarray:
        local = (grid - box.center_xy) @ box.axes.T  # world -> box frame
        return (np.abs(local) < box.half_xy).all(1)

    verdicts = []
    for _ in range(300):
        a, b = (
            FootprintBox(rng.uniform(-1.5, 1.5, 2), rng.uniform(0.2, 1.5, 2), rng.uniform(-np.pi, np.pi), 0.0, 1.0)
            for _ in range(2)
        )
        shared = (inside(a) & inside(b)).any()
        overlap = boxes_overlap(a, b)
        assert overlap == boxes_overlap(b, a)
        assert shared <= overlap  # raster cells in both: they overlap
        # overlapping by more than a raster cell: some raster cell is in both
        assert shared >= boxes_overlap(a.grown(-0.05), b.grown(-0.05))
        verdicts.append(overlap)
    assert 0.2 < np.mean(verdicts) < 0.8
    a = FootprintBox(np.zeros(2), np.ones(2), 0.3, 0.0, 1.0)
    assert not boxes_overlap(a, FootprintBox(np.zeros(2), np.ones(2), 0.3, 1.0, 2.0))  # stacked: touching only
    assert boxes_overlap(a, FootprintBox(np.zeros(2), np.ones(2), 0.3, 0.5, 2.0))


def test_ground_plane_fit_ignores_sidewalks_roofs_and_noise():
    rng = np.random.default_rng(1)
    xy = rng.uniform(-20, 20, (2000, 2))
    z = 0.02 * xy[:, 0] - 0.01 * xy[:, 1] + 0.3 + rng.normal(0, 0.005, 2000)
    z[:700] += 0.15  # a sidewalk: a third of the samples on a parallel plane
    z[700:900] += rng.uniform(1, 10, 200)  # roofs, cars
    z[900:950] = np.nan  # misses
    plane = fit_ground_plane(np.concatenate([xy, z[:, None]], 1))
    np.testing.assert_allclose(plane.slope, [0.02, -0.01], atol=1e-3)
    assert abs(plane.offset - 0.3) < 0.005 and plane.inliers > 1000 and plane.residual_sigma < 0.01


def test_street_ground_heights_are_the_exact_road(street):
    probe, *_ = street
    xy = np.array([[0.0, -0.8], [5.0, 1.0], [0.0, 5.0], [-12.0, -2.6]])  # road, road, sidewalk, a parked car's roof
    np.testing.assert_allclose(ground_heights(probe, xy), [0.0, 0.0, 0.15, 1.675], atol=1e-9)


@pytest.mark.parametrize("seed", range(16))
def test_placements_never_overlap_stand_on_the_road_and_stay_clear(street, seed):
    probe, road, cameras, kind = street
    config = PlacementConfig(n_objects=3, min_visible_frames=2, min_box_height_px=4.0, min_gap=0.3)
    placed, ground = place_objects(probe, road, cameras, [kind], config, seed)
    assert [p.obj.instance_id for p in placed] == [1, 2, 3]
    assert abs(ground.plane.offset) < 1e-6 and np.allclose(ground.plane.slope, 0, atol=1e-6)
    boxes = [footprint_of(p.box) for p in placed]
    for a, b in combinations(boxes, 2):
        assert not boxes_overlap(a.grown(0.149), b.grown(0.149))
    xy = np.array([b.center_xy for b in boxes])
    down = cast_rays(STREET, np.concatenate([xy, np.full((3, 1), 30.0)], 1), np.tile([0.0, 0.0, -1.0], (3, 1)))
    gt_ground = 30.0 - down.range
    assert np.abs(np.array([b.z_min for b in boxes]) - gt_ground).max() < 0.05  # the road: 0 (0.01 on a marking)
    for p, box in zip(placed, boxes):
        assert abs(box.z_min - p.ground_z) < 1e-3  # bottom centre snapped onto the ground
        assert not probe.occupied(box_lattice(box, 0.1, config.clearance)).any()
        assert visible_frames(p.box, cameras, config.min_box_height_px, 99) >= 2
        heading = np.degrees(box.yaw) % 180.0  # the road runs along x, either way
        assert min(heading, 180.0 - heading) <= config.yaw_jitter_deg + 0.01
    # the same seed, the same placement
    again, _ = place_objects(probe, road, cameras, [kind], config, seed)
    assert [p.obj for p in again] == [p.obj for p in placed]


def test_different_seeds_give_different_placements(street):
    probe, road, cameras, kind = street
    a, _ = place_objects(probe, road, cameras, [kind], PlacementConfig(n_objects=2), 0)
    b, _ = place_objects(probe, road, cameras, [kind], PlacementConfig(n_objects=2), 1)
    assert [p.obj.pose for p in a] != [p.obj.pose for p in b]


@pytest.mark.parametrize(
    "config, message",
    [
        (PlacementConfig(n_objects=50), r"m\^2 of drivable ground"),  # 50 cars on a 60 m street
        (PlacementConfig(n_objects=12, tries_per_object=60), "no spot for a car after 60 tries"),
        (PlacementConfig(n_objects=1, min_visible_frames=7), "more than the 6 frames"),
        (PlacementConfig(n_objects=1, min_box_height_px=500), "not visible"),
    ],
)
def test_unsatisfiable_requests_fail_with_a_clear_error(street, config, message):
    probe, road, cameras, kind = street
    with pytest.raises(NerfgenError, match=message) as info:
        place_objects(probe, road, cameras, [kind], config, 0)
    assert "\n" not in str(info.value)


def test_field_probe_and_placement_on_an_analytic_trained_background(tmp_path):
    """A 'trained' background: exact box densities of a ground slab with a parked block at
    (3, -2), through the same composition renderer as trained fields."""
    bg = ground_background(tmp_path, parked=True)
    spec = ComposedSceneSpec(
        tmp_path / "bg.yaml", Background(Asset(tmp_path / bg["asset"], True, tmp_path / bg["asset"])), (), None
    )
    field = load_composed_scene(spec, analytic_asset).fields[0]
    probe = FieldProbe(field, spacing=0.1, opacity=0.5)
    heights = ground_heights(probe, np.array([[0.0, 0.0], [-5.0, 4.0], [3.0, -2.0]]))
    np.testing.assert_allclose(heights, [0.0, 0.0, 1.0], atol=0.03)  # slab top, block top
    assert probe.occupied(np.array([[3.0, -2.0, 0.5], [3.0, -2.0, 1.2], [0.0, 0.0, -0.1]])).tolist() == [
        True,
        False,
        True,
    ]

    exact = MeshProbe(composed_gt_scene(spec))
    road = Road(np.array([[-7.0, 0.0], [7.0, 0.0]]), eye_height=1.5, fov_deg=70.0)
    kind = ObjectKind("car", spec.background.asset, _block_box())
    config = PlacementConfig(n_objects=5, max_lateral=5.0, ego_width=1.0, ego_length=1.0, min_gap=0.2)
    placed, ground = place_objects(probe, road, road.cameras(4, 48, 36), [kind], config, 3)
    assert abs(ground.plane.offset) < 0.03
    for p in placed:
        box = footprint_of(p.box)
        assert abs(box.z_min) < 0.03  # on the slab
        assert not exact.occupied(box_lattice(box, 0.1, 0.05)).any()  # clear of the parked block


def _block_box():
    from nerfgen.scene.placement import axis_aligned_box

    return axis_aligned_box(np.array([-0.5, -0.5, 0.0]), np.array([0.5, 0.5, 1.0]))


def test_a_post_thicker_than_the_probe_spacing_is_found_inside_the_box(tmp_path):
    """A post 10 cm thick hides between the 3x3 ground samples under a footprint: only the
    lattice of probes inside the box sees it, when the lattice is finer than the post (the
    spacing bounds the thinnest obstacle found: at the default 15 cm this post can slip
    between the probes)."""
    name = gt_file(
        tmp_path, "post", [((0, 0, -0.1), (16, 16, 0.2)), ((2.0, 2.0, 1.0), (0.1, 0.1, 2.0))], klass="road", instance=0
    )
    spec = ComposedSceneSpec(tmp_path / "bg.yaml", Background(Asset(tmp_path / name, True, tmp_path / name)), (), None)
    probe = MeshProbe(composed_gt_scene(spec))
    road = Road(np.array([[-7.0, 0.0], [7.0, 0.0]]), eye_height=1.5)
    config = PlacementConfig(max_lateral=4.0, occupancy_spacing=0.06)
    cameras = road.cameras(4, 96, 72)
    checker = CandidateChecker(probe, road, cameras, survey_ground(probe, road, config, 0.5), config)
    kind = ObjectKind("car", spec.background.asset, _block_box())
    assert checker.try_place(kind, 1, np.array([2.2, 2.2]), 0.0, []) is None  # the post is 0.2 m from the centre
    assert checker.rejected == {"background in the way": 1}
    assert checker.try_place(kind, 1, np.array([3.2, 2.2]), 0.0, []) is not None  # 0.7 m: clear of it


def test_placed_objects_keep_clear_of_a_grid_of_thin_posts(tmp_path):
    """Posts 10 cm thick hide between the 3x3 ground samples under a footprint: only the
    lattice inside the box sees them."""
    posts = [
        ((x, y, 1.0), (0.1, 0.1, 2.0)) for x in (-6.0, -4.0, -2.0, 0.0, 2.0, 4.0, 6.0) for y in (-2.6, -1.3, 1.3, 2.6)
    ]
    name = gt_file(tmp_path, "posts", [((0, 0, -0.1), (16, 16, 0.2)), *posts], klass="road", instance=0)
    spec = ComposedSceneSpec(tmp_path / "bg.yaml", Background(Asset(tmp_path / name, True, tmp_path / name)), (), None)
    probe = MeshProbe(composed_gt_scene(spec))
    road = Road(np.array([[-7.0, 0.0], [7.0, 0.0]]), eye_height=1.5)
    config = PlacementConfig(
        n_objects=3, max_lateral=4.0, ego_width=0.4, ego_length=0.4, min_gap=0.1, yaw_jitter_deg=30.0
    )
    kind = ObjectKind("car", spec.background.asset, _block_box())
    placed, _ = place_objects(probe, road, road.cameras(4, 48, 36), [kind], config, 0)
    post_xy = np.array([c[:2] for c, _ in posts])
    for p in placed:
        box = footprint_of(p.box)
        local = np.abs((post_xy - box.center_xy) @ box.axes.T)
        assert ((local >= box.half_xy + 0.05 - config.clearance).any(1)).all()  # no post inside the box
