"""`nerfgen CMD --help` shows multi-line field docstrings as flowing paragraphs."""

import pytest

from nerfgen.cli import main, reflow_help


def test_reflow_help_joins_lines_keeps_paragraphs_and_lists():
    text = """First line of a field
    (continued) with `code` and 3 numbers.

    Second paragraph:
    - item one
      spills over
    - item two"""
    assert reflow_help(text) == (
        "First line of a field (continued) with `code` and 3 numbers.\n\n"
        "Second paragraph:\n- item one spills over\n- item two"
    )


def test_capture_help_shows_the_supersample_docstring_as_one_paragraph(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # wide enough that the formatter does not wrap it
    with pytest.raises(SystemExit) as exit_info:
        main(["capture", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out.splitlines()
    (at,) = [k for k, line in enumerate(out) if "--supersample" in line]
    # The description sits beside the flag, or on the next line when long flags push it there.
    described = [line for line in out[at : at + 2] if "RGB anti-aliasing" in line]
    assert len(described) == 1
    assert (
        "rays per pixel (1: one ray through the pixel centre, which aliases fine textures). Labels always"
        in described[0]
    )
