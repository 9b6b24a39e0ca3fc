"""The ``accelsim`` command line. Each command module registers its commands on ``app``.

Command modules import nothing heavy at module level, so ``accelsim --help`` stays fast.
"""

from __future__ import annotations

import importlib

import typer

from accelsim import __version__

app = typer.Typer(
    name="accelsim",
    help="Co-design neural networks and accelerators: simulate, report, search.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

#: Command modules, in the order their commands appear in --help.
COMMAND_MODULES: tuple[str, ...] = ("networks", "run", "hw", "report", "redistribute", "sweep", "codesign", "train")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"accelsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Co-design neural networks and accelerators: simulate, report, search."""


for _module in COMMAND_MODULES:
    importlib.import_module(f"accelsim.cli.{_module}").register(app)


def main() -> None:
    app()
