"""``accelsim hw``: validate, show and document hardware specs.

    accelsim hw validate hwconfigs/*.yaml          # 'FILE: ok (16x16/128KB)' per file, exit 2 on any error
    accelsim hw show paper_8x8 --set dram.bandwidth=32GB/s   # the resolved spec as YAML
    accelsim hw schema > hwspec.schema.json        # JSON Schema for YAML editors
    accelsim hw schema --markdown                  # the field table of the docs
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from accelsim.cli.common import EXIT_USAGE, BufferOption, PeOption, SetOption, cli_errors, fail


def validate(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Spec YAML files to check.")],
) -> None:
    """Check spec files: 'FILE: ok (16x16/128KB)' each; one error line per bad file and exit 2.

    Example: accelsim hw validate hwconfigs/*.yaml
    """
    from accelsim.errors import SpecError
    from accelsim.hardware import load_spec

    bad = 0
    for path in files:
        try:
            spec = load_spec(path)
        except SpecError as exc:
            bad += 1
            typer.echo(f"error: {exc}", err=True)
        else:
            typer.echo(f"{path}: ok ({spec.label})")
    if bad:
        raise typer.Exit(EXIT_USAGE)


@cli_errors
def show(
    file: Annotated[str | None, typer.Argument(
        metavar="[FILE]",
        help="Spec YAML or built-in name (16x16, 8x8, paper_16x16, paper_8x8); default 16x16.")] = None,
    pe: PeOption = None,
    buffer: BufferOption = None,
    sets: SetOption = None,
    list_builtin: Annotated[bool, typer.Option(
        "--list", help="List the built-in specs and where their YAML files are installed.")] = False,
) -> None:
    """Print the resolved spec (file, then --pe, --buffer, --set) as YAML with derived values.

    The output is a complete spec file: save it, edit it, pass it to --hw.
    Example: accelsim hw show paper_8x8 --set dram.bandwidth=32GB/s
    """
    from accelsim.hardware import resolve_hardware, spec_to_yaml

    if list_builtin:
        if file is not None or pe is not None or buffer is not None or sets:
            fail("--list: takes no FILE, --pe, --buffer or --set")
        _list_builtin()
        return
    typer.echo(spec_to_yaml(resolve_hardware(file, pe, buffer, sets or ())), nl=False)


def _list_builtin() -> None:
    from accelsim.hardware import PAPER_CONFIGS
    from accelsim.hardware.packaged import PACKAGED_DIR, packaged_configs

    typer.echo(f"built-in specs (--hw NAME; their YAML files are in {PACKAGED_DIR}):")
    for key, path in packaged_configs().items():
        spec = PAPER_CONFIGS[key]
        typer.echo(f"{key:<6} {spec.name:<12} {spec.label:<12} {path.name}")


def schema(
    markdown: Annotated[bool, typer.Option(
        "--markdown", help="Print the field table (path, type, default, description) instead.")] = False,
) -> None:
    """Print the JSON Schema of a hardware spec (for YAML editors), or the field table.

    Example: accelsim hw schema > hwspec.schema.json
    """
    from accelsim.hardware import HardwareSpec, spec_table_markdown

    if markdown:
        typer.echo(spec_table_markdown(), nl=False)
        return
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", **HardwareSpec.model_json_schema()}
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    """Add the ``hw`` command group."""
    hw = typer.Typer(name="hw", help="Validate, show and document hardware specs.", no_args_is_help=True,
                     rich_markup_mode=None)
    hw.command("validate")(validate)
    hw.command("show")(show)
    hw.command("schema")(schema)
    app.add_typer(hw, name="hw")
