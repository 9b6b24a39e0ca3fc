"""Shared pieces of the CLI: error reporting and the options several commands take.

Commands are thin: they parse options, call one library function, and render the result.
Library errors (``AccelsimError`` and the zoo's and training module's ``ValueError``
subclasses) become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer

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
