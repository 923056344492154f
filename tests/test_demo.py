"""`nerfgen demo` runs end to end at a reduced size and its outputs load back."""
import json

from nerfgen.cli import main
from nerfgen.data import load_dataset


def test_demo_small(tmp_path, capsys):
    main(["demo", "--out", str(tmp_path / "demo"), "--views", "3", "--width", "32", "--height", "24"])
    printed = capsys.readouterr().out
    assert "capture street" in printed and "capture car" in printed
    for name in ("street", "car"):
        root = tmp_path / "demo" / "captures" / name
        ds = load_dataset(root)
        assert len(ds.image_paths) == 3
        assert ds.images.shape == (3, 24, 32, 3)
        gt = json.loads((root / "gt.json").read_text())
        assert len(gt["instances"]) >= 1


def test_help_lists_commands(capsys):
    try:
        main(["--help"])
    except SystemExit as e:
        assert e.code == 0
    printed = capsys.readouterr().out
    assert "capture" in printed and "demo" in printed
