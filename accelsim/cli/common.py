"""Shared pieces of the CLI: error reporting and the options several commands take.

Commands are thin: they parse options, call one library function, and render the result.
Library errors (``AccelsimError`` and the zoo's and training module's ``ValueError``
subclasses) become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from accelsim.hardware import HardwareSpec

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USAGE = 2


def fail(message: str) -> NoReturn:
    """Print ``error: message`` on one line to stderr and exit with code 2."""
    typer.echo(f"error: {' '.join(str(message).split())}", err=True)
    raise typer.Exit(EXIT_USAGE)


def _user_errors() -> tuple[type[BaseException], ...]:
    from accelsim.errors import AccelsimError

    errors: list[type[BaseException]] = [AccelsimError]
    if "networks.registry" in sys.modules:
        errors.append(sys.modules["networks.registry"].UnknownNetworkError)
    if "networks.training" in sys.modules:
        errors.append(sys.modules["networks.training"].TrainingError)
    return tuple(errors)


def cli_errors(fn: F) -> F:
    """Decorate a command: user errors become a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except _user_errors() as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))

    return wrapper  # type: ignore[return-value]


# ---- hardware options (shared by run, report, redistribute, hw show) -------------------------
HwOption = Annotated[Path | None, typer.Option(
    "--hw", metavar="FILE",
    help="Hardware spec YAML (default: the paper's 16x16/128KB accelerator); "
         "built-in names: 16x16, 8x8, paper_16x16, paper_8x8.")]
HwListOption = Annotated[list[Path] | None, typer.Option(
    "--hw", metavar="FILE",
    help="Hardware spec YAML or built-in name; repeat to compare several (--hw 8x8 --hw 16x16).")]
PeOption = Annotated[str | None, typer.Option(
    "--pe", metavar="RxC", help="Override the PE array, e.g. 8x8 (rows x cols).")]
BufferOption = Annotated[str | None, typer.Option(
    "--buffer", metavar="SIZE", help="Override the global buffer, e.g. 32KB (KB = 1024 B).")]
SetOption = Annotated[list[str] | None, typer.Option(
    "--set", metavar="FIELD=VALUE",
    help="Override any spec field, e.g. dram.bandwidth=32GB/s or model.fuse_pool=true; repeatable, "
         "applied in order after --hw, --pe and --buffer (fields: accelsim hw show).")]


def hardware_from_options(hw: Path | str | None = None, pe: str | None = None, buffer: str | None = None,
                          sets: Sequence[str] | None = None) -> HardwareSpec:
    """The spec that --hw/--pe/--buffer/--set ask for (``accelsim.hardware.resolve_hardware``)."""
    from accelsim.hardware import resolve_hardware

    return resolve_hardware(hw, pe, buffer, sets or ())


def hardware_list_from_options(hws: Sequence[Path | str] | None, pe: str | None = None, buffer: str | None = None,
                               sets: Sequence[str] | None = None,
                               default: Sequence[Path | str] = ("16x16",)) -> list[HardwareSpec]:
    """One spec per repeated --hw (``default`` when none is given), each with the same overrides.

    Report commands pass ``default=("8x8", "16x16")`` to cover both paper configurations.
    """
    return [hardware_from_options(hw, pe, buffer, sets) for hw in (hws or default)]
