"""A layer's work, normalised for the dataflow models.

:func:`build_work` turns a :class:`~accelsim.workload.layer.Layer` (plus what the network
around it decides: fused residual reads, a fused pooling output, a dense first layer) into a
:class:`Work`: one loop nest over ``k`` (output-channel units), ``c`` (input channels) and
the output map, repeated ``reps`` times.

Grouped convolutions (model.md 3.1):

* **packed** (``Work.packed``): small groups are packed block-diagonally onto the array,
  ``gp = min(Pr // Cg, Pc // Kg)`` groups per pass. The k loop then walks *groups* and the
  input channels follow them (no c loop). Depthwise convs (``Cg = Kg = 1``) pack ``min(Pr,
  Pc)`` groups. model.md packs whenever ``Cg < min(Pr, Pc)``; we pack when ``gp >= 2`` (at
  least two groups share a pass), since with ``gp = 1`` packing is the per-group mapping
  below without its channel tiling, i.e. never better.
* otherwise each group is an independent conv of ``(Cg, Kg)`` and the ``groups`` run back
  to back (``reps = groups``), each with the same tiling.

Streaming layers (pooling, a standalone add) are packed works with one channel per group,
no weights and ``n_inputs`` operand tensors.

Layer kinds that map onto these works (the argument for each is physical, not a fit):

* **dilated conv** (stride 1, dilation ``d``): the output rows ``y = r (mod d)`` read only the
  input rows ``= r - p (mod d)``, so the layer is ``d_h * d_w`` dense convs with the same
  kernel on ``ceil(H / d)``-row sub-maps (space-to-batch, as TensorFlow runs atrous conv);
  ``reps`` multiplies by ``d_h * d_w``. Exact when ``d`` divides the map; else the phases are
  rounded up to the largest one. Phases run back to back like groups, so each phase fetches
  the (shared) weights again: an upper bound on weight traffic, tight when the weights are
  small next to the maps (the atrous layers of segmentation heads).
* **transposed conv** (stride ``s``): each of the ``s_h * s_w`` output phases is a dense conv
  of kernel ``ceil(k / s)`` over the input map (sub-pixel decomposition, Shi et al. 2016), so
  no MAC is spent on the zeros a naive zero-insertion would multiply. Exact when ``s``
  divides ``k``.
* **resize**: a streaming layer tiled over the coarser grid. Upsampling by ``s`` walks the
  input map, each position writing its ``s`` x ``s`` outputs (1 x 1 window for nearest, 2 x 2
  for bilinear's neighbours); downsampling walks the output map with stride ``s``. Nearest
  does no arithmetic; bilinear does 4 multiply-accumulates per output element. Its output
  tile is counted on that grid, so an upsample's buffer footprint understates the output
  tile by ``s^2`` (the written words are counted in full).
* **transpose** (permute): a streaming pass that reads every element once and writes it once
  in the new order, with no arithmetic. **reshape** (a view) is free, like a concat.

Inter-layer residency (``model.activation_residency``, planned by
``accelsim.simulation.plan_fusion``): a resident input is already in the global buffer (the
previous layer left it there), so it costs no DRAM words and no staging tile; a resident
output stays in the buffer for the next layer, so its final values are never written to
DRAM. The resident tensors occupy ``reserved_words`` of the buffer for the whole layer; the
tiles share what is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from accelsim.hardware.spec import HardwareSpec
from accelsim.workload.layer import Layer, LayerKind, Shape


class WorkKind(StrEnum):
    CONV = "conv"  #: convolution or fully connected layer (MACs on the array: WS or OS)
    STREAM = "stream"  #: pooling or element-wise add streamed through the array
    FREE = "free"  #: no work (concat: producers write at offsets)


@dataclass(frozen=True, slots=True)
class Work:
    """One repetition's loop nest and the layer-wide facts the models need.

    Attributes:
        name, kind: the layer's name (for messages) and what kind of work it is.
        groups: groups per repetition (> 1 only when packed).
        k_per_group, c_per_group: output / input channels per group (Kg, Cg).
        reps: repetitions run back to back (groups of a large-group conv).
        in_hw, out_hw: ``(H, W)`` of the input map and ``(Ho, Wo)`` of the output map.
        kernel, stride, padding: ``(R, S)``, ``(sy, sx)``, ``(py, px)``.
        n_inputs: operand tensors read per output (1; 2 for a standalone residual add).
        has_weights: False for streaming layers.
        sigma: weight sparsity the OS dataflow skips (0 for a dense first layer).
        shortcut_tensors: residual operands read at this layer's output write (fused add).
        final_out_words: words of the final output per repetition (smaller with a fused pool).
        ops: array operations of a streaming layer (compares / adds), whole layer.
        macs: pure MACs of the whole layer.
        input_resident: the (single) input tensor is resident in the global buffer: no DRAM
            reads, read in place (no input tile in the footprint).
        output_resident: the final output stays in the global buffer: no final DRAM write
            (partial-sum spills, if a loop order makes any, still go to DRAM).
        reserved_words: buffer words held by resident tensors during the layer (whole
            tensors, one copy each); the tiles get ``buffer_words - reserved_words``.
    """

    name: str
    kind: WorkKind
    groups: int
    k_per_group: int
    c_per_group: int
    reps: int
    in_hw: tuple[int, int]
    out_hw: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    n_inputs: int = 1
    has_weights: bool = True
    sigma: float = 0.0
    shortcut_tensors: int = 0
    final_out_words: int = 0
    ops: int = 0
    macs: int = 0
    input_resident: bool = False
    output_resident: bool = False
    reserved_words: int = 0

    @property
    def packed(self) -> bool:
        """Groups packed onto the array: the k loop walks groups and inputs follow k."""
        return self.groups > 1

    @property
    def k_units(self) -> int:
        """Trip units of the k loop: groups when packed, else output channels."""
        return self.groups if self.packed else self.k_per_group

    @property
    def c_units(self) -> int:
        """Trip units of the c loop: 1 when packed (inputs follow k), else input channels."""
        return 1 if self.packed else self.c_per_group

    @property
    def out_channels(self) -> int:
        """Output channels per repetition."""
        return self.groups * self.k_per_group

    @property
    def in_channels(self) -> int:
        """Input channels per repetition."""
        return self.groups * self.c_per_group

    @property
    def taps(self) -> int:
        return self.kernel[0] * self.kernel[1]

    @property
    def out_words(self) -> int:
        """Output elements per repetition (before any fused pooling)."""
        return self.out_channels * self.out_hw[0] * self.out_hw[1]

    @property
    def weight_words(self) -> int:
        """Weights per repetition (dense storage: zeros are stored and moved)."""
        return self.out_channels * self.c_per_group * self.taps if self.has_weights else 0


def pack_factor(c_per_group: int, k_per_group: int, spec: HardwareSpec) -> int:
    """Groups that share one WS pass when packed block-diagonally (model.md eq. 3.4)."""
    return min(spec.pe_array.rows // c_per_group, spec.pe_array.cols // k_per_group)


def build_work(
    layer: Layer,
    spec: HardwareSpec,
    *,
    dense: bool = False,
    shortcut_tensors: int = 0,
    pooled_shape: Shape | None = None,
    input_resident: bool = False,
    output_resident: bool = False,
    reserved_words: int = 0,
) -> Work:
    """Normalise ``layer`` for the engine.

    Args:
        dense: the layer's weights are not pruned (the network's first conv with
            ``sparsity.sparse_first_layer=False``): OS skips nothing.
        shortcut_tensors: residual operands fused into this layer's output write.
        pooled_shape: output shape of a pooling layer fused into this layer's output write.
        input_resident, output_resident, reserved_words: inter-layer residency (see
            :class:`Work`); a resident input needs a single-input layer.
    """
    c, h, w = layer.in_shape
    k, ho, wo = layer.out_shape
    if input_resident and len(layer.inputs) != 1:
        raise ValueError(f"{layer.name}: a resident input needs a single-input layer; it has {len(layer.inputs)}")
    if reserved_words < 0:
        raise ValueError(f"{layer.name}: reserved_words must be >= 0; got {reserved_words}")
    common = dict(name=layer.name, in_hw=(h, w), out_hw=(ho, wo), input_resident=input_resident,
                  output_resident=output_resident, reserved_words=reserved_words)
    if layer.kind.is_free:
        return Work(kind=WorkKind.FREE, groups=1, k_per_group=k, c_per_group=c, reps=1, kernel=(1, 1),
                    stride=(1, 1), padding=(0, 0), has_weights=False, **common)
    if layer.kind.is_pool or layer.kind is LayerKind.ADD:
        if layer.kind is LayerKind.ADD:
            kernel, stride, padding, n_inputs = (1, 1), (1, 1), (0, 0), len(layer.inputs)
            ops = k * ho * wo * max(n_inputs - 1, 1)
        elif layer.global_pool:
            kernel, stride, padding, n_inputs = (h, w), (1, 1), (0, 0), 1
            ops = c * h * w
        else:
            kernel, stride, padding, n_inputs = layer.kernel, layer.stride, layer.padding, 1
            ops = k * ho * wo * kernel[0] * kernel[1]
        return Work(kind=WorkKind.STREAM, groups=k, k_per_group=1, c_per_group=1, reps=1, kernel=kernel,
                    stride=stride, padding=padding, n_inputs=n_inputs, has_weights=False,
                    final_out_words=k * ho * wo, ops=ops, **common)
    if layer.kind in (LayerKind.RESIZE, LayerKind.TRANSPOSE):
        return _stream_movement(layer, common)
    kernel, stride, padding = layer.kernel, layer.stride, layer.padding
    phases = 1  # sub-convolutions of a dilated or transposed conv (module docstring)
    if layer.kind is LayerKind.FC:  # a 1x1 conv on a 1x1 map
        kernel, stride, padding = (1, 1), (1, 1), (0, 0)
    elif layer.kind is LayerKind.DECONV:
        kernel = tuple(-(-kk // s) for kk, s in zip(layer.kernel, layer.stride, strict=True))  # type: ignore
        out_hw = tuple(-(-o // s) for o, s in zip((ho, wo), layer.stride, strict=True))
        padding = tuple(max(o - i + kk - 1, 0) // 2 for o, i, kk in zip(out_hw, (h, w), kernel, strict=True))
        phases, stride, (ho, wo) = layer.stride[0] * layer.stride[1], (1, 1), out_hw  # type: ignore
    elif layer.dilation != (1, 1):
        d = layer.dilation
        in_hw = tuple(-(-n // di) for n, di in zip((h, w), d, strict=True))
        out_hw = tuple(-(-n // di) for n, di in zip((ho, wo), d, strict=True))
        padding = tuple(-(-p // di) for p, di in zip(padding, d, strict=True))
        phases, (h, w), (ho, wo) = d[0] * d[1], in_hw, out_hw  # type: ignore
    if phases > 1:
        common.update(in_hw=(h, w), out_hw=(ho, wo))
    g = layer.groups
    cg, kg = c // g, k // g
    packed = g > 1 and pack_factor(cg, kg, spec) >= 2
    groups, reps = (g, phases) if packed else (1, g * phases)
    words = pooled_shape[0] * pooled_shape[1] * pooled_shape[2] if pooled_shape else k * ho * wo * phases
    final = words // reps
    return Work(
        kind=WorkKind.CONV,
        groups=groups,
        k_per_group=kg,
        c_per_group=cg,
        reps=reps,
        kernel=kernel,
        stride=stride,
        padding=padding,
        sigma=0.0 if dense else spec.sparsity.weight_sparsity,
        shortcut_tensors=shortcut_tensors,
        final_out_words=final,
        macs=layer.macs,
        **common,
    )


def _stream_movement(layer: Layer, common: dict) -> Work:  # type: ignore[type-arg]
    """A resize or transpose as a streaming work (module docstring)."""
    c, h, w = layer.in_shape
    k, ho, wo = layer.out_shape
    out_words = k * ho * wo
    if layer.kind is LayerKind.TRANSPOSE:  # read each element once, write it once
        grid, kernel, stride, ops = (h, w), (1, 1), (1, 1), 0
    else:
        taps = 2 if layer.mode == "bilinear" else 1
        grid_l, stride_l = [], []
        for n_in, n_out in ((h, ho), (w, wo)):
            up = n_out >= n_in
            grid_l.append(n_in if up else n_out)
            stride_l.append(1 if up else n_in // n_out)
        grid, kernel, stride = tuple(grid_l), (taps, taps), tuple(stride_l)
        ops = 4 * out_words if layer.mode == "bilinear" else 0
    common = {**common, "out_hw": grid}
    return Work(kind=WorkKind.STREAM, groups=c, k_per_group=1, c_per_group=1, reps=1, kernel=kernel,
                stride=stride, padding=(0, 0), n_inputs=1, has_weights=False, final_out_words=out_words,
                ops=ops, **common)
