"""Raw dataset (nerfgen.writers.raw) -> KITTI / COCO / BOP / nerfstudio datasets.

    export_raw("out/raw", "out/datasets", ["kitti", "coco"])   # out/datasets/kitti, .../coco
    write_raw_and_export("out", frames, meta, ["kitti"])       # out/raw + out/kitti (`nerfgen render --format`)

The output appears only when complete (nerfgen.output_dir): everything is written to a
hidden sibling `.NAME.partial` and renamed to NAME at the end. A failed
run deletes the partial directory, unless it ran with `resume`: then the next `resume`
run keeps every file it finished (each file is written atomically, see
nerfgen.writers.sink) and writes the rest, ending byte-identical to an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from nerfgen.errors import NerfgenError
from nerfgen.output_dir import output_dir
from nerfgen.progress import progress_bar
from nerfgen.writers.bop import BopWriter
from nerfgen.writers.coco import CocoWriter
from nerfgen.writers.encode import json_bytes
from nerfgen.writers.info import DatasetInfo
from nerfgen.writers.kitti import KittiWriter
from nerfgen.writers.nerfstudio_export import NerfstudioWriter
from nerfgen.writers.raw import (
    META_NAME,
    FrameSource,
    raw_inputs,
    raw_stamp,
    read_raw_alone_masks,
    read_raw_frame,
    read_raw_lidar,
    read_raw_meta,
    write_raw_frames,
)

FORMATS = ("kitti", "coco", "bop", "nerfstudio")
# raw outputs (nerfgen.writers.raw.OUTPUTS) each format is made of
REQUIRED_OUTPUTS = {
    "kitti": ("rgb", "boxes"),
    "coco": ("rgb", "depth", "normals", "masks", "boxes"),
    "bop": ("rgb", "depth", "masks", "boxes"),
    "nerfstudio": ("rgb", "depth", "masks"),
}


def parse_formats(text: str) -> list[str]:
    """'kitti,coco' -> ["kitti", "coco"] (in FORMATS order, no duplicates)."""
    names = {s.strip().lower() for s in text.split(",") if s.strip()}
    unknown = sorted(names - set(FORMATS))
    if unknown or not names:
        raise NerfgenError(None, f"--format: unknown format(s) {unknown or [text]}: choose from {', '.join(FORMATS)}")
    return [f for f in FORMATS if f in names]


def check_formats(text: str, outputs: list[str] | None) -> list[str]:
    """The formats of --format `text`, checked before anything is rendered: known names
    and, given the raw `outputs` to render, the ones each format needs."""
    formats = parse_formats(text)
    if outputs is not None:
        check_outputs(formats, outputs, "--outputs")
    return formats


def check_outputs(formats: list[str], outputs: list[str], where: Path | str) -> None:
    """NerfgenError naming `where` (a raw meta.json, or the option that lists the outputs)
    when a format needs raw outputs that are not in `outputs`."""
    for fmt in formats:
        missing = [o for o in REQUIRED_OUTPUTS[fmt] if o not in outputs]
        if missing:
            raise NerfgenError(where, f"format {fmt} needs raw outputs {missing}, which were not rendered")


def export_raw(
    raw_dir: str | Path,
    out: str | Path,
    formats: list[str] | str = FORMATS,
    resume: bool = False,
    bop_depth_scale: float = 1.0,
    progress: bool = True,
    command: tuple[str, ...] | None = None,
    overwrite: bool = False,
    bop_models: dict | None = None,
) -> Path:
    """Writes each of `formats` of the raw dataset at `raw_dir` to out/<format>/; returns `out`.

    `bop_models`: BOP's object models (nerfgen.writers.bop.models_from_gt_scene; the
    caller builds them, e.g. nerfgen.api.bop_models); without them BOP has no models/.
    `command`: the command line recorded in the manifests (default: this `nerfgen export`).
    `overwrite`: replace an existing `out` that nerfgen wrote (nerfgen.output_dir).
    """
    raw_dir, out = Path(raw_dir), Path(out)
    formats = parse_formats(formats) if isinstance(formats, str) else parse_formats(",".join(formats))
    if not raw_dir.is_dir():
        raise NerfgenError(raw_dir, "raw dataset directory not found")
    meta = read_raw_meta(raw_dir)
    check_outputs(formats, meta["outputs"], raw_dir / META_NAME)

    if command is None:
        # the command that reproduces this output; --resume is left out since it does not change the bytes
        command = ("nerfgen", "export", str(raw_dir), "--out", str(out), "--format", ",".join(formats))
        if bop_depth_scale != 1.0:
            command += ("--bop-depth-scale", repr(bop_depth_scale))
    info = DatasetInfo(seed=meta.get("seed"), command=command)
    meta_sha256 = hashlib.sha256((raw_dir / META_NAME).read_bytes()).hexdigest()
    stamp = json_bytes({"raw_meta_sha256": meta_sha256, "command": command})
    with output_dir(out, "export", (raw_dir,), overwrite, resume, stamp) as work, progress_bar(progress) as bar:
        writers = _writers(work, formats, info, resume, bop_models or {}, bop_depth_scale)
        task = bar.add_task(f"export {', '.join(formats)}", total=meta["frame_count"])
        for index in range(meta["frame_count"]):
            maps, labels = read_raw_frame(raw_dir, index)
            lidar, alone_masks = read_raw_lidar(raw_dir, index), read_raw_alone_masks(raw_dir, index)
            for writer in writers:
                writer.write_frame(maps, labels, lidar, alone_masks)
            bar.advance(task)
        for writer in writers:
            writer.finish()
    return out


def write_raw_and_export(
    out: str | Path,
    frames: FrameSource,
    meta: dict,
    formats: list[str],
    progress: bool = True,
    resume: bool = False,
    overwrite: bool = False,
    bop_models: dict | None = None,
) -> Path:
    """Writes the raw dataset of `frames` to out/raw and its `formats` to out/<format>; the
    whole of `out` appears only when all of it is written (nerfgen.output_dir's policy).
    Manifests record the raw meta's command (the render that made them), not temporary paths.
    `resume`: as nerfgen.writers.raw.write_raw_dataset (the export resumes as export_raw)."""
    with output_dir(out, "render", raw_inputs(meta), overwrite, resume, raw_stamp(meta)) as work:
        write_raw_frames(work / "raw", frames, meta, progress)
        export_beside_raw(work, formats, resume, progress, tuple(meta["command"]), bop_models)
    return Path(out)


def export_beside_raw(
    root: Path,
    formats: list[str],
    resume: bool = False,
    progress: bool = True,
    command: tuple[str, ...] | None = None,
    bop_models: dict | None = None,
) -> None:
    """Exports the raw dataset root/raw to root/<format> for each of `formats` (resuming as
    export_raw does); `command`: the command line recorded in the manifests."""
    export_raw(
        root / "raw", root / "export", formats, resume, progress=progress, command=command, bop_models=bop_models
    )
    for fmt in formats:  # export_raw owns (and replaces) its whole output directory: lift each format up
        shutil.rmtree(root / fmt, ignore_errors=True)  # left by an interrupted earlier lift of the same bytes
        os.replace(root / "export" / fmt, root / fmt)
    shutil.rmtree(root / "export")  # only its marker is left


def _writers(work: Path, formats: list[str], info: DatasetInfo, resume: bool, bop_models: dict, bop_depth_scale: float):
    simple = {"kitti": KittiWriter, "coco": CocoWriter, "nerfstudio": NerfstudioWriter}
    writers = []
    for fmt in formats:
        if fmt == "bop":
            writers.append(BopWriter(work / fmt, info, resume, bop_models, bop_depth_scale))
        else:
            writers.append(simple[fmt](work / fmt, info, resume))
    return writers
