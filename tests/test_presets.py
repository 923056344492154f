"""Training presets fill defaults and leave explicit settings alone."""

import pytest

from nerfgen.fields.ngp import NGPFieldConfig
from nerfgen.train.config import TrainConfig
from nerfgen.train.presets import preset


def test_street_preset_fills_defaults_and_keeps_explicit_values():
    configs = preset("street", train=TrainConfig(max_steps=123), field=NGPFieldConfig(max_resolution=1024))
    assert configs["field"].max_resolution == 1024  # given: kept
    assert configs["field"].n_levels == 16 and configs["field"].log2_hashmap_size == 19
    assert configs["render"].steps_per_diagonal == 1024
    assert configs["train"].max_steps == 123 and configs["train"].depth_loss_weight == 0.1


def test_room_preset_is_the_street_field_without_depth_supervision():
    room, street = preset("room"), preset("street")
    assert room["field"] == street["field"] and room["render"] == street["render"]
    assert room["field"].max_resolution == 2048 and room["train"] == TrainConfig()
    assert street["train"].depth_loss_weight > 0


def test_object_preset_is_the_defaults():
    assert preset("object") == {"train": TrainConfig(), "field": NGPFieldConfig(), "render": preset("object")["render"]}
    assert preset("object")["render"] == type(preset("object")["render"])()


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset 'city'"):
        preset("city")
