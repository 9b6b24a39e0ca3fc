"""The published facts accelsim reproduces, as typed data.

Source: Gholami, Kwon, Wu, Tai, Yue, Jin, Zhao, Keutzer, *SqueezeNext: Hardware-Aware Neural
Network Design*, CVPR workshops 2018, arXiv:1803.10615 -- Table 3 (simulated hardware
performance), Tables 1 and 2 (ImageNet accuracy and params) and the statements around
Figure 6, transcribed from the paper.

Rules kept here:

* Numbers are stored **as printed** (:class:`Printed` keeps the text, so the printed precision
  is known): a count agrees with the paper when it rounds to the printed digits.
* Table 3 time and energy cells that the reference withholds (AlexNet, SqueezeNet v1.0/v1.1,
  Tiny Darknet and MobileNet) are ``None``. They validate the simulator independently of any
  calibration and must never be filled in from elsewhere.
* Rows are keyed by the paper's exact network names (``"1.0-SqNxt-23v5"``), which are also
  the names of the ``networks`` presets where a preset exists.

Units: ``params_M`` and ``macs_M`` are millions; Table 3 time is normalised per hardware
configuration to the cycles of the fastest network in that configuration (``x1.17`` is
stored as ``1.17``); energy is absolute, in units of one MAC's energy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from accelsim.errors import WorkloadError

#: The two hardware configurations of Table 3, labelled as ``HardwareSpec.label`` prints them.
CONFIG_8x8 = "8x8/32KB"
CONFIG_16x16 = "16x16/128KB"
CONFIGS: tuple[str, str] = (CONFIG_8x8, CONFIG_16x16)


@dataclass(frozen=True, slots=True)
class Printed:
    """A number exactly as the paper prints it, e.g. ``Printed("0.72")`` or ``Printed("725")``.

    The text fixes the precision: ``0.72`` has 2 decimals, so 0.7173 agrees and 0.7337 does not.
    """

    text: str

    def __post_init__(self) -> None:
        try:
            Decimal(self.text)
        except ArithmeticError:
            raise WorkloadError(f"paper value {self.text!r}: not a decimal number") from None

    @property
    def value(self) -> float:
        return float(self.text)

    @property
    def decimals(self) -> int:
        """Digits printed after the decimal point."""
        return max(0, -Decimal(self.text).as_tuple().exponent)  # type: ignore[operator]

    def rounded(self, x: float) -> Decimal:
        """``x`` rounded half up (as a reader rounds, not banker's) to the printed precision."""
        step = Decimal(1).scaleb(-self.decimals)
        return Decimal(repr(x)).quantize(step, rounding=ROUND_HALF_UP)

    def agrees(self, x: float) -> bool:
        """True if ``x`` (same unit) rounds to the printed number."""
        return self.rounded(x) == Decimal(self.text)

    def relative_error(self, x: float) -> float:
        """``(x - printed) / printed``: the signed mismatch of ``x`` against the printed value."""
        return (x - self.value) / self.value

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class HardwareCell:
    """One configuration's Table 3 cells for one network; ``None`` = withheld.

    Attributes:
        time: inference time normalised to the fastest network of that configuration.
        energy: total energy in units of one MAC's energy.
    """

    time: float | None
    energy: float | None

    @property
    def withheld(self) -> bool:
        return self.time is None and self.energy is None


_WITHHELD = HardwareCell(None, None)


@dataclass(frozen=True, slots=True)
class Table3Row:
    """One row of SqNxt Table 3.

    Attributes:
        name: the paper's network name.
        params_M: params in millions, as printed.
        macs_M: MACs in millions, as printed (the "M" suffix dropped).
        top1, top5: ImageNet accuracy (%).
        top1_alt, top5_alt: the bracketed second value the paper prints for MobileNet
            (its originally reported accuracy), else ``None``.
        depth: units per stage for SqueezeNext rows, else ``None``.
        hardware: configuration label (``CONFIG_8x8`` / ``CONFIG_16x16``) -> cells.
    """

    name: str
    params_M: Printed
    macs_M: Printed
    top1: float
    top5: float
    depth: tuple[int, ...] | None
    hardware: Mapping[str, HardwareCell] = field(hash=False)
    top1_alt: float | None = None
    top5_alt: float | None = None

    @property
    def withheld(self) -> bool:
        """True if every hardware cell of the row is withheld."""
        return all(cell.withheld for cell in self.hardware.values())

    def cell(self, config: str) -> HardwareCell:
        try:
            return self.hardware[config]
        except KeyError:
            raise WorkloadError(
                f"Table 3: no configuration {config!r}; expected one of {', '.join(CONFIGS)}"
            ) from None


@dataclass(frozen=True, slots=True)
class AccuracyRow:
    """One row of SqNxt Tables 1/2 (ImageNet accuracy and model size).

    Attributes:
        name: the paper's network name (a parenthesised remark moved to ``note``).
        top1, top5: accuracy (%); ``top1_alt``/``top5_alt`` as in :class:`Table3Row`.
        params_M: params in millions, as printed.
        note: the paper's remark on the row, if any.
        preset: the ``networks`` preset that builds this row (usually ``name`` itself), or
            ``None`` if accelsim has no definition of it (VGG-19, the IDA variants).
    """

    name: str
    top1: float
    top5: float
    params_M: Printed
    preset: str | None
    note: str = ""
    top1_alt: float | None = None
    top5_alt: float | None = None


def _t3(name: str, params: str, macs: str, top1: float, top5: float,
        depth: tuple[int, ...] | None = None,
        cells: tuple[tuple[float, float], tuple[float, float]] | None = None,
        alt: tuple[float, float] | None = None) -> Table3Row:
    hardware = ({CONFIG_8x8: HardwareCell(*cells[0]), CONFIG_16x16: HardwareCell(*cells[1])}
                if cells else {CONFIG_8x8: _WITHHELD, CONFIG_16x16: _WITHHELD})
    return Table3Row(name, Printed(params), Printed(macs), top1, top5, depth,
                     MappingProxyType(hardware),
                     top1_alt=alt[0] if alt else None, top5_alt=alt[1] if alt else None)


#: SqNxt Table 3 in the paper's row order. Cells: ((8x8 time, 8x8 energy), (16x16 time, 16x16 energy)).
TABLE3: tuple[Table3Row, ...] = (
    _t3("AlexNet", "60.9", "725", 57.10, 80.30),
    _t3("SqueezeNet v1.0", "1.2", "837", 57.50, 80.30),
    _t3("SqueezeNet v1.1", "1.2", "352", 57.10, 80.30),
    _t3("Tiny Darknet", "1.0", "495", 58.70, 81.70),
    _t3("1.0-SqNxt-23", "0.72", "282", 58.98, 82.33, (6, 6, 8, 1), ((1.17, 3.2e9), (1.22, 2.5e9))),
    _t3("1.0-SqNxt-23v2", "0.74", "228", 58.55, 82.09, (6, 6, 8, 1), ((1.00, 2.8e9), (1.13, 2.4e9))),
    _t3("1.0-SqNxt-23v3", "0.74", "228", 58.18, 81.96, (4, 8, 8, 1), ((1.00, 2.7e9), (1.08, 2.3e9))),
    _t3("1.0-SqNxt-23v4", "0.77", "228", 59.09, 82.41, (2, 10, 8, 1), ((1.00, 2.6e9), (1.02, 2.2e9))),
    _t3("1.0-SqNxt-23v5", "0.94", "228", 59.24, 82.41, (2, 4, 14, 1), ((1.00, 2.6e9), (1.00, 2.0e9))),
    _t3("MobileNet", "4.2", "574", 67.50, 86.59, alt=(70.9, 89.9)),
    _t3("2.0-SqNxt-23", "2.4", "749", 67.18, 88.17, (6, 6, 8, 1), ((3.24, 8.1e9), (2.72, 5.9e9))),
    _t3("2.0-SqNxt-23v4", "2.56", "708", 66.95, 87.89, (2, 10, 8, 1), ((3.17, 7.5e9), (2.55, 5.4e9))),
    _t3("2.0-SqNxt-23v5", "3.23", "708", 67.44, 88.20, (2, 4, 14, 1), ((3.17, 7.4e9), (2.55, 5.4e9))),
)

_SAME = "<same as the row name>"


def _t12(name: str, top1: float, top5: float, params: str, preset: str | None = _SAME,
         note: str = "", alt: tuple[float, float] | None = None) -> AccuracyRow:
    return AccuracyRow(name, top1, top5, Printed(params), name if preset == _SAME else preset, note,
                       top1_alt=alt[0] if alt else None, top5_alt=alt[1] if alt else None)


#: SqNxt Tables 1 and 2 (ImageNet accuracy and params), in the paper's row order.
TABLES_1_2: tuple[AccuracyRow, ...] = (
    _t12("AlexNet", 57.10, 80.30, "60.9"),
    _t12("SqueezeNet", 57.50, 80.30, "1.2", preset="SqueezeNet v1.0"),
    _t12("1.0-SqNxt-23", 58.98, 82.33, "0.72"),
    _t12("1.0-G-SqNxt-23", 56.88, 80.83, "0.54", note="group conv, 2 groups"),
    _t12("1.0-SqNxt-23-IDA", 60.35, 83.56, "0.9", preset=None),
    _t12("1.0-SqNxt-34", 61.39, 84.31, "1.0"),
    _t12("1.0-SqNxt-34-IDA", 62.56, 84.93, "1.3", preset=None),
    _t12("1.0-SqNxt-44", 62.64, 85.15, "1.2"),
    _t12("1.0-SqNxt-44-IDA", 63.75, 85.97, "1.5", preset=None),
    _t12("1.5-SqNxt-23", 63.52, 85.15, "1.4"),
    _t12("1.5-SqNxt-34", 65.99, 87.40, "2.1"),
    _t12("1.5-SqNxt-44", 67.27, 88.15, "2.6"),
    _t12("VGG-19", 68.50, 88.50, "138", preset=None),
    _t12("2.0-SqNxt-23", 67.18, 88.17, "2.4"),
    _t12("2.0-SqNxt-34", 68.46, 88.78, "3.8"),
    _t12("2.0-SqNxt-44", 69.08, 89.36, "4.4"),
    _t12("MobileNet", 67.50, 86.59, "4.2", alt=(70.9, 89.9)),
    _t12("2.0-SqNxt-23v5", 67.44, 88.20, "3.2"),
)

# ---- Figure 6 and the statements around it ----------------------------------------------

#: Share of 1.0-SqNxt-23's total inference time spent in its first (7x7) conv: 26%; it motivated
#: v2's 5x5 first conv. The reference states it for 1.0-SqNxt-23 without naming a configuration;
#: accelsim checks it on 16x16/128KB, the configuration the paper's discussion centres on.
FIRST_CONV_SHARE_16x16 = 0.26

#: The first module's efficiency (MACs / cycles) drops significantly (few channels on a large
#: map), and the drop is larger on this configuration than on the other one.
EFFICIENCY_DROP_WORSE_ON = CONFIG_16x16

#: Redistributing units to later stages (v3, v4, v5) helps hardware performance most here.
REDISTRIBUTION_HELPS_MOST_ON = CONFIG_16x16

#: The fastest network(s) of each configuration, to which Table 3 times are normalised
#: (v2-v5 tie at x1.00 on 8x8; v5 alone on 16x16).
FASTEST: Mapping[str, tuple[str, ...]] = MappingProxyType({
    CONFIG_8x8: ("1.0-SqNxt-23v2", "1.0-SqNxt-23v3", "1.0-SqNxt-23v4", "1.0-SqNxt-23v5"),
    CONFIG_16x16: ("1.0-SqNxt-23v5",),
})

_TABLE3_INDEX = {row.name: row for row in TABLE3}
_TABLES_1_2_INDEX = {row.name: row for row in TABLES_1_2}


def table3_rows() -> tuple[Table3Row, ...]:
    """All Table 3 rows in the paper's order."""
    return TABLE3


def paper_row(name: str) -> Table3Row:
    """The Table 3 row of ``name`` (the paper's exact spelling).

    Raises:
        WorkloadError: if Table 3 has no such row; the message lists the row names.
    """
    try:
        return _TABLE3_INDEX[name]
    except KeyError:
        raise WorkloadError(
            f"Table 3 has no row {name!r}; rows: {', '.join(_TABLE3_INDEX)}"
        ) from None


def accuracy_row(name: str) -> AccuracyRow:
    """The Tables 1/2 row of ``name`` (the paper's exact spelling).

    Raises:
        WorkloadError: if Tables 1/2 have no such row; the message lists the row names.
    """
    try:
        return _TABLES_1_2_INDEX[name]
    except KeyError:
        raise WorkloadError(
            f"Tables 1/2 have no row {name!r}; rows: {', '.join(_TABLES_1_2_INDEX)}"
        ) from None


def printed_params(name: str) -> Printed | None:
    """The paper's params for ``name`` (Table 3, else Tables 1/2), or ``None`` if not printed."""
    if name in _TABLE3_INDEX:
        return _TABLE3_INDEX[name].params_M
    for row in TABLES_1_2:
        if row.preset == name:
            return row.params_M
    return None


def printed_macs(name: str) -> Printed | None:
    """The paper's MACs (M) for ``name``; only Table 3 prints MACs."""
    row = _TABLE3_INDEX.get(name)
    return row.macs_M if row else None


__all__ = [
    "CONFIGS", "CONFIG_16x16", "CONFIG_8x8", "EFFICIENCY_DROP_WORSE_ON", "FASTEST",
    "FIRST_CONV_SHARE_16x16", "REDISTRIBUTION_HELPS_MOST_ON", "TABLE3", "TABLES_1_2",
    "AccuracyRow", "HardwareCell", "Printed", "Table3Row", "accuracy_row", "paper_row",
    "printed_macs", "printed_params", "table3_rows",
]
