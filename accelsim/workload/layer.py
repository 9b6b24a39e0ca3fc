"""One layer of a network, as the simulator sees it.

A ``Layer`` is an immutable record of a compute or data-movement step with its shapes. Batch
norm, bias and activations are attributes of the layer that produces them (they are folded
into that layer's output), never layers of their own. Shapes are ``(channels, height, width)``
for batch size 1; a fully connected layer reads a flattened ``(features, 1, 1)`` input.

Counting conventions (those that reproduce the SqueezeNext paper's printed totals):

* ``macs``: pure multiply-accumulates, ``K * Ho * Wo * (C / g) * kh * kw`` for convolutions
  (dilated or not), ``C * H * W * (K / g) * kh * kw`` for transposed convolutions (every input
  pixel scatters one kernel) and ``K * C`` for fully connected layers; 0 for pooling, add,
  concat, resize and data movement (their arithmetic, if any, is the engine's streaming ops).
* ``macs_paper``: the SqueezeNext paper's convention, pure MACs plus one per conv/FC output
  element (the bias or folded BN scale/shift).
* ``params``: weights + biases + 2 per batch-norm channel (gamma, beta); running statistics
  are buffers, not parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any

from accelsim.errors import WorkloadError

Shape = tuple[int, int, int]
Pair = tuple[int, int]

#: The producer name used for the network's input image.
INPUT = "data"


class LayerKind(StrEnum):
    """Closed set of layer kinds the simulator understands."""

    CONV = "conv"
    FC = "fc"
    MAXPOOL = "maxpool"
    AVGPOOL = "avgpool"
    ADD = "add"
    CONCAT = "concat"
    DECONV = "deconv"  #: transposed convolution (ConvTranspose)
    RESIZE = "resize"  #: nearest / bilinear up- or down-sampling (``mode``)
    TRANSPOSE = "transpose"  #: a permutation of the tensor's axes: moves every element once
    RESHAPE = "reshape"  #: a view of the same memory with another shape: moves nothing

    @property
    def has_weights(self) -> bool:
        return self in (LayerKind.CONV, LayerKind.FC, LayerKind.DECONV)

    @property
    def is_free(self) -> bool:
        """No work of its own: a concat's producers write at offsets, a reshape is a view."""
        return self in (LayerKind.CONCAT, LayerKind.RESHAPE)

    @property
    def is_pool(self) -> bool:
        return self in (LayerKind.MAXPOOL, LayerKind.AVGPOOL)


_QUIET_DEFAULTS: dict[str, Any] = {"dilation": (1, 1), "pad_end": None, "mode": ""}


@dataclass(frozen=True, slots=True)
class Layer:
    """A layer with its shapes and the folded operations that follow it.

    Attributes:
        name: unique within its graph (dotted module path for exported modules).
        kind: what the layer computes.
        inputs: producer layer names, in operand order; ``"data"`` is the network input.
        in_shape: ``(C, H, W)`` of the (first) input; for ``fc`` the flattened ``(C, 1, 1)``.
        out_shape: ``(K, Ho, Wo)``.
        kernel, stride, padding: ``(h, w)`` pairs; padding is the top and left padding.
        pad_end: bottom and right padding when they differ from ``padding`` (ONNX's asymmetric
            ``pads``, ``auto_pad=SAME_*`` with an even total), else ``None``.
        dilation: the kernel's tap spacing (``(1, 1)``: dense).
        mode: how a ``resize`` interpolates (``nearest`` or ``bilinear``); ``""`` otherwise.
        groups: convolution groups (``groups == C`` is depthwise).
        ceil_mode: pooling output size rounds up (Caffe convention).
        global_pool: the pooling window covers the whole map.
        bias, bn, act: folded bias, batch norm (affine) and activation name (``relu``, ...).
        post_ops: other folded, cost-free operations (``lrn``, ``dropout``, ``flatten``).
        flattened_from: for ``fc`` fed by a feature map, that map's ``(C, H, W)``.
        source: where the layer came from (module path, or '' for hand-built graphs).
    """

    name: str
    kind: LayerKind
    inputs: tuple[str, ...]
    in_shape: Shape
    out_shape: Shape
    kernel: Pair = (1, 1)
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    groups: int = 1
    dilation: Pair = (1, 1)
    pad_end: Pair | None = None
    mode: str = ""
    ceil_mode: bool = False
    global_pool: bool = False
    bias: bool = False
    bn: bool = False
    act: str | None = None
    post_ops: tuple[str, ...] = ()
    flattened_from: Shape | None = None
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", LayerKind(self.kind))
        for attr in ("in_shape", "out_shape", "kernel", "stride", "padding", "dilation", "inputs", "post_ops"):
            object.__setattr__(self, attr, tuple(getattr(self, attr)))
        for attr in ("flattened_from", "pad_end"):
            if getattr(self, attr) is not None:
                object.__setattr__(self, attr, tuple(getattr(self, attr)))
        if self.pad_end == self.padding:
            object.__setattr__(self, "pad_end", None)
        where = f"layer {self.name!r}"
        if not self.name:
            raise WorkloadError("layer: name must not be empty")
        if len(self.in_shape) != 3 or len(self.out_shape) != 3:
            raise WorkloadError(f"{where}: shapes must be (C, H, W); got {self.in_shape} -> {self.out_shape}")
        if min(self.in_shape + self.out_shape) < 1:
            raise WorkloadError(f"{where}: every dimension must be >= 1; got {self.in_shape} -> {self.out_shape}")
        if min(self.kernel + self.stride + self.dilation) < 1 or min(self.padding + (self.pad_end or (0, 0))) < 0:
            raise WorkloadError(f"{where}: kernel, stride and dilation must be >= 1 and padding >= 0")
        if self.groups < 1 or self.in_shape[0] % self.groups or self.out_shape[0] % self.groups:
            raise WorkloadError(
                f"{where}: groups={self.groups} must divide in channels {self.in_shape[0]} "
                f"and out channels {self.out_shape[0]}"
            )
        if any(d > 1 and (st > 1 or self.kind is not LayerKind.CONV) for d, st in zip(self.dilation, self.stride,
                                                                                        strict=True)):
            raise WorkloadError(f"{where}: dilation {self.dilation} with stride {self.stride} on a {self.kind}; "
                                "dilation is modelled for stride-1 convolutions only")
        if self.kind is LayerKind.FC and self.in_shape[1:] != (1, 1):
            raise WorkloadError(f"{where}: fc input must be flattened to (C, 1, 1); got {self.in_shape}")
        if not self.inputs:
            raise WorkloadError(f"{where}: needs at least one input")

    # ---- shapes -------------------------------------------------------------------------
    @property
    def in_channels(self) -> int:
        return self.in_shape[0]

    @property
    def out_channels(self) -> int:
        return self.out_shape[0]

    @property
    def out_elements(self) -> int:
        k, ho, wo = self.out_shape
        return k * ho * wo

    @property
    def in_elements(self) -> int:
        c, h, w = self.in_shape
        return c * h * w

    @property
    def is_depthwise(self) -> bool:
        return self.kind is LayerKind.CONV and self.groups > 1 and self.groups == self.in_channels

    @property
    def op(self) -> str:
        """The op name used in ``zoo_layers.json``: ``dwconv`` for depthwise, else the kind."""
        return "dwconv" if self.is_depthwise else self.kind.value

    # ---- counts -------------------------------------------------------------------------
    @property
    def weights(self) -> int:
        """Weight elements (no biases)."""
        if self.kind in (LayerKind.CONV, LayerKind.DECONV):
            kh, kw = self.kernel
            return self.out_channels * (self.in_channels // self.groups) * kh * kw
        if self.kind is LayerKind.FC:
            return self.out_channels * self.in_channels
        return 0

    @property
    def biases(self) -> int:
        return self.out_channels if (self.bias and self.kind.has_weights) else 0

    @property
    def bn_params(self) -> int:
        """Batch-norm gamma and beta (2 per output channel)."""
        return 2 * self.out_channels if self.bn else 0

    @property
    def params(self) -> int:
        """weights + biases + BN gamma/beta (the paper's convention)."""
        return self.weights + self.biases + self.bn_params

    @property
    def macs(self) -> int:
        """Pure multiply-accumulates."""
        if self.kind is LayerKind.CONV:
            kh, kw = self.kernel
            return self.out_elements * (self.in_channels // self.groups) * kh * kw
        if self.kind is LayerKind.DECONV:
            kh, kw = self.kernel
            return self.in_elements * (self.out_channels // self.groups) * kh * kw
        if self.kind is LayerKind.FC:
            return self.out_channels * self.in_channels
        return 0

    @property
    def macs_paper(self) -> int:
        """MACs under the paper's convention: pure MACs + one per conv/FC output element."""
        return self.macs + (self.out_elements if self.kind.has_weights else 0)

    # ---- identity -----------------------------------------------------------------------
    @property
    def signature(self) -> tuple[Any, ...]:
        """Everything that decides the layer's cost, and nothing that names it.

        Two layers with equal signatures simulate identically, so results are memoised by it.
        """
        return (self.kind.value, self.in_shape, self.out_shape, self.kernel, self.stride,
                self.padding, self.groups, self.ceil_mode, self.global_pool, len(self.inputs),
                self.dilation, self.pad_end, self.mode)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists); ``Layer.from_dict`` inverts it exactly.

        ``dilation``, ``pad_end`` and ``mode`` are left out at their defaults, so graphs
        without dilated, asymmetric or resize layers serialise as they always have.
        """
        data = asdict(self)
        for key, default in _QUIET_DEFAULTS.items():
            if data[key] == default:
                del data[key]
        data["kind"] = self.kind.value
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layer:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise WorkloadError(f"layer {data.get('name', '?')!r}: unknown field(s) {', '.join(unknown)}")
        return cls(**data)
