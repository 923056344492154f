"""Labels derived from rendered frames: boxes, poses, masks, occlusion, correspondences."""
