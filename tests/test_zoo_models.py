"""Tests of the PyTorch network zoo (``networks``) against the reference facts.

The reference layer lists and totals are ``tests/data/zoo_layers.json`` (the project's reference
set, drawn from the SqueezeNet/SqueezeNext papers and the networks' public definitions; see
``tests/data/README.md``). Conventions (the file's ``conventions`` entry): params = weights + biases +
BN gamma/beta; MACs = sum over conv/FC of ``(Kh*Kw*Cin/groups + 1) * outputs``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import networks
from networks.mobilenet import MobileNetV1
from networks.squeezenet import SqueezeNet
from networks.squeezenext import SqueezeNext

REPO = Path(__file__).resolve().parents[1]
ZOO_PATH = REPO / "tests" / "data" / "zoo_layers.json"


@cache
def zoo() -> dict[str, Any]:
    """Reference networks keyed by name, ``(guess)`` suffixes dropped."""
    data = json.loads(ZOO_PATH.read_text())["networks"]
    return {key.removesuffix(" (guess)"): value for key, value in data.items()}


def conv_macs(module: nn.Module, out: torch.Tensor) -> tuple[int, int]:
    """(pure MACs, paper-convention MACs) of one conv/FC call with batch size 1."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        pure = kh * kw * module.in_channels // module.groups * out.numel()
    else:
        assert isinstance(module, nn.Linear)
        pure = module.in_features * out.numel()
    return pure, pure + out.numel()


@dataclass
class Measured:
    """What one forward pass of a preset at its input size shows."""

    model: nn.Module
    params: int
    macs: int
    out_shape: tuple[int, ...]
    out_sizes: dict[str, tuple[int, int]]  # conv/pool module path -> (H, W) of its output
    conv_fc_order: list[str]  # conv/FC module paths in torch.fx execution order


@cache
def measure(name: str) -> Measured:
    """Build preset ``name``, run a (1, 3, S, S) image through it and record counts."""
    preset = networks.get_preset(name)
    torch.manual_seed(0)
    model = preset.build().eval()
    macs = 0
    out_sizes: dict[str, tuple[int, int]] = {}

    def hook(path: str):
        def record(module: nn.Module, _inputs: object, out: torch.Tensor) -> None:
            nonlocal macs
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                macs += conv_macs(module, out)[1]
            if out.dim() == 4:
                out_sizes[path] = (out.shape[2], out.shape[3])

        return record

    handles = [
        m.register_forward_hook(hook(path))
        for path, m in model.named_modules()
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.MaxPool2d, nn.AdaptiveAvgPool2d))
    ]
    with torch.no_grad():
        out = model(torch.randn(1, 3, preset.input_size, preset.input_size))
    for handle in handles:
        handle.remove()
    assert torch.isfinite(out).all()
    graph = torch.fx.symbolic_trace(model).graph
    modules = dict(model.named_modules())
    order = [
        str(node.target)
        for node in graph.nodes
        if node.op == "call_module" and isinstance(modules[str(node.target)], (nn.Conv2d, nn.Linear))
    ]
    params = sum(p.numel() for p in model.parameters())
    return Measured(model, params, macs, tuple(out.shape), out_sizes, order)


ZOO_PRESETS = [p.name for p in networks.PRESETS if "bypass" not in p.name]


# ---------------------------------------------------------------- totals ---


def test_every_reference_network_has_a_preset() -> None:
    assert sorted(zoo()) == sorted(ZOO_PRESETS)


@pytest.mark.parametrize("name", ZOO_PRESETS)
def test_params_and_macs_match_reference_totals(name: str) -> None:
    totals = zoo()[name]["totals"]
    got = measure(name)
    assert got.out_shape == (1, 1000)
    assert got.params == totals["params_paper_convention"]
    assert got.macs == totals["macs_paper_convention"]


@pytest.mark.parametrize("name", ZOO_PRESETS)
def test_layers_match_reference_layer_list(name: str) -> None:
    """Each reference conv/FC/pool layer is a module at the mapped path with the same
    geometry and output size, and the convs/FCs run in the reference order."""
    got = measure(name)
    sep = type(got.model).layer_name_sep
    by_layer = {path.replace(".", sep): (path, m) for path, m in got.model.named_modules() if path}
    expected_order = []
    for layer in zoo()[name]["layers"]:
        if layer["op"] in ("add", "concat"):
            continue
        path, module = by_layer[layer["name"]]
        if layer["op"] == "fc":
            assert isinstance(module, nn.Linear)
            assert (module.in_features, module.out_features) == (layer["in_ch"], layer["out_ch"])
            assert (module.bias is not None) == layer["bias"]
            expected_order.append(path)
            continue
        assert got.out_sizes[path] == (layer["out_h"], layer["out_w"]), layer["name"]
        if layer["op"] == "maxpool":
            assert isinstance(module, nn.MaxPool2d)
            assert (module.kernel_size, module.stride) == (layer["kernel_h"], layer["stride"])
        elif layer["op"] == "avgpool":
            assert isinstance(module, nn.AdaptiveAvgPool2d)
        else:
            assert isinstance(module, nn.Conv2d)
            geometry = (module.in_channels, module.out_channels, module.kernel_size, module.stride,
                        module.padding, module.groups, module.bias is not None)
            assert geometry == (layer["in_ch"], layer["out_ch"], (layer["kernel_h"], layer["kernel_w"]),
                                (layer["stride"],) * 2, tuple(layer["pad"]), layer["groups"], layer["bias"])
            bn = getattr(got.model.get_submodule(path.rpartition(".")[0]), f"{path.rpartition('.')[2]}_bn", None)
            assert isinstance(bn, nn.BatchNorm2d) == layer["bn"]
            expected_order.append(path)
    assert got.conv_fc_order == expected_order


# -------------------------------------------------- SqueezeNext per unit ---


@pytest.mark.parametrize(
    ("stage", "weights", "bn"),
    [(1, 2_304, 176), (2, 9_216, 352), (3, 36_864, 704), (4, 147_456, 1_408)],
)
def test_squeezenext_unit_params_match_networks_md_table(stage: int, weights: int, bn: int) -> None:
    # Stage 1, width 1.0 (C = 32), by hand: squeeze1 32*16 + squeeze2 16*8 + 3x1 8*16*3
    # + 1x3 16*16*3 + expand 16*32 = 512 + 128 + 384 + 768 + 512 = 2,304 weights;
    # BN 2*(16 + 8 + 16 + 16 + 32) = 176. Each later stage doubles C: 4x the weights.
    with torch.device("meta"):
        unit = networks.build("sqnxt44").get_submodule(f"s{stage}u2")  # an ordinary unit
    conv_weights = sum(m.weight.numel() for m in unit.modules() if isinstance(m, nn.Conv2d))
    bn_params = sum(p.numel() for m in unit.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters())
    assert (conv_weights, bn_params) == (weights, bn)


def test_squeezenext_unit_pure_macs_are_equal_across_stages() -> None:
    """networks.md: 7,225,344 pure MACs per ordinary unit at 56/28/14/7 (5x5 stem)."""
    model = SqueezeNext(depth=(2, 2, 2, 2), stem_kernel=5, first_unit="serial").eval()
    pure: dict[str, int] = {}

    def record(module: nn.Module, _inputs: object, out: torch.Tensor) -> None:
        pure[module_paths[module]] = conv_macs(module, out)[0]

    module_paths = {m: p for p, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    for module in module_paths:
        module.register_forward_hook(record)
    with torch.no_grad():
        model(torch.zeros(1, 3, 227, 227))
    for stage in range(1, 5):
        assert sum(v for p, v in pure.items() if p.startswith(f"s{stage}u2.")) == 7_225_344


def test_squeezenext_separable_order_alternates_per_stage() -> None:
    graph = torch.fx.symbolic_trace(SqueezeNext(depth=(3, 2))).graph
    seps = [str(n.target) for n in graph.nodes if n.op == "call_module" and ".sep" in str(n.target)
            and not str(n.target).endswith(("_bn", "_relu"))]
    assert seps == ["s1u1.sep3x1", "s1u1.sep1x3", "s1u2.sep1x3", "s1u2.sep3x1", "s1u3.sep3x1",
                    "s1u3.sep1x3", "s2u1.sep3x1", "s2u1.sep1x3", "s2u2.sep1x3", "s2u2.sep3x1"]


@settings(max_examples=25, deadline=None)
@given(
    width=st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0]),
    depth=st.lists(st.integers(1, 3), min_size=1, max_size=5),
    stem_kernel=st.sampled_from([1, 3, 5, 7]),
    first_unit=st.sampled_from(["parallel", "serial"]),
    groups=st.sampled_from([1, 2]),
)
def test_squeezenext_family_builds_any_valid_configuration(
    width: float, depth: list[int], stem_kernel: int, first_unit: str, groups: int
) -> None:
    model = SqueezeNext(width, depth, stem_kernel, first_unit, groups, num_classes=7).eval()
    with torch.no_grad():
        out = model(torch.zeros(2, 3, 64, 64))
    assert out.shape == (2, 7)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    # stem + 5 per unit + 1 shortcut/transition per stage + head
    assert len(convs) == 1 + 5 * sum(depth) + len(depth) + 1
    assert model.get_submodule(f"s{len(depth)}u1.expand").out_channels == round(32 * width) * 2 ** (len(depth) - 1)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"width": 0}, "width"),
        ({"width": -1.0}, "width"),
        ({"width": float("nan")}, "width"),
        ({"width": 1.1}, "width"),  # 32 * 1.1 = 35.2 channels
        ({"width": 1.0, "groups": 3}, "width"),  # 32 is not divisible by 4 * 3
        ({"depth": ()}, "depth"),
        ({"depth": "6681"}, "depth"),
        ({"depth": (6, 0, 8, 1)}, "depth entries"),
        ({"depth": (6, 6.5)}, "depth entries"),
        ({"stem_kernel": 6}, "stem_kernel"),
        ({"stem_kernel": 0}, "stem_kernel"),
        ({"first_unit": "series"}, "first_unit"),
        ({"groups": 0}, "groups"),
        ({"width": 1.5, "groups": 3}, "groups"),  # 48 splits in 4*3, but the 64-ch stem does not
        ({"num_classes": 0}, "num_classes"),
    ],
)
def test_squeezenext_rejects_invalid_arguments(kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(ValueError, match=f"^{argument}: ") as info:
        SqueezeNext(**kwargs)
    assert "\n" not in str(info.value)


# ------------------------------------------------- other family details ---


def test_squeezenet_bypass_param_deltas() -> None:
    vanilla = measure("SqueezeNet v1.0").params
    # Identity adds around fire3, 5, 7, 9 have no parameters.
    assert measure("SqueezeNet v1.0 simple bypass").params == vanilla
    # 1x1 conv bypasses (weights + bias) where widths differ:
    # fire2 96->128: 96*128 + 128 = 12,416;  fire4 128->256: 128*256 + 256 = 33,024;
    # fire6 256->384: 256*384 + 384 = 98,688; fire8 384->512: 384*512 + 512 = 197,120;
    # total 341,248.
    assert measure("SqueezeNet v1.0 complex bypass").params == vanilla + 341_248
    for name in ("SqueezeNet v1.0 simple bypass", "SqueezeNet v1.0 complex bypass"):
        assert measure(name).out_shape == (1, 1000)


def test_squeezenet_rejects_unknown_version_and_bypass() -> None:
    with pytest.raises(ValueError, match="^version: "):
        SqueezeNet(version="1.2")
    with pytest.raises(ValueError, match="^bypass: "):
        SqueezeNet(bypass="full")


def test_alexnet_adaptive_pool_accepts_small_images_without_new_params() -> None:
    model = networks.build("alexnet", num_classes=10, adaptive_pool=True).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 96, 96)).shape == (2, 10)
    with torch.device("meta"):
        plain = networks.build("alexnet", num_classes=10)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in plain.parameters())


@pytest.mark.parametrize(("alpha", "stem", "last"), [(1.0, 32, 1024), (0.75, 24, 768), (0.25, 8, 256), (0.1, 8, 102)])
def test_mobilenet_width_multiplier_uses_tf_slim_rule(alpha: float, stem: int, last: int) -> None:
    with torch.device("meta"):
        model = MobileNetV1(num_classes=10, width_multiplier=alpha)
    assert (model.conv0.out_channels, model.pw13.out_channels, model.fc.in_features) == (stem, last, last)
    assert model.dw13.groups == last


@pytest.mark.parametrize("name", ["sqnxt23", "squeezenet1_1", "tinydarknet", "mobilenet", "gsqnxt23"])
def test_num_classes_changes_the_output(name: str) -> None:
    model = networks.build(name, num_classes=10).eval()
    size = networks.get_preset(name).input_size
    with torch.no_grad():
        assert model(torch.zeros(2, 3, size, size)).shape == (2, 10)


# --------------------------------------------------------------- registry ---


def test_presets_have_unique_paper_names_in_paper_order() -> None:
    names = networks.list_presets()
    assert len(set(names)) == len(names) == 23
    assert names[:5] == ("AlexNet", "SqueezeNet v1.0", "SqueezeNet v1.1", "Tiny Darknet", "1.0-SqNxt-23")
    assert {p.family for p in networks.PRESETS} == {"alexnet", "squeezenet", "tinydarknet", "mobilenet", "squeezenext"}


@pytest.mark.parametrize("preset", networks.PRESETS, ids=lambda p: p.name)
def test_names_and_aliases_resolve_case_insensitively(preset: networks.Preset) -> None:
    for spelling in (preset.name, *preset.aliases):
        for variant in (spelling, spelling.upper(), spelling.lower(), spelling.replace("-", "_")):
            assert networks.get_preset(variant) is preset


def test_short_aliases_follow_the_documented_scheme() -> None:
    expected = {
        "squeezenet": "SqueezeNet v1.0",
        "mobilenet_v1": "MobileNet",
        "sqnxt23": "1.0-SqNxt-23",
        "SqNxt-23v5": "1.0-SqNxt-23v5",
        "sqnxt23_w1.5": "1.5-SqNxt-23",
        "sqnxt23v5_w2": "2.0-SqNxt-23v5",
        "gsqnxt23": "1.0-G-SqNxt-23",
        "sqnxt44_w2": "2.0-SqNxt-44",
    }
    assert {alias: networks.get_preset(alias).name for alias in expected} == expected


def test_unknown_name_error_lists_suggestions() -> None:
    with pytest.raises(networks.UnknownNetworkError) as info:
        networks.get_preset("sqnxt-23v6")
    error = info.value
    assert isinstance(error, ValueError)
    assert error.name == "sqnxt-23v6"
    assert "sqnxt23v5" in error.suggestions
    assert "\n" not in str(error) and all(s in str(error) for s in error.suggestions)
    with pytest.raises(networks.UnknownNetworkError) as nothing_close:
        networks.get_preset("resnet50")
    assert nothing_close.value.suggestions == ()


def test_preset_options_are_read_only_and_overridable() -> None:
    preset = networks.get_preset("sqnxt23v5")
    assert dict(preset.options) == {"width": 1.0, "depth": (2, 4, 14, 1), "stem_kernel": 5,
                                    "first_unit": "serial", "groups": 1}
    with pytest.raises(TypeError):
        preset.options["width"] = 2.0  # type: ignore[index]
    with torch.device("meta"):
        variant = preset.build(depth=(3, 3, 14, 1))
    assert (variant.depth, variant.first_unit) == ((3, 3, 14, 1), "serial")


def test_depth_34_notes_flag_the_unverified_assumption() -> None:
    for name in ("1.0-SqNxt-34", "1.5-SqNxt-34", "2.0-SqNxt-34"):
        assert "UNVERIFIED" in networks.get_preset(name).notes
    assert all(p.notes for p in networks.PRESETS)


def test_importing_the_registry_does_not_import_torch() -> None:
    code = "import sys, networks; networks.get_preset('sqnxt23'); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
