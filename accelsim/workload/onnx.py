"""Import an ONNX model as a :class:`~accelsim.workload.graph.LayerGraph`.

``import_onnx("model.onnx")`` walks the graph's nodes in order and builds the same graph the
torch exporter builds for the same network (``accelsim.workload.ops`` holds the op table, the
shape rules and the fold rule both paths share):

* **Shapes are inferred here**, node by node, from the data input's shape and the weights'
  shapes; ``value_info`` is never read, so a file without it imports the same.
* **Constant sub-graphs are folded**: ``Constant``, ``ConstantOfShape``, ``Shape`` of a tensor
  whose shape is known, and any node whose inputs are all constants (``Gather``/``Unsqueeze``/
  ``Concat`` chains that compute a reshape target, ``Transpose``/``Reshape``/``Identity`` of
  an initializer) are evaluated with numpy (or ONNX's reference evaluator for rarer ops).
  Weights are never converted: only their shapes are read, unless a value is needed (a
  ``Clip`` bound, a reshape target, resize scales).
* **The data input** is the one graph input that is not an initializer (old exporters list
  the weights as inputs too). A symbolic or zero batch dim is 1; a symbolic channel or
  spatial dim needs ``input_shape`` (the CLI's ``--input-shape C,H,W``).
* **Layers**: ``Conv`` (groups, dilations, strides, asymmetric ``pads``, every ``auto_pad``,
  kernel from the weight's shape), ``ConvTranspose``, ``Gemm`` (alpha/beta/transA/transB)
  and ``MatMul`` by a constant as fully connected, pools (ceil mode, pads, global), ``Add``/
  ``Sum`` of tensors (residual), ``Concat`` on channels, ``Resize``/``Upsample``, ``Transpose``
  and the views ``Reshape``/``Flatten``/``Squeeze``/``Unsqueeze`` (a flatten folds as in the
  torch path).
* **Folded into the producing layer**: ``BatchNormalization``, a per-channel ``Mul`` (scale:
  the layer gets ``bn``) and ``Add`` of a constant (bias, or a BN's shift), activations,
  ``LRN``, ``Dropout``, ``Identity``, ``Softmax``.

Anything else raises :class:`~accelsim.errors.WorkloadError` on one line naming the op
type, the node and the supported ops. Node names become layer names: ``/s1u1/conv1/Conv`` is
``s1u1.conv1`` (slashes to dots, a trailing op-type component dropped, other characters
outside ``[A-Za-z0-9_.-]`` to ``_``), made unique with ``_1``, ``_2``, ...
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

import accelsim
from accelsim.errors import WorkloadError
from accelsim.limits import ONNX_FILE_MAX_BYTES, format_size, read_input_file, regular_file_size
from accelsim.workload import ops
from accelsim.workload.graph import LayerGraph
from accelsim.workload.layer import INPUT, LayerKind, Shape

SUPPORTED = ops.supported("onnx")

_ACTS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSwish": "hardswish",
         "HardSigmoid": "hardsigmoid", "Elu": "elu", "PRelu": "prelu", "Gelu": "gelu", "Selu": "selu"}
_POST = {"Dropout": "dropout", "Identity": "identity", "LRN": "lrn", "Softmax": "softmax",
         "LogSoftmax": "softmax"}
_VIEWS = ("Reshape", "Flatten", "Squeeze", "Unsqueeze")
_ELEMENTWISE = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power,
                "Equal": np.equal, "Less": np.less, "Greater": np.greater, "Max": np.maximum, "Min": np.minimum}


@dataclass(frozen=True, slots=True)
class _Tensor:
    """A runtime tensor: its full dims (batch 1 first) and the layer that produced it."""

    dims: tuple[int, ...]
    layer: str
    token: str  #: the ONNX tensor name (the fold rule's token)

    @property
    def shape(self) -> Shape:
        return ops.tensor_shape(self.token, self.dims)


class _Const:
    """A constant: its dims always, its value on demand (initializers, and ``ConstantOfShape``
    fills, which some files use for every weight, are materialised only if read)."""

    def __init__(self, value: np.ndarray | None = None, proto: onnx.TensorProto | None = None,
                 fill: tuple[tuple[int, ...], np.ndarray] | None = None) -> None:
        self._value, self.proto, self.fill = value, proto, fill
        if value is not None:
            self.dims: tuple[int, ...] = tuple(value.shape)
        else:
            self.dims = tuple(fill[0]) if fill is not None else tuple(proto.dims)  # type: ignore[union-attr]

    @property
    def value(self) -> np.ndarray:
        if self._value is None:
            if self.fill is not None:
                self._value = np.full(self.fill[0], self.fill[1].reshape(-1)[0], dtype=self.fill[1].dtype)
            else:
                self._value = numpy_helper.to_array(self.proto)  # type: ignore[arg-type]
        return self._value


def _check_external_data(model: onnx.ModelProto, source: Path, model_bytes: int) -> None:
    """The external weight files a model names must be regular files (a FIFO would block the
    loader) and, with the model, within ``ONNX_FILE_MAX_BYTES``; one line naming the file."""
    total = model_bytes
    seen: set[Path] = set()
    for tensor in model.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        path = source.parent / location
        if path in seen:
            continue
        seen.add(path)
        total += regular_file_size(path, f"the external weight data of {source}", WorkloadError)
        if total > ONNX_FILE_MAX_BYTES:
            raise WorkloadError(f"{source}: the model and its external weight data ({path} and before) are "
                                f"larger than the {format_size(ONNX_FILE_MAX_BYTES)} limit for an ONNX model")


def _load(source: str | Path | bytes | onnx.ModelProto) -> tuple[onnx.ModelProto, str]:
    if isinstance(source, onnx.ModelProto):
        return source, source.graph.name or "model"
    if isinstance(source, bytes):
        model, where = onnx.ModelProto(), "model"
        data = source
    else:
        where = str(source)
        data = read_input_file(source, ONNX_FILE_MAX_BYTES, "an ONNX model file", WorkloadError)
        model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError: not ONNX, or cut short
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise WorkloadError(f"{where}: not a readable ONNX model ({first}); expected a .onnx protobuf file") from None
    if not model.graph.node or model.ir_version < 1:
        raise WorkloadError(f"{where}: not an ONNX model (no graph nodes or no IR version); "
                            "expected a .onnx protobuf file")
    if not isinstance(source, bytes) and any(t.data_location == onnx.TensorProto.EXTERNAL
                                             for t in model.graph.initializer):
        _check_external_data(model, Path(source), len(data))
        try:
            onnx.load_external_data_for_model(model, str(Path(source).parent))
        except OSError as exc:
            raise WorkloadError(f"{where}: external weight data: {exc}") from None
    return model, where


def _sanitise(node: onnx.NodeProto) -> str:
    parts = [p for p in re.split(r"[/]+", node.name) if p]
    if len(parts) > 1 and re.fullmatch(rf"{re.escape(node.op_type)}(_\d+)?", parts[-1]):
        parts = parts[:-1]
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", ".".join(parts))
    return name or node.op_type.lower()


def _attrs(node: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class _Importer:
    def __init__(self, model: onnx.ModelProto, where: str, input_shape: Sequence[int] | None) -> None:
        self.model, self.where = model, where
        self.graph = model.graph
        self.env: dict[str, _Tensor | _Const] = {}
        self.layers = ops.Drafts()
        self.users: Counter[str] = Counter(i for n in self.graph.node for i in n.input if i)
        self.users.update(o.name for o in self.graph.output)
        self.readers: dict[str, list[onnx.NodeProto]] = {}
        for n in self.graph.node:
            for i in dict.fromkeys(n.input):
                self.readers.setdefault(i, []).append(n)
        self.silu: dict[str, _Tensor] = {}  # Sigmoid output -> its input, when Mul(x, Sigmoid(x)) follows
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        self.input_shape = self._data_input(input_shape)

    # ---- inputs -------------------------------------------------------------------------------
    def _data_input(self, given: Sequence[int] | None) -> Shape:
        inits = {t.name for t in self.graph.initializer} | {t.values.name for t in self.graph.sparse_initializer}
        for t in self.graph.initializer:
            self.env[t.name] = _Const(proto=t)
        for t in self.graph.sparse_initializer:
            self.env[t.values.name] = _Const(_dense(t))
        data = [i for i in self.graph.input if i.name not in inits]
        if len(data) != 1:
            names = ", ".join(repr(i.name) for i in data) or "none"
            raise WorkloadError(f"{self.where}: expected one data input (a graph input that is not an initializer); "
                                f"got {names}")
        value = data[0]
        dims: list[int | str] = []
        for d in value.type.tensor_type.shape.dim:
            dims.append(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else (d.dim_param or "?"))
        if len(dims) not in (2, 3, 4):
            raise WorkloadError(f"{self.where}: input {value.name!r} has shape {dims}; expected (N, C, H, W)")
        dims[0] = 1  # a symbolic or zero batch is one image
        if given is not None:
            shape = tuple(int(d) for d in given)
            if len(shape) != len(dims) - 1 or min(shape) < 1:
                raise WorkloadError(f"{self.where}: --input-shape {','.join(map(str, shape))} does not fit input "
                                    f"{value.name!r} of rank {len(dims)}; expected {len(dims) - 1} positive integers")
            clash = [(a, b) for a, b in zip(dims[1:], shape, strict=True) if isinstance(a, int) and a != b]
            if clash and dims[1] != shape[0]:
                raise WorkloadError(f"{self.where}: --input-shape gives {shape[0]} channels; input {value.name!r} "
                                    f"has {dims[1]}")
            dims = [1, *shape]
        symbolic = [d for d in dims[1:] if not isinstance(d, int)]
        if symbolic:
            raise WorkloadError(f"{self.where}: input {value.name!r} has symbolic dims {dims[1:]}; "
                                "pass --input-shape C,H,W (input_shape=(C, H, W))")
        full = tuple(int(d) for d in dims)
        self.env[value.name] = _Tensor(full, INPUT, value.name)
        return ops.tensor_shape(value.name, full)

    # ---- the walk ------------------------------------------------------------------------------
    def run(self) -> list[Any]:
        for node in self.graph.node:
            self._node(node)
        for out in self.graph.output:
            if out.name not in self.env:
                raise WorkloadError(f"{self.where}: graph output {out.name!r} is never produced "
                                    "(a truncated or malformed model?)")
        return self.layers.layers()

    def _get(self, node: onnx.NodeProto, name: str) -> _Tensor | _Const:
        try:
            return self.env[name]
        except KeyError:
            raise WorkloadError(f"{self.where}: node {node.name!r} ({node.op_type}) reads {name!r}, which no earlier "
                                "node produces (nodes must be in topological order)") from None

    def _node(self, node: onnx.NodeProto) -> None:
        if node.domain not in ("", "ai.onnx"):
            self._unsupported(node, f"{node.domain}.{node.op_type}")
        args = [None if not name else self._get(node, name) for name in node.input]
        present = [a for a in args if a is not None]
        where = f"{self.where}: node {node.name or node.op_type!r} ({node.op_type})"
        if node.op_type in ("Constant", "ConstantOfShape") or (present and all(isinstance(a, _Const)
                                                                              for a in present)):
            self._fold_constants(node, args, where)
            return
        if node.op_type == "Shape":
            start, end = _attrs(node).get("start", 0), _attrs(node).get("end", None)
            self.env[node.output[0]] = _Const(np.array(args[0].dims[start:end], dtype=np.int64))  # type: ignore
            return
        handler = getattr(self, f"_op_{node.op_type}", None)
        if handler is None:
            self._unsupported(node, node.op_type)
        self.env[node.output[0]] = handler(node, where, args, _attrs(node))

    def _unsupported(self, node: onnx.NodeProto, op: str) -> None:
        raise WorkloadError(f"{self.where}: node {node.name!r}: unsupported op {op}; supported: {SUPPORTED}")

    # ---- constants ----------------------------------------------------------------------------
    def _fold_constants(self, node: onnx.NodeProto, args: list[Any], where: str) -> None:
        a = _attrs(node)
        op = node.op_type
        if op == "ConstantOfShape":
            fill = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            self.env[node.output[0]] = _Const(fill=(tuple(int(d) for d in args[0].value.reshape(-1)), fill))
            return
        if op == "Identity" and args:
            self.env[node.output[0]] = args[0]
            return
        vals = [None if x is None else x.value for x in args]
        try:
            if op == "Constant":
                out = _constant_attr(a, where)
            elif op == "Cast":
                out = vals[0].astype(helper.tensor_dtype_to_np_dtype(a["to"]))
            elif op == "Transpose":
                out = np.transpose(vals[0], a.get("perm"))
            elif op == "Reshape":
                out = vals[0].reshape(_reshape_dims(vals[0].shape, vals[1], a.get("allowzero", 0)))
            elif op == "Unsqueeze":
                axes = a.get("axes", vals[1] if len(vals) > 1 else None)
                out = vals[0]
                for ax in sorted(int(x) % (out.ndim + len(axes)) for x in axes):
                    out = np.expand_dims(out, ax)
            elif op == "Squeeze":
                axes = a.get("axes", vals[1] if len(vals) > 1 and vals[1] is not None else None)
                out = np.squeeze(vals[0], None if axes is None else tuple(int(x) for x in axes))
            elif op == "Concat":
                out = np.concatenate([v for v in vals if v is not None], axis=a["axis"])
            elif op == "Gather":
                out = np.take(vals[0], vals[1], axis=a.get("axis", 0))
            elif op == "Shape":
                out = np.array(vals[0].shape[a.get("start", 0):a.get("end", None)], dtype=np.int64)
            elif op in _ELEMENTWISE:
                out = _ELEMENTWISE[op](vals[0], vals[1])
                if op == "Div" and np.issubdtype(vals[0].dtype, np.integer):
                    out = (vals[0] // vals[1]).astype(vals[0].dtype)
                elif out.dtype != vals[0].dtype and op not in ("Equal", "Less", "Greater"):
                    out = out.astype(vals[0].dtype)
            else:
                out = self._reference(node, args)
        except WorkloadError:
            raise
        except Exception as exc:
            raise WorkloadError(f"{where}: cannot evaluate this constant sub-graph ({exc})") from None
        outs = out if isinstance(out, list) else [out]
        for name, value in zip(node.output, outs, strict=False):
            self.env[name] = _Const(np.asarray(value))

    def _reference(self, node: onnx.NodeProto, args: list[Any]) -> list[np.ndarray]:
        """A rarer all-constant node, evaluated by ONNX's reference implementation."""
        from onnx.reference import ReferenceEvaluator

        feeds = {name: arg.value for name, arg in zip(node.input, args, strict=True) if name}
        inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
                  for n, v in feeds.items()]
        outputs = [helper.make_empty_tensor_value_info(o) for o in node.output if o]
        g = helper.make_graph([node], "fold", inputs, outputs)
        m = helper.make_model(g, opset_imports=list(self.model.opset_import))
        return list(ReferenceEvaluator(m).run(None, feeds))

    # ---- helpers ------------------------------------------------------------------------------
    def _tensor(self, where: str, arg: Any, what: str = "input") -> _Tensor:
        if not isinstance(arg, _Tensor):
            raise WorkloadError(f"{where}: {what} must be a runtime tensor, not a constant")
        return arg

    def _const(self, where: str, arg: Any, what: str) -> _Const:
        if not isinstance(arg, _Const):
            raise WorkloadError(f"{where}: {what} must be a constant (an initializer or a constant sub-graph); "
                                "it is computed from the data input")
        return arg

    def _map(self, where: str, x: _Tensor) -> None:
        if len(x.dims) != 4:
            raise WorkloadError(f"{where}: expects an (N, C, H, W) feature map; got {list(x.dims)}")

    def _new(self, node: onnx.NodeProto, kind: LayerKind, inputs: Sequence[_Tensor], out: tuple[int, ...],
             **fields: Any) -> _Tensor:
        name = self.layers.unique(_sanitise(node))
        token = node.output[0]
        self.layers.add(name, token, kind=kind, inputs=tuple(t.layer for t in inputs), in_shape=inputs[0].shape,
                        out_shape=ops.tensor_shape(node.name, out), source=node.name, **fields)
        return _Tensor(tuple(out), name, token)

    def _fold(self, node: onnx.NodeProto, where: str, x: _Tensor, field: str, value: Any,
              out: tuple[int, ...] | None = None) -> _Tensor:
        self.layers.fold(where, x.layer, x.token, self.users[x.token], node.output[0], field, value)
        return _Tensor(x.dims if out is None else tuple(out), x.layer, node.output[0])

    def _pads(self, where: str, a: dict[str, Any], in_hw: Sequence[int], kernel: Sequence[int],
              stride: Sequence[int], dilation: Sequence[int]) -> tuple[tuple[int, int], tuple[int, int]]:
        """``(begin, end)`` pads of the two spatial axes, from ``pads`` or ``auto_pad``."""
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else str(auto)
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            pairs = [ops.same_pads(in_hw[i], kernel[i], stride[i], dilation[i], upper=auto == "SAME_UPPER")
                     for i in (0, 1)]
            return (pairs[0][0], pairs[1][0]), (pairs[0][1], pairs[1][1])
        if auto == "VALID":
            return (0, 0), (0, 0)
        if auto != "NOTSET":
            raise WorkloadError(f"{where}: unknown auto_pad {auto!r}; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID")
        pads = list(a.get("pads", [0, 0, 0, 0]))
        if len(pads) != 4:
            raise WorkloadError(f"{where}: pads {pads} must have 4 entries (top, left, bottom, right)")
        return (int(pads[0]), int(pads[1])), (int(pads[2]), int(pads[3]))

    # ---- layers -------------------------------------------------------------------------------
    def _op_Conv(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        x = self._tensor(where, args[0])
        w = self._const(where, args[1], "the weight")
        self._map(where, x)
        if len(w.dims) != 4:
            raise WorkloadError(f"{where}: weight of shape {list(w.dims)}; only 2-D convolutions are modelled")
        k_out, c_per_group, kh, kw = w.dims
        kernel = (kh, kw)
        if "kernel_shape" in a and tuple(a["kernel_shape"]) != kernel:
            raise WorkloadError(f"{where}: kernel_shape {list(a['kernel_shape'])} disagrees with the weight's "
                                f"{list(kernel)}")
        groups = int(a.get("group", 1))
        c = x.dims[1]
        if c_per_group * groups != c:
            raise WorkloadError(f"{where}: weight expects {c_per_group * groups} input channels "
                                f"({c_per_group} x group {groups}); got {c}")
        stride = tuple(a.get("strides", (1, 1)))
        dilation = tuple(a.get("dilations", (1, 1)))
        begin, end = self._pads(where, a, x.dims[2:], kernel, stride, dilation)  # type: ignore[arg-type]
        out = (1, k_out, *(ops.conv_out(where, x.dims[2 + i], kernel[i], stride[i], begin[i], end[i], dilation[i])
                           for i in (0, 1)))
        bias = len(args) > 2 and args[2] is not None
        return self._new(node, LayerKind.CONV, [x], out, kernel=kernel, stride=stride, padding=begin, pad_end=end,
                         groups=groups, dilation=dilation, bias=bias)

    def _op_ConvTranspose(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        x = self._tensor(where, args[0])
        w = self._const(where, args[1], "the weight")
        self._map(where, x)
        if len(w.dims) != 4:
            raise WorkloadError(f"{where}: weight of shape {list(w.dims)}; only 2-D convolutions are modelled")
        c, k_per_group, kh, kw = w.dims
        groups = int(a.get("group", 1))
        if c != x.dims[1]:
            raise WorkloadError(f"{where}: weight expects {c} input channels; got {x.dims[1]}")
        kernel, stride = (kh, kw), tuple(a.get("strides", (1, 1)))
        dilation, extra = tuple(a.get("dilations", (1, 1))), tuple(a.get("output_padding", (0, 0)))
        if "output_shape" in a:  # the pads follow from the requested size (ONNX's rule, SAME_UPPER split)
            want = list(a["output_shape"])[-2:]
            total = [stride[i] * (x.dims[2 + i] - 1) + extra[i] + (kernel[i] - 1) * dilation[i] + 1 - want[i]
                     for i in (0, 1)]
            lower = a.get("auto_pad", b"") in (b"SAME_LOWER", "SAME_LOWER")
            begin = tuple((t + 1) // 2 if lower else t // 2 for t in total)
            end = tuple(t - b for t, b in zip(total, begin, strict=True))
        else:
            auto = a.get("auto_pad", b"NOTSET")
            auto = auto.decode() if isinstance(auto, bytes) else auto
            if auto in ("SAME_UPPER", "SAME_LOWER"):
                total = [max(stride[i] * (x.dims[2 + i] - 1) + extra[i] + (kernel[i] - 1) * dilation[i] + 1
                             - x.dims[2 + i] * stride[i], 0) for i in (0, 1)]
                begin = tuple(t - t // 2 if auto == "SAME_LOWER" else t // 2 for t in total)
                end = tuple(t - b for t, b in zip(total, begin, strict=True))
            else:
                pads = [0, 0, 0, 0] if auto == "VALID" else list(a.get("pads", [0, 0, 0, 0]))
                begin, end = (pads[0], pads[1]), (pads[2], pads[3])
        if min(begin + end) < 0:
            raise WorkloadError(f"{where}: output_shape asks for negative padding")
        out = (1, k_per_group * groups, *(ops.deconv_out(x.dims[2 + i], kernel[i], stride[i], begin[i], end[i],
                                                         dilation[i], extra[i]) for i in (0, 1)))
        bias = len(args) > 2 and args[2] is not None
        return self._new(node, LayerKind.DECONV, [x], out, kernel=kernel, stride=stride, padding=begin,
                         pad_end=end, groups=groups, dilation=dilation, bias=bias)

    def _fc(self, node: onnx.NodeProto, where: str, x: _Tensor, features: int, outputs: int, bias: bool) -> _Tensor:
        if len(x.dims) != 2:
            raise WorkloadError(f"{where}: a fully connected input must be flattened to (N, features); "
                                f"got {list(x.dims)}")
        if x.dims[1] != features:
            raise WorkloadError(f"{where}: weight expects {features} input features; got {x.dims[1]}")
        source = self.layers.drafts[x.layer]["out_shape"] if x.layer != INPUT else self.input_shape
        return self._new(node, LayerKind.FC, [x], (1, outputs), bias=bias, flattened_from=source)

    def _op_Gemm(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        x = self._tensor(where, args[0], "operand A")
        w = self._const(where, args[1], "operand B (the weight)")
        if len(w.dims) != 2 or len(x.dims) != 2:
            raise WorkloadError(f"{where}: Gemm operands must be 2-D; got {list(x.dims)} and {list(w.dims)}")
        if a.get("transA", 0):  # A^T must be (1, F): A is (F, 1)
            if x.dims[1] != 1:
                raise WorkloadError(f"{where}: transA=1 needs A of shape (features, 1); got {list(x.dims)}")
            x = _Tensor((1, x.dims[0]), x.layer, x.token)
        features, outputs = (w.dims[1], w.dims[0]) if a.get("transB", 0) else w.dims
        bias = len(args) > 2 and args[2] is not None and float(a.get("beta", 1.0)) != 0.0
        return self._fc(node, where, x, features, outputs, bias)

    def _op_MatMul(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        x = self._tensor(where, args[0], "operand A")
        w = self._const(where, args[1], "operand B (the weight)")
        if len(w.dims) != 2:
            raise WorkloadError(f"{where}: MatMul by a constant of shape {list(w.dims)}; only a 2-D weight "
                                "(features, outputs) is modelled, as a fully connected layer")
        return self._fc(node, where, x, w.dims[0], w.dims[1], False)

    def _pool(self, node: onnx.NodeProto, where: str, kind: LayerKind, x: _Tensor, a: dict[str, Any]) -> _Tensor:
        self._map(where, x)
        kernel = tuple(a.get("kernel_shape", ()))
        if len(kernel) != 2:
            raise WorkloadError(f"{where}: kernel_shape {list(kernel)}; only 2-D pooling is modelled")
        stride = tuple(a.get("strides", (1, 1)))
        if tuple(a.get("dilations", (1, 1))) != (1, 1):
            raise WorkloadError(f"{where}: pooling dilations {list(a['dilations'])}; only 1 is modelled")
        begin, end = self._pads(where, a, x.dims[2:], kernel, stride, (1, 1))
        ceil = bool(a.get("ceil_mode", 0))
        out = (1, x.dims[1], *(ops.pool_out(where, x.dims[2 + i], kernel[i], stride[i], begin[i], end[i], ceil)
                               for i in (0, 1)))
        if kernel == x.dims[2:] and begin == end == (0, 0):  # the window covers the whole map
            return self._new(node, kind, [x], out, kernel=kernel, global_pool=True)
        return self._new(node, kind, [x], out, kernel=kernel, stride=stride, padding=begin, pad_end=end,
                         ceil_mode=ceil)

    def _op_MaxPool(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        if len([o for o in node.output if o]) > 1 and self.users[node.output[1]]:
            raise WorkloadError(f"{where}: MaxPool's Indices output is read; unpooling is not modelled")
        return self._pool(node, where, LayerKind.MAXPOOL, self._tensor(where, args[0]), a)

    def _op_AveragePool(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        return self._pool(node, where, LayerKind.AVGPOOL, self._tensor(where, args[0]), a)

    def _global(self, node: onnx.NodeProto, where: str, kind: LayerKind, x: _Tensor, keep: bool = True) -> _Tensor:
        self._map(where, x)
        out = (1, x.dims[1], 1, 1) if keep else (1, x.dims[1])
        return self._new(node, kind, [x], out, kernel=x.dims[2:], global_pool=True)

    def _op_GlobalAveragePool(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        return self._global(node, where, LayerKind.AVGPOOL, self._tensor(where, args[0]))

    def _op_GlobalMaxPool(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        return self._global(node, where, LayerKind.MAXPOOL, self._tensor(where, args[0]))

    def _op_ReduceMean(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        x = self._tensor(where, args[0])
        axes = a.get("axes")
        if axes is None and len(args) > 1 and args[1] is not None:
            axes = self._const(where, args[1], "axes").value.tolist()
        if len(x.dims) != 4 or sorted(int(d) % 4 for d in (axes or ())) != [2, 3]:
            raise WorkloadError(f"{where}: ReduceMean over axes {axes}; only over (H, W) = (2, 3) is modelled")
        return self._global(node, where, LayerKind.AVGPOOL, x, keep=bool(a.get("keepdims", 1)))

    def _op_Add(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        tensors = [t for t in args if isinstance(t, _Tensor)]
        if len(tensors) == len(args):
            return self._residual(node, where, tensors)
        return self._affine(node, where, args, "shift")

    def _op_Sum(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        if not all(isinstance(t, _Tensor) for t in args):
            raise WorkloadError(f"{where}: Sum of a constant; only a sum of tensors (residual) is modelled")
        if len(args) == 1:
            return self._alias(node, args[0])  # type: ignore[arg-type]
        return self._residual(node, where, args)  # type: ignore[arg-type]

    def _residual(self, node: onnx.NodeProto, where: str, tensors: list[_Tensor]) -> _Tensor:
        if any(t.dims != tensors[0].dims for t in tensors):
            raise WorkloadError(f"{where}: add of shapes {', '.join(str(list(t.dims)) for t in tensors)}; "
                                "broadcasting is not supported")
        return self._new(node, LayerKind.ADD, tensors, tensors[0].dims)

    def _op_Sigmoid(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        """A Sigmoid whose only reader is ``Mul(x, Sigmoid(x))`` is half of a SiLU (how torch exports nn.SiLU)."""
        x = self._tensor(where, args[0])
        readers = self.readers.get(node.output[0], [])
        if (len(readers) == 1 and readers[0].op_type == "Mul" and set(readers[0].input) == {x.token, node.output[0]}
                and self.users[x.token] == 2 and self.users[node.output[0]] == 1):
            self.silu[node.output[0]] = x
            return _Tensor(x.dims, x.layer, node.output[0])
        return self._act(node, where, args, "sigmoid")

    def _op_Mul(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        gate = next((self.silu[t.token] for t in args if isinstance(t, _Tensor) and t.token in self.silu), None)
        if gate is not None:  # x * sigmoid(x): one folded activation; x's two readers are this one op
            self.layers.fold(where, gate.layer, gate.token, 1, node.output[0], "act", "silu")
            return _Tensor(gate.dims, gate.layer, node.output[0])
        if all(isinstance(t, _Tensor) for t in args):
            raise WorkloadError(f"{self.where}: node {node.name!r}: unsupported op Mul of two tensors (gating); "
                                f"supported: {SUPPORTED}")
        return self._affine(node, where, args, "scale")

    def _op_Sub(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        return self._affine(node, where, args, "shift")

    def _op_Div(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        if not isinstance(args[1], _Const):
            raise WorkloadError(f"{where}: division by a tensor; only by a constant is modelled")
        return self._affine(node, where, args, "scale")

    def _affine(self, node: onnx.NodeProto, where: str, args: list[Any], part: str) -> _Tensor:
        """``x * c`` / ``x + c`` with a per-channel (or scalar) constant: a folded scale or shift."""
        x = next(t for t in args if isinstance(t, _Tensor))
        c = next(t for t in args if isinstance(t, _Const))
        channels = x.dims[1]
        dims = tuple(c.dims)
        trimmed = dims[1:] if len(dims) == len(x.dims) and dims[:1] == (1,) else dims
        ok = math.prod(dims) == 1 or (math.prod(trimmed) == channels and (len(x.dims) == 2 and len(trimmed) == 1
                                                                           or trimmed[1:] == (1,) * (len(trimmed) - 1)
                                                                           and len(trimmed) == len(x.dims) - 1))
        if not ok:
            raise WorkloadError(f"{where}: {node.op_type} by a constant of shape {list(dims)}; only per-channel "
                                f"({channels}) or scalar constants fold into the producing layer")
        if x.layer == INPUT:  # input normalisation: cost-free, like any post-op on the image
            return _Tensor(x.dims, INPUT, node.output[0])
        draft = self.layers.drafts[x.layer]
        alone = self.layers.tail[x.layer] == x.token and self.users[x.token] == 1
        if not alone or not LayerKind(draft["kind"]).has_weights or draft.get("act") or draft["post_ops"]:
            raise WorkloadError(f"{where}: {node.op_type} by a constant after {x.layer!r} cannot fold; a per-channel "
                                "scale or shift folds only straight after a conv or fully connected layer whose "
                                "output nothing else reads")
        if part == "scale":
            if not draft.get("bn"):
                return self._fold(node, where, x, "bn", True)
        elif not (draft.get("bn") or draft.get("bias")):
            draft["bias"] = True  # an added per-channel constant is the layer's bias
        self.layers.tail[x.layer] = node.output[0]
        return _Tensor(x.dims, x.layer, node.output[0])

    def _op_BatchNormalization(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]
                               ) -> _Tensor:
        x = self._tensor(where, args[0])
        if len([o for o in node.output if o]) > 1:
            raise WorkloadError(f"{where}: BatchNormalization in training mode (running-stat outputs); "
                                "export the model in eval mode")
        scale = self._const(where, args[1], "scale")
        if math.prod(scale.dims) != x.dims[1]:
            raise WorkloadError(f"{where}: BatchNormalization of {math.prod(scale.dims)} channels on "
                                f"{list(x.dims)}")
        return self._fold(node, where, x, "bn", True)

    def _op_Concat(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        parts = [t for t in args if t is not None]
        if not all(isinstance(p, _Tensor) for p in parts):
            raise WorkloadError(f"{where}: Concat of a constant with tensors is not modelled")
        first = parts[0].dims  # type: ignore[union-attr]
        if int(a.get("axis", 0)) % len(first) != 1:
            raise WorkloadError(f"{where}: Concat on axis {a.get('axis')}; only on the channel axis 1 is modelled")
        if any(len(p.dims) != len(first) or p.dims[2:] != first[2:] for p in parts):  # type: ignore[union-attr]
            raise WorkloadError(f"{where}: concat of shapes that differ beyond the channel axis")
        out = (1, sum(p.dims[1] for p in parts), *first[2:])  # type: ignore[union-attr]
        if len(parts) == 1:
            return self._alias(node, parts[0])  # type: ignore[arg-type]
        value = self._new(node, LayerKind.CONCAT, parts, out)  # type: ignore[arg-type]
        self.layers.drafts[value.layer]["in_shape"] = value.shape  # the zoo's in_ch convention
        return value

    # ---- views, data movement, resize -------------------------------------------------------
    def _view(self, node: onnx.NodeProto, where: str, x: _Tensor, out: tuple[int, ...], moves: bool = False
              ) -> _Tensor:
        numel = math.prod(x.dims)
        if math.prod(out) != numel:
            raise WorkloadError(f"{where}: reshape {list(x.dims)} -> {list(out)} changes the element count")
        if out == x.dims:  # a no-op: its output stands for x
            return self._alias(node, x)
        if not moves and out in ((1, numel), (1, numel, 1, 1)):
            return self._fold(node, where, x, "post_ops", "flatten", out)
        ops.tensor_shape(where, out)
        return self._new(node, LayerKind.TRANSPOSE if moves else LayerKind.RESHAPE, [x], out)

    def _alias(self, node: onnx.NodeProto, x: _Tensor) -> _Tensor:
        """A no-op node's output: ``x`` under a new name (the fold tail moves along if this is its only reader)."""
        if x.layer != INPUT and self.layers.tail.get(x.layer) == x.token and self.users[x.token] == 1:
            self.layers.tail[x.layer] = node.output[0]
        return _Tensor(x.dims, x.layer, node.output[0])

    def _op_Reshape(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        x = self._tensor(where, args[0])
        target = self._const(where, args[1], "the target shape").value
        return self._view(node, where, x, _reshape_dims(x.dims, target, a.get("allowzero", 0)))

    def _op_Flatten(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        x = self._tensor(where, args[0])
        axis = int(a.get("axis", 1)) % (len(x.dims) + 1)
        return self._view(node, where, x, (math.prod(x.dims[:axis]), math.prod(x.dims[axis:])))

    def _axes(self, where: str, args: list[Any], a: dict[str, Any]) -> list[int] | None:
        if "axes" in a:
            return list(a["axes"])
        if len(args) > 1 and args[1] is not None:
            return [int(v) for v in self._const(where, args[1], "axes").value.reshape(-1)]
        return None

    def _op_Squeeze(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        x = self._tensor(where, args[0])
        axes = self._axes(where, args, a)
        drop = {d % len(x.dims) for d in axes} if axes is not None else {i for i, d in enumerate(x.dims) if d == 1}
        drop.discard(0)  # the batch of one stays
        return self._view(node, where, x, tuple(d for i, d in enumerate(x.dims) if i not in drop))

    def _op_Unsqueeze(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        x = self._tensor(where, args[0])
        axes = self._axes(where, args, a) or []
        dims = list(x.dims)
        for ax in sorted(d % (len(x.dims) + len(axes)) for d in axes):
            dims.insert(ax, 1)
        if dims[0] != 1:
            raise WorkloadError(f"{where}: unsqueeze to {dims} moves the batch axis; only batch-1 tensors are modelled")
        return self._view(node, where, x, tuple(dims))

    def _op_Transpose(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        x = self._tensor(where, args[0])
        perm = list(a.get("perm", reversed(range(len(x.dims)))))
        out = tuple(x.dims[p] for p in perm)
        if out[0] != 1:
            raise WorkloadError(f"{where}: transpose {perm} moves the batch axis; only batch-1 permutations are "
                                "modelled")
        moved = [p for p in perm if x.dims[p] != 1]
        return self._view(node, where, x, out, moves=moved != sorted(moved))

    def _op_Resize(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        x = self._tensor(where, args[0])
        self._map(where, x)
        mode = a.get("mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else str(mode)
        if mode not in ("nearest", "linear", "bilinear"):
            raise WorkloadError(f"{where}: resize mode {mode!r}; only nearest and (bi)linear are modelled")
        sizes = scales = None
        if node.op_type == "Upsample" or self.opset < 11 and len(args) == 2:
            scales = self._const(where, args[1], "scales").value if len(args) > 1 else np.array(a["scales"])
        else:
            if len(args) > 3 and args[3] is not None and math.prod(args[3].dims):
                sizes = self._const(where, args[3], "sizes").value
            elif len(args) > 2 and args[2] is not None and math.prod(args[2].dims):
                scales = self._const(where, args[2], "scales").value
        if sizes is not None:
            out = tuple(int(s) for s in sizes)
        elif scales is not None:
            out = tuple(int(math.floor(d * float(s))) for d, s in zip(x.dims, scales, strict=True))
        else:
            raise WorkloadError(f"{where}: resize needs constant scales or sizes")
        if out[:2] != x.dims[:2]:
            raise WorkloadError(f"{where}: resize of the batch or channel axis ({list(x.dims)} -> {list(out)})")
        for i in (2, 3):
            ops.resize_scale(where, x.dims[i], out[i])
        return self._new(node, LayerKind.RESIZE, [x], out, mode="nearest" if mode == "nearest" else "bilinear")

    _op_Upsample = _op_Resize

    # ---- folded ops -------------------------------------------------------------------------
    def _act(self, node: onnx.NodeProto, where: str, args: list[Any], name: str) -> _Tensor:
        return self._fold(node, where, self._tensor(where, args[0]), "act", name)

    def _op_LeakyRelu(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        return self._act(node, where, args, ops.leaky(float(a.get("alpha", 0.01))))

    def _op_Clip(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        low, high = a.get("min"), a.get("max")
        if len(args) > 1 and args[1] is not None:
            low = float(self._const(where, args[1], "min").value)
        if len(args) > 2 and args[2] is not None:
            high = float(self._const(where, args[2], "max").value)
        return self._act(node, where, args, ops.clip(low, high))

    def _post(self, node: onnx.NodeProto, where: str, args: list[Any], a: dict[str, Any]) -> _Tensor:
        x = self._tensor(where, args[0])
        if node.op_type == "Dropout" and len(node.output) > 1 and node.output[1] and self.users[node.output[1]]:
            raise WorkloadError(f"{where}: Dropout's mask output is read; only inference graphs are modelled")
        return self._fold(node, where, x, "post_ops", _POST[node.op_type])

    def __getattr__(self, name: str) -> Any:
        op = name[4:] if name.startswith("_op_") else None
        if op in _ACTS:
            return lambda node, where, args, a: self._act(node, where, args, _ACTS[op])
        if op in _POST:
            return self._post
        raise AttributeError(name)


def _dense(t: onnx.SparseTensorProto) -> np.ndarray:
    from onnx.numpy_helper import to_array

    values, indices = to_array(t.values), to_array(t.indices)
    out = np.zeros(int(np.prod(t.dims)), dtype=values.dtype)
    out[indices.reshape(-1) if indices.ndim == 1 else np.ravel_multi_index(indices.T, tuple(t.dims))] = values
    return out.reshape(tuple(t.dims))


def _constant_attr(a: dict[str, Any], where: str) -> np.ndarray:
    if "value" in a:
        return numpy_helper.to_array(a["value"])
    for key, dtype in (("value_float", np.float32), ("value_int", np.int64), ("value_floats", np.float32),
                       ("value_ints", np.int64)):
        if key in a:
            return np.array(a[key], dtype=dtype)
    raise WorkloadError(f"{where}: Constant without a supported value attribute")


def _reshape_dims(dims: Sequence[int], target: np.ndarray, allowzero: int) -> tuple[int, ...]:
    """ONNX Reshape: 0 copies the input's dim (unless ``allowzero``), one -1 takes the rest."""
    out = [int(t) for t in np.asarray(target).reshape(-1)]
    if not allowzero:
        out = [dims[i] if t == 0 and i < len(dims) else t for i, t in enumerate(out)]
    if out.count(-1) > 1:
        raise WorkloadError(f"reshape target {out} has more than one -1")
    if -1 in out:
        known = math.prod(t for t in out if t != -1)
        if known == 0 or math.prod(dims) % known:
            raise WorkloadError(f"reshape {list(dims)} -> {out}: the element count does not divide")
        out[out.index(-1)] = math.prod(dims) // known
    if math.prod(out) != math.prod(dims):
        raise WorkloadError(f"reshape {list(dims)} -> {out} changes the element count")
    return tuple(out)


def import_onnx(source: str | Path | bytes | onnx.ModelProto, input_shape: Sequence[int] | None = None,
                name: str | None = None) -> LayerGraph:
    """The layer graph of an ONNX model (a ``.onnx`` path, its bytes, or a loaded ``ModelProto``).

    Args:
        input_shape: ``(C, H, W)`` of the data input; required when the file's channel or
            spatial dims are symbolic, and overrides them otherwise.
        name: the graph's name (default: the file's stem, or the ONNX graph's name).

    Raises:
        WorkloadError: one line naming the file and the node (unreadable file, unsupported
            op, symbolic spatial dim without ``input_shape``, a fold that would misstate the graph).
    """
    model, where = _load(source)
    importer = _Importer(model, where, input_shape)
    layers = importer.run()
    if not layers:
        raise WorkloadError(f"{where}: no layer to simulate (conv, fully connected, pool, add, concat)")
    label = name or (Path(where).stem if isinstance(source, str | Path) else (model.graph.name or "onnx-model"))
    meta = {"source": "onnx", "file": where if isinstance(source, str | Path) else None,
            "producer": f"{model.producer_name} {model.producer_version}".strip(), "opset": importer.opset,
            "input_shape": list(importer.input_shape), "accelsim_version": accelsim.__version__}
    graph = LayerGraph(label, importer.input_shape, meta)
    for layer in layers:
        graph.add(layer)
    return graph
