"""Every bad input, of every command, ends the same way: exit status 2, one line on stderr
`nerfgen: error: ...` naming the offending file (or the command-line option), no
traceback, and no output left behind (neither --out nor a hidden `.OUT.*` sibling).

Each case builds its input in a fresh directory and runs the command in-process; a few
run as real processes too. Values too big for memory are refused before anything is
allocated, so those cases take milliseconds, not gigabytes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from test_train import SIZE, write_toy_dataset
from test_train_cli import TINY_FLAGS, run_cli

from nerfgen.cli import main

SCENES = Path(__file__).resolve().parent.parent / "scenes"
CAR = SCENES / "car.yaml"
STREET = SCENES / "street.yaml"
TINY = ["--width", "16", "--height", "12"]
HUGE = "1000000000"


@dataclass(frozen=True)
class Inputs:
    """What the cases share, built once: a toy dataset and a run trained 2 steps on it."""

    toy: Path
    run: Path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Inputs:
    root = tmp_path_factory.mktemp("inputs")
    toy = write_toy_dataset(root / "toy", n_views=4)
    run = root / "run"
    main(["train", str(toy), "--out", str(run), "--max-steps", "2", *TINY_FLAGS])
    return Inputs(toy, run)


# --- input files, each a valid one with one thing wrong -----------------------------------


def gt_scene(tmp: Path, edit: Callable[[dict], object]) -> Path:
    """car.yaml with `edit` applied to its data."""
    data = yaml.safe_load(CAR.read_text())
    edit(data)
    path = tmp / "scene.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def gt_scene_text(tmp: Path, old: str, new: str) -> Path:
    """car.yaml with one piece of its text replaced (for YAML spellings such as 1e30)."""
    text = CAR.read_text()
    assert old in text
    path = tmp / "scene.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def car_part(data: dict, index: int = 0) -> dict:
    return data["objects"][0]["parts"][index]


def composed(tmp: Path, text: str = "", **changes) -> Path:
    """A composed scene placing car.yaml once; `changes` edit the object, `text` is added
    to the object's entry as raw YAML."""
    obj = {"asset": str(CAR), "class": "car", "instance_id": 1, "position": [0, 0, 0], **changes}
    path = tmp / "composed.yaml"
    path.write_text(yaml.safe_dump({"objects": [obj]}) + "".join(f"  {line}\n" for line in text.splitlines()))
    return path


def composed_doc(tmp: Path, doc: dict) -> Path:
    path = tmp / "composed.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def dataset(tmp: Path, inputs: Inputs, edit: Callable[[dict], object]) -> Path:
    """A copy of the toy dataset with `edit` applied to its transforms.json."""
    root = tmp / "data"
    shutil.copytree(inputs.toy, root)
    index = root / "transforms.json"
    doc = json.loads(index.read_text())
    edit(doc)
    index.write_text(json.dumps(doc))
    return index


def frame0(doc: dict) -> dict:
    return doc["frames"][0]


def colmap(tmp: Path, camera: str = "1 PINHOLE 16 12 20 20 8 6", translation: str = "0 0 0") -> Path:
    """A COLMAP text model of two images; returns its project directory."""
    model = tmp / "colmap" / "sparse" / "0"
    model.mkdir(parents=True)
    (tmp / "colmap" / "images").mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(np.zeros((12, 16, 3), np.uint8)).save(tmp / "colmap" / "images" / name)
    (model / "cameras.txt").write_text(camera + "\n")
    (model / "images.txt").write_text(f"1 1 0 0 0 {translation} 1 a.png\n\n2 1 0 0 0 0 0 1 1 b.png\n\n")
    (model / "points3D.txt").write_text("")
    return tmp / "colmap"


def pose_file(tmp: Path, translation=(0.0, 0.0, 2.0), rotation_00: float = 1.0) -> Path:
    pose = np.eye(4)
    pose[0, 0] = rotation_00
    pose[:3, 3] = translation
    path = tmp / "init.json"
    path.write_text(json.dumps(pose.tolist()))
    return path


# --- commands -----------------------------------------------------------------------------


def capture(scene: Path, out: Path, *extra: str) -> list[str]:
    return ["capture", str(scene), "--out", str(out), "--views", "2", *TINY, *extra]


def render(scene: Path, out: Path, *extra: str) -> list[str]:
    return ["render", str(scene), "--out", str(out), "--frames", "2", *TINY, *extra]


def render_composed(scene: Path, out: Path, *extra: str) -> list[str]:
    return render(scene, out, "--exact", *extra)


def train(data: Path, out: Path) -> list[str]:
    return ["train", str(data), "--out", str(out), "--max-steps", "1", *TINY_FLAGS]


def augment(out: Path, *extra: str, objects: str = f"car={CAR}") -> list[str]:
    return ["augment", str(STREET), "--objects", objects, "--out", str(out), "--frames", "2", *TINY, "--exact", *extra]


def localize(inputs: Inputs, out: Path, *extra: str) -> list[str]:
    image = inputs.toy / "images" / "r_0.png"
    return ["localize", str(inputs.run), str(image), "--out", str(out), "--iterations", "1", *extra]


@dataclass(frozen=True)
class Case:
    """make(tmp, inputs, out) -> (argv, what the error line must name)."""

    make: Callable[[Path, Inputs, Path], tuple[list[str], str]]
    problem: str  # a piece of the error message
    subprocess: bool = False  # also run it as its own process


def gt(edit, problem: str, **kw) -> Case:
    """capture of car.yaml edited by `edit(data)`."""
    return Case(lambda tmp, inputs, out: _named(capture(gt_scene(tmp, edit), out)), problem, **kw)


def gt_text(old: str, new: str, problem: str) -> Case:
    return Case(lambda tmp, inputs, out: _named(capture(gt_scene_text(tmp, old, new), out)), problem)


def comp(problem: str, text: str = "", **changes) -> Case:
    """render --exact of a composed scene whose car is changed by `changes` / `text`."""
    return Case(lambda tmp, inputs, out: _named(render_composed(composed(tmp, text, **changes), out)), problem)


def comp_doc(doc: dict, problem: str) -> Case:
    return Case(lambda tmp, inputs, out: _named(render_composed(composed_doc(tmp, doc), out)), problem)


def transforms(edit, problem: str, command: str = "train") -> Case:
    """`command` reading the toy dataset with `edit` applied to its transforms.json."""

    def make(tmp, inputs, out):
        index = dataset(tmp, inputs, edit)
        argv = {
            "train": lambda: train(index.parent, out),
            "eval": lambda: ["eval", str(inputs.run), "--data", str(index.parent)],
            "view": lambda: ["view", str(inputs.run), "--data", str(index.parent), "--out", str(out), "--orbit", "2"],
            "localize": lambda: localize(inputs, out, "--init", str(pose_file(tmp)), "--intrinsics", f"{index}:0"),
        }[command]()
        return argv, str(index)

    return Case(make, problem)


def colmap_case(problem: str, file: str, **model) -> Case:
    def make(tmp, inputs, out):
        project = colmap(tmp, **model)
        return train(project, out), str(project / "sparse" / "0" / file)

    return Case(make, problem)


def option(argv: Callable[[Path, Inputs, Path], list[str]], named: str, problem: str, **kw) -> Case:
    """A command-line value: the error names the option."""
    return Case(lambda tmp, inputs, out: (argv(tmp, inputs, out), named), problem, **kw)


def _named(argv: list[str]) -> tuple[list[str], str]:
    return argv, argv[1]  # the scene file


NAN, INF = float("nan"), float("inf")

CASES: dict[str, Case] = {
    # ground-truth scene files (capture), the scene named
    "gt-nan-rotation": gt(
        lambda d: d["objects"][0].update(pose={"rotation_deg": [0, 0, NAN]}),
        "'rotation_deg' must be a list of 3 finite numbers",
        subprocess=True,
    ),
    "gt-inf-translation": gt(
        lambda d: car_part(d)["pose"].update(translation=[INF, 0, 0]),
        "'translation' must be a list of 3 finite numbers",
    ),
    "gt-nan-ambient": gt(lambda d: d["lights"].update(ambient=NAN), "'ambient' must be a finite number"),
    "gt-typo-yaw": gt(
        lambda d: d["objects"][0].update(pose={"yaw_degree": 30}), "unknown key 'yaw_degree' (did you mean 'yaw_deg'?)"
    ),
    "gt-typo-rotation": gt(
        lambda d: car_part(d)["pose"].update(rotaton_deg=[0, 0, 1]),
        "unknown key 'rotaton_deg' (did you mean 'rotation_deg'?)",
    ),
    "gt-typo-top-level": gt(
        lambda d: d.update(lightz=d.pop("lights")), "unknown key 'lightz' (did you mean 'lights'?)"
    ),
    "gt-typo-material": gt(
        lambda d: car_part(d, 1)["material"].update(colour=[1, 0, 0]),
        "unknown key 'colour' for texture 'solid' (did you mean 'color'?)",
    ),
    "gt-typo-repeat": gt(
        lambda d: car_part(d, 5)["repeat"].update(stepp=[0, 1, 0]), "unknown key 'stepp' (did you mean 'step'?)"
    ),
    "gt-typo-rig": gt(
        lambda d: d["rig"]["segments"][0].update(centre=[0, 0, 0]),
        "unknown key 'centre' for rig type 'orbit' (did you mean 'center'?)",
    ),
    "gt-typo-light": gt(
        lambda d: d["lights"]["directional"][0].update(intensty=1), "unknown key 'intensty' (did you mean 'intensity'?)"
    ),
    "gt-key-of-other-primitive": gt(
        lambda d: car_part(d).update(radius=1.0), "unknown key 'radius' for primitive 'box'"
    ),
    "gt-instance-beyond-masks": gt(lambda d: d["objects"][0].update(instance=70000), "'instance' must be <= 65535"),
    "gt-instance-not-integer": gt(lambda d: d["objects"][0].update(instance=1.5), "'instance' must be an integer"),
    "gt-size-1e30": gt_text("size: [4.2, 1.8, 0.75]", "size: [1e30, 1.8, 0.75]", "'size' must be within +-1e+06"),
    "gt-size-tiny": gt(lambda d: car_part(d).update(size=[1e-300, 1, 1]), "'size' must be positive"),
    "gt-negative-radius": gt(lambda d: car_part(d, 7).update(radius=-0.3), "'radius' must be positive"),
    "gt-colour-out-of-range": gt(
        lambda d: car_part(d, 1)["material"].update(color=[1.5, 0, 0]), "components in [0, 1]"
    ),
    "gt-repeat-count-huge": gt(lambda d: car_part(d, 5)["repeat"].update(count=10**9), "'count' must be <= 10000"),
    "gt-repeat-beyond-limit": gt(
        lambda d: car_part(d, 5)["repeat"].update(count=3, step=[9e5, 0, 0]), "beyond +-1e+06"
    ),
    "gt-fov-180": gt(lambda d: d["rig"].update(fov_deg=180), "'fov_deg' must be below 180"),
    "gt-orbit-straight-down": gt(lambda d: d["rig"]["segments"][0].update(elevation_deg=[90, 90]), "within (-90, 90)"),
    "gt-line-looks-down": gt(
        lambda d: d["rig"].update(
            segments=[
                {
                    "type": "line",
                    "share": 1,
                    "eye_from": [0, 0, 5],
                    "eye_to": [1, 0, 5],
                    "target_from": [0, 0, 0],
                    "target_to": [1, 0, 0],
                }
            ]
        ),
        "looks straight up or down",
    ),
    "gt-negative-intensity": gt(
        lambda d: d["lights"]["directional"][0].update(intensity=-1), "'intensity' must be >= 0"
    ),
    "gt-zero-light-direction": gt(
        lambda d: d["lights"]["directional"][0].update(direction=[0, 0, 0]), "'direction' must be non-zero"
    ),
    "gt-duty-above-one": gt(lambda d: car_part(d)["material"].update(duty=1.5), "'duty' must be in (0, 1)"),
    "gt-malformed-yaml": gt_text("name: car", "name: [car", "malformed YAML"),
    "gt-render-nan": Case(
        lambda tmp, inputs, out: _named(render(gt_scene(tmp, lambda d: d["lights"].update(ambient=NAN)), out)),
        "'ambient' must be a finite number",
    ),
    # composed scene files (render --exact), the scene named
    "composed-nan-position": comp("'position' must be a list of 3 finite numbers", position=[0, 0, NAN]),
    "composed-inf-yaw": comp("'yaw_deg' must be a finite number", yaw_deg=INF),
    "composed-nan-rotation": comp("'rotation_deg' must be a list of 3 finite numbers", rotation_deg=[NAN, 0, 0]),
    "composed-scale-1e30": comp("'scale' must be within +-1e+06", text="scale: 1e30"),
    "composed-scale-zero": comp("'scale' must be positive", scale=0),
    "composed-position-far": comp("'position' must be within +-1e+06", position=[2e6, 0, 0]),
    "composed-typo-scale": comp("unknown key 'scael' (did you mean 'scale'?)", scael=2.0),
    "composed-typo-yaw": comp("unknown key 'yaw_degree' (did you mean 'yaw_deg'?)", yaw_degree=30),
    "composed-instance-beyond-masks": comp("'instance_id' must be <= 65535", instance_id=70000),
    "composed-instance-zero": comp("'instance_id' must be >= 1", instance_id=0),
    "composed-rotation-length": comp("'rotation_deg' must be a list of 3 finite numbers", rotation_deg=[0, 0]),
    "composed-unknown-class": comp("unknown class 'dragon'", **{"class": "dragon"}),
    "composed-missing-asset": comp("does not exist", asset="nope.yaml"),
    "composed-hole-typo": comp_doc(
        {"background": {"asset": str(STREET), "holes": [{"centre": [0, 0, 0], "size": [1, 1, 1]}]}, "objects": []},
        "unknown key 'centre' (did you mean 'center'?)",
    ),
    "composed-hole-negative-size": comp_doc(
        {"background": {"asset": str(STREET), "holes": [{"center": [0, 0, 0], "size": [1, -1, 1]}]}, "objects": []},
        "'size' must be positive",
    ),
    "composed-background-typo": comp_doc(
        {"background": {"asset": str(STREET), "hole": []}, "objects": []}, "unknown key 'hole' (did you mean 'holes'?)"
    ),
    "composed-rig-typo": comp_doc(
        {"objects": [], "background": str(CAR), "rig": {"fov_deg": 50, "segmnts": []}},
        "unknown key 'segmnts' (did you mean 'segments'?)",
    ),
    # transforms.json datasets, the index file named
    "transforms-k1-huge": transforms(
        lambda d: frame0(d).update(camera_model="OPENCV", k1=1e30), "'k1' must be within +-10"
    ),
    "transforms-k1-unused": transforms(lambda d: d.update(k1=1e30), "'k1' must be within +-10"),
    "transforms-translation-huge": transforms(
        lambda d: frame0(d)["transform_matrix"][0].__setitem__(3, 1e30), "is beyond +-1e+06 m"
    ),
    "transforms-depth-scale-negative": transforms(
        lambda d: d.update(depth_unit_scale_factor=-1), "'depth_unit_scale_factor' must be positive"
    ),
    "transforms-width-fraction": transforms(
        lambda d: frame0(d).update(w=64.5, h=64), "'w' must be an integer, got 64.5"
    ),
    "transforms-height-zero": transforms(lambda d: frame0(d).update(w=SIZE, h=0), "'h' must be >= 1"),
    "transforms-focal-nan": transforms(lambda d: frame0(d).update(fl_x=NAN), "'fl_x' must be a finite number"),
    "transforms-focal-negative": transforms(lambda d: frame0(d).update(fl_x=-10.0), "'fl_x' must be positive"),
    "transforms-angle-beyond-pi": transforms(
        lambda d: [f.pop("fl_x", None) for f in d["frames"]] and d.update(camera_angle_x=4.0),
        "'camera_angle_x' must be within +-3.14159",
    ),
    "transforms-cx-string": transforms(lambda d: frame0(d).update(cx="middle"), "'cx' must be a finite number"),
    "transforms-model-unknown": transforms(
        lambda d: frame0(d).update(camera_model="EQUIRECTANGULAR"), "unknown camera_model"
    ),
    "transforms-eval": transforms(
        lambda d: frame0(d).update(camera_model="OPENCV", k2=INF), "'k2' must be a finite number", command="eval"
    ),
    "transforms-view": transforms(
        lambda d: d.update(depth_unit_scale_factor=0), "'depth_unit_scale_factor' must be positive", command="view"
    ),
    "transforms-localize": transforms(
        lambda d: frame0(d).update(camera_model="OPENCV", p1=50.0), "'p1' must be within +-10", command="localize"
    ),
    # COLMAP text models, the model file named
    "colmap-k1-huge": colmap_case(
        "'k1' must be within +-10", "cameras.txt", camera="1 OPENCV 16 12 20 20 8 6 1e30 0 0 0"
    ),
    "colmap-focal-negative": colmap_case("'fx' must be positive", "cameras.txt", camera="1 PINHOLE 16 12 -20 20 8 6"),
    "colmap-translation-huge": colmap_case("is beyond +-1e+06 m", "images.txt", translation="1e30 0 0"),
    # sizes checked against memory before anything is allocated, the options named
    "render-frames-huge": option(
        lambda tmp, i, out: render(CAR, out, "--frames", HUGE), f"--frames {HUGE}", "GB is available"
    ),
    "render-width-huge": option(
        lambda tmp, i, out: render(CAR, out, "--width", HUGE), f"--width {HUGE}", "GB is available"
    ),
    "render-image-huge": option(
        lambda tmp, i, out: render(CAR, out, "--width", "100000", "--height", "100000"),
        "--width 100000 --height 100000",
        "GB is available",
        subprocess=True,
    ),
    "render-supersample-huge": option(
        lambda tmp, i, out: render(CAR, out, "--width", "160", "--height", "120", "--supersample", "10000"),
        "--supersample 10000",
        "GB is available",
    ),
    "capture-views-huge": option(
        lambda tmp, i, out: capture(CAR, out, "--views", HUGE), f"--views {HUGE}", "GB is available"
    ),
    "capture-image-huge": option(
        lambda tmp, i, out: capture(CAR, out, "--width", "100000", "--height", "100000"),
        "--width 100000 --height 100000",
        "frames rendered at once",
    ),
    "augment-frames-huge": option(
        lambda tmp, i, out: augment(out, "--frames", HUGE), f"--frames {HUGE}", "GB is available"
    ),
    "augment-image-huge": option(
        lambda tmp, i, out: augment(out, "--width", "100000", "--height", "100000"),
        "--width 100000 --height 100000",
        "GB is available",
    ),
    "view-orbit-huge": option(
        lambda tmp, i, out: ["view", str(i.run), "--data", str(i.toy), "--out", str(out), "--orbit", HUGE],
        f"--orbit {HUGE}",
        "kept for the GIF",
    ),
    # other command-line values
    "render-seed-negative": option(lambda tmp, i, out: render(CAR, out, "--seed", "-1"), "--seed", "must be >= 0"),
    "capture-seed-negative": option(lambda tmp, i, out: capture(CAR, out, "--seed", "-1"), "--seed", "must be >= 0"),
    "augment-seed-negative": option(lambda tmp, i, out: augment(out, "--seed", "-1"), "--seed", "must be >= 0"),
    "render-format-unknown": option(
        lambda tmp, i, out: render(CAR, out, "--format", "yolo"), "--format", "unknown format(s) ['yolo']"
    ),
    "render-format-needs-outputs": option(
        lambda tmp, i, out: render(CAR, out, "--format", "bop", "--outputs", "rgb"),
        "--outputs",
        "format bop needs raw outputs",
    ),
    "render-lidar-mount-nan": option(
        lambda tmp, i, out: render(CAR, out, "--lidar", "vlp16", "--lidar-mount", "nan", "0", "0", "0", "0", "0"),
        "--lidar-mount",
        "finite",
    ),
    "render-lidar-azimuth-zero": option(
        lambda tmp, i, out: render(CAR, out, "--lidar", "vlp16", "--lidar-azimuth-deg", "0"),
        "--lidar-azimuth-deg",
        "must be in",
    ),
    "export-depth-scale-nan": option(
        lambda tmp, i, out: ["export", str(tmp), "--out", str(out), "--bop-depth-scale", "nan"],
        "--bop-depth-scale",
        "positive",
    ),
    "export-depth-scale-inf": option(
        lambda tmp, i, out: ["export", str(tmp), "--out", str(out), "--bop-depth-scale", "inf"],
        "--bop-depth-scale",
        "positive",
    ),
    "export-format-unknown": option(
        lambda tmp, i, out: ["export", str(tmp), "--out", str(out), "--format", "yolo"], "--format", "unknown format(s)"
    ),
    "export-raw-missing": option(
        lambda tmp, i, out: ["export", str(tmp / "nope"), "--out", str(out)], "nope", "raw dataset directory not found"
    ),
    "augment-format-unknown": option(
        lambda tmp, i, out: augment(out, "--format", "kitti,yolo"), "--format", "unknown format(s) ['yolo']"
    ),
    "augment-object-scene-nan": Case(
        lambda tmp, i, out: (
            augment(out, objects=f"car={gt_scene(tmp, lambda d: d['lights'].update(ambient=NAN))}"),
            str(tmp / "scene.yaml"),
        ),
        "'ambient' must be a finite number",
    ),
    "augment-min-gap-nan": option(
        lambda tmp, i, out: augment(out, "--min-gap", "nan"), "--min-gap", "must be in [0, 1000]"
    ),
    "augment-ground-cell-tiny": option(
        lambda tmp, i, out: augment(out, "--ground-cell", "1e-9"), "--ground-cell", "must be in [0.01, 100]"
    ),
    "augment-max-lateral-negative": option(
        lambda tmp, i, out: augment(out, "--max-lateral", "-1"), "--max-lateral", "must be in"
    ),
    "augment-path-nan": option(lambda tmp, i, out: augment(out, "--path", "nan,0,10,0"), "--path", "finite"),
    "augment-path-standing-still": option(
        lambda tmp, i, out: augment(out, "--path", "0,0,0,0"), "--path", "repeats a waypoint"
    ),
    "augment-preview-rows-zero": option(
        lambda tmp, i, out: augment(out, "--preview-rows", "0"), "--preview-rows", "must be >= 1"
    ),
    "eval-threads-zero": option(
        lambda tmp, i, out: ["eval", str(i.run), "--data", str(i.toy), "--threads", "0"], "--threads", "must be >= 1"
    ),
    "train-threads-zero": option(
        lambda tmp, i, out: ["train", str(i.toy), "--out", str(out), "--threads", "0"], "--threads", "must be >= 1"
    ),
    "train-aabb-nan": option(
        lambda tmp, i, out: ["train", str(i.toy), "--out", str(out), "--aabb", "0", "0", "0", "nan", "1", "1"],
        "--aabb",
        "must be finite",
    ),
    "view-threads-zero": option(
        lambda tmp, i, out: ["view", str(i.run), "--out", str(out), "--threads", "0"], "--threads", "must be >= 1"
    ),
    "view-orbit-zero": option(
        lambda tmp, i, out: ["view", str(i.run), "--out", str(out), "--orbit", "0"], "--orbit", "must be >= 1"
    ),
    "localize-intrinsics-nan": option(
        lambda tmp, i, out: localize(i, out, "--init", str(pose_file(tmp)), "--intrinsics", "nan,1,1,1"),
        "--intrinsics",
        "four numbers",
    ),
    "localize-lr-nan": option(
        lambda tmp, i, out: localize(
            i, out, "--init", str(pose_file(tmp)), "--intrinsics", "40,40,16,16", "--lr", "nan"
        ),
        "--lr",
        "must be in",
    ),
    "localize-hypotheses-huge": option(
        lambda tmp, i, out: localize(
            i, out, "--init", str(pose_file(tmp)), "--intrinsics", "40,40,16,16", "--hypotheses", HUGE
        ),
        "--hypotheses",
        "must be in [1, 1000]",
    ),
    "localize-pose-nan": Case(
        lambda tmp, i, out: (
            localize(i, out, "--init", str(pose_file(tmp, (NAN, 0, 0))), "--intrinsics", "40,40,16,16"),
            str(tmp / "init.json"),
        ),
        "NaN",
    ),
    "localize-pose-far": Case(
        lambda tmp, i, out: (
            localize(i, out, "--init", str(pose_file(tmp, (1e30, 0, 0))), "--intrinsics", "40,40,16,16"),
            str(tmp / "init.json"),
        ),
        "beyond +-1e+06 m",
    ),
    "localize-pose-scaled": Case(
        lambda tmp, i, out: (
            localize(i, out, "--init", str(pose_file(tmp, rotation_00=3.0)), "--intrinsics", "40,40,16,16"),
            str(tmp / "init.json"),
        ),
        "not rigid",
    ),
}


def _assert_refused(code, err: str, named: str, problem: str, out: Path) -> None:
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nerfgen: error: "), err
    assert named in lines[0] and problem in lines[0], err
    assert not out.exists(), f"{out} was left behind"
    assert not list(out.parent.glob(f".{out.name}.*")), f"hidden siblings of {out} were left behind"


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_with_one_line(name, inputs, tmp_path, capsys):
    case = CASES[name]
    out = tmp_path / "out"
    argv, named = case.make(tmp_path, inputs, out)
    code, _, err = run_cli(capsys, *argv)
    _assert_refused(code, err, named, case.problem, out)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.subprocess])
def test_bad_input_as_a_process(name, inputs, tmp_path):
    """The same through a real process: what a user's terminal gets (nothing else on stderr)."""
    case = CASES[name]
    out = tmp_path / "out"
    argv, named = case.make(tmp_path, inputs, out)
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from nerfgen.cli import main; main(sys.argv[1:])", *argv],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    _assert_refused(done.returncode, done.stderr, named, case.problem, out)


def test_exponent_floats_are_numbers():
    """YAML 1.1 reads `1e30` as a string; scene files read it (and -2E-3) as a number."""
    from nerfgen.yaml_file import SceneLoader

    data = yaml.load("a: 1e30\nb: -2E-3\nc: 1.5e3\nd: e5\ne: 1_000\n", Loader=SceneLoader)
    assert data == {"a": 1e30, "b": -0.002, "c": 1500.0, "d": "e5", "e": 1000}


def test_bundled_scenes_still_load():
    from nerfgen.procedural import load_scene_spec

    for scene in sorted(SCENES.glob("*.yaml")):
        assert load_scene_spec(scene).objects


def test_bop_of_a_composed_scene_is_checked_before_and_written_after_rendering(tmp_path, capsys):
    """A composed scene of ground-truth assets exports BOP with its exact twin's models
    (it used to render every frame, then fail reading the composed file as a ground-truth scene)."""
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, *render_composed(composed(tmp_path), out, "--format", "bop"))
    assert code == 0, err
    assert (out / "bop" / "models" / "obj_000001.ply").is_file()
