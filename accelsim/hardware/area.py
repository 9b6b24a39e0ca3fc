"""Silicon area of an accelerator: component counts x area per component, scaled to the node.

``area_of(spec)`` gives an :class:`AreaBreakdown` in mm²: the PE array's MACs, the PEs'
register files, the global buffer, and everything else. The per-component figures are fields
of ``spec.area`` (each with its source); the SRAM table below is CACTI's. Sources:

* **MACs and registers** (``[Aladdin 40 nm]``, the Aladdin tables as packaged by the
  hwcomponents library): a 32x32-bit multiplier is 6,350 um², a 32-bit adder 278 um², a
  register 5.98 um² per bit. Multiplier area grows with the square of the operand width, an
  adder's linearly; a ``b``-bit MAC is a ``b x b`` multiplier and a ``2b``-bit accumulator:
  ``6350 (b/32)² + 278 (2b/32)`` um², 1,865.5 um² (about 0.0019 mm²) for 16 bits. A PE's
  register file of ``register_file_bytes`` is ``8 x bytes`` register bits.
* **Node scaling of logic** (``[A]``): the 40 nm figures scale as ``(node / 40)^x`` with
  ``x = area.logic_scaling_exponent`` (2: ideal scaling; Stillmaker & Baas, Integration 2017,
  publish x0.46 for 45 -> 32 nm, x = 2.28 over that step).
* **Global buffer** (``[CACTI 7]``): :data:`CACTI7_SRAM_MM2`, the total area of one SRAM of
  8, 32 and 128 KB at 65, 45, 32 and 22 nm (CACTI 7 from the zigzag-dse 3.9.1 wheel with
  ZigZag's cache config: one read/write port, 64-bit access, no ECC). Between tabulated sizes
  area is linear in size; above 128 KB it continues with the 32 -> 128 KB slope (area is
  roughly linear above 32 KB); below 8 KB it is proportional to size (``[A]``: small SRAMs
  are periphery-dominated, so this underestimates them). Between tabulated nodes it follows
  the power law through the two neighbouring nodes (log-log linear: CACTI has no 28 nm
  point, so 28 nm lies between 22 and 32 nm). The buffer's ``size_bytes`` is its whole
  capacity (both halves when double-buffered).
* **Other** (``[Eyeriss JSSC]``, ``[A]``): ``overhead_fraction`` of the three parts above
  (control, NoC, clock tree) plus ``fixed_mm2`` (DMA, I/O, pads). Both default to 0: for
  Eyeriss (168 PEs of 0.5 KB, a 108 KB buffer, 16-bit MACs, 65 nm) the three parts alone
  give 12.37 mm² against the chip's 12.25 mm² core (3.5 x 3.5 mm; the 4 x 4 mm die adds the
  pad ring), so nothing is left to attribute to a controller (``tests/test_area.py``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from accelsim.hardware.spec import HardwareSpec

#: The node of the MAC and register figures (``[Aladdin 40 nm]``).
LOGIC_NODE_NM = 40.0

#: CACTI 7 total SRAM area in mm², node (nm) -> ((size KB, mm²), ...), ascending sizes.
CACTI7_SRAM_MM2: Mapping[float, tuple[tuple[float, float], ...]] = MappingProxyType({
    65.0: ((8.0, 0.055), (32.0, 0.198), (128.0, 0.808)),
    45.0: ((8.0, 0.026), (32.0, 0.095), (128.0, 0.387)),
    32.0: ((8.0, 0.013), (32.0, 0.048), (128.0, 0.217)),
    22.0: ((8.0, 0.0063), (32.0, 0.027), (128.0, 0.103)),
})

#: The parts of the breakdown, in the order reports show them.
PARTS = ("pe_array", "register_files", "global_buffer", "other")


@dataclass(frozen=True, slots=True)
class AreaBreakdown:
    """Area in mm² by part; ``total`` is their sum."""

    pe_array: float
    register_files: float
    global_buffer: float
    other: float

    @property
    def total(self) -> float:
        return self.pe_array + self.register_files + self.global_buffer + self.other

    def to_dict(self) -> dict[str, float]:
        """``{"pe_array": ..., "register_files": ..., "global_buffer": ..., "other": ...}`` in mm²."""
        return {part: getattr(self, part) for part in PARTS}

    def describe(self) -> str:
        """``18.63 mm² (PE array 1.26, register files 16.56, global buffer 0.81, other 0)``."""
        parts = ", ".join(f"{part.replace('_', ' ').replace('pe ', 'PE ')} {getattr(self, part):.3g}"
                          for part in PARTS)
        return f"{self.total:.4g} mm² ({parts})"


def flat_area(row: dict[str, object]) -> dict[str, object]:
    """A result row with ``area_breakdown_mm2`` spread into ``area_<part>_mm2`` columns (for CSV)."""
    out = dict(row)
    parts = out.pop("area_breakdown_mm2", None)
    if isinstance(parts, Mapping):
        out.update({f"area_{part}_mm2": value for part, value in parts.items()})
    return out


def mac_um2(spec: HardwareSpec) -> float:
    """One MAC at 40 nm, um²: a ``mac_bits``-square multiplier and a ``2 x mac_bits`` accumulator."""
    bits = spec.pe_array.mac_bits
    return spec.area.multiplier_um2 * (bits / 32) ** 2 + spec.area.adder_um2 * (2 * bits / 32)


def logic_scale(spec: HardwareSpec) -> float:
    """Area factor of logic from 40 nm to ``area.technology_nm``: ``(node / 40)^x``."""
    return (spec.area.technology_nm / LOGIC_NODE_NM) ** spec.area.logic_scaling_exponent


def _sram_at_node(points: tuple[tuple[float, float], ...], kb: float) -> float:
    sizes = [s for s, _ in points]
    exact = dict(points).get(kb)
    if exact is not None:
        return exact
    if kb <= sizes[0]:
        return points[0][1] * kb / sizes[0]
    i = min(bisect.bisect_left(sizes, kb), len(points) - 1)  # segment (i-1, i); the last one extrapolates
    (s0, a0), (s1, a1) = points[i - 1], points[i]
    return a0 + (kb - s0) * (a1 - a0) / (s1 - s0)


def sram_mm2(size_bytes: float, node_nm: float) -> float:
    """Area of one SRAM of ``size_bytes`` at ``node_nm`` from :data:`CACTI7_SRAM_MM2` (see the module docstring).

    Raises:
        ValueError: ``node_nm`` outside the tabulated 22-65 nm (the spec's range prevents it).
    """
    kb = size_bytes / 1024
    nodes = sorted(CACTI7_SRAM_MM2)
    if not nodes[0] <= node_nm <= nodes[-1]:
        raise ValueError(f"sram_mm2: node {node_nm:g} nm outside the tabulated {nodes[0]:g}-{nodes[-1]:g} nm")
    if node_nm in CACTI7_SRAM_MM2:
        return _sram_at_node(CACTI7_SRAM_MM2[node_nm], kb)
    j = bisect.bisect_left(nodes, node_nm)
    n0, n1 = nodes[j - 1], nodes[j]
    a0, a1 = _sram_at_node(CACTI7_SRAM_MM2[n0], kb), _sram_at_node(CACTI7_SRAM_MM2[n1], kb)
    exponent = math.log(a1 / a0) / math.log(n1 / n0)
    return a0 * (node_nm / n0) ** exponent


def area_of(spec: HardwareSpec) -> AreaBreakdown:
    """The spec's silicon area by part, mm² (see the module docstring for every figure's source)."""
    pes = spec.pe_array.rows * spec.pe_array.cols
    scale = logic_scale(spec) * 1e-6  # um² at 40 nm -> mm² at the node
    pe_array = pes * mac_um2(spec) * scale
    register_files = pes * spec.pe_array.register_file_bytes * 8 * spec.area.register_um2_per_bit * scale
    global_buffer = sram_mm2(spec.global_buffer.size_bytes, spec.area.technology_nm)
    other = spec.area.overhead_fraction * (pe_array + register_files + global_buffer) + spec.area.fixed_mm2
    return AreaBreakdown(pe_array, register_files, global_buffer, other)
