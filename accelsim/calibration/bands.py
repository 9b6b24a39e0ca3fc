"""Error bands: the spread of the calibration ensemble's predictions, from a spec alone.

A spec's ``calibration`` section (written by ``accelsim calibrate``) lists the ensemble:
the settings of the fitted [A] knobs whose cross-validated error is within the tolerance of
the best. A prediction's band is ``[min, max]`` of the prediction over the members (and the
spec itself).

Rules:

* **Member specs.** Member *m* is the spec with *m*'s knob values, except for knobs the user
  changed: where the spec's value differs from the selected member's (``members[0]``), the
  user's value is kept for every member, so the band shows the uncertainty of the knobs that
  are still calibrated, around what the user asked for.
* **No calibration section** (a spec written by hand): the paper configurations' ensemble is
  used (``PAPER_16X16.calibration``), applied the same way; :attr:`Band.source` says so.
* **Energy-only differences** are repriced, not re-simulated: members that differ only in
  ``energy.*`` share one simulation and their energies are the access counts times their
  own cost tables (energy is linear in the counts). The only thing this skips is a dataflow
  choice that an energy change could flip between two dataflows of exactly equal cycles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accelsim.energy import energy_of
from accelsim.engine import grid_key
from accelsim.hardware.spec import PAPER_16X16, Calibration, HardwareSpec
from accelsim.results import NetworkResult
from accelsim.simulation import SimCache, simulate_graph
from accelsim.workload.graph import LayerGraph


@dataclass(frozen=True)
class Band:
    """``[low, high]`` of a network's cycles and energy over the ensemble.

    ``members``: how many specs were evaluated; ``source``: where the ensemble came from.
    """

    cycles: tuple[float, float]
    energy: tuple[float, float]
    members: int
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"cycles_band": list(self.cycles), "energy_band": list(self.energy), "band_members": self.members,
                "band_source": self.source}


def ensemble_of(spec: HardwareSpec) -> tuple[Calibration | None, str]:
    """The calibration whose members make ``spec``'s band, and where it came from."""
    if spec.calibration is not None:
        return spec.calibration, f"{spec.name}'s calibration ({len(spec.calibration.members)} members)"
    cal = PAPER_16X16.calibration
    if cal is None:
        return None, "no calibration ensemble (the paper configurations carry none)"
    return cal, f"the paper configurations' calibration ({len(cal.members)} members; {spec.name} has none)"


def _value(data: Any, path: str) -> Any:
    for key in path.split("."):
        data = data[key]
    return data


def member_specs(spec: HardwareSpec) -> list[HardwareSpec]:
    """The spec as each ensemble member sees it (module docstring); ``[spec]`` without one."""
    cal, _ = ensemble_of(spec)
    if cal is None:
        return [spec]
    data = spec.model_dump(mode="json")
    point = cal.members[0].knob_dict()
    kept = {p for p, v in point.items() if _value(data, p) == v}
    out = []
    for member in cal.members:
        changes = {p: v for p, v in member.knobs if p in kept}
        out.append(spec.with_changes(changes) if changes else spec)
    return out


def _energy_only(a: HardwareSpec, b: HardwareSpec) -> bool:
    return a.model_dump(exclude={"energy", "calibration", "name", "description"}) == \
        b.model_dump(exclude={"energy", "calibration", "name", "description"})


def ensemble_results(graphs: Mapping[str, LayerGraph], spec: HardwareSpec, *, cache: SimCache | None = None,
                     dataflow: str = "auto", progress: Callable[[int, int], None] | None = None,
                     ) -> list[dict[str, tuple[float, float]]]:
    """Per member spec (``member_specs`` order): network -> (cycles, energy).

    Members differing only in energy costs share a simulation (module docstring). The
    simulations run network by network, and within a network the members whose specs
    differ only in DRAM timing (``engine.grid_key``) one after another, so each layer's
    tiling grid is built once for all of them (``SimCache.grids``); the order changes no
    number. ``progress(done, total)`` counts members x networks.
    """
    cache = cache if cache is not None else SimCache()
    specs = member_specs(spec)
    simulated: list[HardwareSpec] = []  # the members that are simulated; the others reprice one
    shares = []  # per member: index into simulated
    for member in specs:
        twin = next((i for i, s in enumerate(simulated) if _energy_only(s, member)), None)
        if twin is None:
            simulated.append(member)
            twin = len(simulated) - 1
        shares.append(twin)
    keys = [grid_key(s) for s in simulated]
    order = sorted(range(len(simulated)), key=lambda i: keys.index(keys[i]))  # stable: groups by grid key
    results: list[dict[str, NetworkResult]] = [{} for _ in simulated]
    total, done = len(specs) * len(graphs), 0
    for name, graph in graphs.items():
        for i in order:
            results[i][name] = simulate_graph(graph, simulated[i], dataflow=dataflow, cache=cache)
            done += shares.count(i)
            if progress is not None:
                progress(done, total)
    out = []
    for position, (member, twin) in enumerate(zip(specs, shares, strict=True)):
        own = shares.index(twin) == position  # the member that was simulated, not a repriced twin
        out.append({n: (r.cycles, r.energy if own else _reprice(r, member)) for n, r in results[twin].items()})
    return out


def _reprice(result: NetworkResult, spec: HardwareSpec) -> float:
    return sum(energy_of(r.counts, spec.energy).total for r in result.layers)


def network_band(graph: LayerGraph, spec: HardwareSpec, point: NetworkResult | None = None, *,
                 cache: SimCache | None = None, dataflow: str = "auto") -> Band:
    """The band of one network on ``spec``; ``point`` (the spec's own result) is included."""
    cal, source = ensemble_of(spec)
    runs = [r[graph.name] for r in ensemble_results({graph.name: graph}, spec, cache=cache, dataflow=dataflow)]
    if point is not None:
        runs.append((point.cycles, point.energy))
    return Band(_span(c for c, _ in runs), _span(e for _, e in runs), len(runs) - (point is not None), source)


def _span(values: Any) -> tuple[float, float]:
    values = list(values)
    return (min(values), max(values))


def relative_bands(runs: Sequence[Mapping[str, tuple[float, float]]]) -> dict[str, tuple[tuple[float, float],
                                                                                       tuple[float, float]]]:
    """Network -> (band of cycles / the member's fastest network's cycles, energy band).

    The normalised time of Table 3 under each member, then its spread across members.
    """
    times: dict[str, list[float]] = {}
    energies: dict[str, list[float]] = {}
    for member in runs:
        fastest = min(c for c, _ in member.values())
        for name, (c, e) in member.items():
            times.setdefault(name, []).append(c / fastest)
            energies.setdefault(name, []).append(e)
    return {n: (_span(times[n]), _span(energies[n])) for n in times}


def width(band: tuple[float, float], centre: float) -> float:
    """Half the band's width relative to ``centre`` (the +-x of ``centre +- x``)."""
    return (band[1] - band[0]) / 2 / centre if centre else 0.0


def with_band(result: NetworkResult, graph: LayerGraph, *, cache: SimCache | None = None,
              dataflow: str = "auto") -> NetworkResult:
    """``result`` with its ``cycles_band``/``energy_band`` filled in (``result`` is the point)."""
    from dataclasses import replace

    band = network_band(graph, result.hardware, result, cache=cache, dataflow=dataflow)
    return replace(result, cycles_band=band.cycles, energy_band=band.energy, band_source=band.source)
