"""`nerfgen augment`: insert objects into a reconstructed street, render a labelled drive."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import tyro

from nerfgen.augment.config import AugmentConfig


@dataclass
class AugmentCommand:
    """Place objects on the drivable ground of a background (seeded, never overlapping,
    clear of the background, visible from the drive), render RGB, depth, normals, masks and
    2D/3D boxes along the drive, and write the raw dataset, the requested formats, the
    composed scene file and preview.png into OUT."""

    background: tyro.conf.Positional[Path]
    """Background: a trained run directory, or a ground-truth scene YAML (rendered exactly)."""
    objects: str
    """Objects to insert, CLASS=RUN[,CLASS=RUN...] (RUN: trained run or ground-truth scene YAML), e.g. car=runs/car."""
    out: Path
    """Output directory: new or empty; appears only when complete."""
    gt: str = ""
    """Ground-truth scenes of trained assets, background=SCENE.yaml[,CLASS=SCENE.yaml...]: exact
    boxes, instances to --remove, the --exact twin, and the placement's ground error."""
    overwrite: bool = False
    """Replace OUT when it is an existing non-empty directory that nerfgen wrote (one holding
    a .nerfgen-output marker); other non-empty directories are never replaced."""
    config: AugmentConfig = AugmentConfig()


def augment(command: tyro.conf.OmitArgPrefixes[AugmentCommand]) -> None:
    """Insert objects into a reconstructed street and render a labelled drive."""
    from nerfgen.augment import augment as run_augment
    from nerfgen.augment import parse_assignments

    result = run_augment(
        command.background,
        parse_assignments(command.objects, "--objects"),
        command.out,
        command.config,
        parse_assignments(command.gt, "--gt"),
        command=_command_line(command),
        overwrite=command.overwrite,
    )
    for p in result.placements:
        x, y, z = p.obj.pose.translation
        print(
            f"{p.obj.class_name}_{p.obj.instance_id}: ({x:.2f}, {y:.2f}, {z:.3f})"
            f" yaw {p.obj.pose.rotation_deg[2]:.1f} deg"
        )
    print(f"wrote {command.config.frames} frames with {len(result.placements)} objects to {result.out}")


def _command_line(command: AugmentCommand) -> tuple[str, ...]:
    """The command that reproduces the dataset (recorded in raw/meta.json)."""
    args = ["nerfgen", "augment", str(command.background), "--objects", command.objects, "--out", str(command.out)]
    if command.gt:
        args += ["--gt", command.gt]
    for config in (command.config, command.config.placement):
        for f in fields(config):
            value, flag = getattr(config, f.name), f.name.replace("_", "-")
            if value is None:
                continue
            if isinstance(value, bool):
                args.append(f"--{flag}" if value else f"--no-{flag}")
            elif isinstance(value, tuple):
                args += [f"--{flag}", *map(str, value)] if value else []
            elif f.name != "placement":
                args += [f"--{flag}", str(value)]
    return tuple(args)
