"""Accuracy of rendered labels against exact ground truth of the same views.

errors = LabelErrors()                                   # gather view by view ...
errors.add_frame(maps, labels, exact_maps, exact_labels)
errors.add_correspondences((uv, valid), (uv_exact, valid_exact), exact_maps.depth_z)
errors.add_lidar(spec, scan, exact_scan)
errors.summary()                                         # ... reduce: depth AbsRel, mask IoU, EPE, ...
compare_with_twin("out/aug/raw", "out/aug/scene.yaml")   # a whole raw dataset vs its exact twin
"""

from nerfgen.evaluate.compare import MIN_PIXELS, PCK_PIXELS, LabelErrors, box_iou, mask_iou
from nerfgen.evaluate.twin import compare_with_twin

__all__ = ["MIN_PIXELS", "PCK_PIXELS", "LabelErrors", "box_iou", "compare_with_twin", "mask_iou"]
