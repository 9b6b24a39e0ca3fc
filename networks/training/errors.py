"""Errors raised by the training package.

Every error carries a one-line message that names the offending path, field or
option and says what was expected, so a command-line front end can print it as
``error: <message>`` without a traceback.
"""

from __future__ import annotations


class TrainingError(ValueError):
    """Base class of every error raised by :mod:`networks.training`."""


class ConfigError(TrainingError):
    """A training or evaluation option has an invalid value."""


class DataError(TrainingError):
    """A data source is missing, empty, malformed or unsupported."""


class CheckpointError(TrainingError):
    """A checkpoint cannot be written, read, or does not match the request."""


def one_line(exc: BaseException) -> str:
    """Render an exception (e.g. a wrapped torch or OS error) as a single line of text."""
    return " ".join(str(exc).split()) or type(exc).__name__
