"""SqNxt Table 3 regenerated: cycles, normalised time and energy per network and configuration.

The arithmetic is kept apart from simulation: :func:`build_table3` takes finished
:class:`~accelsim.results.NetworkResult` objects (one per network and configuration), so the
normalisation and the comparison with the paper can be tested on hand-built results.

Conventions (the paper's, SqNxt Table 3 and its caption):

* **time** is normalised per configuration to the cycles of the fastest network *of this
  table* in that configuration (so the fastest row reads ``x1.00``);
* **energy** is absolute, in units of one MAC's energy under the spec's cost table (including
  the spec's own ``energy.scale`` where the spec has one), multiplied by an explicit report
  factor ``energy_scale`` (default 1.0: the simulator's numbers unchanged). The paper's own
  cost table is unpublished, so any scale other than 1.0 is a calibration whose provenance the
  caller states; :meth:`Table3.scale_text` says which scales produced the numbers;
* **deviation** is ``(ours - paper) / paper`` in percent, given only beside cells the paper
  prints (withheld cells stay blank; our value is still shown).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from accelsim import __version__, paper
from accelsim.errors import WorkloadError
from accelsim.hardware.spec import PAPER_CONFIGS, HardwareSpec, paper_config_of
from accelsim.results import NetworkResult

#: The 13 networks of SqNxt Table 3, in the paper's row order.
TABLE3_NETWORKS: tuple[str, ...] = tuple(row.name for row in paper.TABLE3)


def config_key(label: str) -> str:
    """The column suffix of a configuration: ``8x8`` / ``16x16`` for the paper's two
    configurations, else the spec label with non-identifier characters replaced by ``_``
    (``32x32/256KB`` -> ``32x32_256KB``)."""
    if label in paper.CONFIGS:
        return label.split("/")[0]
    return re.sub(r"[^0-9A-Za-z]+", "_", label).strip("_")


@dataclass(frozen=True, slots=True)
class Config:
    """One hardware configuration (a column group of the table).

    Attributes:
        key: column suffix (``8x8``, ``16x16``, or the sanitised label of a custom spec).
        label: ``HardwareSpec.label`` (``16x16/128KB``), or ``label (name)`` when two specs
            of the table share a label.
        spec: the resolved spec.
        paper_config: the paper's configuration label whose cells are compared, or ``None``
            if the spec's array and buffer match neither of the paper's configurations.
    """

    key: str
    label: str
    spec: HardwareSpec
    paper_config: str | None


@dataclass(frozen=True, slots=True)
class Cell:
    """One network on one configuration.

    Attributes:
        cycles: total cycles (our simulation).
        time: ``cycles / fastest cycles`` of this configuration (dimensionless, >= 1).
        energy: total energy x ``energy_scale`` (MAC units).
        paper_time, paper_energy: the paper's printed cells, ``None`` if withheld or absent.
    """

    cycles: float
    time: float
    energy: float
    paper_time: float | None
    paper_energy: float | None
    #: ``[low, high]`` of time and energy over the calibration ensemble (None: not computed).
    time_band: tuple[float, float] | None = None
    energy_band: tuple[float, float] | None = None

    @property
    def time_deviation_pct(self) -> float | None:
        return _deviation(self.time, self.paper_time)

    @property
    def energy_deviation_pct(self) -> float | None:
        return _deviation(self.energy, self.paper_energy)


def _deviation(ours: float, theirs: float | None) -> float | None:
    return None if theirs is None else 100.0 * (ours - theirs) / theirs


@dataclass(frozen=True, slots=True)
class Row:
    """One network: counts from our graph, accuracy and depth from the paper, cells per config.

    Attributes:
        network: the paper's name.
        params: our parameter count (weights + biases + BN gamma/beta).
        macs: our MAC count under the paper's convention (+1 per conv/FC output).
        macs_pure: pure multiply-accumulates (what the array executes).
        paper: the paper's Table 3 row, or ``None`` for a network the paper does not list.
        cells: configuration key -> cell.
    """

    network: str
    params: int
    macs: int
    macs_pure: int
    paper: paper.Table3Row | None
    cells: Mapping[str, Cell] = field(hash=False)


@dataclass(frozen=True, slots=True)
class RankAgreement:
    """How well our ordering of networks matches the paper's, for one metric and config.

    Attributes:
        config: configuration label; metric: ``"time"`` or ``"energy"``.
        networks: the rows compared (those with a printed paper value).
        tau_b: Kendall's tau-b between ours and the paper's values (1 = same order; ties in
            the paper, such as the four x1.00 rows on 8x8, are handled by tau-b), ``nan`` if
            undefined (fewer than two rows or all tied).
        agreeing_pairs, ordered_pairs: of the pairs the paper orders strictly, how many we
            order the same way.
        discordant: the pairs we order the other way, as ``(paper's smaller, paper's larger)``.
        paper_order, our_order: the rows sorted by the paper's and by our value (ascending;
            ties keep the table order).
        paper_sorted, our_sorted: the values in those orders (to show ties).
    """

    config: str
    metric: str
    networks: tuple[str, ...]
    tau_b: float
    agreeing_pairs: int
    ordered_pairs: int
    discordant: tuple[tuple[str, str], ...]
    paper_order: tuple[str, ...]
    our_order: tuple[str, ...]
    paper_sorted: tuple[float, ...] = ()
    our_sorted: tuple[float, ...] = ()


def kendall_tau_b(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Kendall's tau-b of two equally long sequences (``nan`` if either is constant).

    ``(concordant - discordant) / sqrt((n0 - ties_x) * (n0 - ties_y))`` over all pairs, with
    ``n0 = n(n-1)/2``; a pair tied in x counts in ``ties_x`` (likewise y).
    """
    if len(xs) != len(ys):
        raise ValueError(f"kendall_tau_b: lengths differ ({len(xs)} vs {len(ys)})")
    concordant = discordant = ties_x = ties_y = 0
    for i, j in combinations(range(len(xs)), 2):
        dx = (xs[i] > xs[j]) - (xs[i] < xs[j])
        dy = (ys[i] > ys[j]) - (ys[i] < ys[j])
        ties_x += dx == 0
        ties_y += dy == 0
        if dx and dy:
            concordant += dx == dy
            discordant += dx != dy
    n0 = len(xs) * (len(xs) - 1) // 2
    denom = math.sqrt((n0 - ties_x) * (n0 - ties_y))
    return (concordant - discordant) / denom if denom else math.nan


def rank_agreement(rows: Sequence[Row], config: Config, metric: str) -> RankAgreement:
    """Compare our ordering of ``rows`` by ``metric`` ("time"/"energy") with the paper's."""
    pairs = [(r.network, getattr(r.cells[config.key], metric), getattr(r.cells[config.key], f"paper_{metric}"))
             for r in rows]
    pairs = [(n, ours, theirs) for n, ours, theirs in pairs if theirs is not None]
    ordered = agreeing = 0
    discordant: list[tuple[str, str]] = []
    for (na, oa, pa), (nb, ob, pb) in combinations(pairs, 2):
        if pa == pb:
            continue
        ordered += 1
        (small, o_small), (large, o_large) = ((na, oa), (nb, ob)) if pa < pb else ((nb, ob), (na, oa))
        if o_small < o_large:
            agreeing += 1
        else:
            discordant.append((small, large))
    return RankAgreement(
        config=config.label,
        metric=metric,
        networks=tuple(n for n, _, _ in pairs),
        tau_b=kendall_tau_b([o for _, o, _ in pairs], [p for _, _, p in pairs]) if len(pairs) > 1 else math.nan,
        agreeing_pairs=agreeing,
        ordered_pairs=ordered,
        discordant=tuple(discordant),
        paper_order=tuple(n for n, _, _ in sorted(pairs, key=lambda t: t[2])),
        our_order=tuple(n for n, _, _ in sorted(pairs, key=lambda t: t[1])),
        paper_sorted=tuple(sorted(p for _, _, p in pairs)),
        our_sorted=tuple(sorted(o for _, o, _ in pairs)),
    )


@dataclass(frozen=True)
class Table3:
    """The regenerated Table 3.

    Attributes:
        rows: one per network, in input order.
        configs: the hardware configurations (column groups), in input order.
        energy_scale: the factor applied to our energy (1.0 = raw model units).
        version: accelsim version that produced the numbers.
    """

    rows: tuple[Row, ...]
    configs: tuple[Config, ...]
    energy_scale: float
    version: str

    @property
    def networks(self) -> tuple[str, ...]:
        return tuple(r.network for r in self.rows)

    def row(self, network: str) -> Row:
        for r in self.rows:
            if r.network == network:
                return r
        raise KeyError(network)

    def fastest(self, key: str) -> str:
        """The network with the fewest cycles on configuration ``key`` (first on ties)."""
        return min(self.rows, key=lambda r: r.cells[key].cycles).network

    def spec_energy_scales(self) -> dict[str, float]:
        """Configuration label -> the spec's own ``energy.scale`` (1.0 for specs without one)."""
        return {c.label: float(getattr(c.spec.energy, "scale", 1.0)) for c in self.configs}

    def scale_text(self) -> str:
        """Which energy scales produced the energies, in words (for Markdown and READMEs)."""
        spec = self.spec_energy_scales()
        if all(v == 1.0 for v in spec.values()):
            within = "the spec's per-access costs unscaled (Eyeriss-style table, energy.scale 1.0)"
        else:
            within = "the spec's on-chip per-access costs x its calibrated energy.scale (" + \
                "; ".join(f"{k}: {v:g}" for k, v in spec.items()) + "), DRAM x energy.dram_scale (" + \
                "; ".join(f"{c.label}: {getattr(c.spec.energy, 'dram_scale', 1.0):g}" for c in self.configs) + ")"
        extra = ("no further report factor (--energy-scale 1.0)" if self.energy_scale == 1.0
                 else f"x a report factor of {self.energy_scale:g} (--energy-scale)")
        return f"units of one MAC's energy: {within}, {extra}"

    def rank_agreements(self) -> tuple[RankAgreement, ...]:
        """Time and energy rank agreement for every configuration the paper reports."""
        return tuple(rank_agreement(self.rows, c, m) for c in self.configs if c.paper_config
                     for m in ("time", "energy"))

    def records(self) -> list[dict[str, Any]]:
        """One flat dict per row: the ``--json`` rows and the CSV columns (``None`` = blank)."""
        out = []
        for r in self.rows:
            record: dict[str, Any] = {
                "network": r.network,
                "params": r.params,
                "macs": r.macs,
                "macs_pure": r.macs_pure,
                "paper_params_M": r.paper.params_M.value if r.paper else None,
                "paper_macs_M": r.paper.macs_M.value if r.paper else None,
                "top1": r.paper.top1 if r.paper else None,
                "top5": r.paper.top5 if r.paper else None,
                "depth": "-".join(map(str, r.paper.depth)) if r.paper and r.paper.depth else None,
            }
            for c in self.configs:
                cell = r.cells[c.key]
                record |= {
                    f"cycles_{c.key}": cell.cycles,
                    f"time_{c.key}": cell.time,
                    f"paper_time_{c.key}": cell.paper_time,
                    f"time_dev_pct_{c.key}": cell.time_deviation_pct,
                    f"energy_{c.key}": cell.energy,
                    f"paper_energy_{c.key}": cell.paper_energy,
                    f"energy_dev_pct_{c.key}": cell.energy_deviation_pct,
                }
                if cell.time_band is not None:
                    record[f"time_{c.key}_band"] = list(cell.time_band)
                if cell.energy_band is not None:
                    record[f"energy_{c.key}_band"] = list(cell.energy_band)
            out.append(record)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``accelsim report table3 --json`` object."""
        return {
            "version": self.version,
            "energy_scale": self.energy_scale,
            "energy_units": self.scale_text(),
            "hardware": {c.key: {"label": c.label, "paper_config": c.paper_config,
                                 "spec": c.spec.model_dump(mode="json")} for c in self.configs},
            "fastest": {c.key: self.fastest(c.key) for c in self.configs},
            "rank_agreement": [
                {"config": a.config, "metric": a.metric, "tau_b": None if math.isnan(a.tau_b) else a.tau_b,
                 "agreeing_pairs": a.agreeing_pairs, "ordered_pairs": a.ordered_pairs,
                 "discordant": [list(p) for p in a.discordant]}
                for a in self.rank_agreements()
            ],
            "rows": self.records(),
        }


def _configs(specs: Sequence[HardwareSpec]) -> tuple[Config, ...]:
    labels = [s.label for s in specs]
    configs: list[Config] = []
    for spec in specs:
        label = spec.label if labels.count(spec.label) == 1 else f"{spec.label} ({spec.name})"
        key = config_key(spec.label) if labels.count(spec.label) == 1 else config_key(label)
        if any(c.key == key for c in configs):
            raise WorkloadError(f"Table 3: two hardware specs share the label {label!r}; give them distinct names")
                # compare with the paper's cells only when the spec IS one of its configurations (not merely
        # the same array and buffer: a 32 GB/s spec is not the paper's 8x8)
        paper_key = paper_config_of(spec)
        configs.append(Config(key, label, spec, PAPER_CONFIGS[paper_key].label if paper_key else None))
    return tuple(configs)


def build_table3(
    results: Mapping[str, Sequence[NetworkResult]],
    *,
    energy_scale: float = 1.0,
    paper_rows: Sequence[paper.Table3Row] = paper.TABLE3,
    bands: Sequence[Mapping[str, tuple[tuple[float, float], tuple[float, float]]]] | None = None,
) -> Table3:
    """Assemble Table 3 from finished simulations.

    Args:
        results: network name (the paper's spelling, to find its paper row) -> its results,
            one per configuration, the configurations in the same order for every network.
        energy_scale: factor applied to our energy before comparing with the paper (> 0).
        paper_rows: the paper's rows to compare with (default: SqNxt Table 3).
        bands: per configuration (in order), network -> (time band, energy band) over the
            calibration ensemble (``accelsim.calibration.bands.relative_bands``); energy bands
            are multiplied by ``energy_scale`` like the energies.

    Raises:
        WorkloadError: on no results, mismatched configurations, or a bad ``energy_scale``.
    """
    if not results:
        raise WorkloadError("Table 3: no networks to tabulate")
    if not (energy_scale > 0 and math.isfinite(energy_scale)):
        raise WorkloadError(f"Table 3: energy_scale must be a positive number (got {energy_scale})")
    first = next(iter(results.values()))
    specs = [r.hardware for r in first]
    if not specs:
        raise WorkloadError("Table 3: no hardware configurations")
    for name, runs in results.items():
        if [r.hardware for r in runs] != specs:
            raise WorkloadError(f"Table 3: {name!r} was simulated on other hardware configurations than the rest")
    configs = _configs(specs)
    fastest = [min(runs[i].cycles for runs in results.values()) for i in range(len(configs))]
    by_name = {row.name: row for row in paper_rows}
    rows = []
    for name, runs in results.items():
        prow = by_name.get(name)
        cells = {}
        for i, (config, run) in enumerate(zip(configs, runs, strict=True)):
            pcell = prow.hardware.get(config.paper_config) if prow and config.paper_config else None
            band = bands[i].get(name) if bands is not None else None
            time = run.cycles / fastest[i] if fastest[i] else math.nan
            if band:  # the point itself is a prediction of the band
                band = ((min(band[0][0], time), max(band[0][1], time)),
                        (min(band[1][0], run.energy), max(band[1][1], run.energy)))
            cells[config.key] = Cell(
                cycles=run.cycles,
                time=time,
                energy=run.energy * energy_scale,
                paper_time=pcell.time if pcell else None,
                paper_energy=pcell.energy if pcell else None,
                time_band=band[0] if band else None,
                energy_band=(band[1][0] * energy_scale, band[1][1] * energy_scale) if band else None,
            )
        rows.append(Row(name, runs[0].params, runs[0].macs_paper, runs[0].macs, prow, cells))
    return Table3(tuple(rows), configs, energy_scale, first[0].version or __version__)


# ---- Markdown -------------------------------------------------------------------------------


def _dev(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f}%"


def _time_cell(cell: Cell) -> str:
    ours = f"x{cell.time:.2f}"
    if cell.time_band is not None:
        ours += f" [{cell.time_band[0]:.2f}-{cell.time_band[1]:.2f}]"
    return ours if cell.paper_time is None else f"{ours} (x{cell.paper_time:.2f}, {_dev(cell.time_deviation_pct)})"


def _energy_cell(cell: Cell) -> str:
    ours = f"{cell.energy:.2E}"
    if cell.energy_band is not None:
        ours += f" [{cell.energy_band[0]:.2E}-{cell.energy_band[1]:.2E}]"
    if cell.paper_energy is None:
        return ours
    return f"{ours} ({cell.paper_energy:.1E}, {_dev(cell.energy_deviation_pct)})"


def _accuracy(value: float | None, alt: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}" + (f" ({alt:g})" if alt is not None else "")


def _short(name: str) -> str:
    return name.replace("1.0-SqNxt-", "").replace("2.0-SqNxt-", "2.0-")


def _chain(names: Sequence[str], values: Sequence[float]) -> str:
    """``a < b = c``: names in ascending order, ``=`` between equal values."""
    out = _short(names[0])
    for prev, value, name in zip(values, values[1:], names[1:], strict=False):
        out += (" = " if value == prev else " < ") + _short(name)
    return out


def _agreement_lines(table: Table3) -> list[str]:
    lines = []
    for a in table.rank_agreements():
        if len(a.networks) < 2:
            continue
        tau = "undefined" if math.isnan(a.tau_b) else f"{a.tau_b:.2f}"
        disc = ", ".join(f"{_short(x)} < {_short(y)}" for x, y in a.discordant) or "none"
        lines.append(
            f"- **{a.config} {a.metric}**: Kendall tau-b {tau}; {a.agreeing_pairs} of the {a.ordered_pairs} "
            f"pairs the paper orders strictly are in the same order here (paper's order reversed for: {disc}). "
            f"Paper, smallest first: {_chain(a.paper_order, a.paper_sorted)}; "
            f"ours: {_chain(a.our_order, a.our_sorted)}."
        )
    return lines


def table3_markdown(table: Table3) -> str:
    """Table 3 as Markdown: the table, how to read it, and the rank agreement with the paper."""
    from accelsim.reporting.writers import markdown_table

    header = ["Model", "Params M (paper)", "MACs M (paper)", "Top-1", "Top-5", "Depth"]
    for c in table.configs:
        header += [f"{c.label} Mcycles", f"{c.label} time (paper, dev)", f"{c.label} energy (paper, dev)"]
    body = []
    for r in table.rows:
        p = r.paper
        cells = [
            r.network,
            f"{r.params / 1e6:.3f}" + (f" ({p.params_M})" if p else ""),
            f"{r.macs / 1e6:.1f}" + (f" ({p.macs_M})" if p else ""),
            _accuracy(p.top1 if p else None, p.top1_alt if p else None),
            _accuracy(p.top5 if p else None, p.top5_alt if p else None),
            "[" + ",".join(map(str, p.depth)) + "]" if p and p.depth else "-",
        ]
        for c in table.configs:
            cell = r.cells[c.key]
            cells += [f"{cell.cycles / 1e6:.2f}", _time_cell(cell), _energy_cell(cell)]
        body.append(cells)
    notes = [
        "- **Params / MACs**: ours from the exported layer graph (params = weights + biases + BN gamma/beta; "
        "MACs in the paper's convention, +1 per conv/FC output), the paper's printed value in brackets.",
        "- **Top-1 / Top-5 / Depth**: the paper's (accuracy is not simulated).",
        "- **Mcycles**: our simulated cycles (millions) per inference, batch 1.",
        "- **time**: our cycles divided by the fastest network's cycles on the same configuration "
        + "(" + "; ".join(f"{c.label}: {table.fastest(c.key)}" for c in table.configs) + ").",
        f"- **energy**: in {table.scale_text()}. The paper's cost table is unpublished (Eyeriss costs "
        "'slightly modified'), so absolute energies depend on the scale; the order of the rows does not.",
        "- **[low-high]**: the band, the spread of the calibration ensemble's predictions (the settings of "
        "the [A] knobs whose cross-validated error is within the tolerance of the best; each spec's "
        "`calibration` section lists them). Absent with `--no-band`.",
        "- **(paper, dev)**: the paper's printed cell and our deviation (ours - paper) / paper. Cells the "
        "reference withholds (AlexNet, SqueezeNet, Tiny Darknet, MobileNet) show our value only.",
    ]
    agreement = _agreement_lines(table)
    parts = [
        "# SqNxt Table 3, regenerated\n",
        markdown_table(header, body, "lrrrrl" + "rrr" * len(table.configs)),
        "\n".join(notes) + "\n",
    ]
    if agreement:
        parts += ["## Rank agreement with the paper\n",
                  "Over the rows whose cells the paper prints (the SqueezeNext rows).\n",
                  "\n".join(agreement) + "\n"]
    return "\n".join(parts)
