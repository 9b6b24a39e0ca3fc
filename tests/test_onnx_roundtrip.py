"""Round trip for every zoo preset: torch module -> ONNX (torch's own exporter) -> import_onnx.

The oracle is the direct torch.fx export of the same module (``zoo.load_graph``): the imported
graph must equal it layer by layer (op, shapes, kernel, stride, padding, groups, folds, MACs,
params, producers) and simulate to identical cycles and energy. The ONNX side shares no code
with the fx walk except ``accelsim.workload.ops``, so agreement checks both importers.

Exports run once per session (torch's exporter costs ~0.3-7 s a network; AlexNet's 61 M
weights are most of it) and stay in memory. Both graphs are simulated with one shared
``SimCache``: a layer's cost is a function of its signature (asserted equal above), so what
the comparison checks is the network-level planning (fusion, residency) on each graph; the
shared cache keeps the 23 presets' simulations to one pass over their distinct layers.
"""

from __future__ import annotations

import functools
import io
import warnings

import pytest
import torch

from accelsim.hardware.spec import PAPER_16X16
from accelsim.simulation import SimCache, simulate_graph
from accelsim.workload import zoo
from accelsim.workload.export import _LRN, ONNX_OPSET
from accelsim.workload.graph import LayerGraph
from accelsim.workload.onnx import import_onnx
from networks.registry import get_preset

_CACHE = SimCache()


TRACE_SIZE = 64


@functools.cache
def _onnx_bytes(name: str) -> tuple[bytes, bool]:
    """The preset as an ONNX file (in memory), written by the same call ``export_onnx`` makes, and whether
    its spatial dims are symbolic.

    torch's exporter runs the real forward while tracing, and 23 forwards at 224-227 px are most
    of this file's time on a loaded 2-core machine. So a network is traced at 64 x 64 with H and W
    symbolic, and imported at its own size through ``input_shape`` (the importer's shape inference
    then has to recompute every shape: a stronger test). A network whose classifier fixes the
    spatial size (AlexNet's fc6 reads 256 x 6 x 6) fails at 64 and is exported at its size.
    """
    from torch import nn

    preset = get_preset(name)
    module = preset.build().eval()
    for m in module.modules():
        if isinstance(m, nn.LocalResponseNorm):
            m.forward = (lambda x, m=m: _LRN.apply(x, m.size, m.alpha, m.beta, m.k))  # type: ignore[method-assign]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convs: threads only contend on a shared machine
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            for size, dynamic in ((TRACE_SIZE, {"data": {2: "height", 3: "width"}}), (preset.input_size, None)):
                buffer = io.BytesIO()
                try:
                    torch.onnx.export(module, (torch.zeros(1, 3, size, size),), buffer, dynamo=False,
                                      opset_version=ONNX_OPSET, do_constant_folding=False, input_names=["data"],
                                      dynamic_axes=dynamic)
                    return buffer.getvalue(), dynamic is not None
                except RuntimeError:
                    if dynamic is None:
                        raise
    finally:
        torch.set_num_threads(threads)
    raise AssertionError("unreachable")


def _structure(graph: LayerGraph) -> list[tuple]:
    """Everything that defines a layer except its name; producers by position."""
    index = {layer.name: i for i, layer in enumerate(graph.layers())}
    return [(layer.op, layer.in_shape, layer.out_shape, layer.kernel, layer.stride, layer.padding, layer.pad_end,
             layer.dilation, layer.groups, layer.ceil_mode, layer.global_pool, layer.bias, layer.bn, layer.act,
             layer.macs, layer.params, layer.flattened_from, tuple(index.get(p, p) for p in layer.inputs))
            for layer in graph.layers()]


@pytest.mark.parametrize("name", zoo.list_presets())
def test_every_preset_round_trips_through_onnx(name: str) -> None:
    direct = zoo.load_graph(name)
    data, symbolic = _onnx_bytes(name)
    imported = import_onnx(data, input_shape=direct.input_shape if symbolic else None)
    assert _structure(imported) == _structure(direct)
    assert (imported.macs, imported.params, len(imported)) == (direct.macs, direct.params, len(direct))
    # torch's exporter names nodes by module scope, so module layers keep their names
    convs = [layer.name for layer in direct.layers() if layer.kind.has_weights]
    assert [layer.name for layer in imported.layers() if layer.kind.has_weights] == convs
    a = simulate_graph(direct, PAPER_16X16, cache=_CACHE)
    b = simulate_graph(imported, PAPER_16X16, cache=_CACHE)
    assert b.cycles == a.cycles and b.energy == a.energy and b.dram_words == a.dram_words


def test_value_info_is_never_read() -> None:
    """Bogus value_info (every intermediate 1x1x1x1) changes nothing: shapes are inferred from the input."""
    import onnx
    from onnx import TensorProto, helper

    data, symbolic = _onnx_bytes("1.0-SqNxt-23v5")
    shape = zoo.load_graph("1.0-SqNxt-23v5").input_shape if symbolic else None
    model = onnx.load_from_string(data)
    del model.graph.value_info[:]
    bare = import_onnx(model, input_shape=shape)
    for node in model.graph.node:
        model.graph.value_info.append(helper.make_tensor_value_info(node.output[0], TensorProto.FLOAT, [1, 1, 1, 1]))
    assert _structure(import_onnx(model, input_shape=shape)) == _structure(bare) == _structure(
        zoo.load_graph("1.0-SqNxt-23v5"))


def test_cli_export_writes_an_onnx_file_that_simulates_like_the_preset(tmp_path) -> None:
    """``accelsim export NETWORK -o x.onnx`` with SqueezeNext options, then ``accelsim.simulate("x.onnx")``."""
    import onnx
    from typer.testing import CliRunner

    import accelsim
    from accelsim.cli import app

    path = tmp_path / "tiny.onnx"
    result = CliRunner().invoke(app, ["export", "sqnxt23", "--depth", "1,1,1,1", "--stem", "5", "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{path}: 1.0-SqNxt-23[depth=1,1,1,1;stem_kernel=5], ")
    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    assert props["preset"] == "1.0-SqNxt-23" and props["input_shape"] == "3,227,227"
    assert props["overrides"] == '{"depth": [1, 1, 1, 1], "stem_kernel": 5}'
    from_file = accelsim.simulate(str(path), "16x16")
    direct = accelsim.simulate("sqnxt23", "16x16", depth=(1, 1, 1, 1), stem_kernel=5)
    assert (from_file.cycles, from_file.energy, from_file.macs) == (direct.cycles, direct.energy, direct.macs)
    assert from_file.network == "tiny"  # a file's graph is named by its stem
    # the layer table of an ONNX file, and the refusals
    table = CliRunner().invoke(app, ["export", str(path)])
    assert table.exit_code == 0 and f"{direct.macs:,} MACs" in table.output
    again = CliRunner().invoke(app, ["export", str(path), "-o", str(tmp_path / "copy.onnx")])
    assert again.exit_code == 2 and "writing ONNX needs a zoo preset" in again.output


class _SegHead(__import__("torch").nn.Module):
    """A SqueezeSeg/SqueezeDet-style head: every op the torch path gained for issue 10, on a 16x20 map."""

    def __init__(self) -> None:
        from torch import nn

        super().__init__()
        self.atrous = nn.Conv2d(8, 16, 3, padding=2, dilation=2)
        self.bn = nn.BatchNorm2d(16)
        self.act = nn.PReLU()
        self.up = nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1, bias=False)
        self.near = nn.Upsample(scale_factor=2, mode="nearest")
        self.cls = nn.Conv2d(8, 6, 1)

    def forward(self, x):  # type: ignore[no-untyped-def]
        import torch.nn.functional as F

        y = self.act(self.bn(self.atrous(x)))
        y = self.near(self.up(y))
        y = F.interpolate(self.cls(y), scale_factor=0.5, mode="bilinear")
        y = y.permute(0, 2, 3, 1)
        return y.reshape(1, -1, 2).softmax(-1)


def test_new_torch_ops_agree_across_both_paths(tmp_path) -> None:
    """Hand counts on 8x16x20: atrous conv (pad 2, dilation 2, k 3) keeps 16x20, MACs 16*320*8*9 = 368,640;
    ConvTranspose k4 s2 p1 doubles to 32x40, MACs (inputs) 16*320 * 8*16 = 655,360; nearest x2 -> 64x80;
    cls 1x1 MACs 6*5120*8 = 245,760; bilinear x0.5 -> 32x40; permute (1,6,32,40) -> (1,32,40,6) moves data;
    the reshape to (1, 3840, 2) is a view; softmax folds."""
    from accelsim.workload.export import export_module, export_onnx

    module = _SegHead()
    direct = export_module(module, (8, 16, 20))
    kinds = [(layer.kind.value, layer.out_shape, layer.macs) for layer in direct.layers()]
    assert kinds == [("conv", (16, 16, 20), 368640), ("deconv", (8, 32, 40), 655360), ("resize", (8, 64, 80), 0),
                     ("conv", (6, 64, 80), 245760), ("resize", (6, 32, 40), 0), ("transpose", (32, 40, 6), 0),
                     ("reshape", (3840, 2, 1), 0)]
    assert direct["atrous"].bn and direct["atrous"].act == "prelu" and direct["reshape"].post_ops == ("softmax",)
    path = tmp_path / "head.onnx"
    export_onnx(module, path, (8, 16, 20))
    imported = import_onnx(path)
    assert _structure(imported) == _structure(direct)
    assert [layer.mode for layer in imported.layers() if layer.mode] == ["nearest", "bilinear"]
    a = simulate_graph(direct, PAPER_16X16, cache=SimCache())
    b = simulate_graph(imported, PAPER_16X16, cache=SimCache())
    assert (a.cycles, a.energy) == (b.cycles, b.energy)


def test_activations_agree_across_both_paths(tmp_path) -> None:
    """torch writes SiLU as Sigmoid + Mul(x, .), ReLU6 as Clip(0, 6), Hardswish/Hardsigmoid/ELU/LeakyReLU as
    their ONNX ops; each folds into its conv under the same name on both paths."""
    from torch import nn

    from accelsim.workload.export import export_module, export_onnx

    acts = [nn.SiLU(), nn.ReLU6(), nn.Hardswish(), nn.Hardsigmoid(), nn.ELU(), nn.LeakyReLU(0.2), nn.Tanh(),
            nn.Sigmoid()]
    module = nn.Sequential(*(m for act in acts for m in (nn.Conv2d(4, 4, 3, padding=1), act)))
    direct = export_module(module, (4, 6, 6))
    path = tmp_path / "acts.onnx"
    export_onnx(module, path, (4, 6, 6))
    imported = import_onnx(path)
    names = ["silu", "relu6", "hardswish", "hardsigmoid", "elu", "leaky0.2", "tanh", "sigmoid"]
    assert [layer.act for layer in direct.layers()] == [layer.act for layer in imported.layers()] == names
    assert _structure(imported) == _structure(direct)
