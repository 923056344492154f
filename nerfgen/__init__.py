"""nerfgen: neural rendering for 3D-aware, exactly labelled training data.

The public API (nerfgen.api) is available here: `nerfgen.load_scene`, `nerfgen.capture`,
`nerfgen.train_field`, `nerfgen.render_dataset`, `nerfgen.export_dataset`,
`nerfgen.augment_street`, ...
"""

__version__ = "0.1.0"

_API = {
    "LoadedScene",
    "augment_street",
    "bop_models",
    "capture",
    "export_dataset",
    "load_scene",
    "load_trained",
    "render_dataset",
    "scene_spec",
    "train_field",
    "trajectory_cameras",
}


def __getattr__(name: str):
    # The API pulls in torch and every renderer: loaded on first use, so that
    # `import nerfgen.errors` (and `nerfgen --help`) stay light.
    if name not in _API:
        raise AttributeError(f"module 'nerfgen' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module("nerfgen.api"), name)
