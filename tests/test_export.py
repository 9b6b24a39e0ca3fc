"""export_module on hand-built modules: every field against values derived by hand below.

Output sizes use the conv/pool rule ``out = floor((in + 2p - k) / s) + 1`` (pools with
``ceil_mode`` round up instead); weights ``K * C/g * kh * kw``; MACs ``weights * Ho * Wo``.
"""

from __future__ import annotations

import json

import networkx as nx
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from accelsim.errors import ExportError
from accelsim.workload import INPUT, LayerGraph, LayerKind
from accelsim.workload.export import _out_size, export_module


class Toy(nn.Module):
    """Input 3x32x32. Exercises groups, 1x3 + (0, 1) padding + (2, 1) stride, depthwise, BN+ReLU
    folding, residual add with a ReLU after it, channel concat, ceil-mode max pool, adaptive
    global pool, flatten + dropout + linear."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(8)
        self.stem_relu = nn.ReLU()
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.grouped = nn.Conv2d(8, 16, 1, groups=2)
        self.asym = nn.Conv2d(16, 16, (1, 3), stride=(2, 1), padding=(0, 1), bias=False)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
        self.dw_bn = nn.BatchNorm2d(16)
        self.branch = nn.Conv2d(16, 8, 1)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(24, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.stem_relu(self.stem_bn(self.stem(x))))
        a = self.asym(self.grouped(x))
        s = torch.relu(a + F.relu(self.dw_bn(self.dw(a))))
        c = torch.cat([s, self.branch(s)], 1)
        return self.fc(self.drop(torch.flatten(F.adaptive_avg_pool2d(c, 1), 1)))


# name: (op, inputs, in_shape, out_shape, kernel, stride, padding, groups, bias, bn, act, params, macs)
TOY_EXPECTED = {
    # 3x32x32, k3 s2 p1: floor((32 + 2 - 3) / 2) + 1 = 16; weights 8*3*9 = 216, + BN 2*8
    "stem": ("conv", ("data",), (3, 32, 32), (8, 16, 16), (3, 3), (2, 2), (1, 1), 1, False, True, "relu",
             216 + 16, 216 * 16 * 16),
    # ceil((16 - 3) / 2) + 1 = 8 (floor would give 7)
    "pool": ("maxpool", ("stem",), (8, 16, 16), (8, 8, 8), (3, 3), (2, 2), (0, 0), 1, False, False, None, 0, 0),
    # 1x1, groups 2: weights 16 * 8/2 = 64, + bias 16
    "grouped": ("conv", ("pool",), (8, 8, 8), (16, 8, 8), (1, 1), (1, 1), (0, 0), 2, True, False, None,
                64 + 16, 64 * 8 * 8),
    # H: floor((8 - 1) / 2) + 1 = 4; W: floor((8 + 2 - 3) / 1) + 1 = 8; weights 16*16*3 = 768
    "asym": ("conv", ("grouped",), (16, 8, 8), (16, 4, 8), (1, 3), (2, 1), (0, 1), 1, False, False, None,
             768, 768 * 4 * 8),
    # depthwise 3x3: weights 16*1*9 = 144, + BN 32
    "dw": ("dwconv", ("asym",), (16, 4, 8), (16, 4, 8), (3, 3), (1, 1), (1, 1), 16, False, True, "relu",
           144 + 32, 144 * 4 * 8),
    "add": ("add", ("asym", "dw"), (16, 4, 8), (16, 4, 8), (1, 1), (1, 1), (0, 0), 1, False, False, "relu", 0, 0),
    "branch": ("conv", ("add",), (16, 4, 8), (8, 4, 8), (1, 1), (1, 1), (0, 0), 1, True, False, None,
               128 + 8, 128 * 4 * 8),
    "concat": ("concat", ("add", "branch"), (24, 4, 8), (24, 4, 8), (1, 1), (1, 1), (0, 0), 1, False, False, None,
               0, 0),
    "avgpool": ("avgpool", ("concat",), (24, 4, 8), (24, 1, 1), (4, 8), (1, 1), (0, 0), 1, False, False, None, 0, 0),
    "fc": ("fc", ("avgpool",), (24, 1, 1), (10, 1, 1), (1, 1), (1, 1), (0, 0), 1, True, False, None,
           240 + 10, 240),
}


@pytest.fixture(scope="module")
def toy() -> LayerGraph:
    return export_module(Toy(), (3, 32, 32), name="toy", meta={"purpose": "test"})


def test_toy_every_field(toy: LayerGraph) -> None:
    assert [layer.name for layer in toy.layers()] == list(TOY_EXPECTED)
    for name, want in TOY_EXPECTED.items():
        layer = toy[name]
        got = (layer.op, layer.inputs, layer.in_shape, layer.out_shape, layer.kernel, layer.stride, layer.padding,
               layer.groups, layer.bias, layer.bn, layer.act, layer.params, layer.macs)
        assert got == want, name


def test_toy_pool_flags_post_ops_and_sources(toy: LayerGraph) -> None:
    assert toy["pool"].ceil_mode and not toy["pool"].global_pool
    assert toy["avgpool"].global_pool and toy["avgpool"].kind is LayerKind.AVGPOOL
    assert toy["avgpool"].post_ops == ("flatten", "dropout")
    assert toy["fc"].flattened_from == (24, 1, 1)
    assert toy["stem"].source == "stem" and toy["add"].source == ""  # functional at the top level
    assert toy.input_shape == (3, 32, 32)
    assert toy.meta["input_shape"] == [3, 32, 32] and toy.meta["purpose"] == "test"
    assert toy.meta["accelsim_version"]
    # paper-convention MACs add one per conv/fc output: stem 8*16*16 + grouped 16*8*8 + asym 16*4*8
    # + dw 16*4*8 + branch 8*4*8 + fc 10
    assert toy.macs_paper - toy.macs == 2048 + 1024 + 512 + 512 + 256 + 10


class Head(nn.Module):
    """Input 3x16x16: view-flatten of a real map, fixed adaptive pool, mean pooling, nn.Flatten."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3, padding="same"), nn.LeakyReLU(0.1))
        self.fixed = nn.AdaptiveAvgPool2d((4, 8))
        self.fc = nn.Linear(4 * 4 * 8, 6)
        self.flat = nn.Flatten()
        self.fc2 = nn.Linear(4, 6, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.body(x)
        z = self.fixed(y)
        logits = self.fc(z.view(z.size(0), -1))
        return logits, self.fc2(self.flat(y.mean((2, 3), keepdim=True)))


def test_head_reshapes_and_pools() -> None:
    graph = export_module(Head(), (3, 16, 16))
    assert graph.name == "Head"
    conv = graph["body.0"]
    assert (conv.padding, conv.out_shape, conv.act, conv.bias) == ((1, 1), (4, 16, 16), "leaky0.1", True)
    # 16x16 -> 4x8 divides evenly: window = stride = (16/4, 16/8) = (4, 2)
    fixed = graph["fixed"]
    assert (fixed.kind, fixed.kernel, fixed.stride, fixed.out_shape, fixed.global_pool) == (
        LayerKind.AVGPOOL, (4, 2), (4, 2), (4, 4, 8), False)
    assert graph["fc"].in_shape == (128, 1, 1) and graph["fc"].flattened_from == (4, 4, 8)
    mean = graph["avgpool"]
    assert mean.global_pool and mean.kernel == (16, 16) and mean.inputs == ("body.0",)
    assert graph["fc2"].in_shape == (4, 1, 1) and graph["fc2"].flattened_from == (4, 1, 1)


def test_export_leaves_the_module_untouched() -> None:
    model = Toy().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    export_module(model, (3, 32, 32))
    assert model.training and all(m.training for m in model.modules())
    after = model.state_dict()
    assert all(after[k].device.type == "cpu" and torch.equal(after[k], v) for k, v in before.items())


def test_export_is_deterministic(toy: LayerGraph) -> None:
    assert export_module(Toy(), (3, 32, 32), name="toy", meta={"purpose": "test"}) == toy


def test_json_round_trip_is_exact(toy: LayerGraph, tmp_path) -> None:
    first = tmp_path / "a.json"
    toy.save_json(first)
    loaded = LayerGraph.load_json(first)
    assert loaded == toy
    assert [layer for layer in loaded.layers()] == [layer for layer in toy.layers()]
    second = tmp_path / "b.json"
    loaded.save_json(second)
    assert second.read_text() == first.read_text()
    assert json.loads(first.read_text())["layers"][0]["name"] == "stem"


def test_graphml_readable_by_networkx(toy: LayerGraph, tmp_path) -> None:
    path = tmp_path / "toy.graphml"
    toy.write_graphml(path)
    read = nx.read_graphml(path)
    assert read.number_of_nodes() == len(toy) == 10
    # edges: one per (producer, consumer) pair other than the image input
    edges = {(src, layer.name) for layer in toy.layers() for src in layer.inputs if src != INPUT}
    assert set(read.edges) == edges
    assert read.nodes["dw"]["groups"] == 16 and read.nodes["dw"]["macs"] == 144 * 4 * 8


class _Wrap(nn.Module):
    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.block = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class _Gate(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return y * torch.sigmoid(y)  # the sigmoid cannot fold: y is also read raw by the multiply


class _PoolBn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pool, self.bn = nn.MaxPool2d(2), nn.BatchNorm2d(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.pool(x))


class _Mul(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2


@pytest.mark.parametrize(("inner", "message"), [
    (nn.Upsample(scale_factor=2, mode="bicubic"), "block: unsupported interpolate mode 'bicubic'"),
    (nn.Upsample(scale_factor=1.5), "block: resize 8 -> 12 is not an integer scale"),
    (nn.PixelShuffle(2), "block: unsupported op PixelShuffle; supported: Conv2d (groups, dilation, padding), "
                         "ConvTranspose2d, Linear"),
    (nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), "block: unsupported padding_mode 'reflect'"),
    (nn.Conv2d(3, 4, 2, padding="same"), "block: padding='same' with even kernel (2, 2)"),
    (nn.AdaptiveAvgPool2d(3), "block: adaptive pool 8x8 -> 3x3 has uneven windows"),
    (_Gate(), "block: sigmoid: reads 'block.conv', whose output is also used elsewhere"),
    (_PoolBn(), "block.bn: batch norm must directly follow a conv or linear layer, not 'block.pool'"),
    (_Mul(), "block: mul: unsupported op mul; supported:"),
    (nn.Conv1d(3, 4, 1), "block: unsupported op Conv1d"),
])
def test_unsupported_ops_name_the_module(inner: nn.Module, message: str) -> None:
    with pytest.raises(ExportError) as info:
        export_module(_Wrap(inner), (3, 8, 8))
    text = str(info.value)
    assert text.startswith(message), text
    assert "\n" not in text


def test_untraceable_forward_and_bad_input_shape() -> None:
    class Branchy(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x if x.sum() > 0 else -x

    with pytest.raises(ExportError, match=r"^Branchy: torch.fx cannot trace forward\(\)"):
        export_module(Branchy(), (3, 8, 8))
    with pytest.raises(ExportError, match=r"^input_shape: expected \(C, H, W\)"):
        export_module(Toy(), (32, 32))
    with pytest.raises(ExportError, match=r"^stem: Conv2d expects 3 input channels; got 4$"):
        export_module(Toy(), (4, 32, 32))
    net = nn.Sequential(nn.Conv2d(3, 2, 1), nn.Flatten(), nn.Linear(10, 2))
    with pytest.raises(ExportError, match=r"^2: Linear expects 10 input features; got 32$"):
        export_module(net, (3, 4, 4))  # 2 channels * 4 * 4 = 32 features


def _torch_size(module: nn.Module, h: int) -> int | None:
    try:
        with torch.no_grad():
            return int(module(torch.zeros(1, 1, h, 1)).shape[2])
    except RuntimeError:
        return None


def test_window_output_sizes_match_torch_exhaustively() -> None:
    """Oracle: the closed-form conv/pool output sizes equal torch's on real tensors, for every small
    (input, kernel, stride, padding, ceil_mode); where torch refuses a config, export refuses it too."""
    checked = 0
    for h in range(1, 9):
        for k in range(1, 5):
            for s in range(1, 4):
                for p in range(3):
                    cases = [(nn.MaxPool2d((k, 1), (s, 1), (p, 0), ceil_mode=c), c, True) for c in (False, True)]
                    cases += [(nn.AvgPool2d((k, 1), (s, 1), (p, 0), ceil_mode=True), True, True),
                              (nn.Conv2d(1, 1, (k, 1), (s, 1), (p, 0)), False, False)]
                    for module, ceil, pool in cases:
                        want = _torch_size(module, h)
                        if want is None:
                            with pytest.raises(ExportError):
                                _out_size("x", h, k, s, p, ceil_mode=ceil, pool=pool)
                        else:
                            assert _out_size("x", h, k, s, p, ceil_mode=ceil, pool=pool) == want, (module, h)
                        checked += 1
    assert checked == 8 * 4 * 3 * 3 * 4
    # and through the public path, for a bare layer (wrapped and named by its class)
    graph = export_module(nn.MaxPool2d(3, 2, 1, ceil_mode=True), (2, 8, 5))
    assert [layer.name for layer in graph.layers()] == ["maxpool2d"]
    # H: (8 + 2 - 3 + 1) // 2 + 1 = 5, W: (5 + 2 - 3 + 1) // 2 + 1 = 3; both last windows start inside
    assert graph.output_shape == (2, 5, 3)


class _Clash(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.add = nn.Conv2d(3, 3, 1)
        self.avgpool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x + x
        z = y.mean((2, 3), keepdim=True)
        return self.avgpool(self.add(y)) + z


def test_module_paths_keep_their_names_when_functional_ops_clash() -> None:
    graph = export_module(_Clash(), (3, 4, 4))
    names = [layer.name for layer in graph.layers()]
    assert names == ["add_1", "avgpool_1", "add", "avgpool", "add_2"]
    assert graph["add"].kind is LayerKind.CONV and graph["add_1"].inputs == ("data", "data")
    assert graph["add_2"].inputs == ("avgpool", "avgpool_1")


class _Functional(nn.Module):
    """Input 4x9x9; every op functional."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self.conv(x))
        p = F.max_pool2d(y, 3, stride=2, ceil_mode=True)  # ceil((9 - 3) / 2) + 1 = 4
        q = F.avg_pool2d(y, kernel_size=2, padding=1)  # floor((9 + 2 - 2) / 2) + 1 = 5
        r = F.adaptive_max_pool2d(q, (1, 1))
        s = torch.add(F.leaky_relu(p.mean((-1, -2), keepdim=True), 0.2), r)
        return s.reshape(1, -1)


def test_functional_ops() -> None:
    graph = export_module(_Functional(), (4, 9, 9))
    got = {layer.name: (layer.op, layer.inputs, layer.out_shape, layer.kernel, layer.stride, layer.padding,
                        layer.ceil_mode, layer.global_pool, layer.act) for layer in graph.layers()}
    assert got == {
        "conv": ("conv", ("data",), (4, 9, 9), (3, 3), (1, 1), (1, 1), False, False, "relu6"),
        "maxpool": ("maxpool", ("conv",), (4, 4, 4), (3, 3), (2, 2), (0, 0), True, False, None),
        "avgpool": ("avgpool", ("conv",), (4, 5, 5), (2, 2), (2, 2), (1, 1), False, False, None),
        "maxpool_1": ("maxpool", ("avgpool",), (4, 1, 1), (5, 5), (1, 1), (0, 0), False, True, None),
        "avgpool_1": ("avgpool", ("maxpool",), (4, 1, 1), (4, 4), (1, 1), (0, 0), False, True, "leaky0.2"),
        "add": ("add", ("avgpool_1", "maxpool_1"), (4, 1, 1), (1, 1), (1, 1), (0, 0), False, False, None),
    }
    assert graph["add"].post_ops == ("flatten",)
