"""Simulate the paper's networks once and write every report: the library behind
``accelsim report ...``.

All runs of one call share a :class:`~accelsim.simulation.SimCache`, so a layer shape that
recurs across networks and figures is simulated once. Progress is reported through a
``progress(done, total, description)`` callback (the CLI draws a bar from it); the library
never prints.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelsim import __version__
from accelsim.hardware.spec import HardwareSpec
from accelsim.reporting.figure6 import FIGURE6_NETWORKS, Figure6Panel, Figure6Stats, figure6_panel, figure6_stats
from accelsim.reporting.table3 import TABLE3_NETWORKS, Table3, build_table3, table3_markdown
from accelsim.reporting.writers import Provenance, csv_text, json_text, save_figure, write_text
from accelsim.results import NetworkResult

#: ``progress(done, total, description)``: called before each simulation and once at the end.
ProgressFn = Callable[[int, int, str], None]

#: The network of the per-layer breakdown in ``report all``.
BREAKDOWN_NETWORK = "1.0-SqNxt-23"


def paper_specs() -> list[HardwareSpec]:
    """The paper's two configurations, 8x8/32KB then 16x16/128KB."""
    from accelsim.hardware import PAPER_CONFIGS

    return [PAPER_CONFIGS["8x8"], PAPER_CONFIGS["16x16"]]


def new_cache() -> Any:
    """A fresh simulation cache to share between calls."""
    from accelsim.simulation import SimCache

    return SimCache()


def simulate_networks(
    networks: Sequence[str],
    specs: Sequence[HardwareSpec],
    *,
    cache: Any = None,
    progress: ProgressFn | None = None,
) -> dict[str, list[NetworkResult]]:
    """Simulate every network on every spec: ``{network: [result per spec, in spec order]}``.

    Args:
        networks: preset names (the paper's spelling or aliases).
        specs: hardware specs.
        cache: a ``SimCache`` shared by all runs (a new one if ``None``).
        progress: see :data:`ProgressFn`.
    """
    from accelsim.simulation import simulate

    cache = new_cache() if cache is None else cache
    total = len(networks) * len(specs)
    out: dict[str, list[NetworkResult]] = {}
    done = 0
    for name in networks:
        runs = []
        for spec in specs:
            if progress:
                progress(done, total, f"simulating {name} on {spec.label}")
            runs.append(simulate(name, spec, cache=cache))
            done += 1
        out[name] = runs
    if progress:
        progress(done, total, "done")
    return out


def slug(name: str) -> str:
    """A file-name-safe form of a network name (``SqueezeNet v1.0`` -> ``SqueezeNet_v1.0``)."""
    return re.sub(r"[^0-9A-Za-z.\-]+", "_", name).strip("_")


# ---- writers of each report ---------------------------------------------------------------------


def write_table3(table: Table3, out_dir: Path, command: str) -> list[Path]:
    """``table3.md``, ``table3.csv`` and ``table3.json`` in ``out_dir``."""
    prov = Provenance(command, table.version, tuple(c.label for c in table.configs), table.networks,
                      table.energy_scale)
    header = "\n".join(f"<!-- {k}: {v} -->" for k, v in prov.text_items().items())
    return [
        write_text(out_dir / "table3.md", header + "\n\n" + table3_markdown(table)),
        write_text(out_dir / "table3.csv", csv_text(table.records(), prov)),
        write_text(out_dir / "table3.json", json_text(table.to_dict(), prov)),
    ]


def figure6_panels(results: Mapping[str, Sequence[NetworkResult]], networks: Sequence[str]) -> list[Figure6Panel]:
    """One panel per configuration of the given networks' runs (spec order)."""
    n_specs = len(next(iter(results.values())))
    return [figure6_panel([results[n][i] for n in networks], names=networks) for i in range(n_specs)]


def write_figure6(panels: Sequence[Figure6Panel], out_dir: Path, command: str) -> list[Path]:
    """``figure6.png``, ``figure6.svg`` and ``figure6.csv`` (long format) in ``out_dir``."""
    from accelsim.reporting.figure6 import plot_figure6

    prov = Provenance(command, __version__, tuple(p.hardware for p in panels), panels[0].networks)
    fig = plot_figure6(panels)
    paths = save_figure(fig, out_dir / "figure6", prov)
    records = [rec for p in panels for rec in p.records()]
    return [*paths, write_text(out_dir / "figure6.csv", csv_text(records, prov))]


def write_figure7(table: Table3, out_dir: Path, command: str) -> list[Path]:
    """``figure7.png``, ``figure7.svg`` and ``figure7.csv`` in ``out_dir``."""
    from accelsim.reporting.figure7 import figure7_records, plot_figure7

    prov = Provenance(command, table.version, tuple(c.label for c in table.configs), table.networks,
                      table.energy_scale)
    paths = save_figure(plot_figure7(table), out_dir / "figure7", prov)
    return [*paths, write_text(out_dir / "figure7.csv", csv_text(figure7_records(table), prov))]


def write_breakdown(result: NetworkResult, out_dir: Path, command: str, stem: str | None = None) -> list[Path]:
    """``breakdown_<network>.png`` and ``.csv`` (per-layer energy by level, roofline data)."""
    from accelsim.reporting.breakdown import breakdown_records, plot_breakdown

    prov = Provenance(command, result.version or __version__, (result.hardware.label,), (result.network,))
    name = stem or f"breakdown_{slug(result.network)}"
    paths = save_figure(plot_breakdown(result), out_dir / name, prov, formats=("png",))
    return [*paths, write_text(out_dir / f"{name}.csv", csv_text(breakdown_records(result), prov))]


# ---- everything -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllReports:
    """What ``report all`` produced.

    Attributes:
        table: the regenerated Table 3.
        stats: the Figure 6 statements measured on 1.0-SqNxt-23.
        files: (path, regenerating command) of every file written, README last.
    """

    table: Table3
    stats: Figure6Stats
    files: tuple[tuple[Path, str], ...]


def report_all(
    out_dir: Path,
    *,
    specs: Sequence[HardwareSpec] | None = None,
    energy_scale: float = 1.0,
    command: str = "accelsim report all",
    cache: Any = None,
    progress: ProgressFn | None = None,
) -> AllReports:
    """Simulate the 13 Table 3 networks on each spec and write every report into ``out_dir``.

    Writes ``table3.{md,csv,json}``, ``figure6.{png,svg,csv}``, ``figure7.{png,svg,csv}``,
    ``breakdown_1.0-SqNxt-23.{png,csv}`` (on the largest PE array) and ``README.md``.

    Args:
        out_dir: output folder (created).
        specs: hardware specs (default: the paper's 8x8/32KB and 16x16/128KB).
        energy_scale: factor applied to energies (1.0 = raw model units).
        command: the command line recorded as the producer of every file.
        cache: a shared ``SimCache`` (a new one if ``None``).
        progress: see :data:`ProgressFn`.
    """
    from accelsim.reporting.readme import readme_text

    specs = list(specs) if specs is not None else paper_specs()
    n_sims, n_steps = len(TABLE3_NETWORKS) * len(specs), 4  # drawing steps after the simulations

    def step(done: int, description: str) -> None:
        if progress:
            progress(n_sims + done, n_sims + n_steps, description)

    def sim_progress(done: int, total: int, description: str) -> None:
        if progress and done < total:
            progress(done, n_sims + n_steps, description)

    results = simulate_networks(TABLE3_NETWORKS, specs, cache=cache, progress=sim_progress)
    table = build_table3(results, energy_scale=energy_scale)
    files: list[tuple[Path, str]] = []
    step(0, "writing Table 3 and drawing Figure 6")
    files += [(p, command) for p in write_table3(table, out_dir, command)]
    files += [(p, command) for p in write_figure6(figure6_panels(results, FIGURE6_NETWORKS), out_dir, command)]
    step(1, "drawing Figure 7")
    files += [(p, command) for p in write_figure7(table, out_dir, command)]
    step(2, f"drawing the {BREAKDOWN_NETWORK} breakdown")
    largest = max(range(len(specs)), key=lambda i: specs[i].pe_array.rows * specs[i].pe_array.cols)
    files += [(p, command) for p in write_breakdown(results[BREAKDOWN_NETWORK][largest], out_dir, command)]
    step(3, "writing README.md")
    stats = figure6_stats(results[BREAKDOWN_NETWORK])
    readme = write_text(out_dir / "README.md", readme_text(table, stats, [p for p, _ in files], command, specs))
    files.append((readme, command))
    step(4, "done")
    return AllReports(table, stats, tuple(files))
