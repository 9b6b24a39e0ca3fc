"""The hardware spec: a PE array, a global buffer, DRAM, energy costs and model options.

Units are in the field names. Sizes accept strings such as ``"128KB"`` (KB = 1024 B),
bandwidths ``"16GB/s"`` (decimal), clocks ``"1GHz"``. Every modelling assumption of
``design/model.md`` marked [A] is a field of ``ModelOptions`` with its default and a
one-line description, so a study can change it from YAML or ``--set``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from accelsim.units import parse_bytes, parse_frequency, parse_rate


class Dataflow(StrEnum):
    """How a layer is mapped onto the PE array."""

    WS = "ws"  #: weight stationary: a Pr x Pc block of weights stays in the array
    OS = "os"  #: output stationary (SOC-MOP): a Pr x Pc block of one output map accumulates
    STREAM = "stream"  #: pooling / element-wise layers streamed through the array


class TilingCost(StrEnum):
    """How the tiling optimiser ranks candidate tilings."""

    LEXICOGRAPHIC = "lexicographic"  #: fewest cycles, then fewest DRAM words, then compute cycles
    WEIGHTED = "weighted"  #: cycles + dram_weight * DRAM words


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class PEArray(_Strict):
    rows: int = Field(16, ge=1, le=4096, description="PE rows Pr (split input channels in WS, output rows in OS)")
    cols: int = Field(16, ge=1, le=4096, description="PE columns Pc (split output channels in WS, output cols in OS)")
    mac_bits: int = Field(16, ge=4, le=64, description="word width of MACs, activations, weights and psums (bits)")
    register_file_bytes: int = Field(512, ge=0, description="register file per PE (bytes); Eyeriss uses 0.5 KB")

    @field_validator("register_file_bytes", mode="before")
    @classmethod
    def _rf_size(cls, value: Any) -> Any:
        return parse_bytes(value, "register_file_bytes") if isinstance(value, str) else value


class GlobalBuffer(_Strict):
    size_bytes: int = Field(131072, gt=0, le=1 << 34, description="global buffer capacity (bytes; '128KB' accepted)")
    double_buffer: bool = Field(True, description="[A] split the buffer in two halves so DMA overlaps compute")

    @field_validator("size_bytes", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        return parse_bytes(value, "size_bytes") if isinstance(value, str) else value


class DRAM(_Strict):
    latency_cycles: int = Field(100, ge=0, le=100000, description="DRAM access latency (cycles) [paper]")
    bandwidth_bytes_per_s: float = Field(16e9, gt=0, description="effective DRAM bandwidth (bytes/s; '16GB/s' accepted)")

    @field_validator("bandwidth_bytes_per_s", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Any:
        return parse_rate(value, "bandwidth_bytes_per_s") if isinstance(value, str) else value


class Sparsity(_Strict):
    weight_sparsity: float = Field(0.4, ge=0.0, lt=1.0, description="fraction of zero weights skipped in OS mode [paper]")
    sparse_first_layer: bool = Field(True, description="[A] the first conv is pruned too (False keeps it dense)")


class EnergyCosts(_Strict):
    """Energy per 16-bit access, in units of one MAC (Eyeriss's normalised ladder)."""

    mac: float = Field(1.0, ge=0, description="one multiply-accumulate")
    register_file: float = Field(1.0, ge=0, description="one register-file access")
    inter_pe: float = Field(2.0, ge=0, description="one hop between neighbouring PEs (array network)")
    global_buffer: float = Field(6.0, ge=0, description="one global-buffer access")
    dram: float = Field(200.0, ge=0, description="one DRAM access")


class ModelOptions(_Strict):
    """The model's assumptions ([A] in design/model.md), each a knob."""

    os_input_words_per_cycle: int | None = Field(
        None, ge=1, description="[A] OS input path width (words/cycle); None = Pr*Pc (whole-block read)")
    os_output_words_per_cycle: int | None = Field(
        None, ge=1, description="[A] OS drain width (words/cycle); None = Pc (one row per cycle)")
    ws_weight_double_buffer: bool = Field(True, description="[A] WS loads the next pass's weights while streaming")
    fuse_eltwise: bool = Field(True, description="[A] residual adds fused into the producing conv (+1 shortcut read)")
    fuse_pool: bool = Field(False, description="[A] a pooling layer right after a conv is folded into its output write")
    psum_words: int = Field(1, ge=1, le=4, description="[A] words per stored partial sum (1 = 16 bit, 2 = 32 bit)")
    tiling_cost: TilingCost = Field(TilingCost.LEXICOGRAPHIC, description="[A] how tilings are ranked")
    tiling_dram_weight: float = Field(0.0, ge=0, description="[A] cycles per DRAM word in the weighted tiling cost")


class HardwareSpec(_Strict):
    """A complete, validated accelerator description. Frozen: use ``with_changes``."""

    name: str = Field("custom", min_length=1, description="a short label for reports")
    description: str = Field("", description="free text: where the numbers come from")
    pe_array: PEArray = Field(default_factory=PEArray, description="the PE array")
    global_buffer: GlobalBuffer = Field(default_factory=GlobalBuffer, description="the on-chip global buffer")
    dram: DRAM = Field(default_factory=DRAM, description="off-chip memory behind the DMA engine")
    clock_hz: float = Field(1e9, gt=0, description="[A] clock frequency (Hz; '1GHz' accepted)")
    sparsity: Sparsity = Field(default_factory=Sparsity, description="weight sparsity exploited by OS mode")
    dataflows: tuple[Dataflow, ...] = Field(
        (Dataflow.WS, Dataflow.OS), min_length=1, description="dataflows a layer may use; the fastest is chosen")
    energy: EnergyCosts = Field(default_factory=EnergyCosts, description="energy per access (MAC units)")
    model: ModelOptions = Field(default_factory=ModelOptions, description="modelling assumptions")

    @field_validator("clock_hz", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        return parse_frequency(value, "clock_hz") if isinstance(value, str) else value

    @field_validator("dataflows")
    @classmethod
    def _dataflows(cls, value: tuple[Dataflow, ...]) -> tuple[Dataflow, ...]:
        if Dataflow.STREAM in value:
            raise ValueError("'stream' is implied for pooling/add layers; list only 'ws' and/or 'os'")
        if len(set(value)) != len(value):
            raise ValueError("each dataflow may be listed once")
        return value

    # ---- derived quantities -------------------------------------------------------------
    @property
    def word_bytes(self) -> float:
        return self.pe_array.mac_bits / 8

    @property
    def buffer_words(self) -> int:
        """Global-buffer capacity in words."""
        return int(self.global_buffer.size_bytes // self.word_bytes)

    @property
    def dram_words_per_cycle(self) -> float:
        """DRAM bandwidth in words per clock cycle (16 GB/s at 1 GHz, 2 B words: 8)."""
        return self.dram.bandwidth_bytes_per_s / (self.clock_hz * self.word_bytes)

    @property
    def label(self) -> str:
        """``16x16/128KB``-style label."""
        from accelsim.units import format_bytes

        return f"{self.pe_array.rows}x{self.pe_array.cols}/{format_bytes(self.global_buffer.size_bytes)}"

    def with_changes(self, changes: dict[str, Any]) -> HardwareSpec:
        """A new spec with dotted-path changes (``{"dram.latency_cycles": 50}``), re-validated.

        Never use ``model_copy(update=...)``: it skips validation.
        """
        data = self.model_dump(mode="json")
        for path, value in changes.items():
            node = data
            *parents, leaf = path.split(".")
            for key in parents:
                node = node[key]
            node[leaf] = value
        return HardwareSpec.model_validate(data)
