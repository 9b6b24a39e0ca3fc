"""Hardware design-space sweeps: every combination of varied spec fields, every network, one cache.

Quick use::

    from accelsim.codesign import sweep
    result = sweep(["sqnxt23", "sqnxt23v5"], vary={"pe": ["8x8", "16x16"], "global_buffer.size": ["32KB", "128KB"]})
    result.ranked("1.0-SqNxt-23")[0].labels, result.pareto("1.0-SqNxt-23")
    result.to_dataframe()          # one row per (point, network); pandas imported on first use

An *axis* is one varied field: any ``HardwareSpec`` dotted path, with the unit suffix optional
as for ``--set`` (``dram.bandwidth`` is ``dram.bandwidth_bytes_per_s``), or a shorthand: ``pe``
(``RxC``, sets ``pe_array.rows`` and ``pe_array.cols``) and ``buffer`` (``global_buffer.size_bytes``).
Values are text read like ``--set`` values (``32KB``, ``16GB/s``, ``true``, ``[ws, os]``) or
Python values. The grid is the cartesian product of the axes in the order given (the first
axis varies slowest), applied on top of ``base``; every point is built and re-validated before
anything is simulated, so a bad value fails at once. A point whose buffer cannot hold some
layer's smallest tile is kept as an infeasible row with the reason.

Units: ``cycles`` per inference; ``time_s`` = cycles / clock; ``energy`` in units of one MAC's
energy; ``edp`` = energy x cycles; ``area_mm2`` silicon area (``accelsim.hardware.area``) with its
breakdown; ``efficiency`` dense MACs per cycle; ``utilisation`` = PE utilisation, non-zero MACs (or
pool/add operations) / (cycles x PEs), at most 1; ``dram_bytes`` moved per inference.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from accelsim import __version__
from accelsim.codesign.pareto import pareto_mask
from accelsim.codesign.result import Objective
from accelsim.errors import InfeasibleError, SpecError, WorkloadError
from accelsim.execution import as_executor
from accelsim.hardware.area import AreaBreakdown, area_of, flat_area
from accelsim.hardware.load import format_frequency, format_rate, parse_value
from accelsim.hardware.overrides import base_spec, relabel, resolve_field_path
from accelsim.hardware.spec import AcceptsUnits, HardwareSpec, UnitKind
from accelsim.units import format_bytes, parse_array
from accelsim.workload.graph import LayerGraph

if TYPE_CHECKING:
    import pandas as pd

#: Sweeps with more hardware points than this fail unless ``max_points`` is raised.
DEFAULT_MAX_POINTS = 10_000

#: Hardware points per cluster task at most (about 0.1 s of pricing per network each: a task
#: then carries 1 s or more, so Dask's few ms per task stay under 1 %, and progress stays live).
POINTS_PER_TASK = 16

#: ``progress(done, total)``: (point, network) simulations finished so far, of ``total``.
ProgressCallback = Callable[[int, int], None]

#: Shorthand axis names and the spec fields they set.
SHORTHANDS: Mapping[str, tuple[str, ...]] = {"pe": ("pe_array.rows", "pe_array.cols"),
                                             "buffer": ("global_buffer.size_bytes",)}


@dataclass(frozen=True)
class Axis:
    """One varied dimension of the grid.

    Attributes:
        key: ``"pe"`` or the resolved field path (``"dram.bandwidth_bytes_per_s"``).
        fields: the spec paths each value sets (two for ``pe``).
        values: canonical values as the spec holds them (``32768``, ``8e9``; ``"8x8"`` for pe).
        labels: the values for humans (``"32KB"``, ``"8GB/s"``, ``"8x8"``).
        changes: per value, the ``with_changes`` mapping that applies it.
    """

    key: str
    fields: tuple[str, ...]
    values: tuple[Any, ...]
    labels: tuple[str, ...]
    changes: tuple[Mapping[str, Any], ...]

    @property
    def numeric(self) -> bool:
        """Every value is a number (not a bool): such an axis can be an x axis of a line plot."""
        return all(isinstance(v, int | float) and not isinstance(v, bool) for v in self.values)

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.key, "sets": list(self.fields), "values": list(self.values), "labels": list(self.labels)}


def split_values(text: str) -> list[str]:
    """``"8x8,16x16"`` -> ``["8x8", "16x16"]``; commas inside brackets stay (``"[ws],[ws,os]"``)."""
    parts, depth, current = [], 0, []
    for char in text:
        depth += (char in "[{(") - (char in "]})")
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    if any(not p for p in parts):
        raise SpecError(f"{text!r}: empty value in the list; expected comma-separated values such as 8x8,16x16")
    return parts


def parse_vary(item: str) -> tuple[str, list[str]]:
    """``--vary FIELD=V1,V2,...`` -> ``(FIELD, [V1, V2, ...])``."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip() or not text.strip():
        raise SpecError(f"--vary {item}: expected FIELD=V1,V2,... such as dram.bandwidth=8GB/s,16GB/s")
    return key.strip(), split_values(text)


def _human(path: str, value: Any) -> str:
    """A canonical value in the units a user writes (``32768`` -> ``32KB``)."""
    units = resolve_field_path(path).info.json_schema_extra
    if isinstance(units, AcceptsUnits):
        return {UnitKind.SIZE: format_bytes, UnitKind.RATE: format_rate,
                UnitKind.FREQUENCY: format_frequency}[units.kind](value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(map(str, value)) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for key in path.split("."):
        value = value[key]
    return value


def make_axis(key: str, values: Sequence[Any], base: HardwareSpec) -> Axis:
    """Resolve ``key`` and check every value on its own against ``base``.

    Raises:
        SpecError: one line naming the field and value, e.g.
            ``--vary pe_array.rows=0: pe_array.rows: must be >= 1 (got 0)``.
    """
    if not values:
        raise SpecError(f"--vary {key}: no values given")
    name = key.strip()
    if name in SHORTHANDS and name != "pe":
        name = SHORTHANDS[name][0]
    if name == "pe":
        fields: tuple[str, ...] = SHORTHANDS["pe"]
    else:
        try:
            found = resolve_field_path(name)
        except SpecError as exc:
            raise SpecError(f"--vary {exc} (or the shorthands {', '.join(SHORTHANDS)})") from exc
        fields = (found.path,)
        name = found.path
    option = f"--{key} " if key in SHORTHANDS else f"--vary {key}="
    canonical, labels, changes = [], [], []
    for raw in values:
        shown = raw if isinstance(raw, str) else str(raw)
        try:
            if name == "pe":
                rows, cols = parse_array(raw) if isinstance(raw, str) else (int(raw[0]), int(raw[1]))
                change: dict[str, Any] = {"pe_array.rows": rows, "pe_array.cols": cols}
            else:
                parsed = parse_value(raw) if isinstance(raw, str) else raw
                if resolve_field_path(fields[0]).is_list and isinstance(parsed, str):
                    parsed = [parsed]
                change = {fields[0]: parsed}
            spec = base.with_changes(change)
        except (SpecError, ValueError, TypeError, IndexError) as exc:
            raise SpecError(f"{option}{shown}: {exc}") from exc
        data = spec.model_dump(mode="json")
        value = (f"{spec.pe_array.rows}x{spec.pe_array.cols}" if name == "pe" else _lookup(data, fields[0]))
        if value in canonical:
            raise SpecError(f"{option.rstrip('= ')}: value {shown} is listed twice (as {_human_any(fields, value)})")
        canonical.append(value)
        labels.append(value if name == "pe" else _human(fields[0], value))
        changes.append({path: _lookup(data, path) for path in fields})
    return Axis(name, fields, tuple(canonical), tuple(labels), tuple(changes))


def _human_any(fields: tuple[str, ...], value: Any) -> str:
    return value if len(fields) > 1 else _human(fields[0], value)


def make_axes(vary: Mapping[str, Sequence[Any]], base: HardwareSpec) -> tuple[Axis, ...]:
    """Every axis of ``vary``; a spec field may be varied by one axis only."""
    axes = tuple(make_axis(key, values, base) for key, values in vary.items())
    owner: dict[str, str] = {}
    for axis in axes:
        for path in axis.fields:
            if path in owner:
                raise SpecError(f"--vary {axis.key}: {path} is already varied by {owner[path]}")
            owner[path] = axis.key
    return axes


def grid_size(axes: Sequence[Axis]) -> int:
    """Hardware points in the grid: the product of the axes' value counts (1 with no axis)."""
    return math.prod(len(a.values) for a in axes)


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One network on one hardware point of the grid.

    ``point`` indexes the grid (``itertools.product`` order of the axes); ``values`` and
    ``labels`` hold each axis's value there. Metrics are None when the point is infeasible,
    and ``reason`` says why. ``rank`` orders the network's feasible points by the objective
    (1 = best); ``pareto`` marks its front over (cycles, energy).
    """

    point: int
    values: tuple[Any, ...]
    labels: tuple[str, ...]
    network: str
    hardware: HardwareSpec
    cycles: float | None = None
    energy: float | None = None
    time_s: float | None = None
    efficiency: float | None = None
    utilisation: float | None = None
    dram_bytes: float | None = None
    macs: int | None = None
    reason: str | None = None
    rank: int | None = None
    pareto: bool = False
    #: ``[low, high]`` over the calibration ensemble (``accelsim.calibration.bands``); None
    #: when bands were not asked for or the point is infeasible.
    cycles_band: tuple[float, float] | None = None
    energy_band: tuple[float, float] | None = None

    @property
    def feasible(self) -> bool:
        return self.reason is None

    @property
    def area(self) -> AreaBreakdown:
        """The point's silicon area by part, mm² (known for infeasible points too)."""
        return area_of(self.hardware)

    @property
    def edp(self) -> float | None:
        return None if self.cycles is None or self.energy is None else self.energy * self.cycles

    def to_dict(self, axes: Sequence[Axis]) -> dict[str, Any]:
        """The ``sweep --json`` row: the varied fields by key, then the network's metrics."""
        return {
            **{axis.key: value for axis, value in zip(axes, self.values, strict=True)},
            "point": self.point, "network": self.network, "hardware_label": self.hardware.label,
            "rank": self.rank, "cycles": self.cycles, "time_s": self.time_s, "energy": self.energy,
            "edp": self.edp, "efficiency": self.efficiency, "utilisation": self.utilisation,
            "dram_bytes": self.dram_bytes, "macs": self.macs, "area_mm2": self.area.total,
            "area_breakdown_mm2": self.area.to_dict(), "feasible": self.feasible,
            "pareto": self.pareto, "reason": self.reason,
            "cycles_band": list(self.cycles_band) if self.cycles_band else None,
            "energy_band": list(self.energy_band) if self.energy_band else None,
        }


@dataclass(frozen=True)
class SweepResult:
    """Every (point, network) of a sweep, in grid order, network order within a point."""

    networks: tuple[str, ...]
    base: HardwareSpec
    axes: tuple[Axis, ...]
    objective: Objective
    points: tuple[SweepPoint, ...]
    cache_hits: int = 0
    cache_misses: int = 0
    version: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Hardware points in the grid."""
        return grid_size(self.axes)

    def _check(self, network: str) -> None:
        if network not in self.networks:
            raise WorkloadError(f"{network!r}: not in this sweep; expected one of {', '.join(self.networks)}")

    def rows(self, network: str) -> tuple[SweepPoint, ...]:
        """The network's rows in grid order."""
        self._check(network)
        return tuple(p for p in self.points if p.network == network)

    def ranked(self, network: str) -> tuple[SweepPoint, ...]:
        """The network's feasible points, best first (objective, then cycles, energy, grid index)."""
        return tuple(sorted((p for p in self.rows(network) if p.feasible), key=lambda p: p.rank or 0))

    def infeasible(self, network: str | None = None) -> tuple[SweepPoint, ...]:
        return tuple(p for p in self.points if not p.feasible and (network is None or p.network == network))

    def pareto(self, network: str) -> tuple[SweepPoint, ...]:
        """The network's Pareto front over (cycles, energy), by increasing cycles."""
        return tuple(sorted((p for p in self.rows(network) if p.pareto), key=lambda p: (p.cycles, p.energy, p.point)))

    def best_overall(self) -> tuple[int, float] | None:
        """(grid index, geometric mean of the objective over networks) of the best point feasible
        for every network; a geometric mean, so no network dominates by its scale. None if none."""
        scores: dict[int, list[float]] = {}
        for p in self.points:
            scores.setdefault(p.point, []).append(self.objective.of(p) if p.feasible else math.nan)
        valid = [(math.exp(sum(map(math.log, s)) / len(s)), i) for i, s in scores.items()
                 if not any(map(math.isnan, s))]
        if not valid:
            return None
        score, index = min(valid)
        return index, score

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """The ``sweep --json`` object; ``top`` keeps each network's K best feasible points only."""
        rows: list[dict[str, Any]] = []
        for network in self.networks:
            ranked = self.ranked(network)
            rows += [p.to_dict(self.axes) for p in (ranked if top is None else ranked[:top])]
            if top is None:
                rows += [p.to_dict(self.axes) for p in self.infeasible(network)]
        best = self.best_overall()
        return {
            "version": self.version,
            "networks": list(self.networks),
            "base_hardware": self.base.model_dump(mode="json"),
            "varied": [a.to_dict() for a in self.axes],
            "objective": self.objective.value,
            "grid_points": self.size,
            "simulations": len(self.points),
            "infeasible": len(self.infeasible()),
            "cache": {"hits": self.cache_hits, "misses": self.cache_misses},
            "pareto_front": {n: [p.point for p in self.pareto(n)] for n in self.networks},
            "best_overall": None if best is None else {"point": best[0], "geomean": best[1]},
            "points": rows,
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per (point, network), grid order; DRAM also in MB (2^20 B) for the table."""
        import pandas as pd

        frame = pd.DataFrame([flat_area(p.to_dict(self.axes)) for p in self.points])
        frame["dram_mb"] = frame["dram_bytes"] / 2**20
        frame["rank"] = frame["rank"].astype("Int64")  # empty, not NaN floats, for infeasible rows
        for k, axis in enumerate(self.axes):
            frame[f"{axis.key} (label)"] = [p.labels[k] for p in self.points]
        return frame


def _graph(network: str | LayerGraph, options: Mapping[str, Any], input_shape: Sequence[int] | None = None
           ) -> LayerGraph:
    from accelsim.workload.zoo import resolve

    if isinstance(network, LayerGraph) or str(network).lower().endswith((".json", ".onnx")):
        return resolve(network, input_shape)  # options apply to the named presets only
    return resolve(network, input_shape, **options)


def bounded_axes(vary: Mapping[str, Sequence[Any]] | None, base: HardwareSpec, limit: int, command: str,
                 what: str, option: str) -> tuple[Axis, ...]:
    """The grid's axes, refused (one line naming ``option``) when the grid has more than ``limit`` points."""
    axes = make_axes(vary or {}, base)
    size = grid_size(axes)
    if size > limit:
        counts = " x ".join(f"{len(a.values)} {a.key}" for a in axes)
        raise SpecError(f"{command}: {size:,} {what} ({counts}) exceed the limit of {limit:,}; "
                        f"give fewer values or raise {option}")
    return axes


def _option(key: str, label: str) -> str:
    """The command-line override that sets axis ``key`` to ``label``."""
    if key == "pe":
        return f"--pe {label}"
    if key == "global_buffer.size_bytes":
        return f"--buffer {label}"
    return f"--set {key}={label}"


def build_grid(base: HardwareSpec, axes: Sequence[Axis]) -> list[tuple[tuple[int, ...], HardwareSpec]]:
    """Every point's (value indices, validated spec), in product order; fails on the first invalid one."""
    grid = []
    for combo in itertools.product(*(range(len(a.values)) for a in axes)):
        changes: dict[str, Any] = {}
        for axis, i in zip(axes, combo, strict=True):
            changes.update(axis.changes[i])
        try:
            spec = base.with_changes(changes) if changes else base
        except SpecError as exc:
            where = ", ".join(f"{a.key}={a.labels[i]}" for a, i in zip(axes, combo, strict=True))
            raise SpecError(f"sweep point {where}: {exc}") from exc
        # labelled as the same overrides on the command line would be (a changed paper config is
        # no longer named after it), so a point's spec equals `accelsim run`'s for those options
        options = [_option(a.key, a.labels[i]) for a, i in zip(axes, combo, strict=True)]
        grid.append((combo, relabel(base, spec, options)))
    return grid


def sweep(
    networks: Sequence[str | LayerGraph] | str | LayerGraph,
    base: HardwareSpec | str | Path | None = None,
    vary: Mapping[str, Sequence[Any]] | None = None,
    *,
    objective: Objective | str = Objective.CYCLES,
    max_points: int = DEFAULT_MAX_POINTS,
    network_options: Mapping[str, Any] | None = None,
    input_shape: Sequence[int] | None = None,
    cache: Any = None,
    progress: ProgressCallback | None = None,
    executor: Any = None,
    bands: bool = False,
) -> SweepResult:
    """Simulate every network at every point of the grid ``vary`` spans around ``base``.

    Args:
        networks: zoo names or aliases, layer-graph JSON files, ONNX files, or ``LayerGraph`` objects.
        base: the spec the varied fields change (spec, YAML file, built-in name; None: the
            paper's 16x16/128KB accelerator).
        vary: axis -> values (see the module docstring); the grid is their product.
        objective: what ranks the points: cycles, energy or edp.
        max_points: largest grid accepted (a guard against accidental huge sweeps).
        network_options: zoo constructor options for every named network (SqueezeNext width,
            depth, stem_kernel, first_unit, groups).
        input_shape: ``(C, H, W)`` for every ONNX file with symbolic dims (and every preset).
        cache: a ``SimCache`` to share (default: a new one shared by all points).
        progress: ``progress(done, total)`` after each (point, network) simulation (with a
            cluster: as each task's points come back).
        executor: where the points are simulated (``accelsim.execution``): None runs them
            here; a ``distributed.Client`` or a Dask ``Executor`` ships each task a chunk of
            hardware points with the (compact, torch-free) layer graphs. Every task prices the
            distinct layers of its points once and returns their costs (the ``SimCache``
            entries, absorbed into ``cache``) and the points' totals; the result, cache counts
            included, is the in-process one.
        bands: also compute each feasible row's error band (the calibration ensemble's
            spread, ``accelsim.calibration.bands``; simulated here, after the points).

    Raises:
        SpecError: an unknown field, a bad value, a grid over ``max_points``.
        WorkloadError: an unknown network, or the same network listed twice.
    """
    from accelsim.simulation import SimCache

    objective = Objective(objective) if objective in {o.value for o in Objective} else objective
    if not isinstance(objective, Objective):
        raise SpecError(f"objective: expected one of {', '.join(o.value for o in Objective)}; got {objective!r}")
    spec0 = base_spec(base)
    axes = bounded_axes(vary, spec0, max_points, "sweep", "points", "--max-points")
    grid = build_grid(spec0, axes)
    items = [networks] if isinstance(networks, str | LayerGraph) else list(networks)
    if not items:
        raise WorkloadError("sweep: no network given")
    graphs = [_graph(n, network_options or {}, input_shape) for n in items]
    names = [g.name for g in graphs]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise WorkloadError(f"sweep: network {twice!r} is listed twice")
    cache = cache if cache is not None else SimCache()
    hits, misses = cache.hits, cache.misses
    total = len(grid) * len(graphs)
    ex = as_executor(executor)
    if ex.distributed:
        jobs = [_PointJob(spec, tuple(graphs)) for _, spec in grid]
        outcomes = ex.map(_price_point, jobs, max_chunk=POINTS_PER_TASK, name="accelsim-sweep",
                          progress=None if progress is None else
                          lambda done, _: progress(done * len(graphs), total))
        for _, delta in outcomes:
            cache.absorb(delta)
        metrics = [m for m, _ in outcomes]
    else:
        done = 0

        def step() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total)

        metrics = [_point_metrics(spec, graphs, cache, step) for _, spec in grid]
    rows: list[SweepPoint] = []
    for index, ((combo, spec), found) in enumerate(zip(grid, metrics, strict=True)):
        values = tuple(a.values[i] for a, i in zip(axes, combo, strict=True))
        labels = tuple(a.labels[i] for a, i in zip(axes, combo, strict=True))
        for graph, m in zip(graphs, found, strict=True):
            row = SweepPoint(index, values, labels, graph.name, spec)
            rows.append(replace(row, reason=m) if isinstance(m, str) else replace(row, **m._asdict()))
    if bands:
        rows = [_with_band(row, graph, cache) if row.feasible else row
                for row, graph in zip(rows, itertools.cycle(graphs), strict=False)]
    return SweepResult(tuple(names), spec0, axes, objective, _rank(rows, names, objective),
                       cache.hits - hits, cache.misses - misses, __version__)


def _with_band(row: SweepPoint, graph: LayerGraph, cache: Any) -> SweepPoint:
    """``row`` with the calibration ensemble's band of its network at its hardware point."""
    from accelsim.calibration.bands import network_band
    from accelsim.simulation import simulate_graph

    point = simulate_graph(graph, row.hardware, cache=cache)  # a cache hit after the sweep
    band = network_band(graph, row.hardware, point, cache=cache)
    return replace(row, cycles_band=band.cycles, energy_band=band.energy)


class Metrics(NamedTuple):
    """One network's totals at one hardware point (the fields of a feasible ``SweepPoint``)."""

    cycles: float
    energy: float
    time_s: float
    efficiency: float
    utilisation: float
    dram_bytes: float
    macs: int


def _point_metrics(spec: HardwareSpec, graphs: Sequence[LayerGraph], cache: Any,
                   step: Callable[[], None] | None = None) -> list[Metrics | str]:
    """Each network's totals at ``spec``, or the reason it does not fit (``step()`` after each)."""
    from accelsim.simulation import simulate_graph

    out: list[Metrics | str] = []
    for graph in graphs:
        try:
            r = simulate_graph(graph, spec, cache=cache)
        except InfeasibleError as exc:
            out.append(str(exc))
        else:
            out.append(Metrics(r.cycles, r.energy, r.time_s, r.efficiency, r.utilisation,
                               r.dram_words * spec.word_bytes, r.macs))
        if step is not None:
            step()
    return out


@dataclass(frozen=True)
class _PointJob:
    """What a worker needs for one hardware point: its spec and the networks' layer graphs."""

    spec: HardwareSpec
    graphs: tuple[LayerGraph, ...]


def _price_point(job: _PointJob) -> tuple[list[Metrics | str], Any]:
    """One point on a worker: its totals and its layer costs (a fresh cache: no two points share a
    layer cost, the spec is part of every key)."""
    from accelsim.simulation import SimCache

    cache = SimCache()
    found = _point_metrics(job.spec, job.graphs, cache)
    return found, cache.delta_since((0, 0, 0, 0))


def _rank(rows: list[SweepPoint], names: Sequence[str], objective: Objective) -> tuple[SweepPoint, ...]:
    """Rank and Pareto-flag each network's feasible rows; grid order is kept."""
    out = list(rows)
    for name in names:
        mine = [i for i, p in enumerate(out) if p.network == name and p.feasible]
        order = sorted(mine, key=lambda i: (objective.of(out[i]), out[i].cycles, out[i].energy, out[i].point))
        mask = pareto_mask([(out[i].cycles, out[i].energy) for i in mine]) if mine else []
        front = {i for i, on in zip(mine, mask, strict=True) if on}
        for rank, i in enumerate(order, start=1):
            out[i] = replace(out[i], rank=rank, pareto=i in front)
    return tuple(out)
