"""A new user's checkout (issue 13): the repository is self-contained and installs what it imports.

* No file of the code, tests or benchmarks refers to anything beside the clone (the reference
  folder that sat next to the development checkout).
* The wheel carries ``hwconfigs/*.yaml`` (so ``hw validate``/``--hw FILE`` work after a plain
  ``pip install``) and the MIT LICENSE that its metadata names, with an SPDX ``license`` string
  (setuptools warns about the old table form on every install).
* Every third-party module that ``accelsim`` or ``networks`` imports is a declared dependency.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.hardware import PAPER_CONFIGS, load_spec
from accelsim.hardware.packaged import PACKAGED_DIR, packaged_configs

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

#: import name -> distribution name, where they differ
# import name -> the declared requirement that brings it (distributed comes with dask[distributed])
DISTRIBUTION = {"yaml": "pyyaml", "PIL": "pillow", "sklearn": "scikit-learn", "pydantic_core": "pydantic",
                "distributed": "dask"}


def _code_files() -> list[Path]:
    return [p for d in ("accelsim", "networks", "tests", "bench") for p in sorted((ROOT / d).rglob("*"))
            if p.is_file() and p.suffix in (".py", ".md", ".yaml", ".json", ".txt")]


#: Paths outside the clone that the development checkout had beside it: the parent's reference
#: folder, relative and absolute. Spelt in parts so this file does not itself name them.
OUTSIDE = ("/".join(("..", "shared")), "/".join(("", "work", "shared")))


def test_nothing_refers_to_files_beside_the_clone():
    offenders = [str(p.relative_to(ROOT)) for p in _code_files()
                 if any(path in p.read_text(errors="replace") for path in OUTSIDE)]
    assert offenders == []


def test_the_reference_data_the_tests_read_is_in_the_repository():
    data = ROOT / "tests" / "data"
    assert (data / "zoo_layers.json").stat().st_size > 800_000
    assert "source" in (data / "README.md").read_text().lower() or "drawn from" in (data / "README.md").read_text()


def _declared() -> set[str]:
    names = [*PYPROJECT["project"]["dependencies"], *(d for extra in PYPROJECT["project"]["optional-dependencies"]
                                                       .values() for d in extra)]
    return {n.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip().lower() for n in names}


def _third_party_imports() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in [*sorted((ROOT / "accelsim").rglob("*.py")), *sorted((ROOT / "networks").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top not in sys.stdlib_module_names and top not in ("accelsim", "networks", "__future__"):
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_imported_library_is_declared():
    imports = _third_party_imports()
    assert {"rich", "PIL", "torch", "yaml"} <= set(imports)  # the scan sees what it must
    missing = {name: where for name, where in imports.items()
               if DISTRIBUTION.get(name, name).lower() not in _declared()}
    assert missing == {}, f"imported but not declared in pyproject.toml: {missing}"


def test_license_is_an_spdx_string_with_the_mit_text_shipped():
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_packaged_hwconfigs_are_the_repository_files_and_the_built_in_specs():
    repo = sorted(p.name for p in (ROOT / "hwconfigs").glob("*.yaml"))
    assert PACKAGED_DIR == ROOT / "accelsim" / "hwconfigs"
    assert sorted(p.name for p in PACKAGED_DIR.glob("*.yaml")) == repo
    for name in repo:
        assert (PACKAGED_DIR / name).read_bytes() == (ROOT / "hwconfigs" / name).read_bytes()
    for key, path in packaged_configs().items():
        assert load_spec(path) == PAPER_CONFIGS[key]


def test_hw_show_list_says_where_the_yaml_files_are():
    result = CliRunner().invoke(app, ["hw", "show", "--list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"built-in specs (--hw NAME; their YAML files are in {PACKAGED_DIR}):"
    assert lines[1:] == ["8x8    paper_8x8    8x8/32KB     paper_8x8.yaml",
                         "16x16  paper_16x16  16x16/128KB  paper_16x16.yaml"]
    bad = CliRunner().invoke(app, ["hw", "show", "8x8", "--list"])
    assert bad.exit_code == 2 and bad.stderr == "error: --list: takes no FILE, --pe, --buffer or --set\n"


def test_the_wheel_ships_hwconfigs_and_license_without_a_setuptools_warning(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache",
        ".ruff_cache", "reports", "runs"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                           str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and "No module named" in done.stderr:
        pytest.skip(f"no build backend in this environment: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    assert "deprecat" not in (done.stdout + done.stderr).lower()
    (wheel,) = (tmp_path / "dist").glob("accelsim-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for yaml_file in (ROOT / "hwconfigs").glob("*.yaml"):
            packaged = f"accelsim/hwconfigs/{yaml_file.name}"
            assert packaged in names and archive.read(packaged) == yaml_file.read_bytes()
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata
    assert "Requires-Dist: rich" in metadata and "Requires-Dist: pillow" in metadata


def test_digits_without_scikit_learn_names_the_train_extra(monkeypatch):
    from networks.training import digits
    from networks.training.errors import DataError

    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn.datasets now raises ImportError
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(DataError) as info:
        digits.load({}, 0.2, 0)
    assert str(info.value) == ("digits: needs scikit-learn, which the train extra installs: "
                               "pip install 'accelsim[train]'")
