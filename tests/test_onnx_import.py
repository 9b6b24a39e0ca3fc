"""import_onnx on hand-built ONNX graphs (onnx.helper), one per op and attribute.

Every expected shape and MAC count is derived by hand in the test (ONNX's output-size rule
``floor((H + pad_begin + pad_end - dilation*(k - 1) - 1) / stride) + 1``, MACs
``K * Ho * Wo * C/g * kh * kw``); each graph's output shape is also checked against ONNX's
own shape inference (``onnx.shape_inference``), an implementation independent of ours.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.errors import WorkloadError
from accelsim.simulation import simulate
from accelsim.workload.layer import LayerKind
from accelsim.workload.onnx import import_onnx


def _w(name: str, *dims: int) -> onnx.TensorProto:
    return numpy_helper.from_array(np.zeros(dims, np.float32), name)


def _i64(name: str, values: list[int]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, np.int64), name)


def _model(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto], shape: list[int | str],
           *, extra_inputs: list[onnx.ValueInfoProto] = (), opset: int = 17) -> onnx.ModelProto:
    """One data input ``x`` of ``shape``; the last node's first output is the graph output; no value_info."""
    graph = helper.make_graph(nodes, "hand", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape),
                                              *extra_inputs],
                              [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    assert not model.graph.value_info  # our shapes never come from value_info
    return model


def _onnx_output_dims(model: onnx.ModelProto) -> list[int]:
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    return [d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim]


def _check_output_against_onnx(model: onnx.ModelProto, graph_out: tuple[int, ...]) -> None:
    dims = _onnx_output_dims(model)
    assert tuple(dims[1:]) + (1,) * (4 - len(dims)) == graph_out, (dims, graph_out)


def test_conv_asymmetric_pads_on_a_non_square_map() -> None:
    # x 3x7x10, W 4x3x3x3, pads (top 0, left 1, bottom 2, right 0), strides (2, 1):
    # Ho = (7 + 0 + 2 - 3) // 2 + 1 = 4, Wo = (10 + 1 + 0 - 3) // 1 + 1 = 9; MACs = 4*4*9 * 3*3*3 = 3,888
    node = helper.make_node("Conv", ["x", "W"], ["y"], name="/stem/Conv", pads=[0, 1, 2, 0], strides=[2, 1])
    model = _model([node], [_w("W", 4, 3, 3, 3)], [1, 3, 7, 10])
    graph = import_onnx(model)
    (layer,) = graph.layers()
    assert layer.name == "stem" and layer.kind is LayerKind.CONV
    assert (layer.out_shape, layer.padding, layer.pad_end, layer.stride) == ((4, 4, 9), (0, 1), (2, 0), (2, 1))
    assert layer.macs == 3888 and layer.params == 4 * 3 * 9 and not layer.bias
    _check_output_against_onnx(model, layer.out_shape)
    assert simulate(graph).cycles > 0


@pytest.mark.parametrize(("auto_pad", "pad_begin", "pad_end"), [("SAME_UPPER", (0, 0), (1, 0)),
                                                                ("SAME_LOWER", (1, 0), (0, 0)),
                                                                ("VALID", (0, 0), (0, 0))])
def test_auto_pad_modes(auto_pad: str, pad_begin: tuple[int, int], pad_end: tuple[int, int]) -> None:
    # x 2x5x6, kernel 2x2, stride 2. SAME: out = ceil(5/2) = 3, ceil(6/2) = 3; total pad
    # H = (3-1)*2 + 2 - 5 = 1 (UPPER puts it at the end, LOWER at the start), W = (3-1)*2 + 2 - 6 = 0.
    # VALID: (5 - 2) // 2 + 1 = 2, (6 - 2) // 2 + 1 = 3.
    node = helper.make_node("Conv", ["x", "W", "B"], ["y"], name="c", auto_pad=auto_pad, strides=[2, 2])
    model = _model([node], [_w("W", 3, 2, 2, 2), _w("B", 3)], [1, 2, 5, 6])
    (layer,) = import_onnx(model).layers()
    ho = 2 if auto_pad == "VALID" else 3
    assert layer.out_shape == (3, ho, 3) and layer.padding == pad_begin and (layer.pad_end or layer.padding) == pad_end
    assert layer.macs == 3 * ho * 3 * 2 * 4 and layer.bias and layer.params == 3 * 2 * 4 + 3
    _check_output_against_onnx(model, layer.out_shape)


def test_1x3_and_3x1_kernels_keep_their_orientation() -> None:
    # x 8x6x10; 1x3 with pads (0,1,0,1) then 3x1 with pads (1,0,1,0): both keep 6x10;
    # MACs 8*6*10 * 8*1*3 = 11,520 each. A transposed kernel would change the output to 4x12 / 8x8.
    a = helper.make_node("Conv", ["x", "W1"], ["a"], name="/b/conv1x3/Conv", pads=[0, 1, 0, 1])
    b = helper.make_node("Conv", ["a", "W2"], ["y"], name="/b/conv3x1/Conv", pads=[1, 0, 1, 0])
    model = _model([a, b], [_w("W1", 8, 8, 1, 3), _w("W2", 8, 8, 3, 1)], [1, 8, 6, 10])
    first, second = import_onnx(model).layers()
    assert (first.name, first.kernel, first.padding, first.out_shape) == ("b.conv1x3", (1, 3), (0, 1), (8, 6, 10))
    assert (second.name, second.kernel, second.padding, second.out_shape) == ("b.conv3x1", (3, 1), (1, 0), (8, 6, 10))
    assert first.macs == second.macs == 11520
    # unpadded, on the same map: 1x3 gives 6x8 and 3x1 gives 4x10
    c = helper.make_node("Conv", ["x", "W1"], ["c"], name="c")
    d = helper.make_node("Conv", ["x", "W2"], ["d"], name="d")
    e = helper.make_node("Concat", ["c", "c"], ["y"], name="cat", axis=1)
    graph = import_onnx(_model([c, d, e], [_w("W1", 8, 8, 1, 3), _w("W2", 8, 8, 3, 1)], [1, 8, 6, 10]))
    assert graph["c"].out_shape == (8, 6, 8) and graph["d"].out_shape == (8, 4, 10)
    assert graph["cat"].out_shape == (16, 6, 8)


@pytest.mark.parametrize("trans_b", [0, 1])
def test_gemm_trans_b_and_beta(trans_b: int) -> None:
    # x (1, 12) -> Gemm -> 5 outputs: MACs 12 * 5 = 60; B is (12, 5) for transB=0, (5, 12) for transB=1
    weight = _w("B", 5, 12) if trans_b else _w("B", 12, 5)
    gemm = helper.make_node("Gemm", ["x", "B", "C"], ["y"], name="fc", transB=trans_b, alpha=0.5)
    (layer,) = import_onnx(_model([gemm], [weight, _w("C", 5)], [1, 12])).layers()
    assert (layer.kind, layer.in_shape, layer.out_shape, layer.macs, layer.params) == \
        (LayerKind.FC, (12, 1, 1), (5, 1, 1), 60, 65)
    no_bias = helper.make_node("Gemm", ["x", "B", "C"], ["y"], name="fc", transB=trans_b, beta=0.0)
    assert import_onnx(_model([no_bias], [weight, _w("C", 5)], [1, 12]))["fc"].params == 60


def test_gemm_trans_a_and_matmul_by_a_constant() -> None:
    # A = x^T: x is (1, 12) -> Transpose -> (12, 1); Gemm transA=1 reads it as 12 features
    t = helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0], name="t")
    gemm = helper.make_node("Gemm", ["xt", "B"], ["y"], name="fc", transA=1)
    with pytest.raises(WorkloadError, match="moves the batch axis"):
        import_onnx(_model([t, gemm], [_w("B", 12, 5)], [1, 12]))
    # MatMul by a (12, 5) constant and an Add of a (5,) constant: an FC layer with a bias
    mm = helper.make_node("MatMul", ["x", "W"], ["m"], name="/fc/MatMul")
    add = helper.make_node("Add", ["m", "b"], ["y"], name="/fc/Add")
    (layer,) = import_onnx(_model([mm, add], [_w("W", 12, 5), _w("b", 5)], [1, 12])).layers()
    assert (layer.name, layer.macs, layer.params, layer.bias) == ("fc", 60, 65, True)


def test_weights_from_constant_of_shape_and_a_shape_chain() -> None:
    # W = ConstantOfShape([4, 3, 3, 3]); the flatten target is Concat(Gather(Shape(y), 0), [-1])
    nodes = [
        helper.make_node("Constant", [], ["wshape"], value=_i64("v", [4, 3, 3, 3])),
        helper.make_node("ConstantOfShape", ["wshape"], ["W"],
                         value=numpy_helper.from_array(np.array([0.5], np.float32))),
        helper.make_node("Conv", ["x", "W"], ["y"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Shape", ["y"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["y", "target"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "F"], ["out"], name="fc", transB=1),
    ]
    inits = [numpy_helper.from_array(np.array(0, np.int64), "zero"), _i64("axes0", [0]), _i64("minus1", [-1]),
             _w("F", 10, 4 * 5 * 5)]
    model = _model(nodes, inits, [1, 3, 5, 5])
    graph = import_onnx(model)
    conv, fc = graph.layers()
    # conv: 4x5x5 (pad 1, k 3), MACs 4*25*27 = 2,700; the reshape folds into it as a flatten
    assert conv.macs == 2700 and conv.post_ops == ("flatten",) and conv.weights == 108
    assert fc.in_shape == (100, 1, 1) and fc.flattened_from == (4, 5, 5) and fc.macs == 1000
    _check_output_against_onnx(model, fc.out_shape)


def test_weights_listed_as_graph_inputs_and_symbolic_batch() -> None:
    # an old exporter lists W as a graph input too (it is also an initializer); the batch is 'N'
    node = helper.make_node("Conv", ["x", "W"], ["y"], name="conv")
    extra = [helper.make_tensor_value_info("W", TensorProto.FLOAT, [4, 3, 1, 1])]
    graph = import_onnx(_model([node], [_w("W", 4, 3, 1, 1)], ["N", 3, 8, 8], extra_inputs=extra))
    assert graph.input_shape == (3, 8, 8) and graph["conv"].macs == 4 * 64 * 3
    # without the initializer W is a second data input: refused, naming both
    bare = _model([node], [], ["N", 3, 8, 8], extra_inputs=extra)
    with pytest.raises(WorkloadError, match=r"expected one data input .*got 'x', 'W'"):
        import_onnx(bare)


def test_symbolic_spatial_dims_need_input_shape() -> None:
    node = helper.make_node("Conv", ["x", "W"], ["y"], name="conv", strides=[2, 2])
    model = _model([node], [_w("W", 4, 3, 3, 3)], ["N", 3, "H", "W"])
    with pytest.raises(WorkloadError, match=r"input 'x' has symbolic dims \[3, 'H', 'W'\]; pass --input-shape C,H,W"):
        import_onnx(model)
    # 3x9x13, k 3, s 2: (9-3)//2+1 = 4, (13-3)//2+1 = 6
    assert import_onnx(model, input_shape=(3, 9, 13))["conv"].out_shape == (4, 4, 6)
    with pytest.raises(WorkloadError, match="gives 4 channels"):
        import_onnx(_model([node], [_w("W", 4, 3, 3, 3)], [1, 3, 8, 8]), input_shape=(4, 8, 8))


def test_hand_written_bn_as_mul_add_equals_batch_normalization() -> None:
    conv = helper.make_node("Conv", ["x", "W"], ["c"], name="/conv/Conv", pads=[1, 1, 1, 1])
    mul = helper.make_node("Mul", ["c", "scale"], ["m"], name="/bn/Mul")
    add = helper.make_node("Add", ["m", "shift"], ["a"], name="/bn/Add")
    relu = helper.make_node("Relu", ["a"], ["y"], name="/relu/Relu")
    inits = [_w("W", 8, 3, 3, 3), _w("scale", 1, 8, 1, 1), _w("shift", 8, 1, 1)]
    (by_hand,) = import_onnx(_model([conv, mul, add, relu], inits, [1, 3, 6, 6])).layers()
    bn = helper.make_node("BatchNormalization", ["c", "g", "b", "mean", "var"], ["a"], name="/bn/BN")
    inits = [_w("W", 8, 3, 3, 3), *(_w(n, 8) for n in ("g", "b", "mean", "var"))]
    (real,) = import_onnx(_model([conv, bn, relu], inits, [1, 3, 6, 6])).layers()
    # conv without bias + BN (gamma, beta): params 8*27 + 2*8 = 232, MACs 8*36*27 = 7,776
    for layer in (by_hand, real):
        assert (layer.bn, layer.bias, layer.act, layer.params, layer.macs) == (True, False, "relu", 232, 7776)
    # a Mul by a constant that is not per-channel cannot fold
    bad = helper.make_node("Mul", ["c", "odd"], ["y"], name="/odd/Mul")
    with pytest.raises(WorkloadError, match=r"Mul by a constant of shape \[1, 1, 6, 6\]; only per-channel"):
        import_onnx(_model([conv, bad], [_w("W", 8, 3, 3, 3), _w("odd", 1, 1, 6, 6)], [1, 3, 6, 6]))


def test_pools_ceil_mode_pads_and_global() -> None:
    # x 4x8x8, MaxPool k3 s2: floor((8-3)/2)+1 = 3, ceil mode ceil((8-3)/2)+1 = 4 (the 4th window starts at
    # row 6 < 8, inside the input, so it is kept). AveragePool k3 s1 pads 1 keeps 4x4; the global pool -> 1x1.
    mp = helper.make_node("MaxPool", ["x"], ["p"], name="pool", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    ap = helper.make_node("AveragePool", ["p"], ["q"], name="avg", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                          strides=[1, 1])
    gp = helper.make_node("GlobalAveragePool", ["q"], ["y"], name="gap")
    model = _model([mp, ap, gp], [], [1, 4, 8, 8])
    pool, avg, gap = import_onnx(model).layers()
    assert pool.out_shape == (4, 4, 4) and pool.ceil_mode
    assert avg.out_shape == (4, 4, 4) and avg.padding == (1, 1)
    assert gap.global_pool and gap.kernel == (4, 4) and gap.out_shape == (4, 1, 1)
    _check_output_against_onnx(model, gap.out_shape)


def test_residual_add_sum_concat_and_data_movement() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "W"], ["a"], name="/a/Conv"),
        helper.make_node("Conv", ["a", "W"], ["b"], name="/b/Conv"),
        helper.make_node("Add", ["a", "b"], ["s"], name="/res/Add"),
        helper.make_node("Relu", ["s"], ["r"], name="/res/Relu"),
        helper.make_node("Sum", ["r", "b", "a"], ["t"], name="/sum/Sum"),
        helper.make_node("Concat", ["t", "r"], ["c"], name="/cat/Concat", axis=1),
        helper.make_node("Transpose", ["c"], ["p"], name="/perm/Transpose", perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["p", "shape"], ["y"], name="/view/Reshape"),
    ]
    graph = import_onnx(_model(nodes, [_w("W", 4, 4, 1, 1), _i64("shape", [1, -1, 2])], [1, 4, 3, 5]))
    names = [layer.name for layer in graph.layers()]
    assert names == ["a", "b", "res", "sum", "cat", "perm", "view"]
    assert graph["res"].inputs == ("a", "b") and graph["res"].act == "relu"
    assert graph["sum"].inputs == ("res", "b", "a") and graph["cat"].out_shape == (8, 3, 5)
    # permute (1, 8, 3, 5) -> (1, 3, 5, 8): moves data; reshape to (1, 60, 2): a view
    assert graph["perm"].kind is LayerKind.TRANSPOSE and graph["perm"].out_shape == (3, 5, 8)
    assert graph["view"].kind is LayerKind.RESHAPE and graph["view"].out_shape == (60, 2, 1)
    result = simulate(graph)
    rows = {r.layer.name: r for r in result.layers}
    assert rows["view"].cycles == 0 and rows["perm"].dram_words == 2 * 120  # read once, written once


def test_activations_fold_with_their_parameters() -> None:
    def act(node: onnx.NodeProto, extra: list[onnx.TensorProto] = ()) -> str | None:
        conv = helper.make_node("Conv", ["x", "W"], ["c"], name="conv")
        return import_onnx(_model([conv, node], [_w("W", 2, 2, 1, 1), *extra], [1, 2, 4, 4]))["conv"].act

    f32 = lambda n, v: numpy_helper.from_array(np.array(v, np.float32), n)  # noqa: E731
    assert act(helper.make_node("Clip", ["c", "lo", "hi"], ["y"]), [f32("lo", 0.0), f32("hi", 6.0)]) == "relu6"
    assert act(helper.make_node("Clip", ["c", "lo", ""], ["y"]), [f32("lo", 0.0)]) == "relu"
    assert act(helper.make_node("LeakyRelu", ["c"], ["y"], alpha=0.1)) == "leaky0.1"
    assert act(helper.make_node("PRelu", ["c", "slope"], ["y"]), [_w("slope", 2, 1, 1)]) == "prelu"
    assert act(helper.make_node("HardSwish", ["c"], ["y"])) == "hardswish"
    assert act(helper.make_node("HardSigmoid", ["c"], ["y"])) == "hardsigmoid"
    assert act(helper.make_node("Sigmoid", ["c"], ["y"])) == "sigmoid"
    assert act(helper.make_node("Tanh", ["c"], ["y"])) == "tanh"
    conv = helper.make_node("Conv", ["x", "W"], ["c"], name="conv")
    lrn = helper.make_node("LRN", ["c"], ["l"], size=5)
    drop = helper.make_node("Dropout", ["l"], ["d"])
    soft = helper.make_node("Softmax", ["d"], ["y"], axis=1)
    layer = import_onnx(_model([conv, lrn, drop, soft], [_w("W", 2, 2, 1, 1)], [1, 2, 4, 4]))["conv"]
    assert layer.post_ops == ("lrn", "dropout", "softmax") and layer.macs == 2 * 16 * 2


def test_conv_transpose_dilation_and_resize() -> None:
    nodes = [
        # dilation 2, pads 2, k 3 on 4x9x9: span 5, (9 + 4 - 5) // 1 + 1 = 9; MACs 6*81 * 4*9 = 17,496
        helper.make_node("Conv", ["x", "W"], ["a"], name="atrous", dilations=[2, 2], pads=[2, 2, 2, 2]),
        # ConvTranspose k4 s2 p1 on 6x9x9: (9-1)*2 - 2 + 4 = 18; MACs 6*81 (inputs) * 3 * 16 = 23,328
        helper.make_node("ConvTranspose", ["a", "T"], ["b"], name="up1", strides=[2, 2], pads=[1, 1, 1, 1]),
        # Resize nearest x2: 3x18x18 -> 3x36x36
        helper.make_node("Resize", ["b", "", "scales"], ["c"], name="up2", mode="nearest"),
        helper.make_node("Resize", ["c", "", "", "sizes"], ["y"], name="down", mode="linear"),
    ]
    inits = [_w("W", 6, 4, 3, 3), _w("T", 6, 3, 4, 4), numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32),
                                                                               "scales"), _i64("sizes", [1, 3, 12, 12])]
    model = _model(nodes, inits, [1, 4, 9, 9], opset=13)
    graph = import_onnx(model)
    atrous, up1, up2, down = graph.layers()
    assert atrous.dilation == (2, 2) and atrous.out_shape == (6, 9, 9) and atrous.macs == 17496
    assert up1.kind is LayerKind.DECONV and up1.out_shape == (3, 18, 18) and up1.macs == 23328
    assert up1.params == 6 * 3 * 16
    assert up2.mode == "nearest" and up2.out_shape == (3, 36, 36)
    assert down.mode == "bilinear" and down.out_shape == (3, 12, 12)
    _check_output_against_onnx(model, down.out_shape)
    result = simulate(graph)
    assert all(r.cycles > 0 for r in result.layers)


def test_unsupported_op_names_op_node_and_supported_list() -> None:
    node = helper.make_node("Conv", ["x", "W"], ["c"], name="conv")
    odd = helper.make_node("Einsum", ["c", "c"], ["y"], name="/head/Einsum_3", equation="bchw,bchw->bc")
    with pytest.raises(WorkloadError) as info:
        import_onnx(_model([node, odd], [_w("W", 2, 2, 1, 1)], [1, 2, 4, 4]))
    text = str(info.value)
    assert text.startswith("hand: node '/head/Einsum_3': unsupported op Einsum; supported: Conv, ConvTranspose")
    assert "\n" not in text


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("onnx")
    conv = helper.make_node("Conv", ["x", "W"], ["y"], name="conv", strides=[2, 2])
    good = _model([conv], [_w("W", 4, 3, 3, 3)], ["N", 3, "H", "W"])
    data = good.SerializeToString()
    paths = {"symbolic": root / "symbolic.onnx", "truncated": root / "cut.onnx", "text": root / "notes.onnx",
             "unsupported": root / "odd.onnx"}
    paths["symbolic"].write_bytes(data)
    paths["truncated"].write_bytes(data[: len(data) // 2])
    paths["text"].write_text("this is not a model\n")
    odd = helper.make_node("NonMaxSuppression", ["x"], ["y"], name="nms")
    paths["unsupported"].write_bytes(_model([odd], [], [1, 3, 4, 4]).SerializeToString())
    return {k: str(v) for k, v in paths.items()}


@pytest.mark.parametrize(("which", "message"), [
    ("text", "not a readable ONNX model"),
    ("truncated", "not a readable ONNX model"),
    ("unsupported", "node 'nms': unsupported op NonMaxSuppression; supported:"),
    ("symbolic", "input 'x' has symbolic dims [3, 'H', 'W']; pass --input-shape C,H,W"),
])
def test_cli_bad_onnx_files_get_one_line_and_exit_2(files: dict[str, str], which: str, message: str) -> None:
    result = CliRunner().invoke(app, ["run", files[which]])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {files[which]}: ") and message in lines[0], result.output


def test_cli_input_shape_resolves_symbolic_dims(files: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["run", files["symbolic"], "--input-shape", "3,9,13", "--json"])
    assert result.exit_code == 0, result.output
    layers = json.loads(result.output)["layers"]
    assert layers[0]["out_shape"] == [4, 4, 6]  # (9-3)//2+1, (13-3)//2+1
    bad = CliRunner().invoke(app, ["run", files["symbolic"], "--input-shape", "3,9"])
    assert bad.exit_code == 2 and "--input-shape: expected C,H,W" in bad.output


def test_cli_report_breakdown_and_sweep_take_an_onnx_file(files: dict[str, str], tmp_path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["report", "breakdown", files["symbolic"], "--input-shape", "3,9,13", "--out",
                              str(tmp_path), "-q"])
    assert out.exit_code == 0, out.output
    csv = next(tmp_path.glob("breakdown_symbolic_*.csv")).read_text()
    assert "--input-shape 3,9,13" in csv and "conv" in csv
    swept = runner.invoke(app, ["sweep", files["symbolic"], "--input-shape", "3,9,13", "--pe", "8x8,16x16", "--json"])
    assert swept.exit_code == 0, swept.output
    assert json.loads(swept.output)["networks"] == ["symbolic"]


def _layer(kind: LayerKind, in_shape: tuple[int, int, int], out_shape: tuple[int, int, int], **fields: object):
    from accelsim.workload.layer import Layer

    return Layer(name="l", kind=kind, inputs=("data",), in_shape=in_shape, out_shape=out_shape, **fields)


def test_engine_prices_resize_and_transpose_as_the_data_they_move() -> None:
    """Hand counts: nearest x2 on 4x8x8 reads 256 words and writes 4*16*16 = 1,024 (one tile fits 128 KB), no
    arithmetic; bilinear does 4 MACs per output (4,096 ops); a transpose of 4x8x8 reads and writes 256 each."""
    from accelsim.engine import build_work
    from accelsim.hardware.spec import PAPER_16X16
    from accelsim.simulation import simulate_layer

    near = _layer(LayerKind.RESIZE, (4, 8, 8), (4, 16, 16), mode="nearest")
    bil = _layer(LayerKind.RESIZE, (4, 8, 8), (4, 16, 16), mode="bilinear")
    perm = _layer(LayerKind.TRANSPOSE, (4, 8, 8), (8, 8, 4))
    view = _layer(LayerKind.RESHAPE, (4, 8, 8), (256, 1, 1))
    assert build_work(near, PAPER_16X16).ops == 0 and build_work(bil, PAPER_16X16).ops == 4096
    for layer in (near, bil):
        assert simulate_layer(layer).dram_words == 256 + 1024
    assert simulate_layer(perm).dram_words == 512
    assert simulate_layer(view).cycles == 0 and simulate_layer(view).dram_words == 0
    down = _layer(LayerKind.RESIZE, (4, 8, 8), (4, 4, 4), mode="nearest")  # stride-2 subsample: reads 4*4*4
    assert simulate_layer(down).dram_words == 64 + 64


def test_engine_decomposes_dilated_and_transposed_convs() -> None:
    """Dilation 2 on 4x8x8 (pad 2, k 3): 4 phases of a dense 3x3 conv on 4x4 sub-maps with pad 1.
    ConvTranspose k4 s2 p1, 16x8x8 -> 8x16x16: 4 phases of a dense 2x2 conv on the 8x8 input, each
    writing 8x8 outputs; the phases' weights add up to the layer's 16*8*16 = 2,048."""
    from accelsim.engine import build_work
    from accelsim.hardware.spec import PAPER_16X16

    atrous = _layer(LayerKind.CONV, (4, 8, 8), (6, 8, 8), kernel=(3, 3), padding=(2, 2), dilation=(2, 2))
    work = build_work(atrous, PAPER_16X16)
    assert (work.reps, work.in_hw, work.out_hw, work.kernel, work.padding) == (4, (4, 4), (4, 4), (3, 3), (1, 1))
    assert work.reps * work.k_per_group * work.out_hw[0] * work.out_hw[1] * work.c_per_group * 9 == atrous.macs
    deconv = _layer(LayerKind.DECONV, (16, 8, 8), (8, 16, 16), kernel=(4, 4), stride=(2, 2), padding=(1, 1))
    work = build_work(deconv, PAPER_16X16)
    assert (work.reps, work.in_hw, work.out_hw, work.kernel, work.stride) == (4, (8, 8), (8, 8), (2, 2), (1, 1))
    assert work.reps * work.weight_words == deconv.weights == 2048
    assert work.reps * work.out_words == 8 * 16 * 16
    with pytest.raises(WorkloadError, match="dilation is modelled for stride-1 convolutions only"):
        _layer(LayerKind.CONV, (4, 8, 8), (6, 3, 3), kernel=(3, 3), stride=(2, 2), dilation=(2, 2))


def test_cli_redistribute_refuses_a_file_on_one_line(files: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["redistribute", files["symbolic"]])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "redistribute searches a SqueezeNext preset's blocks per stage" in result.output
