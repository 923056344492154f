"""Sensors: every sensor is a ray generator feeding the same renderer.

    from nerfgen.sensors.trajectories import orbit, drive      # c2w [N,4,4] OpenCV
    from nerfgen.sensors.camera_path import load_camera_path   # nerfstudio camera_path.json
    from nerfgen.sensors.frames import ego_poses, mount        # ego / sensor frames
    from nerfgen.sensors.rig import CameraRig, RigCamera, rig_cameras
    from nerfgen.sensors.lidar import HDL64E, lidar_rays, lidar_scan_gt
    from nerfgen.render.lidar_returns import returns_from_weights   # LiDAR returns of a field

Import from the modules: this package file stays empty so that `nerfgen.procedural` (which
builds its default rig from `trajectories`) and `nerfgen.sensors.lidar` (which casts
ground-truth rays with `nerfgen.procedural`) can import each other's modules without a cycle.
"""
