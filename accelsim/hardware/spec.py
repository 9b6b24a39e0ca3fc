"""The hardware spec: a PE array, a global buffer, DRAM, energy costs and model options.

Units are in the field names. Sizes accept strings such as ``"128KB"`` (KB = 1024 B),
bandwidths ``"16GB/s"`` (decimal), clocks ``"1GHz"``. Every modelling assumption of
``design/model.md`` marked [A] is a field of ``ModelOptions`` with its default and a
one-line description, so a study can change it from YAML or ``--set``. Each description
ends with the number's source: ``[paper §3]`` (SqueezeNext), ``[Eyeriss]`` (Chen et al.,
ISCA 2016, Table IV), ``[Aladdin 40 nm]`` (the Aladdin area tables as packaged by hwcomponents),
``[Eyeriss JSSC]`` (Chen et al., JSSC 2017: the chip's area) or ``[A]`` (our assumption). The
``area`` section feeds ``accelsim.hardware.area`` (and its CACTI 7 SRAM table).

Numeric and boolean fields are strict: ``rows: true`` or ``double_buffer: 1`` is an error
rather than a silent ``1``/``True``, because in a YAML file that is almost always a typo.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from accelsim.errors import SpecError
from accelsim.units import format_bytes, parse_bytes, parse_frequency, parse_rate


class Dataflow(StrEnum):
    """How a layer is mapped onto the PE array."""

    WS = "ws"  #: weight stationary: a Pr x Pc block of weights stays in the array
    OS = "os"  #: output stationary (SOC-MOP): a Pr x Pc block of one output map accumulates
    STREAM = "stream"  #: pooling / element-wise layers streamed through the array


class TilingCost(StrEnum):
    """How the tiling optimiser ranks candidate tilings."""

    LEXICOGRAPHIC = "lexicographic"  #: fewest cycles, then fewest DRAM words, then compute cycles
    WEIGHTED = "weighted"  #: cycles + dram_weight * DRAM words
    JOINT = "joint"  #: cycles / fewest cycles + tiling_joint_weight * DRAM words / fewest DRAM words


# ---- fields that accept unit strings ------------------------------------------------------
class UnitKind(StrEnum):
    """What a unit-accepting numeric field reads from a string."""

    SIZE = "size"  #: bytes, binary units: '128KB' = 131072
    RATE = "rate"  #: bytes/s, decimal units: '16GB/s' = 16e9
    FREQUENCY = "frequency"  #: Hz, decimal units: '1GHz' = 1e9


_NUMBER_PATTERN = r"\s*(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*"
#: kind -> (noun, example, units, JSON-schema pattern of the accepted strings; units are case-insensitive)
_UNIT_HELP = {
    UnitKind.SIZE: ("size", "'128KB'", "B, KB, MB, GB; 1KB = 1024 B",
                    rf"^{_NUMBER_PATTERN}([bB]|[kKmMgG]([iI]?[bB])?)?\s*$"),
    UnitKind.RATE: ("rate", "'16GB/s'", "B/s, KB/s, MB/s, GB/s, TB/s; decimal",
                    rf"^{_NUMBER_PATTERN}[kKmMgGtT]?[bB]/[sS]\s*$"),
    UnitKind.FREQUENCY: ("frequency", "'1GHz'", "Hz, kHz, MHz, GHz",
                         rf"^{_NUMBER_PATTERN}[kKmMgG]?[hH][zZ]\s*$"),
}
_PARSERS: dict[UnitKind, Callable[[str], float]] = {
    UnitKind.SIZE: parse_bytes,
    UnitKind.RATE: parse_rate,
    UnitKind.FREQUENCY: parse_frequency,
}


class AcceptsUnits:
    """``json_schema_extra`` of a field that also takes a unit string: the schema says so too.

    Also the marker the docs table and ``--set`` use to know a field's unit kind.
    """

    def __init__(self, kind: UnitKind) -> None:
        self.kind = kind

    def __call__(self, schema: dict[str, Any]) -> None:
        what, example, units, pattern = _UNIT_HELP[self.kind]
        number = {k: schema.pop(k) for k in list(schema) if k not in ("default", "description", "title")}
        schema["anyOf"] = [number, {"type": "string", "pattern": pattern, "description": f"a {what} such as {example}"}]


def _parse_units(value: Any, kind: UnitKind) -> Any:
    """Turn a unit string into a number; leave anything else for the field's own validation.

    The sign is split off before parsing so that ``'-4KB'`` reaches the range check as
    -4096 and every size field reports "must be > 0" the same way.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    sign = -1 if text[:1] == "-" else 1
    try:
        number = _PARSERS[kind](text[1:] if text[:1] in "+-" else text)
    except ValueError:
        what, example, units, _ = _UNIT_HELP[kind]
        raise PydanticCustomError(kind.value, f"expected a number or a {what} such as {example} ({units})") from None
    return sign * number


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)


class PEArray(_Strict):
    rows: int = Field(16, ge=1, le=4096, strict=True,
                      description="PE rows Pr: split input channels in WS, output rows in OS [paper §3]")
    cols: int = Field(16, ge=1, le=4096, strict=True,
                      description="PE columns Pc: split output channels in WS, output columns in OS [paper §3]")
    mac_bits: int = Field(16, ge=4, le=64, strict=True,
                          description="word width of MACs, activations, weights and partial sums, bits [paper §3]")
    register_file_bytes: int = Field(
        512, ge=0, le=1 << 30, strict=True, json_schema_extra=AcceptsUnits(UnitKind.SIZE),
        description="register file per PE, bytes; must hold a dataflow's per-PE state (WS: weight, input, "
                    "partial sum, + the next weight to double-buffer; OS: input, weight, accumulator) [A] "
                    "(Eyeriss: 0.5 KB)")

    @field_validator("register_file_bytes", mode="before")
    @classmethod
    def _rf_size(cls, value: Any) -> Any:
        return _parse_units(value, UnitKind.SIZE)


class GlobalBuffer(_Strict):
    size_bytes: int = Field(131072, gt=0, le=1 << 34, strict=True, json_schema_extra=AcceptsUnits(UnitKind.SIZE),
                            description="global buffer capacity, bytes; '128KB' accepted, KB = 1024 B [paper §3]")
    double_buffer: bool = Field(True, strict=True,
                                description="split the buffer into two halves so DMA overlaps compute [A]")
    read_ports: int = Field(
        4, ge=1, le=64, strict=True,
        description="buffer read ports serving the PE array per cycle (one per bank of the half the array "
                    "works in), range 1-64; 4: a 32 KB / 128 KB SRAM is built of 8 banks, 4 per ping-pong half [A]")
    port_width_words: int | None = Field(
        None, ge=1, le=4096, strict=True,
        description="words one read port delivers per cycle; null = max(Pr, Pc), one array row or column "
                    "(the width a WS input vector or a row of weights needs) [A]")
    dma_conflict_fraction: float = Field(
        0.0, ge=0.0, le=1.0, strict=True,
        description="fraction of the DMA's buffer cycles that lose a bank conflict to the array while both run "
                    "and are retried, range 0-1; 0: the ping-pong halves are separate banks, so the DMA never "
                    "touches the half the array works in [A]")

    @field_validator("size_bytes", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        return _parse_units(value, UnitKind.SIZE)


class DRAM(_Strict):
    latency_cycles: int = Field(100, ge=0, le=100000, strict=True, description="DRAM access latency, cycles [paper §3]")
    bandwidth_bytes_per_s: float = Field(16e9, ge=1e3, le=1e15, strict=True,
                                         json_schema_extra=AcceptsUnits(UnitKind.RATE),
                                         description="effective DRAM bandwidth, bytes/s; '16GB/s' accepted [paper §3]")

    @field_validator("bandwidth_bytes_per_s", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Any:
        return _parse_units(value, UnitKind.RATE)


class Sparsity(_Strict):
    weight_sparsity: float = Field(0.4, ge=0.0, lt=1.0, strict=True,
                                   description="fraction of zero weights, skipped in OS mode [paper §3]")
    sparse_first_layer: bool = Field(True, strict=True,
                                     description="the first conv is pruned too; false keeps it dense [A]")


class EnergyCosts(_Strict):
    """Energy per 16-bit access, in units of one MAC (Eyeriss's normalised ladder)."""

    mac: float = Field(1.0, ge=0, le=1e9, strict=True, description="one multiply-accumulate, MAC units [Eyeriss]")
    register_file: float = Field(1.0, ge=0, le=1e9, strict=True,
        description="one register-file access, MAC units [Eyeriss]")
    inter_pe: float = Field(2.0, ge=0, le=1e9, strict=True,
        description="one hop between neighbouring PEs, MAC units [Eyeriss]")
    global_buffer: float = Field(6.0, ge=0, le=1e9, strict=True,
        description="one global-buffer access, MAC units [Eyeriss]")
    dram: float = Field(200.0, ge=0, le=1e9, strict=True, description="one DRAM access, MAC units [Eyeriss]")
    scale: float = Field(
        0.216, gt=0, le=10, strict=True,
        description="factor on the on-chip costs (mac, register_file, inter_pe, global_buffer): the paper "
                    "'slightly modified' them for its accelerator and never published them; fitted to "
                    "Table 3 by accelsim calibrate [A]")
    dram_scale: float = Field(
        1.0, gt=0, le=10, strict=True,
        description="factor on the DRAM cost: DRAM is not part of the accelerator whose costs the paper "
                    "modified, so it stays at Eyeriss's 200 (1.0) unless cross-validation demands "
                    "otherwise, range 0.25-4 [A]")


class ModelOptions(_Strict):
    """The model's assumptions ([A] in design/model.md), each a knob."""

    os_output_words_per_cycle: int | None = Field(
        None, ge=1, le=1 << 24, strict=True,
        description="OS drain width, words/cycle; null = Pc (one row per cycle) [A]")
    ws_weight_double_buffer: bool = Field(
        True, strict=True, description="WS loads the next pass's weights while streaming [A]")
    fuse_eltwise: bool = Field(
        True, strict=True, description="residual adds fused into the producing conv (+1 shortcut read) [A]")
    fuse_pool: bool = Field(
        False, strict=True, description="a pooling layer right after a conv is folded into its output write [A]")
    psum_words: int = Field(
        1, ge=1, le=4, strict=True, description="words per stored partial sum: 1 = 16 bit, 2 = 32 bit [A]")
    tiling_cost: TilingCost = Field(TilingCost.LEXICOGRAPHIC, description="how tilings are ranked [A]")
    tiling_dram_weight: float = Field(
        0.0, ge=0, le=1e9, strict=True, description="cycles per DRAM word in the weighted tiling cost [A]")
    tiling_joint_weight: float = Field(
        1.0, ge=0, le=100, strict=True,
        description="weight of the DRAM-access term in the joint tiling cost, cycles/fewest + weight x DRAM "
                    "words/fewest (per layer); 1: 1% more cycles may buy more than 1% fewer DRAM words, "
                    "range 0-100 [A]")
    activation_residency: bool = Field(
        False, strict=True, description="a tensor whose one consumer runs next stays in the global buffer "
                                        "when it fits and pays (no DRAM write/read) [A]")
    layer_overhead_cycles: float = Field(
        0.0, ge=0, le=1e6, strict=True,
        description="fixed cycles each layer the array runs costs beyond its tile pipeline: the controller "
                    "loads the layer's descriptor and reconfigures array and DMA, and the array drains before "
                    "the next layer (one layer at a time); the paper models control logic but gives no number, "
                    "range 0-2000 [A]")


class AreaModel(_Strict):
    """Silicon area per component; ``accelsim.hardware.area.area_of`` turns it into mm² (see there)."""

    technology_nm: float = Field(
        65.0, ge=22, le=65, strict=True,
        description="technology node, nm; 22-65 (CACTI 7's tabulated nodes, interpolated between them); 65 nm "
                    "is Eyeriss's, whose energy ladder the spec uses [A]")
    multiplier_um2: float = Field(
        6350.0, gt=0, strict=True,
        description="32x32-bit multiplier at 40 nm, um²; a MAC's multiplier scales with (mac_bits/32)² "
                    "[Aladdin 40 nm]")
    adder_um2: float = Field(
        278.0, gt=0, strict=True,
        description="32-bit adder at 40 nm, um²; a MAC accumulates in 2*mac_bits bits (linear in width), so a "
                    "16-bit MAC is 6350/4 + 278 = 1865.5 um² [Aladdin 40 nm]")
    register_um2_per_bit: float = Field(
        5.98, gt=0, strict=True,
        description="one register bit at 40 nm, um²; each PE's register file is built of them [Aladdin 40 nm]")
    logic_scaling_exponent: float = Field(
        2.0, ge=1.0, le=3.0, strict=True,
        description="MAC and register area scale as (node / 40 nm)^x from the 40 nm figures; 2 is ideal "
                    "scaling and puts Eyeriss's core within 1% (Stillmaker & Baas's 45->32 nm x0.46 is x = 2.28) "
                    "[A]")
    overhead_fraction: float = Field(
        0.0, ge=0.0, le=1.0, strict=True,
        description="control, NoC and clock tree as a fraction of PE array + register files + buffer; 0: those "
                    "three alone give 12.4 mm² for Eyeriss's 12.25 mm² core at 65 nm [Eyeriss JSSC]")
    fixed_mm2: float = Field(
        0.0, ge=0.0, strict=True,
        description="fixed area outside the core (DMA, I/O, pads), mm²; 0 reports the core (Eyeriss's 16 mm² "
                    "die adds 3.75 mm² of pad ring to its core) [A]")


KnobValue = bool | int | float | str | None


class CalibrationMember(_Strict):
    """One setting of the calibration ensemble: the [A] knobs it sets and how well it did.

    ``knobs`` are dotted spec paths and values (fitted continuous knobs such as ``clock_hz``
    and the structural assumptions of this member). ``cv_error`` is the RMS relative error of
    its held-out predictions over every cross-validation fold, ``fit_error`` the in-sample RMS.
    """

    knobs: tuple[tuple[str, KnobValue], ...] = Field(description="(dotted spec path, value) pairs")
    cv_error: float = Field(ge=0, description="RMS relative error of held-out predictions, all folds")
    fit_error: float = Field(ge=0, description="in-sample RMS relative error of its setting (all rows)")
    fitted_on: str = Field("all rows", description="the rows its knobs were fitted on (all, or a fold's training rows)")

    def knob_dict(self) -> dict[str, KnobValue]:
        return dict(self.knobs)


class CalibrationFold(_Strict):
    """One cross-validation fold of the selected setting: what was held out and the error on it."""

    group: str = Field(description="family, hardware or network")
    held_out: str = Field(description="the group value whose rows were predicted, e.g. 2.0 or 16x16/128KB")
    rows: int = Field(ge=0, description="measured values held out")
    time_error: float | None = Field(None, description="RMS relative error of held-out times/cycles")
    energy_error: float | None = Field(None, description="RMS relative error of held-out energies")


class CalibrationCell(_Strict):
    """One measured value: how well the selected setting fits it in-sample and predicts it held out."""

    network: str
    hardware: str
    layer: str | None = None
    quantity: str = Field(description="cycles, time_rel or energy")
    measured: float
    fit_error: float = Field(description="in-sample relative error (predicted / measured - 1)")
    cv_errors: tuple[tuple[str, float], ...] = Field(
        description="(fold group, relative error when this value was held out)")


class Calibration(_Strict):
    """How a spec was calibrated (``accelsim calibrate``) and the ensemble its bands come from.

    ``members[0]`` is the selected setting (lowest cross-validated error): the spec's own
    values of its knobs. Every member's CV error is within ``tolerance`` of it; the spread of
    the members' predictions is a prediction's band (``accelsim.calibration.bands``).
    """

    data: str = Field(description="the measurements file and its source")
    command: str = Field(description="the accelsim calibrate command that wrote this")
    version: str = Field(description="accelsim version of the fit")
    tolerance: float = Field(ge=0, description="members' CV error is at most best + tolerance")
    settings: int = Field(ge=1, description="structural settings cross-validated")
    folds: tuple[CalibrationFold, ...] = Field(description="the selected setting's error per fold")
    cells: tuple[CalibrationCell, ...] = Field((), description="per measured value: in-sample and held-out error")
    members: tuple[CalibrationMember, ...] = Field(min_length=1, description="the ensemble, best first")


class HardwareSpec(_Strict):
    """A complete, validated accelerator description. Frozen: use ``with_changes``.

    ``HardwareSpec()`` holds the model's defaults: every number from its source (the paper,
    Eyeriss's energy ladder, a design assumption). The paper configurations (``PAPER_16X16``,
    ``PAPER_8X8``, loaded from ``hwconfigs/*.yaml``) set the [A] knobs that ``accelsim calibrate``
    fitted to Table 3 on top (``CALIBRATION``) and carry its ensemble. A YAML spec that lists only
    some fields starts from the calibrated ``PAPER_16X16`` (``accelsim.hardware.load.parse_spec``).
    """

    name: str = Field("custom", min_length=1, description="short label for reports; a YAML file defaults to its stem")
    description: str = Field("", description="free text: where the numbers come from")
    pe_array: PEArray = Field(default_factory=PEArray, description="the PE array")
    global_buffer: GlobalBuffer = Field(default_factory=GlobalBuffer, description="the on-chip global buffer")
    dram: DRAM = Field(default_factory=DRAM, description="off-chip memory behind the DMA engine")
    clock_hz: float = Field(667e6, ge=1e3, le=1e12, strict=True, json_schema_extra=AcceptsUnits(UnitKind.FREQUENCY),
                            description="clock frequency, Hz; '1GHz' accepted; sets DRAM words per cycle; "
                                        "the paper gives none: fitted to Table 3 by accelsim calibrate [A]")
    sparsity: Sparsity = Field(default_factory=Sparsity, description="weight sparsity exploited by OS mode")
    dataflows: tuple[Dataflow, ...] = Field(
        (Dataflow.WS, Dataflow.OS), min_length=1,
        description="dataflows a layer may use (ws, os); the faster is chosen per layer [paper §3]")
    energy: EnergyCosts = Field(default_factory=EnergyCosts, description="energy per access (MAC units)")
    model: ModelOptions = Field(default_factory=ModelOptions, description="modelling assumptions")
    area: AreaModel = Field(default_factory=AreaModel, description="silicon area per component")


    calibration: Calibration | None = Field(
        None, description="provenance and ensemble of `accelsim calibrate` (not a hardware field)")

    @field_validator("clock_hz", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        return _parse_units(value, UnitKind.FREQUENCY)

    @model_validator(mode="after")
    def _register_file_holds_a_dataflow(self) -> HardwareSpec:
        if not any(self.fits_register_file(d) for d in self.dataflows):
            need = ", ".join(f"{d.value.upper()} {self.pe_state_words(d)}" for d in self.dataflows)
            raise PydanticCustomError(
                "register_file",
                "{got} B ({words} words) holds no allowed dataflow's per-PE state (words needed: {need})",
                {"got": self.pe_array.register_file_bytes, "words": self.rf_words, "need": need})
        return self

    @field_validator("dataflows")
    @classmethod
    def _dataflows(cls, value: tuple[Dataflow, ...]) -> tuple[Dataflow, ...]:
        if Dataflow.STREAM in value:
            raise PydanticCustomError("dataflow", "'stream' is implied for pooling/add layers; list only ws and/or os")
        if len(set(value)) != len(value):
            raise PydanticCustomError("dataflow", "each dataflow may be listed once")
        return value

    # ---- derived quantities -------------------------------------------------------------
    @property
    def word_bytes(self) -> float:
        """Bytes per word (2 for 16-bit MACs)."""
        return self.pe_array.mac_bits / 8

    @property
    def buffer_words(self) -> int:
        """Global-buffer capacity in words (both halves when double-buffered)."""
        return int(self.global_buffer.size_bytes // self.word_bytes)

    @property
    def dram_words_per_cycle(self) -> float:
        """DRAM bandwidth in words per clock cycle (16 GB/s at 1 GHz, 2 B words: 8)."""
        return self.dram.bandwidth_bytes_per_s / (self.clock_hz * self.word_bytes)

    @property
    def rf_words(self) -> int:
        """Register-file capacity of one PE, in whole words."""
        return int(self.pe_array.register_file_bytes // self.word_bytes)

    def pe_state_words(self, dataflow: Dataflow) -> int:
        """Words one PE must hold to run ``dataflow`` (the smallest state, no double buffering).

        WS: its stationary weight, the input word passing through and the partial sum passing
        through (``psum_words``). OS: the broadcast weight, its input word and its output's
        accumulator (``psum_words``). Streaming layers (compare/add) hold two operands. [A]
        """
        return 2 + (0 if dataflow is Dataflow.STREAM else self.model.psum_words)

    def fits_register_file(self, dataflow: Dataflow) -> bool:
        """Whether one PE's register file holds ``dataflow``'s per-PE state."""
        return self.pe_state_words(dataflow) <= self.rf_words

    @property
    def ws_weight_double_buffered(self) -> bool:
        """WS loads the next pass's weights while streaming: ``model.ws_weight_double_buffer`` and a
        register file with room for a second weight next to the WS state."""
        return self.model.ws_weight_double_buffer and self.pe_state_words(Dataflow.WS) + 1 <= self.rf_words

    @property
    def port_width(self) -> int:
        """Words per buffer read port per cycle: ``global_buffer.port_width_words`` or max(Pr, Pc)."""
        width = self.global_buffer.port_width_words
        return width if width is not None else max(self.pe_array.rows, self.pe_array.cols)

    @property
    def array_read_width(self) -> int:
        """Buffer words the PE array can read per cycle: ``read_ports x port_width`` (the one
        buffer-port model both dataflows draw from: WS's input vectors and weight loads, OS's
        input windows)."""
        return self.global_buffer.read_ports * self.port_width

    @property
    def os_input_width(self) -> int:
        """OS input path, words/cycle: every read port streams input windows (``array_read_width``)."""
        return self.array_read_width

    @property
    def os_output_width(self) -> int:
        """OS drain path, words/cycle: ``model.os_output_words_per_cycle`` or, when null, Pc."""
        width = self.model.os_output_words_per_cycle
        return width if width is not None else self.pe_array.cols

    @property
    def label(self) -> str:
        """``16x16/128KB``-style label."""
        return f"{self.pe_array.rows}x{self.pe_array.cols}/{format_bytes(self.global_buffer.size_bytes)}"

    def with_changes(self, changes: Mapping[str, Any]) -> HardwareSpec:
        """A new spec with dotted-path changes (``{"dram.latency_cycles": 50}``), re-validated.

        Paths are exact field paths (``accelsim hw schema``); values may be unit strings where
        the field takes them. Raises SpecError (one line: path, what was expected, what was
        given) for an unknown path or an invalid value. Never use ``model_copy(update=...)``:
        it skips validation.
        """
        data = self.model_dump(mode="json")
        for path, value in changes.items():
            _assign(data, path, _plain(value))
        try:
            return HardwareSpec.model_validate(data)
        except ValidationError as exc:
            raise SpecError(format_validation_error(exc, data)) from exc


def _plain(value: Any) -> Any:
    """numpy scalars (from sweeps) as Python numbers, so strict fields accept them."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def _assign(data: dict[str, Any], path: str, value: Any) -> None:
    node: Any = data
    keys = path.split(".")
    for depth, key in enumerate(keys):
        where = ".".join(keys[: depth + 1])
        if not isinstance(node, dict):
            raise SpecError(f"{path}: {'.'.join(keys[:depth])} is a value, not a section")
        if key not in node:
            section = ".".join(keys[:depth])
            choices = closest_first(key, node)
            prefix = f"{section}." if section else ""
            raise SpecError(f"{where}: unknown field; expected one of {', '.join(prefix + c for c in choices)}")
        if depth == len(keys) - 1:
            node[key] = value
        else:
            node = node[key]


# ---- one-line messages from pydantic errors ------------------------------------------------
_MESSAGES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected a string",
    "string_too_short": "must not be empty",
    "too_short": "must list at least {min_length} item(s)",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "enum": "expected one of {expected}",
}
_MISSING = object()


def closest_first(word: str, choices: Iterable[str]) -> list[str]:
    """``choices`` ordered by similarity to ``word`` (ties by name), for "did you mean" lists."""
    def score(choice: str) -> float:
        return difflib.SequenceMatcher(None, word.lower(), choice.lower()).ratio()

    return sorted(choices, key=lambda c: (-score(c), c))


def _section_model(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = HardwareSpec
    for key in loc:
        field = model.model_fields.get(key) if isinstance(key, str) else None
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _lookup(data: Any, loc: tuple[Any, ...]) -> Any:
    for key in loc:
        in_mapping = isinstance(data, dict) and key in data
        in_list = isinstance(data, list | tuple) and isinstance(key, int) and 0 <= key < len(data)
        if not (in_mapping or in_list):
            return _MISSING
        data = data[key]
    return data


def show_value(value: Any) -> str:
    """A value as the user wrote it: YAML spellings for null/booleans, quotes for strings."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bound(value: Any, in_bytes: bool) -> Any:
    """A range bound as people write it: 1.0 -> '1', 17179869184 bytes -> '16GB'."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return format_bytes(value) if in_bytes and value >= 1024 else f"{value:g}"


def _problem(error: Mapping[str, Any], raw: Any) -> tuple[tuple[Any, ...], str]:
    loc = tuple(k for k in error["loc"] if isinstance(k, str | int))
    kind, ctx = error["type"], dict(error.get("ctx") or {})
    if kind == "register_file":  # a whole-spec check, reported at the field it is about
        return ("pe_array", "register_file_bytes"), error["msg"]
    if kind == "extra_forbidden":
        model = _section_model(loc[:-1])
        known = closest_first(str(loc[-1]), model.model_fields) if model else []
        return loc, "unknown field" + (f"; expected one of {', '.join(known)}" if known else "")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        model = _section_model(loc)
        fields = f" with fields {', '.join(model.model_fields)}" if model else ""
        message = f"expected a mapping{fields}"
    elif kind in _MESSAGES:
        in_bytes = str(loc[-1] if loc else "").endswith("_bytes")
        ctx = {k: _bound(v, in_bytes) for k, v in ctx.items()}
        message = _MESSAGES[kind].format(**ctx)
    else:
        message = error["msg"].removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
    given = _lookup(raw, loc)
    return loc, f"{message} (got {show_value(error['input'] if given is _MISSING else given)})"


def format_validation_error(exc: ValidationError, raw: Any = None, *, source: str | None = None,
                            line_of: Callable[[tuple[Any, ...]], int | None] | None = None) -> str:
    """One line for a pydantic error: ``[source[:line]: ]path: what was expected (got value)``.

    ``raw`` is the data that was validated (so "got" shows ``'-4KB'``, not -4096); ``line_of``
    maps an error location to a line of ``source``. When there are several errors the first
    (by line, then field order) is shown and the rest counted: ``(and 2 more)``.
    """
    errors = exc.errors()
    # pydantic adds "too short" after dropping a list's bad items; the item's error says more.
    errors = [e for e in errors if e["type"] != "too_short"
              or not any(len(o["loc"]) > len(e["loc"]) and o["loc"][: len(e["loc"])] == e["loc"] for o in errors)]
    problems = [_problem(error, raw) for error in errors]
    lines = [line_of(loc) if line_of else None for loc, _ in problems]
    order = sorted(range(len(problems)), key=lambda i: (lines[i] is None, lines[i] or 0, i))
    first = order[0]
    loc, message = problems[first]
    where = ".".join(str(k) for k in loc)
    text = f"{where}: {message}" if where else message
    if source is not None:
        text = f"{source}:{lines[first]}: {text}" if lines[first] else f"{source}: {text}"
    if len(problems) > 1:
        text += f" (and {len(problems) - 1} more)"
    return text


# ---- the paper's two configurations ---------------------------------------------------------
#: The code defaults of the two knobs an earlier single-fit calibration set (used only when the
#: packaged paper configurations carry no calibration record), and the reference values of
#: design/model.md (1 GHz, the Eyeriss ladder unscaled). Hand derivations use ``REFERENCE`` on
#: ``HardwareSpec()`` to work in round numbers. The paper configurations' own values are fitted by
#: ``accelsim calibrate`` (``CALIBRATION`` below).
_CALIBRATION_DEFAULTS: Mapping[str, Any] = MappingProxyType({"clock_hz": 667e6, "energy.scale": 0.216})
REFERENCE: Mapping[str, Any] = MappingProxyType({"clock_hz": 1e9, "energy.scale": 1.0})

#: Fields of HardwareSpec that describe how the spec was made, not the hardware: not settable
#: with ``--set``/``--vary``, not in the field table, and no part of a simulation's cache key.
NON_HARDWARE_FIELDS: tuple[str, ...] = ("calibration",)

#: Where the paper configurations live inside the package: ``accelsim/hwconfigs/`` (links to the
#: repository's ``hwconfigs/*.yaml``, written by ``accelsim calibrate``; hwconfigs/README.md has the command).
BUILTIN_DIR = "hwconfigs"


def _builtin(stem: str) -> HardwareSpec:
    """A paper configuration from the package's YAML (``accelsim/hwconfigs/<stem>.yaml``).

    The files are generated by ``spec_to_yaml`` (plain YAML: decimal floats with a dot, unit
    strings the validators read), so the safe loader suffices; strict validation still applies.
    """
    from importlib.resources import files

    import yaml

    text = (files("accelsim") / BUILTIN_DIR / f"{stem}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    try:
        return HardwareSpec.model_validate({"name": stem, **data})
    except ValidationError as exc:  # only if the packaged files and the code disagree
        raise SpecError(f"accelsim/{BUILTIN_DIR}/{stem}.yaml: {format_validation_error(exc, data)}") from exc


#: SqueezeNext §3 with 16x16 PEs and a 128 KB buffer, as calibrated by ``accelsim calibrate``.
PAPER_16X16 = _builtin("paper_16x16")
#: The same accelerator with 8x8 PEs and a 32 KB buffer (SqueezeNext §3), calibrated jointly.
PAPER_8X8 = _builtin("paper_8x8")
#: Paper configurations keyed by array shape, in the paper's order (read-only).
PAPER_CONFIGS: Mapping[str, HardwareSpec] = MappingProxyType({"8x8": PAPER_8X8, "16x16": PAPER_16X16})
#: The fitted [A] knobs of the paper configurations: the selected member of their calibration
#: ensemble (``accelsim calibrate``; hwconfigs/README.md), as dotted path -> value.
CALIBRATION: Mapping[str, Any] = MappingProxyType(
    dict(PAPER_16X16.calibration.members[0].knobs) if PAPER_16X16.calibration else dict(_CALIBRATION_DEFAULTS))


def same_hardware(a: HardwareSpec, b: HardwareSpec) -> bool:
    """Whether two specs describe the same accelerator: every field equal but the labels
    (``name``, ``description``), which change no number."""
    labels = {"name", "description", *NON_HARDWARE_FIELDS}
    return a.model_dump(exclude=labels) == b.model_dump(exclude=labels)


def paper_config_of(spec: HardwareSpec) -> str | None:
    """The key (``"8x8"``/``"16x16"``) of the paper configuration ``spec`` *is* (:func:`same_hardware`),
    or ``None``: a spec that merely shares a paper config's array and buffer is not one."""
    return next((key for key, paper in PAPER_CONFIGS.items() if same_hardware(spec, paper)), None)
