"""Shared pieces of the CLI: error reporting and the options several commands take.

Commands are thin: they parse options, call one library function, and render the result.
Library errors (``AccelsimError`` and the zoo's and training module's ``ValueError``
subclasses) become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


# ---- network input shape (ONNX files with symbolic dims; presets' input size) ------------------
InputShapeOption = Annotated[str | None, typer.Option(
    "--input-shape", metavar="C,H,W",
    help="Input shape: needed for an ONNX file whose dims are symbolic (overrides the file's otherwise); "
         "for a preset, a square input size, e.g. 3,224,224.")]


def parse_input_shape(text: str | None) -> tuple[int, int, int] | None:
    """``"3,224,224"`` -> ``(3, 224, 224)``; ``None`` stays ``None``.

    Raises:
        WorkloadError: unless it is three comma-separated integers >= 1.
    """
    from accelsim.errors import WorkloadError

    if text is None:
        return None
    parts = [p.strip() for p in text.strip().strip("[]()").replace("x", ",").split(",")]
    if len(parts) != 3 or not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise WorkloadError(f"--input-shape: expected C,H,W, three integers >= 1 such as 3,224,224; got {text!r}")
    return int(parts[0]), int(parts[1]), int(parts[2])


# ---- where the searches run (sweep, redistribute, codesign): accelsim.execution ---------------
CLUSTER_PANEL = "Running on a cluster (Dask; pip install 'accelsim[dask]')"
WorkersOption = Annotated[int | None, typer.Option(
    "--workers", metavar="N", rich_help_panel=CLUSTER_PANEL,
    help="Run on a local Dask cluster of N worker processes (default: in this process).")]
SchedulerOption = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS", rich_help_panel=CLUSTER_PANEL,
    help="Run on an existing Dask cluster, e.g. tcp://host:8786 (workers need accelsim installed).")]


def executor_from_options(workers: int | None = None, scheduler: str | None = None) -> Any:
    """A context manager giving the ``accelsim.execution`` executor --workers/--scheduler ask for.

    Raises (on entry):
        ExecutionError: both options, ``--workers < 1``, Dask not installed, no scheduler or worker.
    """
    from accelsim.execution import open_executor, quiet_dask_logs

    if workers is not None or scheduler is not None:
        quiet_dask_logs()
    return open_executor(workers=workers, scheduler=scheduler)


# ---- SqueezeNext network options (shared by export, run, redistribute, train) -----------------
WidthOption = Annotated[float | None, typer.Option(
    "--width", metavar="W", help="SqueezeNext width multiplier (1.0, 1.5, 2.0; 32*W must be a multiple of 4).")]
DepthOption = Annotated[str | None, typer.Option(
    "--depth", metavar="D1,D2,...", help="SqueezeNext units per stage, e.g. 2,4,14,1 (23v5); entries >= 1.")]
StemOption = Annotated[int | None, typer.Option(
    "--stem", metavar="K", help="SqueezeNext first conv kernel: 7 (v1) or 5 (v2-v5); any odd K >= 1.")]
FirstUnitOption = Annotated[str | None, typer.Option(
    "--first-unit", metavar="parallel|serial",
    help="SqueezeNext first unit of each stage: parallel shortcut conv (v1) or serial transition conv (v2-v5).")]
GroupsOption = Annotated[int | None, typer.Option(
    "--groups", metavar="G", help="SqueezeNext groups of squeeze1 and the separable convs (2 = G-SqNxt).")]


@dataclass(frozen=True)
class NetworkOptions:
    """Validated SqueezeNext options from the CLI; ``None`` means 'keep the preset's value'.

    Build it with :meth:`parse` from the raw option values and pass :meth:`overrides` to
    ``accelsim.workload.zoo.load_graph(name, **overrides)`` (keys are the constructor's).
    """

    width: float | None = None
    depth: tuple[int, ...] | None = None
    stem_kernel: int | None = None
    first_unit: str | None = None
    groups: int | None = None

    @classmethod
    def parse(cls, width: float | None = None, depth: str | None = None, stem: int | None = None,
              first_unit: str | None = None, groups: int | None = None) -> NetworkOptions:
        """Check the raw ``--width/--depth/--stem/--first-unit/--groups`` values.

        Raises:
            WorkloadError: one line naming the option, what it expects and what it got.
        """
        from accelsim.errors import WorkloadError

        if width is not None and not (math.isfinite(width) and width > 0):
            raise WorkloadError(f"--width: expected a number > 0; got {width:g}")
        if stem is not None and (stem < 1 or stem % 2 == 0):
            raise WorkloadError(f"--stem: expected an odd kernel size >= 1 (5 or 7 in the paper); got {stem}")
        if first_unit is not None and first_unit not in ("parallel", "serial"):
            raise WorkloadError(f"--first-unit: expected 'parallel' or 'serial'; got {first_unit!r}")
        if groups is not None and groups < 1:
            raise WorkloadError(f"--groups: expected an integer >= 1; got {groups}")
        options = cls(width, None if depth is None else parse_depth(depth), stem, first_unit, groups)
        from accelsim.workload.zoo import check_size_options

        check_size_options(options.overrides(), prefix="--")
        return options

    def overrides(self) -> dict[str, Any]:
        """The options that were given, keyed by the SqueezeNext constructor's argument names."""
        values = {"width": self.width, "depth": self.depth, "stem_kernel": self.stem_kernel,
                  "first_unit": self.first_unit, "groups": self.groups}
        return {key: value for key, value in values.items() if value is not None}


def parse_depth(text: str) -> tuple[int, ...]:
    """``"2,4,14,1"`` -> ``(2, 4, 14, 1)``; spaces and brackets are tolerated (``"[2, 4, 14, 1]"``).

    Raises:
        WorkloadError: unless every entry is an integer >= 1 and there is at least one.
    """
    from accelsim.errors import WorkloadError

    parts = [p.strip() for p in text.strip().strip("[]()").split(",")]
    if not parts or not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise WorkloadError(f"--depth: expected comma-separated integers >= 1 such as 2,4,14,1; got {text!r}")
    return tuple(int(p) for p in parts)


def check_output_dir(path: Path, option: str) -> None:
    """Fail now, before any work, unless ``path`` is (or can become) a writable folder.

    An existing regular file (or anything else that is not a folder) in its place is refused
    with one line naming the option and the path: ``--out afile: exists and is not a
    directory``; so is an existing ancestor that is not a folder, or a folder that cannot be
    written (probed by creating and removing a temporary file).
    """
    if path.exists() and not path.is_dir():
        fail(f"{option} {path}: exists and is not a directory")
    _probe_writable(path, path, option)


def check_output_file(path: Path, option: str) -> None:
    """Fail now, before any work, unless a file can be written at ``path`` (a training run must
    not find out after its first epoch that its ``--out`` is read-only).

    Missing parent folders are fine (writers create them); the nearest existing one must be a
    writable directory, and ``path`` itself must not be a directory. Writability is probed by
    creating and removing a temporary file, which also catches read-only mounts for root.
    """
    if path.is_dir():
        fail(f"{option} {path}: is a directory; expected a file path")
    if path.exists() and not path.is_file():
        fail(f"{option} {path}: exists and is not a regular file")
    _probe_writable(path, path.parent, option)


def check_output_files(*outputs: tuple[str, Path | None]) -> None:
    """:func:`check_output_file` for every ``(option, path)`` given (``None``: not asked for)."""
    for option, path in outputs:
        if path is not None:
            check_output_file(path, option)


def _probe_writable(path: Path, folder: Path, option: str) -> None:
    """Fail unless the nearest existing ancestor of ``folder`` (itself included) is a folder a
    file can be created in (missing folders are fine: writers create them)."""
    import os
    import tempfile

    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        fail(f"{option} {path}: {folder} exists and is not a directory")
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".accelsim-probe-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        fail(f"{option} {path}: cannot write in {folder} ({exc.strerror or exc})")
