"""The op semantics both importers share: one table, one set of shape rules, one folding rule.

``accelsim.workload.export`` (torch.fx) and ``accelsim.workload.onnx`` (ONNX files) turn very
different inputs into the same :class:`~accelsim.workload.graph.LayerGraph`. Everything that
decides *what a layer is* lives here, so a model cannot mean one thing on one path and another
on the other:

* :data:`TABLE`: every op either importer accepts, what it becomes (a layer kind, an attribute
  folded into the producing layer, or nothing), and its torch and ONNX spellings. The
  importers' "supported:" lists in error messages are generated from it.
* Output-size rules (:func:`conv_out`, :func:`pool_out`, :func:`deconv_out`,
  :func:`same_pads`, :func:`resize_scale`): torch's and ONNX's rules, which agree (a pool's
  ceil mode drops a last window that would start in the right padding).
* Canonical names of folded activations (:func:`leaky`, :func:`clip`) and post-ops.
* :class:`Drafts`: layers under construction and the fold rule. Batch norm, activations and
  cost-free post-ops become attributes of the layer that produced their input; a fold is
  refused when the producer's output is also read elsewhere (the other reader would see a
  different tensor than the graph says).

How data movement is priced (the engine, ``accelsim.engine.work.build_work``): a reshape,
flatten, squeeze or unsqueeze is a view of the same memory (free); a transpose / permute reads
and writes every element once (a streaming layer with no arithmetic); a resize streams its
input once and writes its output once, nearest with no arithmetic and bilinear with 4
multiply-accumulates per output element (the four weighted taps).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from accelsim.errors import WorkloadError
from accelsim.workload.layer import INPUT, Layer, LayerKind

#: Cost-free operations recorded in ``Layer.post_ops``.
POST_OPS = ("dropout", "identity", "lrn", "flatten", "softmax")


@dataclass(frozen=True, slots=True)
class OpRule:
    """One row of the op table.

    Attributes:
        name: the semantic op.
        becomes: a ``LayerKind`` value, ``"bn"`` / ``"act"`` / ``"post_op"`` (folded into the
            producer) or ``"none"`` (constant-folded, or a no-op).
        torch: its spellings in a torch module (classes, functions, methods).
        onnx: its ONNX op types.
    """

    name: str
    becomes: str
    torch: tuple[str, ...]
    onnx: tuple[str, ...]


TABLE: tuple[OpRule, ...] = (
    OpRule("convolution", "conv", ("Conv2d (groups, dilation, padding)",), ("Conv",)),
    OpRule("transposed convolution", "deconv", ("ConvTranspose2d",), ("ConvTranspose",)),
    OpRule("fully connected", "fc", ("Linear",), ("Gemm", "MatMul (constant operand)")),
    OpRule("max pooling", "maxpool", ("MaxPool2d", "AdaptiveMaxPool2d", "max_pool2d"),
           ("MaxPool", "GlobalMaxPool")),
    OpRule("average pooling", "avgpool", ("AvgPool2d", "AdaptiveAvgPool2d", "avg_pool2d", "mean over (H, W)"),
           ("AveragePool", "GlobalAveragePool", "ReduceMean over (H, W)")),
    OpRule("residual add", "add", ("add", "+"), ("Add", "Sum")),
    OpRule("channel concat", "concat", ("cat(dim=1)",), ("Concat (axis 1)",)),
    OpRule("resize", "resize", ("Upsample", "interpolate (nearest, bilinear)"), ("Resize", "Upsample")),
    OpRule("axis permutation", "transpose", ("permute", "transpose"), ("Transpose",)),
    OpRule("view", "reshape", ("view", "reshape", "flatten", "squeeze", "unsqueeze", "Flatten"),
           ("Reshape", "Flatten", "Squeeze", "Unsqueeze")),
    OpRule("batch norm", "bn", ("BatchNorm2d/1d",), ("BatchNormalization", "Mul+Add by per-channel constants")),
    OpRule("activation", "act", ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "Sigmoid", "Tanh", "SiLU", "GELU",
                                 "Hardswish", "Hardsigmoid", "ELU"),
           ("Relu", "Clip", "LeakyRelu", "PRelu", "Sigmoid", "Mul(x, Sigmoid(x)) (SiLU)", "Tanh", "HardSigmoid",
            "HardSwish", "Elu", "Gelu")),
    OpRule("cost-free", "post_op", ("Dropout", "Identity", "LocalResponseNorm", "Softmax"),
           ("Dropout", "Identity", "LRN", "Softmax")),
    OpRule("constants", "none", (), ("Constant", "ConstantOfShape", "Shape", "Gather", "Cast", "Slice", "Concat",
                                     "Reshape", "Unsqueeze", "Squeeze", "Transpose", "Identity", "Add", "Sub", "Mul",
                                     "Div", "Range", "Expand (of constants)")),
)


def supported(importer: str) -> str:
    """The ops one importer (``"torch"`` or ``"onnx"``) accepts, as one line for error messages."""
    spellings: list[str] = []
    for rule in TABLE:
        if rule.becomes == "none" and importer == "onnx":
            spellings.append("constant sub-graphs (" + "/".join(dict.fromkeys(rule.onnx)) + ")")
            continue
        spellings.extend(s for s in getattr(rule, importer) if s not in spellings)
    return ", ".join(spellings)


# ---- canonical names of folded ops ------------------------------------------------------------
def leaky(alpha: float) -> str:
    """LeakyReLU with slope ``alpha`` (``leaky0.1``); float32 noise is rounded away by ``:g``."""
    return f"leaky{alpha:g}"


def clip(low: float | None, high: float | None) -> str:
    """A clamp: ``relu6`` for [0, 6], ``relu`` for [0, inf), else ``clip<low>,<high>``."""
    low = -math.inf if low is None else float(low)
    high = math.inf if high is None else float(high)
    if low == 0 and high == 6:
        return "relu6"
    if low == 0 and high == math.inf:
        return "relu"
    return f"clip{low:g},{high:g}"


# ---- output sizes ---------------------------------------------------------------------------------
def conv_out(where: str, size: int, kernel: int, stride: int, pad_begin: int, pad_end: int,
             dilation: int = 1) -> int:
    """``floor((size + pads - dilation*(kernel-1) - 1) / stride) + 1``; the padded input must hold one window."""
    span = dilation * (kernel - 1) + 1
    room = size + pad_begin + pad_end - span
    if room < 0:
        raise WorkloadError(f"{where}: kernel {kernel} (span {span}) is larger than the padded input "
                            f"{size + pad_begin + pad_end}")
    return room // stride + 1


def pool_out(where: str, size: int, kernel: int, stride: int, pad_begin: int, pad_end: int,
             ceil_mode: bool = False) -> int:
    """A pool's output size; in ceil mode the last window must start inside the input or its left padding."""
    if max(pad_begin, pad_end) > kernel // 2:
        raise WorkloadError(f"{where}: padding {max(pad_begin, pad_end)} exceeds half the kernel {kernel}")
    room = size + pad_begin + pad_end - kernel
    out = (room + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad_begin:
        out -= 1
    if out < 1 or room < 0 and not ceil_mode:
        raise WorkloadError(f"{where}: input {size} is too small for kernel {kernel}, stride {stride}")
    return out


def deconv_out(size: int, kernel: int, stride: int, pad_begin: int, pad_end: int, dilation: int = 1,
               output_padding: int = 0) -> int:
    """A transposed conv's output size: ``(size - 1)*stride - pads + dilation*(kernel - 1) + output_padding + 1``."""
    return (size - 1) * stride - pad_begin - pad_end + dilation * (kernel - 1) + output_padding + 1


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1, *, upper: bool = True) -> tuple[int, int]:
    """``auto_pad=SAME_UPPER/SAME_LOWER``: output ``ceil(size / stride)``; the odd pad goes at the end (UPPER)
    or at the beginning (LOWER)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    small, big = total // 2, total - total // 2
    return (small, big) if upper else (big, small)


def resize_scale(where: str, in_size: int, out_size: int) -> tuple[str, int]:
    """``("up", s)`` or ``("down", s)`` for an integer scale factor; anything else is refused."""
    if out_size >= in_size and out_size % in_size == 0:
        return "up", out_size // in_size
    if out_size < in_size and in_size % out_size == 0:
        return "down", in_size // out_size
    raise WorkloadError(f"{where}: resize {in_size} -> {out_size} is not an integer scale; "
                        "only integer up- and down-sampling factors are modelled")


def tensor_shape(where: str, dims: Sequence[int]) -> tuple[int, int, int]:
    """A batch-1 tensor as the ``(C, H, W)`` the graph stores: ``(1, C, H, W)``, ``(1, A, B)`` -> ``(A, B, 1)``,
    ``(1, F)`` -> ``(F, 1, 1)``; a higher rank (a channel shuffle's ``(1, G, C/G, H, W)``) folds its leading
    axes into the channels, ``(G*C/G, H, W)``."""
    dims = tuple(int(d) for d in dims)
    if len(dims) < 2 or dims[0] != 1:
        raise WorkloadError(f"{where}: tensor of shape {list(dims)}; only batch-1 tensors of rank >= 2 are modelled")
    if len(dims) > 4:
        dims = (1, math.prod(dims[1:-2]), *dims[-2:])
    rest = dims[1:]
    return (*rest, *(1,) * (3 - len(rest)))  # type: ignore[return-value]


# ---- layers under construction ----------------------------------------------------------------------
class Drafts:
    """Draft layers in creation order and the value that currently ends each one.

    A *token* identifies a value in the importer's own terms (an fx node, an ONNX tensor
    name). ``tail[layer]`` is the token of the layer's final output (after its folded ops):
    a fold onto ``layer`` is allowed only when it reads that token and nothing else does.
    """

    def __init__(self) -> None:
        self.drafts: dict[str, dict[str, Any]] = {}
        self.tail: dict[str, Hashable] = {}

    def __contains__(self, name: object) -> bool:
        return name in self.drafts

    def unique(self, base: str, reserved: frozenset[str] | set[str] = frozenset(), owner: str | None = None) -> str:
        """``base``, or ``base_1``, ``base_2``, ... if taken (``reserved`` names belong to others unless ``owner``)."""
        name, n = base, 0
        while name in self.drafts or name == INPUT or (name in reserved and name != owner):
            n += 1
            name = f"{base}_{n}"
        return name

    def add(self, name: str, token: Hashable, **fields: Any) -> str:
        self.drafts[name] = {"name": name, "post_ops": [], **fields}
        self.tail[name] = token
        return name

    def fold(self, where: str, layer: str, token: Hashable, users: int, new_token: Hashable, field: str,
             value: Any) -> None:
        """Record ``field`` (``act``, ``bn`` or ``post_ops``) on ``layer``; its output ``token`` has ``users`` readers.

        Raises:
            WorkloadError: the fold would misstate the graph (the output is read elsewhere,
                BN not straight after a conv/FC, a second activation).
        """
        if layer == INPUT:
            if field == "post_ops":  # a cost-free op on the image changes nothing
                return
            raise WorkloadError(f"{where}: {field} on the network input cannot fold into a producing layer")
        draft = self.drafts[layer]
        alone = self.tail[layer] == token and users == 1
        if field == "post_ops":
            if draft["post_ops"][-1:] != [value]:
                draft["post_ops"].append(value)
        elif not alone:
            raise WorkloadError(f"{where}: reads {layer!r}, whose output is also used elsewhere, "
                                f"so its {field} cannot fold into that layer")
        elif field == "bn" and (not LayerKind(draft["kind"]).has_weights or draft.get("bn") or draft.get("act")
                                or draft["post_ops"]):
            raise WorkloadError(f"{where}: batch norm must directly follow a conv or linear layer, "
                                f"not {layer!r} ({LayerKind(draft['kind'])}{' + act' if draft.get('act') else ''})")
        elif field == "act" and draft.get("act"):
            raise WorkloadError(f"{where}: activation {value!r} after {draft['act']!r} on {layer!r}; "
                                "one activation per layer is supported")
        else:
            draft[field] = value
        if alone:
            self.tail[layer] = new_token

    def layers(self) -> list[Layer]:
        return [Layer(**draft) for draft in self.drafts.values()]
