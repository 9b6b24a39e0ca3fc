"""The dependency rules of design/architecture.md, checked by walking every import.

* Layers: units/errors/atomic < workload, hardware, paper < results, mapping < engine, energy <
  simulation < calibration, codesign < reporting < cli. A module imports only its own layer
  or lower ones, at any depth (function-level imports included).
* ``mapping`` never imports ``engine`` (the search is handed its evaluator); ``workload`` and
  ``hardware`` never import each other; ``networks`` never imports ``accelsim``.
* Heavy libraries at module level: torch only in ``accelsim/workload/export.py`` and
  ``networks/``; pandas and matplotlib only in ``accelsim/reporting/``. So ``accelsim --help``
  imports none of them (checked in a fresh interpreter).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RANK = {
    "units": 0, "errors": 0, "atomic": 0, "limits": 0,
    "workload": 1, "hardware": 1, "paper": 1,
    "results": 2, "mapping": 2,
    "engine": 3, "energy": 3,
    "simulation": 4, "pricing": 4, "execution": 4, "oracle": 4,
    "calibration": 5, "codesign": 5,
    "reporting": 6,
    "cli": 7,
    "train": 8,  # accelsim/train.py: `python -m accelsim.train`, the torchrun entry point over the CLI
}
HEAVY = {"torch": ("accelsim/workload/export.py", "networks/"),
         "pandas": ("accelsim/reporting/",), "matplotlib": ("accelsim/reporting/",)}


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at module level?) for every import in the file, TYPE_CHECKING blocks excluded."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for child in node.body for n in ast.walk(child))
    top = {id(n) for n in tree.body}
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top))
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "accelsim" and len(parts) > 1 else None


@pytest.mark.parametrize("path", _sources("accelsim"), ids=lambda p: str(p.relative_to(ROOT)))
def test_accelsim_imports_point_down(path: Path) -> None:
    rel = path.relative_to(ROOT / "accelsim")
    if rel.parts == ("__init__.py",):
        return  # the package root re-exports simulate lazily
    own = rel.parts[0].removesuffix(".py")
    for module, _ in _imports(path):
        target = _layer(module)
        if target is None or target == own:
            continue
        assert RANK[target] <= RANK[own], f"{rel} ({own}) imports {module} ({target}), a higher layer"
        assert not (own == "mapping" and target == "engine"), f"{rel}: mapping must not import engine"
        assert {own, target} != {"workload", "hardware"}, f"{rel}: workload and hardware are siblings"


@pytest.mark.parametrize("path", _sources("networks"), ids=lambda p: str(p.relative_to(ROOT)))
def test_networks_never_imports_accelsim(path: Path) -> None:
    assert not [m for m, _ in _imports(path) if m.split(".")[0] == "accelsim"]


@pytest.mark.parametrize("path", _sources("accelsim") + _sources("networks"), ids=lambda p: str(p.relative_to(ROOT)))
def test_heavy_libraries_only_where_allowed(path: Path) -> None:
    rel = str(path.relative_to(ROOT))
    for module, top_level in _imports(path):
        lib = module.split(".")[0]
        if lib in HEAVY and top_level:
            assert rel.startswith(HEAVY[lib]), f"{rel} imports {lib} at module level"


def test_cli_start_imports_nothing_heavy() -> None:
    code = ("import sys, accelsim.cli; "
            "print(sorted(m for m in ('torch', 'pandas', 'matplotlib', 'networks.squeezenext') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
