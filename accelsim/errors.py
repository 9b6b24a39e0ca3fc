"""Errors that accelsim raises on bad input.

Every error message is one line and says *where* (file, field, layer), *what* was wrong and
what was expected. Only the CLI turns these into a printed message and an exit code; library
code raises and never prints or exits.
"""

from __future__ import annotations


class AccelsimError(Exception):
    """Base class of every error caused by the user's input rather than by a bug."""


class SpecError(AccelsimError):
    """A hardware spec (YAML file, CLI override) is malformed or out of range."""


class WorkloadError(AccelsimError):
    """A network or layer graph is unknown, malformed or cannot be built."""


class ExportError(WorkloadError):
    """A PyTorch module could not be exported to a layer graph (e.g. an unsupported op)."""


class InfeasibleError(AccelsimError):
    """No legal mapping exists, e.g. the global buffer is too small for any tile of a layer."""


class BudgetError(AccelsimError):
    """A co-design budget expression is malformed or cannot be met."""


class CalibrationError(AccelsimError):
    """A calibration's measurements, knobs or folds are malformed or cannot be fitted."""
