"""Writers: format label records (nerfgen.labels.types) as datasets on disk. No writer renders.

Every format writer has the same three calls (nothing is imported here, so a module
pays only for the writers it uses):

    writer = KittiWriter(out_root, DatasetInfo(seed=0), resume=False)   # kitti / coco / bop / nerfstudio_export
    writer.write_frame(maps, labels, lidar=None, alone_masks=None)     # each frame, any order
    writer.finish()                                                     # indices, JSON collections, manifest.json

    export_raw(raw_dir, out, "kitti,coco,bop,nerfstudio")               # nerfgen.writers.export: raw -> formats
"""
