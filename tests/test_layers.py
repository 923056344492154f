"""Every import follows the layer table of docs/architecture.md: no package imports one
above it (imports inside functions count too, so a lazy import cannot hide an upward
arrow), no `TYPE_CHECKING` import dodges a cycle, and no private name crosses packages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nerfgen"


def layers() -> dict[str, int]:
    """Package -> its line in the ```layers block of docs/architecture.md."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md has no ```layers block"
    order = {}
    for line in block.group(1).strip().splitlines():
        number, _name, *packages = line.split()
        for package in packages:
            order[package] = int(number)
    return order


def package_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else Path(parts[0]).stem


def imports(path: Path):
    """(line, imported nerfgen package, names) of every import in one file, at any depth."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("nerfgen"):
            parts = node.module.split(".")
            if len(parts) == 1:  # from nerfgen import X: X is the package
                for alias in node.names:
                    yield node.lineno, alias.name, []
            else:
                yield node.lineno, parts[1], [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "nerfgen" and len(parts) > 1:
                    yield node.lineno, parts[1], []


def sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_package_is_in_the_table():
    order = layers()
    missing = sorted({package_of(p) for p in sources()} - set(order))
    assert not missing, f"add {missing} to the layers block of docs/architecture.md"


def test_no_import_runs_upward_or_sideways():
    order = layers()
    wrong = []
    for path in sources():
        own = package_of(path)
        for line, target, _ in imports(path):
            if target == own or target == "_C":  # _C: the compiled ops, loaded by ops/_ext.py
                continue
            if order.get(target, 99) >= order[own]:
                wrong.append(
                    f"{path.relative_to(ROOT)}:{line} ({own}, layer {order[own]}) "
                    f"imports {target} (layer {order.get(target)})"
                )
    assert not wrong, "\n".join(wrong)


def test_no_type_checking_imports_and_no_private_names_across_packages():
    wrong = []
    for path in sources():
        text = path.read_text()
        if "TYPE_CHECKING" in text:
            wrong.append(f"{path.relative_to(ROOT)}: TYPE_CHECKING")
        own = package_of(path)
        for line, target, names in imports(path):
            private = [n for n in names if n.startswith("_")]
            if target != own and private:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {private} from {target}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_an_upward_import(tmp_path):
    """The test above can fail: an upward import in a file is found."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from nerfgen.scene.render import render_composed_rays\n")
    assert [(line, target) for line, target, _ in imports(probe)] == [(2, "scene")]
    assert layers()["scene"] > layers()["render"]
