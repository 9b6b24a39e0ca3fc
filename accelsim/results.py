"""Simulation results: per layer and per network. Frozen; totals are derived properties.

Units: cycles are clock cycles of the spec's clock (floats: OS sparsity gives average
cycle counts); energy is in units of one MAC's energy (the spec's cost table); DRAM traffic
in words of ``mac_bits`` and in bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from accelsim.hardware.area import AreaBreakdown, area_of
from accelsim.hardware.spec import Dataflow, HardwareSpec
from accelsim.workload.layer import Layer

if TYPE_CHECKING:
    import pandas as pd

LEVELS = ("mac", "register_file", "inter_pe", "global_buffer", "dram")


@dataclass(frozen=True, slots=True)
class Tiling:
    """Tile sizes and the order of the tile loops.

    ``kt, ct``: output / input channels per tile (per group for grouped convs);
    ``ht, wt``: output rows / columns per tile; ``order``: tile loops outermost first, a
    permutation of ``("k", "c", "s")`` where ``s`` walks the spatial tiles (x innermost).
    """

    kt: int
    ct: int
    ht: int
    wt: int
    order: tuple[str, ...]
    n_k: int
    n_c: int
    n_y: int
    n_x: int

    @property
    def n_tiles(self) -> int:
        return self.n_k * self.n_c * self.n_y * self.n_x

    def describe(self) -> str:
        """``k64 c32 y14 x14 [k>c>s]``: tile sizes and loop order, outermost first."""
        return f"k{self.kt} c{self.ct} y{self.ht} x{self.wt} [{'>'.join(self.order)}]"

    def to_dict(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class AccessCounts:
    """Accesses per level of the memory hierarchy (16-bit words); additive."""

    mac: float = 0.0
    register_file: float = 0.0
    inter_pe: float = 0.0
    global_buffer: float = 0.0
    dram: float = 0.0

    def __add__(self, other: AccessCounts) -> AccessCounts:
        return AccessCounts(*(getattr(self, k) + getattr(other, k) for k in LEVELS))

    def to_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in LEVELS}


@dataclass(frozen=True, slots=True)
class EnergyBreakdown:
    """Energy per level, in units of one MAC's energy; ``total`` is their sum."""

    mac: float = 0.0
    register_file: float = 0.0
    inter_pe: float = 0.0
    global_buffer: float = 0.0
    dram: float = 0.0

    @property
    def total(self) -> float:
        return self.mac + self.register_file + self.inter_pe + self.global_buffer + self.dram

    def __add__(self, other: EnergyBreakdown) -> EnergyBreakdown:
        return EnergyBreakdown(*(getattr(self, k) + getattr(other, k) for k in LEVELS))

    def to_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in LEVELS} | {"total": self.total}


@dataclass(frozen=True, slots=True)
class Alternative:
    """The best result of a dataflow that was evaluated but not chosen."""

    dataflow: Dataflow
    cycles: float
    energy: float


@dataclass(frozen=True, slots=True)
class LayerResult:
    """How one layer runs: dataflow, tiling, time split and energy.

    ``cycles`` is the tile pipeline's time (``accelsim.engine.timing``: first load, steady
    state of compute against one DMA engine, last write-back); ``bound`` says which side of
    the steady state dominated.

    Two rates, never to be confused:

    * ``efficiency`` = dense MACs / cycle, the paper's *acceleration efficiency* (Figure 6).
      It counts every MAC of the dense layer, so OS, which skips zero weights, can exceed the
      array's ``Pr*Pc`` (e.g. 1/(1-sigma) of it): it is a dense-equivalent throughput.
    * ``utilisation`` = ``useful_ops / (cycles * pe_count)``, the fraction of PE-cycles doing
      useful work: a non-zero MAC (``MACs * (1 - sigma)`` for a pruned layer in either
      dataflow, since WS multiplies the zero weights it cannot skip; all MACs of a dense
      layer) or a compare/add of a streaming layer. A PE does at most one operation per cycle
      and ``cycles >= compute_cycles >= useful_ops / pe_count`` for every dataflow model, so
      it never exceeds 1 (``tests/test_simulate.py`` checks it on the zoo).
    """

    layer: Layer
    dataflow: Dataflow
    tiling: Tiling | None
    cycles: float
    compute_cycles: float
    dram_cycles: float
    dram_words: float
    counts: AccessCounts
    energy: EnergyBreakdown
    pe_count: int
    word_bytes: float = 2.0
    alternatives: tuple[Alternative, ...] = ()
    #: the layer whose output write absorbs this one (a fused residual add or pool), else None;
    #: a fused layer costs nothing itself (its cost is in that layer's result).
    fused_into: str | None = None
    #: operations that keep a PE busy usefully: non-zero MACs (conv/FC), compares or adds
    #: (streaming layers); 0 for free and fused layers.
    useful_ops: float = 0.0

    @property
    def macs(self) -> int:
        return self.layer.macs

    @property
    def bound(self) -> str:
        """``"compute"`` or ``"memory"``: which side of the overlap took longer."""
        return "memory" if self.dram_cycles > self.compute_cycles else "compute"

    @property
    def efficiency(self) -> float:
        """Acceleration efficiency, the paper's Figure 6 metric: dense MACs per cycle
        (dense-equivalent throughput; may exceed ``pe_count`` when zeros are skipped)."""
        return self.layer.macs / self.cycles if self.cycles else 0.0

    @property
    def utilisation(self) -> float:
        """PE utilisation: useful operations / (cycles x PEs), in [0, 1] (see the class docstring)."""
        return self.useful_ops / (self.cycles * self.pe_count) if self.cycles else 0.0

    @property
    def dram_bytes(self) -> float:
        return self.dram_words * self.word_bytes

    def to_dict(self) -> dict[str, Any]:
        layer = self.layer
        return {
            "name": layer.name,
            "kind": layer.op,
            "in_shape": list(layer.in_shape),
            "out_shape": list(layer.out_shape),
            "kernel": list(layer.kernel),
            "stride": list(layer.stride),
            "groups": layer.groups,
            "macs": layer.macs,
            "macs_paper": layer.macs_paper,
            "params": layer.params,
            "dataflow": self.dataflow.value,
            "tiling": self.tiling.to_dict() if self.tiling else None,
            "cycles": self.cycles,
            "compute_cycles": self.compute_cycles,
            "dram_cycles": self.dram_cycles,
            "bound": self.bound,
            "efficiency": self.efficiency,
            "utilisation": self.utilisation,
            "useful_ops": self.useful_ops,
            "dram_words": self.dram_words,
            "dram_bytes": self.dram_bytes,
            "energy": self.energy.total,
            "energy_breakdown": self.energy.to_dict(),
            "accesses": self.counts.to_dict(),
            "alternatives": [
                {"dataflow": a.dataflow.value, "cycles": a.cycles, "energy": a.energy} for a in self.alternatives
            ],
            "fused_into": self.fused_into,
        }


@dataclass(frozen=True)
class NetworkResult:
    """A whole network on one accelerator: the per-layer results in execution order."""

    network: str
    hardware: HardwareSpec
    layers: tuple[LayerResult, ...]
    params: int
    meta: dict[str, Any] = field(default_factory=dict)
    version: str = ""
    #: ``[low, high]`` of cycles and energy over the calibration ensemble
    #: (``accelsim.calibration.bands``), or None when not computed (``--no-band``).
    cycles_band: tuple[float, float] | None = None
    energy_band: tuple[float, float] | None = None
    #: where the band's ensemble came from and how many members it has.
    band_source: str | None = None

    @property
    def cycles(self) -> float:
        return sum(r.cycles for r in self.layers)

    @property
    def time_s(self) -> float:
        return self.cycles / self.hardware.clock_hz

    @property
    def macs(self) -> int:
        return sum(r.layer.macs for r in self.layers)

    @property
    def macs_paper(self) -> int:
        return sum(r.layer.macs_paper for r in self.layers)

    @property
    def energy_breakdown(self) -> EnergyBreakdown:
        total = EnergyBreakdown()
        for r in self.layers:
            total = total + r.energy
        return total

    @property
    def energy(self) -> float:
        return self.energy_breakdown.total

    @property
    def dram_words(self) -> float:
        return sum(r.dram_words for r in self.layers)

    @property
    def efficiency(self) -> float:
        """Dense MACs per cycle over the whole network (the paper's acceleration efficiency)."""
        return self.macs / self.cycles if self.cycles else 0.0

    @property
    def area(self) -> AreaBreakdown:
        """The accelerator's silicon area by part, mm² (``accelsim.hardware.area``)."""
        return area_of(self.hardware)

    @property
    def utilisation(self) -> float:
        """PE utilisation over the whole network: useful operations / (cycles x PEs), <= 1."""
        pes = self.hardware.pe_array.rows * self.hardware.pe_array.cols
        return sum(r.useful_ops for r in self.layers) / (self.cycles * pes) if self.cycles else 0.0

    def layer(self, name: str) -> LayerResult:
        for r in self.layers:
            if r.layer.name == name:
                return r
        raise KeyError(name)

    def totals(self) -> dict[str, Any]:
        return {
            "cycles": self.cycles,
            "time_s": self.time_s,
            "energy": self.energy,
            "energy_breakdown": self.energy_breakdown.to_dict(),
            "macs": self.macs,
            "macs_paper": self.macs_paper,
            "params": self.params,
            "dram_bytes": self.dram_words * self.hardware.word_bytes,
            "efficiency": self.efficiency,
            "area_mm2": self.area.total,
            "area_breakdown_mm2": self.area.to_dict(),
            "utilisation": self.utilisation,
        } | ({} if self.cycles_band is None else {
            "cycles_band": list(self.cycles_band),
            "energy_band": list(self.energy_band or ()),
            "band_source": self.band_source,
        })

    def to_dict(self) -> dict[str, Any]:
        """The ``accelsim run --json`` object: network, hardware (resolved spec), totals, layers."""
        return {
            "network": self.network,
            "version": self.version,
            "meta": self.meta,
            "hardware": self.hardware.model_dump(mode="json"),
            "totals": self.totals(),
            "layers": [r.to_dict() for r in self.layers],
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per layer (flat columns); imports pandas on first use."""
        import pandas as pd

        rows = []
        for r in self.layers:
            row = r.to_dict()
            tiling = row.pop("tiling")
            row["tiling"] = r.tiling.describe() if r.tiling else ""
            row["tile_order"] = ">".join(tiling["order"]) if tiling else ""
            for level, value in row.pop("energy_breakdown").items():
                row[f"energy_{level}"] = value
            for level, value in row.pop("accesses").items():
                row[f"accesses_{level}"] = value
            row.pop("alternatives")
            rows.append(row)
        return pd.DataFrame(rows)
