"""Stitched variant graphs equal direct exports (accelsim.workload.zoo.load_graph), layer for layer.

The oracle is an independent path: build the torch module at that depth and export it with
torch.fx (``use_cache=False``). Equality covers every layer field (names, inputs, shapes,
kernels, strides, padding, groups, BN/act, source), the graph name and meta, so params and MACs
(sums over layers) match too; they are also compared against the paper-derived per-unit counts.
"""

from __future__ import annotations

import json

import pytest

from accelsim.codesign.search import make_builder
from accelsim.codesign.variants import squeezenext_options
from accelsim.errors import WorkloadError
from accelsim.workload.zoo import load_graph

FAMILIES = {
    # name -> overrides: the paper's v2-v5 family (5x5 stem, serial), the released v1 (7x7, parallel),
    # 2.0 width, grouped convs, and a 3-stage network
    "sqnxt23v2": {},
    "sqnxt23": {},
    "sqnxt23v5_w2": {},
    "gsqnxt23": {},
    "sqnxt23v5": {"depth": (2, 2, 2)},
}
DEPTHS = {
    "sqnxt23v2": [(6, 6, 8, 1), (4, 8, 8, 1), (2, 10, 8, 1), (2, 4, 14, 1), (1, 1, 1, 1), (1, 2, 5, 7)],
    "sqnxt23": [(6, 6, 8, 1), (1, 1, 1, 4)],
    "sqnxt23v5_w2": [(2, 4, 14, 1), (3, 1, 2, 2)],
    "gsqnxt23": [(5, 1, 1, 2)],
    "sqnxt23v5": [(1, 1, 1), (4, 1, 6)],
}


@pytest.fixture(scope="module")
def builders():  # type: ignore[no-untyped-def]
    out = {}
    for key, overrides in FAMILIES.items():
        name, options = squeezenext_options(key, overrides)
        out[key] = (name, options, make_builder(name, options))
    return out


@pytest.mark.parametrize(("family", "depth"), [(f, d) for f, ds in DEPTHS.items() for d in ds])
def test_stitched_equals_direct_export(builders, family: str, depth: tuple[int, ...]) -> None:  # type: ignore[no-untyped-def]
    name, options, builder = builders[family]
    family_options = {k: options[k] for k in ("width", "stem_kernel", "first_unit", "groups")}
    direct = load_graph(name, use_cache=False, **family_options, depth=depth)
    stitched = builder.build(depth)
    # compared as serialised (JSON) objects: a fresh export keeps tuples in meta where a cached one has lists
    assert json.loads(json.dumps(stitched.to_dict())) == json.loads(json.dumps(direct.to_dict()))
    assert stitched.layers() == direct.layers()
    assert (stitched.params, stitched.macs, stitched.macs_paper) == (direct.params, direct.macs, direct.macs_paper)


def test_paper_variants_counts(builders) -> None:  # type: ignore[no-untyped-def]
    # networks.md, "SqueezeNext params under the three BN conventions", +BN gamma,beta column:
    # 1.0-SqNxt-23v2 0.7337 M, v5 0.9300 M; v2 -> v3 moves 2 units from stage 1 to stage 2:
    # 2 * ((9,216 + 352) - (2,304 + 176)) = +14,176 params, pure MACs unchanged (7,225,344 per unit).
    _, _, builder = builders["sqnxt23v2"]
    v2, v3, v5 = (builder.build(d) for d in [(6, 6, 8, 1), (4, 8, 8, 1), (2, 4, 14, 1)])
    assert round(v2.params / 1e6, 4) == 0.7337
    assert round(v5.params / 1e6, 4) == 0.9300
    assert v3.params - v2.params == 14_176
    assert v2.macs == v3.macs == v5.macs


def test_bad_depth_and_non_squeezenext_base(builders) -> None:  # type: ignore[no-untyped-def]
    _, _, builder = builders["sqnxt23v2"]
    with pytest.raises(WorkloadError, match="expected 4 stages"):
        builder.build((6, 6, 9))
    with pytest.raises(WorkloadError, match="is from the squeezenet family"):
        squeezenext_options("squeezenet", {})
    with pytest.raises(WorkloadError, match="unknown network"):
        squeezenext_options("sqnxt99", {})
