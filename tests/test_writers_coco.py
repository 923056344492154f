"""COCO writer, read back with pycocotools: masks, boxes, side files, COCOeval of GT against itself."""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_util
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from test_writers_fixtures import scene_and_frames, write_all

from nerfgen.writers.coco import CocoWriter
from nerfgen.writers.info import DatasetInfo

# pycocotools' C decoder predates numpy 2's copy keyword; harmless.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def coco_root(tmp_path_factory):
    _, frames = scene_and_frames()
    return write_all(CocoWriter, tmp_path_factory.mktemp("c") / "coco", frames)


def _load(path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def test_masks_boxes_and_side_files_read_back(coco_root):
    _, frames = scene_and_frames()
    coco = _load(coco_root / "annotations/instances_train.json")
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["car"]
    for frame in frames:
        labels = frame.labels
        image = coco.loadImgs(labels.index)[0]
        assert (image["file_name"], image["width"], image["height"]) == (f"{labels.index:06d}.png", 64, 48)
        assert image["camera"]["cx"] == labels.cx and np.allclose(image["camera"]["c2w"], labels.c2w)
        np.testing.assert_array_equal(np.load(coco_root / image["depth_file"]), frame.maps.depth_z)
        np.testing.assert_array_equal(np.load(coco_root / image["normals_file"]), frame.maps.normals_world)
        _check_depth_and_normal_images(coco_root, image, frame.maps)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[labels.index]))
        assert len(anns) == 2
        for ann, inst in zip(anns, sorted(labels.instances, key=lambda i: i.instance_id)):
            want = frame.maps.instance == inst.instance_id
            np.testing.assert_array_equal(coco.annToMask(ann).astype(bool), want)
            assert ann["area"] == want.sum() == inst.px_visible
            x0, y0, x1, y1 = inst.bbox_visible  # pixel edges, as COCO's boxes
            assert ann["bbox"] == [x0, y0, x1 - x0, y1 - y0]
            assert ann["category_id"] == inst.class_id and ann["iscrowd"] == 0 and ann["id"] >= 1


def _check_depth_and_normal_images(root, image: dict, maps) -> None:
    """EXR (OpenEXR) and 16-bit PNG (PIL) depth against the float32 metres; the 8-bit normal picture."""
    import OpenEXR

    with OpenEXR.File(str(root / image["depth_exr_file"])) as exr:
        np.testing.assert_array_equal(exr.channels()["Z"].pixels, maps.depth_z)
    depth_png = np.asarray(Image.open(root / image["depth_png_file"]))
    assert depth_png.dtype == np.uint16 and image["depth_png_scale_mm"] == 1.0
    depth_mm = depth_png * image["depth_png_scale_mm"]
    hit = maps.depth_z > 0
    assert ((depth_mm > 0) == hit).all() and np.abs(depth_mm[hit] - maps.depth_z[hit] * 1000.0).max() <= 0.5
    vis = np.asarray(Image.open(root / image["normals_vis_file"]))
    assert vis.dtype == np.uint8 and vis.shape == maps.normals_world.shape
    assert (vis[~hit] == 0).all() and hit.any() and (~hit).any()
    np.testing.assert_allclose(vis[hit] / 255.0 * 2.0 - 1.0, maps.normals_world[hit], atol=1.0 / 255.0)


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_ground_truth_scores_ap_one_against_itself(coco_root, iou_type):
    path = coco_root / "annotations/instances_train.json"
    gt = _load(path)
    detections = copy.deepcopy(json.loads(path.read_text())["annotations"])
    for d in detections:
        d["score"] = 1.0
        del d["id"]
        if iou_type == "bbox":
            del d["segmentation"]
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, gt.loadRes(detections), iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    assert evaluator.stats[0] == pytest.approx(1.0)


def test_split_files_share_categories(tmp_path):
    _, frames = scene_and_frames()
    root = write_all(CocoWriter, tmp_path / "coco", frames, DatasetInfo(splits={"train": [0], "val": [1]}))
    train, val = (json.loads((root / f"annotations/instances_{s}.json").read_text()) for s in ("train", "val"))
    assert [i["id"] for i in train["images"]] == [0] and [i["id"] for i in val["images"]] == [1]
    assert train["categories"] == val["categories"]
    assert [a["id"] for a in val["annotations"]] == [1, 2]
    rle = val["annotations"][0]["segmentation"]
    assert isinstance(rle["counts"], str)
    decoded = mask_util.decode({"size": rle["size"], "counts": rle["counts"].encode()})
    np.testing.assert_array_equal(decoded.astype(bool), frames[1].maps.instance == 1)
