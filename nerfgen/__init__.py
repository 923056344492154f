"""nerfgen: neural rendering for 3D-aware, exactly labelled training data."""

__version__ = "0.1.0"
