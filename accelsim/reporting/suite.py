"""Simulate the paper's networks once and write every report: the library behind
``accelsim report ...``.

All runs of one call share a :class:`~accelsim.simulation.SimCache`, so a layer shape that
recurs across networks and figures is simulated once. Progress is reported through a
``progress(done, total, description)`` callback (the CLI draws a bar from it); the library
never prints.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelsim import __version__
from accelsim.atomic import atomic_directory
from accelsim.hardware.spec import HardwareSpec, paper_config_of
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
    input_shape: tuple[int, int, int] | None = None,
) -> dict[str, list[NetworkResult]]:
    """Simulate every network on every spec: ``{network: [result per spec, in spec order]}``.

    Args:
        networks: preset names (the paper's spelling or aliases).
        specs: hardware specs.
        cache: a ``SimCache`` shared by all runs (a new one if ``None``).
        progress: see :data:`ProgressFn`.
        input_shape: ``(C, H, W)`` for every network (ONNX files with symbolic dims).
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
            runs.append(simulate(name, spec, cache=cache, input_shape=input_shape))
            done += 1
        out[name] = runs
    if progress:
        progress(done, total, "done")
    return out


def table3_bands(networks: Sequence[str], specs: Sequence[HardwareSpec], *, cache: Any = None,
                 progress: ProgressFn | None = None) -> list[dict[str, Any]]:
    """Per spec: network -> (time band, energy band) over the spec's calibration ensemble
    (``accelsim.calibration.bands``); times normalised per member to its fastest network."""
    from accelsim.calibration.bands import ensemble_results, member_specs, relative_bands
    from accelsim.workload.zoo import load_graph

    cache = new_cache() if cache is None else cache
    graphs = {name: load_graph(name) for name in networks}
    total = sum(len(member_specs(spec)) for spec in specs) * len(graphs)
    done = 0
    out = []
    for spec in specs:
        def step(d: int, t: int, base: int = done, label: str = spec.label) -> None:
            if progress:
                progress(base + d, total, f"error band on {label}")

        out.append(relative_bands(ensemble_results(graphs, spec, cache=cache, progress=step)))
        done += len(member_specs(spec)) * len(graphs)
    if progress:
        progress(total, total, "done")
    return out


def slug(name: str) -> str:
    """A file-name-safe form of a network name (``SqueezeNet v1.0`` -> ``SqueezeNet_v1.0``)."""
    return re.sub(r"[^0-9A-Za-z.\-]+", "_", name).strip("_")


def hardware_tag(spec: HardwareSpec) -> str:
    """The part of a report's file name that names its hardware: ``16x16_128KB`` for a paper
    configuration; for any other spec its name, label and a digest of every field, so two specs
    that differ anywhere (a 32 GB/s 8x8, an overridden clock) never share a file."""
    if paper_config_of(spec) is not None:
        return slug(spec.label)
    fields = json.dumps(spec.model_dump(mode="json", exclude={"description"}), sort_keys=True)
    return f"{slug(spec.name)}_{slug(spec.label)}_{hashlib.sha256(fields.encode()).hexdigest()[:8]}"


def files_suffix(specs: Sequence[HardwareSpec]) -> str:
    """File-name suffix of a report over ``specs``: empty for the paper's two configurations in
    the paper's order (``table3.md``), else ``_`` and each spec's :func:`hardware_tag`."""
    if [paper_config_of(s) for s in specs] == ["8x8", "16x16"]:
        return ""
    return "_" + "+".join(hardware_tag(s) for s in specs)


# ---- writers of each report ---------------------------------------------------------------------


def write_table3(table: Table3, out_dir: Path, command: str) -> list[Path]:
    """``table3.md``, ``table3.csv`` and ``table3.json`` in ``out_dir`` (names suffixed by
    :func:`files_suffix` unless the table is of the paper's two configurations)."""
    stem = "table3" + files_suffix([c.spec for c in table.configs])
    prov = Provenance(command, table.version, tuple(c.label for c in table.configs), table.networks,
                      table.energy_scale)
    header = "\n".join(f"<!-- {k}: {v} -->" for k, v in prov.text_items().items())
    return [
        write_text(out_dir / f"{stem}.md", header + "\n\n" + table3_markdown(table)),
        write_text(out_dir / f"{stem}.csv", csv_text(table.records(), prov)),
        write_text(out_dir / f"{stem}.json", json_text(table.to_dict(), prov)),
    ]


def figure6_panels(results: Mapping[str, Sequence[NetworkResult]], networks: Sequence[str]) -> list[Figure6Panel]:
    """One panel per configuration of the given networks' runs (spec order)."""
    n_specs = len(next(iter(results.values())))
    return [figure6_panel([results[n][i] for n in networks], names=networks) for i in range(n_specs)]


def write_figure6(panels: Sequence[Figure6Panel], out_dir: Path, command: str,
                  specs: Sequence[HardwareSpec] | None = None) -> list[Path]:
    """``figure6.png``, ``figure6.svg`` and ``figure6.csv`` (long format) in ``out_dir``, the names
    suffixed by :func:`files_suffix` of ``specs`` (the panels' specs; default: the paper's)."""
    stem = "figure6" + files_suffix(specs if specs is not None else paper_specs())
    from accelsim.reporting.figure6 import plot_figure6

    prov = Provenance(command, __version__, tuple(p.hardware for p in panels), panels[0].networks)
    fig = plot_figure6(panels)
    paths = save_figure(fig, out_dir / stem, prov)
    records = [rec for p in panels for rec in p.records()]
    return [*paths, write_text(out_dir / f"{stem}.csv", csv_text(records, prov))]


def write_figure7(table: Table3, out_dir: Path, command: str) -> list[Path]:
    """``figure7.png``, ``figure7.svg`` and ``figure7.csv`` in ``out_dir`` (suffixed as Table 3's)."""
    stem = "figure7" + files_suffix([c.spec for c in table.configs])
    from accelsim.reporting.figure7 import figure7_records, plot_figure7

    prov = Provenance(command, table.version, tuple(c.label for c in table.configs), table.networks,
                      table.energy_scale)
    paths = save_figure(plot_figure7(table), out_dir / stem, prov)
    return [*paths, write_text(out_dir / f"{stem}.csv", csv_text(figure7_records(table), prov))]


def write_breakdown(result: NetworkResult, out_dir: Path, command: str, stem: str | None = None) -> list[Path]:
    """``breakdown_<network>_<hardware>.png`` and ``.csv`` (per-layer energy by level, roofline
    data); the hardware is :func:`hardware_tag`, so runs on different specs never overwrite each other."""
    from accelsim.reporting.breakdown import breakdown_records, plot_breakdown

    prov = Provenance(command, result.version or __version__, (result.hardware.label,), (result.network,))
    name = stem or f"breakdown_{slug(result.network)}_{hardware_tag(result.hardware)}"
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
    bands: bool = True,
) -> AllReports:
    """Simulate the 13 Table 3 networks on each spec and write every report into ``out_dir``.

    Writes ``table3.{md,csv,json}``, ``figure6.{png,svg,csv}``, ``figure7.{png,svg,csv}``,
    ``breakdown_1.0-SqNxt-23_<hardware>.{png,csv}`` (on the largest PE array) and ``README.md``.
    The set replaces ``out_dir`` whole (:func:`accelsim.atomic.atomic_directory`): a reader sees
    the old set or the new one, never a mix, and an interrupted run leaves the old set intact.

    Args:
        out_dir: output folder (created).
        specs: hardware specs (default: the paper's 8x8/32KB and 16x16/128KB).
        energy_scale: factor applied to energies (1.0 = raw model units).
        command: the command line recorded as the producer of every file.
        cache: a shared ``SimCache`` (a new one if ``None``).
        progress: see :data:`ProgressFn`.
        bands: compute the calibration ensemble's bands for Table 3 and Figure 7.

    Raises:
        WorkloadError: ``out_dir`` holds files that no report set wrote (see
            :func:`check_report_folder`); nothing is simulated or written then.
    """
    from accelsim.reporting.readme import readme_text

    check_report_folder(Path(out_dir))
    specs = list(specs) if specs is not None else paper_specs()
    n_sims, n_steps = len(TABLE3_NETWORKS) * len(specs), 4  # drawing steps after the simulations

    def step(done: int, description: str) -> None:
        if progress:
            progress(n_sims + done, n_sims + n_steps, description)

    def sim_progress(done: int, total: int, description: str) -> None:
        if progress and done < total:
            progress(done, n_sims + n_steps, description)

    cache = new_cache() if cache is None else cache
    results = simulate_networks(TABLE3_NETWORKS, specs, cache=cache, progress=sim_progress)
    band_data = table3_bands(TABLE3_NETWORKS, specs, cache=cache, progress=progress) if bands else None
    table = build_table3(results, energy_scale=energy_scale, bands=band_data)
    target = Path(out_dir)
    check_report_folder(target)
    staged: list[tuple[str, str]] = []  # (file name, regenerating command)
    # the whole set is written into a private staging folder, then swapped in for the old set
    with atomic_directory(target) as stage:
        step(0, "writing Table 3 and drawing Figure 6")
        staged += [(p.name, command) for p in write_table3(table, stage, command)]
        panels = figure6_panels(results, FIGURE6_NETWORKS)
        staged += [(p.name, command) for p in write_figure6(panels, stage, command, specs)]
        step(1, "drawing Figure 7")
        staged += [(p.name, command) for p in write_figure7(table, stage, command)]
        step(2, f"drawing the {BREAKDOWN_NETWORK} breakdown")
        largest = max(range(len(specs)), key=lambda i: specs[i].pe_array.rows * specs[i].pe_array.cols)
        staged += [(p.name, command) for p in write_breakdown(results[BREAKDOWN_NETWORK][largest], stage, command)]
        step(3, "writing README.md")
        stats = figure6_stats(results[BREAKDOWN_NETWORK])
        names = [target / n for n, _ in staged]
        write_text(stage / "README.md", readme_text(table, stats, names, command, specs))
        staged.append(("README.md", command))
    files = [(target / name, cmd) for name, cmd in staged]
    step(4, "done")
    return AllReports(table, stats, tuple(files))


#: First line of a generated report folder's README (how :func:`check_report_folder` knows one).
README_TITLE = "# Reports (generated)"


def check_report_folder(folder: Path) -> None:
    """Refuse to replace a folder that is not a report set: ``report all`` swaps its whole output
    folder, so the folder must be absent, empty, or hold only files listed by a README.md that
    ``report all`` wrote (the old set; its README names every file in backquotes).

    Raises:
        WorkloadError: naming the folder and the first few files no report set wrote.
    """
    from accelsim.errors import WorkloadError

    if not folder.exists():
        return
    if not folder.is_dir():
        raise WorkloadError(f"{folder}: not a folder (report all writes a folder of files)")
    entries = sorted(p.name for p in folder.iterdir())
    if not entries:
        return
    readme = folder / "README.md"
    listed: set[str] = set()
    if readme.is_file():
        text = readme.read_text(encoding="utf-8", errors="replace")
        if text.startswith(README_TITLE):
            listed = {"README.md", *re.findall(r"`([^`/\s]+\.[A-Za-z0-9]+)`", text)}
    foreign = [name for name in entries if name not in listed]
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        what = "is not a report folder" if not listed else "holds files that no report set wrote"
        raise WorkloadError(f"{folder}: {what} ({shown}); report all replaces its whole --out folder, "
                            "so give an empty or new folder")
