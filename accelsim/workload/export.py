"""Export a PyTorch ``nn.Module`` to a :class:`LayerGraph` (torch.fx trace + shape propagation).

This is the only accelsim module that imports torch. ``export_module`` traces ``forward`` with
``torch.fx`` and walks the traced nodes in order, propagating shapes: closed-form (torch's own
output-size rules) for the layers it models, and by replaying the call on a ``meta`` tensor for
views, reshapes and size queries. No data and no weights are touched, so exporting AlexNet costs
the same as a toy net. (torch's meta kernels for conv, mean, cat and add pull in ~1 s of lazy
imports on first use, which is why the layer shapes are not computed with them.)

Layers: ``Conv2d`` (op ``dwconv`` when depthwise), ``Linear``, max/avg pooling (module or
functional; adaptive pools as a global pool, or as the equivalent fixed pool when the input
divides evenly; a mean over H and W as a global average pool), element-wise add of equal shapes
and ``cat`` on the channel dim. Folded into the layer that produces their input (not layers):
batch norm (``bn``; straight after a conv/linear only), activations (``act``; after any layer,
e.g. the ReLU after a residual add) and cost-free ``post_ops``: dropout, identity, local
response norm, flatten/view/reshape. A fold is refused when the producer's output is also read
elsewhere, since the graph would then misstate what the other reader sees.

Names: a module call is named by its dotted module path (``s1u1.squeeze1``). A functional op is
named ``<path of the module whose forward calls it>.<kind>`` (``s1u1.add``, ``fire2.concat``),
or ``<kind>`` at the top level, with ``_1``, ``_2`` ... on repeats; scoping by module keeps names
stable when unrelated parts of a network change (fx's global ``add_17`` numbering is not).
Anything else raises :class:`ExportError` naming the module path or fx node.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

import accelsim
from accelsim.errors import ExportError, WorkloadError
from accelsim.workload import ops
from accelsim.workload.graph import LayerGraph
from accelsim.workload.layer import INPUT, Layer, LayerKind, Shape

SUPPORTED = ops.supported("torch")

_ACTIVATIONS: dict[type, str] = {
    nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.SiLU: "silu",
    nn.GELU: "gelu", nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid", nn.ELU: "elu",
}
_POST_OPS: dict[type, str] = {
    nn.Dropout: "dropout", nn.Dropout2d: "dropout", nn.AlphaDropout: "dropout",
    nn.Identity: "identity", nn.LocalResponseNorm: "lrn", nn.Softmax: "softmax",
}
# canonical op -> (positional parameter names, defaults) of its functional form
_SIGNATURES: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "max_pool2d": (("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
                   {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False}),
    "avg_pool2d": (("input", "kernel_size", "stride", "padding", "ceil_mode"),
                   {"stride": None, "padding": 0, "ceil_mode": False}),
    "adaptive_avg_pool2d": (("input", "output_size"), {}),
    "adaptive_max_pool2d": (("input", "output_size", "return_indices"), {"return_indices": False}),
    "add": (("input", "other", "alpha"), {"alpha": 1}),
    "cat": (("tensors", "dim"), {"dim": 0}),
    "mean": (("input", "dim", "keepdim"), {"dim": None, "keepdim": False}),
    "leaky_relu": (("input", "negative_slope"), {"negative_slope": 0.01}),
    "act": (("input",), {}),
    "post_op": (("input",), {"post_op": "dropout"}),
    "reshape": (("input",), {}),
    "permute": (("input",), {}),
    "interpolate": (("input", "size", "scale_factor", "mode", "align_corners"),
                    {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None}),
    "query": (("input",), {}),
}
# call_function target or ".method" -> canonical op (``act:<name>`` for activations)
_FUNCTIONS: dict[Any, str] = {
    operator.add: "add", torch.add: "add", ".add": "add", ".add_": "add",
    torch.cat: "cat", torch.concat: "cat", torch.concatenate: "cat",
    torch.mean: "mean", ".mean": "mean",
    F.max_pool2d: "max_pool2d", F.avg_pool2d: "avg_pool2d",
    F.adaptive_avg_pool2d: "adaptive_avg_pool2d", F.adaptive_max_pool2d: "adaptive_max_pool2d",
    F.leaky_relu: "leaky_relu", F.dropout: "post_op", F.dropout2d: "post_op",
    torch.flatten: "reshape", torch.reshape: "reshape", torch.squeeze: "reshape",
    ".flatten": "reshape", ".view": "reshape", ".reshape": "reshape", ".squeeze": "reshape",
    ".contiguous": "reshape", torch.unsqueeze: "reshape", ".unsqueeze": "reshape",
    torch.permute: "permute", torch.transpose: "permute", ".permute": "permute", ".transpose": "permute",
    F.interpolate: "interpolate", F.softmax: "post_op", torch.softmax: "post_op", ".softmax": "post_op",
    getattr: "query", ".size": "query", ".dim": "query",
    F.relu: "act:relu", torch.relu: "act:relu", torch.relu_: "act:relu", ".relu": "act:relu",
    ".relu_": "act:relu", F.relu6: "act:relu6", torch.sigmoid: "act:sigmoid", F.sigmoid: "act:sigmoid",
    ".sigmoid": "act:sigmoid", torch.tanh: "act:tanh", F.tanh: "act:tanh", ".tanh": "act:tanh",
    F.silu: "act:silu", F.gelu: "act:gelu", F.hardswish: "act:hardswish",
    F.hardsigmoid: "act:hardsigmoid", F.elu: "act:elu",
}


@dataclass(frozen=True, slots=True)
class _Value:
    """A traced tensor: its full shape (batch 1 first), the layer that produced it and its fx node."""

    dims: tuple[int, ...]
    layer: str
    node: torch.fx.Node

    @property
    def shape(self) -> Shape:
        """``(C, H, W)``; a flattened ``(1, F)`` tensor is ``(F, 1, 1)``."""
        return ops.tensor_shape("tensor", self.dims)

    def meta(self) -> torch.Tensor:
        return torch.empty(self.dims, device="meta")


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _out_size(where: str, size: int, kernel: int, stride: int, pad: int, *, ceil_mode: bool = False,
              pool: bool = False, dilation: int = 1) -> int:
    """torch's conv/pool output size along one axis (``accelsim.workload.ops``), with torch's validity checks.

    ``floor((size + 2 pad - kernel [+ stride - 1 if ceil_mode]) / stride) + 1``; in ceil mode the
    last window must start inside the input or its left padding. A conv needs the padded input to
    hold one kernel; a pool only needs one output (its window may overhang in ceil mode).
    """
    try:
        if pool:
            return ops.pool_out(where, size, kernel, stride, pad, pad, ceil_mode)
        return ops.conv_out(where, size, kernel, stride, pad, pad, dilation)
    except WorkloadError as exc:
        raise ExportError(str(exc)) from None


def _lookup(table: Mapping[type, str], module: nn.Module) -> str | None:
    """The entry of the most specific class of ``module`` (``ReLU6`` before its base ``Hardtanh``)."""
    return next((table[cls] for cls in type(module).__mro__ if cls in table), None)


def _module_call(m: nn.Module, x: Any) -> tuple[str, dict[str, Any]] | None:
    """A module call as (canonical op, bound arguments), or ``None`` if unsupported."""
    if isinstance(m, nn.Conv2d):
        return "conv", {"input": x, "module": m}
    if isinstance(m, nn.ConvTranspose2d):
        return "deconv", {"input": x, "module": m}
    if isinstance(m, nn.Upsample):
        return "interpolate", {"input": x, "size": m.size, "scale_factor": m.scale_factor, "mode": m.mode,
                               "align_corners": m.align_corners}
    if isinstance(m, nn.PReLU):
        return "act", {"input": x, "act": "prelu"}
    if isinstance(m, nn.Linear):
        return "linear", {"input": x, "module": m}
    if isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
        return "bn", {"input": x, "module": m}
    if isinstance(m, nn.MaxPool2d):
        return "max_pool2d", {"input": x, "kernel_size": m.kernel_size, "stride": m.stride, "padding": m.padding,
                              "dilation": m.dilation, "ceil_mode": m.ceil_mode, "return_indices": m.return_indices}
    if isinstance(m, nn.AvgPool2d):
        return "avg_pool2d", {"input": x, "kernel_size": m.kernel_size, "stride": m.stride, "padding": m.padding,
                              "ceil_mode": m.ceil_mode}
    if isinstance(m, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d):
        op = "adaptive_max_pool2d" if isinstance(m, nn.AdaptiveMaxPool2d) else "adaptive_avg_pool2d"
        return op, {"input": x, "output_size": m.output_size, "return_indices": getattr(m, "return_indices", False)}
    if isinstance(m, nn.LeakyReLU):
        return "leaky_relu", {"input": x, "negative_slope": m.negative_slope}
    if isinstance(m, nn.Flatten):
        return "reshape", {"input": x, "fn": lambda t: t.flatten(m.start_dim, m.end_dim)}
    if (act := _lookup(_ACTIVATIONS, m)) is not None:
        return "act", {"input": x, "act": act}
    if (post_op := _lookup(_POST_OPS, m)) is not None:
        return "post_op", {"input": x, "post_op": post_op}
    return None


def _function_call(node: torch.fx.Node, args: tuple[Any, ...], kwargs: dict[str, Any]
                   ) -> tuple[str, dict[str, Any]] | None:
    """A call_function / call_method node as (canonical op, bound arguments), or ``None``."""
    key = node.target if node.op == "call_function" else f".{node.target}"
    op = _FUNCTIONS.get(key)  # type: ignore[arg-type]
    if op is None:
        return None
    if op.startswith("act:"):
        op, kwargs = "act", {**kwargs, "act": op[4:]}
    names, defaults = _SIGNATURES[op]
    bound = {**defaults, **dict(zip(names, args, strict=False)), **kwargs}
    if op == "post_op" and "softmax" in str(getattr(node.target, "__name__", node.target)):
        bound["post_op"] = "softmax"
    rest = args[len(names):]
    if op in ("reshape", "permute"):  # replay the exact call on the meta tensor
        method = str(node.target)
        bound["fn"] = ((lambda t: node.target(t, *rest, **kwargs)) if node.op == "call_function"  # type: ignore
                       else (lambda t: getattr(t, method)(*rest, **kwargs)))
    elif op == "query":
        bound["fn"] = ((lambda t: getattr(t, args[1])) if node.op == "call_function"
                       else (lambda t: getattr(t, str(node.target))(*rest, **kwargs)))
    return op, bound


class _Exporter:
    """One export: walks the fx graph, keeps draft layers and the fx node that ends each one."""

    def __init__(self, root: nn.Module, graph: torch.fx.Graph, input_shape: Shape) -> None:
        self.root, self.graph, self.input_shape = root, graph, input_shape
        # layer drafts and, per layer, the node whose output is its final output (after folds)
        self.layers = ops.Drafts()
        self.drafts = self.layers.drafts
        self.module_paths = {str(n.target) for n in graph.nodes if n.op == "call_module"}

    def run(self) -> list[Layer]:
        env: dict[torch.fx.Node, Any] = {}
        if sum(n.op == "placeholder" for n in self.graph.nodes) != 1:
            raise ExportError("forward: expected exactly one input tensor argument")
        for node in self.graph.nodes:
            if node.op == "placeholder":
                env[node] = _Value((1, *self.input_shape), INPUT, node)
            elif node.op == "get_attr":
                raise ExportError(f"{node.target}: unsupported op parameter/buffer read; supported: {SUPPORTED}")
            elif node.op != "output":
                args = torch.fx.node.map_arg(node.args, env.__getitem__)
                kwargs = torch.fx.node.map_arg(node.kwargs, env.__getitem__)
                env[node] = self._call(node, args, kwargs)
        return self.layers.layers()

    def _call(self, node: torch.fx.Node, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if node.op == "call_module":
            module = self.root.get_submodule(str(node.target))
            call, where = _module_call(module, args[0]), str(node.target)
            what = type(module).__name__
        else:
            if not _holds_value((args, kwargs)):  # Python arithmetic on shapes, e.g. x.size(0) * 2
                if node.op == "call_function":
                    return node.target(*args, **kwargs)  # type: ignore[operator]
                return getattr(args[0], str(node.target))(*args[1:], **kwargs)
            call, where = _function_call(node, args, kwargs), self._where(node)
            what = getattr(node.target, "__name__", str(node.target))
        if call is None:
            raise ExportError(f"{where}: unsupported op {what}; supported: {SUPPORTED}")
        op, bound = call
        x = bound.get("input")
        if op in ("conv", "deconv") and getattr(bound["module"], "padding_mode", "zeros") != "zeros":
            raise ExportError(f"{where}: unsupported padding_mode {bound['module'].padding_mode!r}; only 'zeros'")
        if op not in ("add", "cat") and not isinstance(x, _Value):
            raise ExportError(f"{where}: {what} on a non-tensor input")
        return getattr(self, f"_op_{op}")(node, where, x, bound)

    # ---- naming and drafts --------------------------------------------------------------
    @staticmethod
    def _scope(node: torch.fx.Node) -> str:
        stack = node.meta.get("nn_module_stack") or {}
        return next(reversed(stack.values()))[0] if stack else ""

    def _where(self, node: torch.fx.Node) -> str:
        return f"{self._scope(node)}: {node.name}".lstrip(": ")

    def _new_layer(self, node: torch.fx.Node, kind: LayerKind, inputs: Sequence[_Value], out: tuple[int, ...],
                   **fields: Any) -> _Value:
        if node.op == "call_module":
            source = base = str(node.target)
        else:
            source = self._scope(node)
            base = f"{source}.{kind.value}" if source else kind.value
        # module paths are reserved for their modules; repeats and clashes get _1, _2, ...
        name = self.layers.unique(base, self.module_paths, owner=source)
        value = _Value(out, name, node)
        self.layers.add(name, node, kind=kind, inputs=tuple(v.layer for v in inputs), in_shape=inputs[0].shape,
                        out_shape=value.shape, source=source, **fields)
        return value

    def _fold(self, node: torch.fx.Node, where: str, x: _Value, field: str, value: Any,
              out: tuple[int, ...] | None = None) -> _Value:
        """Record ``field`` (``act``, ``bn`` or ``post_ops``) on the layer that produced ``x``."""
        result = _Value(x.dims if out is None else out, x.layer, node)
        try:
            self.layers.fold(where, x.layer, x.node, len(x.node.users), node, field, value)
        except WorkloadError as exc:
            raise ExportError(str(exc)) from None
        return result

    # ---- ops: _op_<canonical op>(node, where, input value, bound arguments) ---------------
    def _op_conv(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        m: nn.Conv2d = b["module"]
        kernel, dilation = _pair(m.kernel_size), _pair(m.dilation)
        span = tuple(d * (k - 1) for k, d in zip(kernel, dilation, strict=True))
        if m.padding == "same" and any(t % 2 for t in span):
            raise ExportError(f"{where}: padding='same' with even kernel {kernel} pads the sides unequally")
        if m.padding == "valid":
            padding = (0, 0)
        elif m.padding == "same":  # an even dilated span: span / 2 on every side
            padding = (span[0] // 2, span[1] // 2)
        else:
            padding = _pair(m.padding)  # type: ignore[arg-type]
        self._need_map(x, where)
        if x.shape[0] != m.in_channels:
            raise ExportError(f"{where}: Conv2d expects {m.in_channels} input channels; got {x.shape[0]}")
        stride = _pair(m.stride)
        out = (1, m.out_channels, *(_out_size(where, x.shape[1 + i], kernel[i], stride[i], padding[i],
                                              dilation=dilation[i]) for i in (0, 1)))
        return self._new_layer(node, LayerKind.CONV, [x], out, kernel=kernel, stride=stride,
                               padding=padding, groups=m.groups, dilation=dilation, bias=m.bias is not None)

    def _op_deconv(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        m: nn.ConvTranspose2d = b["module"]
        self._need_map(x, where)
        if x.shape[0] != m.in_channels:
            raise ExportError(f"{where}: ConvTranspose2d expects {m.in_channels} input channels; got {x.shape[0]}")
        kernel, stride, padding = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)  # type: ignore[arg-type]
        dilation, extra = _pair(m.dilation), _pair(m.output_padding)
        out = (1, m.out_channels, *(ops.deconv_out(x.shape[1 + i], kernel[i], stride[i], padding[i], padding[i],
                                                   dilation[i], extra[i]) for i in (0, 1)))
        return self._new_layer(node, LayerKind.DECONV, [x], out, kernel=kernel, stride=stride, padding=padding,
                               groups=m.groups, dilation=dilation, bias=m.bias is not None)

    def _op_interpolate(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        self._need_map(x, where)
        mode = {"nearest": "nearest", "bilinear": "bilinear"}.get(b["mode"])
        if mode is None:
            raise ExportError(f"{where}: unsupported interpolate mode {b['mode']!r}; only nearest and bilinear")
        size, scale = b["size"], b["scale_factor"]
        if size is not None:
            hw = _pair(size)
        elif scale is not None:
            sh, sw = (scale, scale) if isinstance(scale, int | float) else scale
            hw = (math.floor(x.shape[1] * sh), math.floor(x.shape[2] * sw))
        else:
            raise ExportError(f"{where}: interpolate needs a size or a scale_factor")
        try:
            for i in (0, 1):
                ops.resize_scale(where, x.shape[1 + i], hw[i])
        except WorkloadError as exc:
            raise ExportError(str(exc)) from None
        return self._new_layer(node, LayerKind.RESIZE, [x], (1, x.shape[0], *hw), mode=mode)

    def _op_permute(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        out = tuple(_meta(where, b["fn"], x.meta()).shape)
        return self._data_movement(node, where, x, out, moves=True)

    def _data_movement(self, node: torch.fx.Node, where: str, x: _Value, out: tuple[int, ...], *, moves: bool
                       ) -> _Value:
        """A view (``moves=False``: free) or a permutation (a transpose layer) of ``x``."""
        if out == x.dims:
            return _Value(out, x.layer, node)
        try:
            ops.tensor_shape(where, out)
        except WorkloadError as exc:
            raise ExportError(str(exc)) from None
        kind = LayerKind.TRANSPOSE if moves else LayerKind.RESHAPE
        return self._new_layer(node, kind, [x], out)

    def _op_linear(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        m: nn.Linear = b["module"]
        if len(x.dims) != 2:
            raise ExportError(f"{where}: Linear input must be flattened to (N, features); got {x.dims}")
        if x.shape[0] != m.in_features:
            raise ExportError(f"{where}: Linear expects {m.in_features} input features; got {x.shape[0]}")
        out = (1, m.out_features)
        source = self.drafts[x.layer]["out_shape"] if x.layer != INPUT else self.input_shape
        return self._new_layer(node, LayerKind.FC, [x], out, bias=m.bias is not None, flattened_from=source)

    def _op_bn(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        m = b["module"]
        dims = 4 if isinstance(m, nn.BatchNorm2d) else 2
        if len(x.dims) != dims or x.shape[0] != m.num_features:
            raise ExportError(f"{where}: {type(m).__name__}({m.num_features}) does not fit input {x.dims}")
        return self._fold(node, where, x, "bn", True)

    def _op_act(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        return self._fold(node, where, x, "act", b["act"])

    def _op_leaky_relu(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        return self._fold(node, where, x, "act", ops.leaky(b["negative_slope"]))

    def _op_post_op(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        return self._fold(node, where, x, "post_ops", b["post_op"])

    def _op_max_pool2d(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        if b["return_indices"] or _pair(b["dilation"]) != (1, 1):
            raise ExportError(f"{where}: unsupported max pool with return_indices or dilation != 1")
        return self._pool(node, where, LayerKind.MAXPOOL, x, b)

    def _op_avg_pool2d(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        return self._pool(node, where, LayerKind.AVGPOOL, x, b)

    def _pool(self, node: torch.fx.Node, where: str, kind: LayerKind, x: _Value, b: dict[str, Any]) -> _Value:
        self._need_map(x, where)
        kernel, padding = _pair(b["kernel_size"]), _pair(b["padding"])
        stride = kernel if b["stride"] in (None, ()) else _pair(b["stride"])
        ceil = bool(b["ceil_mode"])
        out = (1, x.shape[0], *(_out_size(where, x.shape[1 + i], kernel[i], stride[i], padding[i], ceil_mode=ceil,
                                          pool=True) for i in (0, 1)))
        if kernel == x.shape[1:] and padding == (0, 0):  # the window covers the whole map
            return self._new_layer(node, kind, [x], out, kernel=kernel, global_pool=True)
        return self._new_layer(node, kind, [x], out, kernel=kernel, stride=stride, padding=padding,
                               ceil_mode=ceil)

    def _op_adaptive_avg_pool2d(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        return self._adaptive(node, where, LayerKind.AVGPOOL, x, b)

    def _op_adaptive_max_pool2d(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        if b["return_indices"]:
            raise ExportError(f"{where}: unsupported adaptive max pool with return_indices")
        return self._adaptive(node, where, LayerKind.MAXPOOL, x, b)

    def _adaptive(self, node: torch.fx.Node, where: str, kind: LayerKind, x: _Value, b: dict[str, Any]) -> _Value:
        """An adaptive pool is the fixed pool with window = stride = input / output, when that divides."""
        self._need_map(x, where)
        _, h, w = x.shape
        size = b["output_size"]
        oh, ow = (size, size) if isinstance(size, int) else size
        oh, ow = oh or h, ow or w  # None keeps the input size
        if h % oh or w % ow:
            raise ExportError(f"{where}: adaptive pool {h}x{w} -> {oh}x{ow} has uneven windows; "
                              "only sizes that divide the input map to a fixed pool")
        return self._pool(node, where, kind, x, {"kernel_size": (h // oh, w // ow), "stride": None,
                                                 "padding": 0, "ceil_mode": False})

    def _op_mean(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        dims = (b["dim"],) if isinstance(b["dim"], int) else tuple(b["dim"] or ())
        if len(x.dims) != 4 or sorted(d % 4 for d in dims) != [2, 3]:
            raise ExportError(f"{where}: unsupported op mean over dims {dims}; only over (H, W) = (2, 3)")
        out = (1, x.shape[0], 1, 1) if b["keepdim"] else (1, x.shape[0])
        return self._new_layer(node, LayerKind.AVGPOOL, [x], out, kernel=x.shape[1:], global_pool=True)

    def _op_add(self, node: torch.fx.Node, where: str, x: Any, b: dict[str, Any]) -> _Value:
        a, other = b["input"], b["other"]
        if not (isinstance(a, _Value) and isinstance(other, _Value)) or b["alpha"] != 1:
            raise ExportError(f"{where}: unsupported op add with a scalar or alpha; only tensor + tensor")
        if a.dims != other.dims:
            raise ExportError(f"{where}: add of shapes {a.dims} and {other.dims}; broadcasting is not supported")
        return self._new_layer(node, LayerKind.ADD, [a, other], a.dims)

    def _op_cat(self, node: torch.fx.Node, where: str, x: Any, b: dict[str, Any]) -> _Value:
        parts = list(b["tensors"])
        if not all(isinstance(p, _Value) for p in parts):
            raise ExportError(f"{where}: cat of non-tensor values")
        first = parts[0].dims
        if b["dim"] % len(first) != 1:
            raise ExportError(f"{where}: unsupported op cat on dim {b['dim']}; only on the channel dim 1")
        if any(len(p.dims) != len(first) or p.dims[2:] != first[2:] for p in parts):
            raise ExportError(f"{where}: cat of shapes {', '.join(str(p.dims) for p in parts)} that differ "
                              "beyond the channel dim")
        out = (1, sum(p.dims[1] for p in parts), *first[2:])
        if len(parts) == 1:
            return _Value(out, parts[0].layer, node)
        value = self._new_layer(node, LayerKind.CONCAT, parts, out)
        # a concat reads its whole output's worth of channels (the zoo's in_ch convention)
        self.drafts[value.layer]["in_shape"] = value.shape
        return value

    def _op_reshape(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> _Value:
        out = tuple(_meta(where, b["fn"], x.meta()).shape)
        numel = math.prod(x.dims)
        if out == x.dims:
            return _Value(out, x.layer, node)
        if out in ((1, numel), (1, numel, 1, 1)):
            return self._fold(node, where, x, "post_ops", "flatten", out)
        return self._data_movement(node, where, x, out, moves=False)

    def _op_query(self, node: torch.fx.Node, where: str, x: _Value, b: dict[str, Any]) -> Any:
        """``x.size(...)``, ``x.dim()``, ``x.shape``: plain values for shape arithmetic."""
        result = _meta(where, b["fn"], x.meta())
        if isinstance(result, torch.Tensor):
            raise ExportError(f"{where}: unsupported op {node.target} returning a tensor; supported: {SUPPORTED}")
        return result

    @staticmethod
    def _need_map(x: _Value, where: str) -> None:
        if len(x.dims) != 4:
            raise ExportError(f"{where}: expects an (N, C, H, W) feature map; got {x.dims}")


def _meta(where: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a view/reshape/size call on a meta tensor; torch's errors become one-line ExportErrors."""
    try:
        return fn(*args, **kwargs)
    except (RuntimeError, ValueError, TypeError, AttributeError, IndexError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ExportError(f"{where}: {first}") from None


def _holds_value(tree: Any) -> bool:
    found: list[bool] = []
    torch.fx.node.map_aggregate(tree, lambda a: found.append(isinstance(a, _Value)) or a)
    return any(found)


def _check_input_shape(input_shape: Sequence[int]) -> Shape:
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape):
        raise ExportError(f"input_shape: expected (C, H, W), 3 positive integers; got {input_shape!r}")
    return shape  # type: ignore[return-value]


class _Bare(nn.Module):
    """Holds a bare torch.nn layer so that it is traced as one call, named by its class (``conv2d``)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.child = type(module).__name__.lower()
        self.add_module(self.child, module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.get_submodule(self.child)(x)


def build_meta(factory: Callable[[], nn.Module]) -> nn.Module:
    """Construct a module on the ``meta`` device: no weight memory, no initialisation cost.

    The export reads only hyper-parameters (channels, kernels, ...), so a meta module exports
    to the same graph; AlexNet builds in ~10 ms instead of ~1 s.
    """
    with torch.device("meta"):
        return factory()


def export_module(module: nn.Module, input_shape: Sequence[int] = (3, 227, 227), name: str | None = None,
                  meta: Mapping[str, Any] | None = None) -> LayerGraph:
    """Trace ``module`` in eval mode and return its layer graph for one ``input_shape`` image.

    Args:
        module: an ``nn.Module`` whose ``forward`` takes one ``(N, C, H, W)`` tensor and that
            ``torch.fx`` can trace; its training flags are restored afterwards.
        input_shape: ``(C, H, W)`` of one input image (batch 1).
        name: the graph's name (default: the module's class name).
        meta: extra JSON-ready facts for ``graph.meta``; ``input_shape`` and
            ``accelsim_version`` are always recorded.

    Raises:
        ExportError: one line naming the module path or fx node of the first op that cannot be
            exported (unsupported op, dilation, a fold that would misstate the graph, ...).
    """
    shape = _check_input_shape(input_shape)
    label = name or type(module).__name__
    modes = [(m, m.training) for m in module.modules()]
    module.eval()  # trace the inference graph: forward may branch on self.training
    tracer = torch.fx.Tracer()
    # a bare nn.Conv2d etc. is wrapped, else fx would trace its internals instead of one call
    root = _Bare(module) if tracer.is_leaf_module(module, "") else module
    try:
        traced = tracer.trace(root)
    except Exception as exc:  # user forward code may raise anything while being traced
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ExportError(f"{label}: torch.fx cannot trace forward(): {first}") from None
    finally:
        for m, mode in modes:
            m.training = mode
    with torch.no_grad():
        layers = _Exporter(root, traced, shape).run()
    if not layers:
        raise ExportError(f"{label}: forward() has no exportable layer (conv, linear, pool, add, cat)")
    graph = LayerGraph(label, shape, {**(meta or {}), "input_shape": list(shape),
                                      "accelsim_version": accelsim.__version__})
    try:
        for layer in layers:
            graph.add(layer)
    except WorkloadError as exc:
        raise ExportError(str(exc)) from None
    return graph


class _LRN(torch.autograd.Function):
    """``F.local_response_norm`` that the ONNX exporter writes as ONNX's own ``LRN`` op.

    torch's TorchScript exporter otherwise spells LRN out as ~60 nodes (Pad, a 3-D
    AveragePool, If, Pow, Div) that no importer recognises as one cost-free normalisation.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, size: int, alpha: float, beta: float, k: float) -> torch.Tensor:
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g: Any, x: Any, size: int, alpha: float, beta: float, k: float) -> Any:
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


ONNX_OPSET = 17


def export_onnx(module: nn.Module, path: str | Any, input_shape: Sequence[int] = (3, 227, 227),
                name: str | None = None, metadata: Mapping[str, str] | None = None) -> None:
    """Write ``module`` (in eval mode, batch 1) as an ONNX file with torch's exporter.

    Batch norm stays a ``BatchNormalization`` node (constant folding off, so it is not fused
    into the conv: the file says what the network is), LRN is ONNX's ``LRN`` op, the input is
    named ``data``, the graph is named ``name`` and ``metadata`` (plus ``accelsim_version`` and
    ``input_shape``) goes into the model's ``metadata_props``. The file is written to a
    temporary name and renamed, so a reader never sees half of it. The module's weights are
    written as they are.

    Raises:
        ExportError: torch cannot export the module (one line).
    """
    import io
    import os
    import warnings
    from pathlib import Path

    import onnx

    shape = _check_input_shape(input_shape)
    target = Path(path)
    modes = [(m, m.training) for m in module.modules()]
    patched = [m for m in module.modules() if isinstance(m, nn.LocalResponseNorm)]
    module.eval()
    for m in patched:
        m.forward = (lambda x, m=m: _LRN.apply(x, m.size, m.alpha, m.beta, m.k))  # type: ignore[method-assign]
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(module, (torch.zeros(1, *shape),), buffer, dynamo=False, opset_version=ONNX_OPSET,
                              do_constant_folding=False, input_names=["data"], output_names=["output"])
    except Exception as exc:  # torch's exporter raises many types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ExportError(f"{name or type(module).__name__}: torch.onnx cannot export it: {first}") from None
    finally:
        for m in patched:
            del m.forward
        for m, mode in modes:
            m.training = mode
    model = onnx.load_from_string(buffer.getvalue())
    model.graph.name = name or type(module).__name__
    props = {**(metadata or {}), "accelsim_version": accelsim.__version__, "input_shape": ",".join(map(str, shape))}
    onnx.helper.set_model_props(model, {k: str(v) for k, v in props.items()})
    model.producer_name, model.producer_version = "accelsim (torch.onnx)", accelsim.__version__
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(model.SerializeToString())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
