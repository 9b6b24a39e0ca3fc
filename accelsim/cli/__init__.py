"""The ``accelsim`` command line. Each command module registers its commands on ``app``.

Command modules import nothing heavy at module level, so ``accelsim --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from accelsim import __version__

EXIT_USAGE = 2


class OneLineErrors(TyperGroup):
    """The root command group: a usage error (unknown command or option, a missing argument, a
    value of the wrong type) is one line ``error: ...; see 'accelsim run --help'`` on stderr with
    exit code 2, as every other bad input is, instead of the framework's usage box.

    It sits in ``main`` (the entry point of every invocation, including typer's ``CliRunner``),
    so no command has to handle these errors itself.
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        from typer import Abort
        from typer._click.exceptions import ClickException, NoArgsIsHelpError  # typer's own copy of click

        try:
            with warnings.catch_warnings():
                warnings.showwarning = _one_line_warning
                code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:  # bare `accelsim` or `accelsim hw`: the help text is the answer
            typer.echo(exc.format_message())
            sys.exit(0)
        except ClickException as exc:
            sys.stderr.write(f"{usage_error_line(exc)}\n")
            sys.exit(EXIT_USAGE)
        except Abort:
            sys.stderr.write("error: aborted\n")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      file: Any = None, line: str | None = None) -> None:
    """Warnings (e.g. a replaced graph-cache entry) as one ``warning: ...`` line, without source lines."""
    sys.stderr.write(f"warning: {' '.join(str(message).split())}\n")


def usage_error_line(exc: Exception) -> str:
    """``error: <what click found>; see '<command path> --help'`` on one line."""
    format_message = getattr(exc, "format_message", None)
    message = " ".join(str(format_message() if format_message else exc).split()).rstrip(".")
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "accelsim"
    return f"error: {message or 'bad usage'}; see '{path} --help'"


app = typer.Typer(
    cls=OneLineErrors,
    name="accelsim",
    help="Co-design neural networks and accelerators: simulate, report, search.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

#: Command modules, in the order their commands appear in --help.
COMMAND_MODULES: tuple[str, ...] = ("networks", "run", "hw", "report", "redistribute", "sweep", "codesign", "calibrate",
                                   "validate", "train")


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
