"""Layer graphs of SqueezeNext depth variants, stitched from templates instead of re-exported.

Exporting a network through torch.fx takes tens of milliseconds to seconds; a search over
1,140 depth vectors cannot afford one export each. A SqueezeNext network is a stem, then per
stage a first unit (stride 2 and a shortcut or transition conv) followed by identical units
that differ only in the order of their separable convs (3x1 first in odd units, 1x3 first in
even ones), then a head. So the family is exported once at a *probe* depth with 3 units per
stage, cut into templates (stem; per stage: unit 1, unit 2 (even), unit 3 (odd); head), and any
depth vector's graph is stitched from them by renaming ``sSuK`` to ``sSuU`` and rewiring each
unit's input to the previous unit's output. ``tests/test_codesign_variants.py`` checks stitched
graphs equal direct exports; the constructor checks the probe re-stitches to itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from accelsim.codesign.space import Depth
from accelsim.errors import WorkloadError
from accelsim.workload.graph import LayerGraph
from accelsim.workload.layer import Layer

_UNIT = re.compile(r"^s(\d+)u(\d+)(?=[._]|$)")
PROBE_UNITS = 3  #: units per stage in the probe export: the first, an even and an odd unit


@dataclass(frozen=True)
class _UnitTemplate:
    """One exported unit: its layers (in order), the one external input, and its output layer."""

    stage: int
    unit: int
    layers: tuple[Layer, ...]
    external: str
    output: str


def _unit_of(name: str) -> tuple[int, int] | None:
    match = _UNIT.match(name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _rename(text: str, stage: int, old: int, new: int) -> str:
    prefix = f"s{stage}u{old}"
    if old == new or not text.startswith(prefix):
        return text
    rest = text[len(prefix):]
    return f"s{stage}u{new}{rest}" if rest[:1] in ("", ".", "_") else text


def unit_kind(stage: int, unit: int) -> str:
    """The block kind of unit ``sSuU``: ``sSu1``, ``sSeven`` (even units) or ``sSodd`` (odd units >= 3)."""
    return f"s{stage}u1" if unit == 1 else (f"s{stage}even" if unit % 2 == 0 else f"s{stage}odd")


def kind_sequence(depth: Sequence[int]) -> list[str]:
    """The block kinds of a depth vector in execution order (``VariantBuilder.blocks`` without layers)."""
    return ["stem", *(unit_kind(s, u) for s, units in enumerate(depth, start=1) for u in range(1, units + 1)), "head"]


class VariantBuilder:
    """Builds the ``LayerGraph`` of any depth vector of one SqueezeNext family.

    Args:
        probe: the family exported with ``PROBE_UNITS`` units in every stage.
        graph_name: ``graph_name(depth)`` gives each stitched graph's name.
        graph_meta: ``graph_meta(depth)`` gives each stitched graph's ``meta``.

    Raises:
        WorkloadError: if the probe does not have the expected ``sSuU`` unit structure.
    """

    def __init__(self, probe: LayerGraph, graph_name: Callable[[Depth], str],
                 graph_meta: Callable[[Depth], Mapping[str, Any]]) -> None:
        self._name_of = graph_name
        self._meta_of = graph_meta
        self.input_shape = probe.input_shape
        layers = probe.layers()
        units: dict[tuple[int, int], list[Layer]] = {}
        self._stem: list[Layer] = []
        self._head: list[Layer] = []
        for layer in layers:
            key = _unit_of(layer.name)
            if key is not None:
                if self._head:
                    raise WorkloadError(f"{probe.name}: unit layer {layer.name!r} after the head began")
                units.setdefault(key, []).append(layer)
            elif units:
                self._head.append(layer)
            else:
                self._stem.append(layer)
        self.n_stages = max((s for s, _ in units), default=0)
        expected = {(s, u) for s in range(1, self.n_stages + 1) for u in range(1, PROBE_UNITS + 1)}
        if not units or set(units) != expected:
            raise WorkloadError(f"{probe.name}: expected units s1u1..s{self.n_stages}u{PROBE_UNITS} in the "
                                f"probe export; got {sorted(units)}")
        self._templates = {key: self._template(probe, key, group) for key, group in units.items()}
        self._last_output = self._templates[(self.n_stages, PROBE_UNITS)].output
        self._cache: dict[tuple[int, int, str], tuple[Layer, ...]] = {}
        probe_depth = (PROBE_UNITS,) * self.n_stages
        if [x.to_dict() for x in self.build(probe_depth).layers()] != [x.to_dict() for x in layers]:
            raise WorkloadError(f"{probe.name}: re-stitching the probe did not reproduce it; "
                                "its units are not self-similar")

    @staticmethod
    def _template(probe: LayerGraph, key: tuple[int, int], layers: list[Layer]) -> _UnitTemplate:
        where = f"{probe.name}: unit s{key[0]}u{key[1]}"
        own = {layer.name for layer in layers}
        external = {src for layer in layers for src in layer.inputs if src not in own}
        outputs = [layer.name for layer in layers if any(c not in own for c in probe.consumers(layer.name))]
        if len(external) != 1 or len(outputs) != 1:
            raise WorkloadError(f"{where}: expected one input and one output; got inputs {sorted(external)} "
                                f"and outputs {outputs}")
        return _UnitTemplate(key[0], key[1], tuple(layers), external.pop(), outputs[0])

    def _unit(self, stage: int, unit: int, source: str) -> tuple[Layer, ...]:
        """Layers of unit ``sSuU`` reading ``source``; memoised, so each is built once per search."""
        key = (stage, unit, source)
        if key not in self._cache:
            probe_unit = 1 if unit == 1 else (2 if unit % 2 == 0 else 3)
            template = self._templates[(stage, probe_unit)]
            own = {layer.name for layer in template.layers}

            def name(text: str) -> str:
                return _rename(text, stage, probe_unit, unit)

            self._cache[key] = tuple(
                replace(layer, name=name(layer.name), source=name(layer.source),
                        inputs=tuple(name(src) if src in own else source for src in layer.inputs))
                for layer in template.layers)
        return self._cache[key]

    def output_of(self, stage: int, unit: int) -> str:
        """Name of the output layer of unit ``sSuU`` (the shortcut add)."""
        probe_unit = 1 if unit == 1 else (2 if unit % 2 == 0 else 3)
        return _rename(self._templates[(stage, probe_unit)].output, stage, probe_unit, unit)

    def check_depth(self, depth: Sequence[int]) -> Depth:
        vector = tuple(int(d) for d in depth)
        if len(vector) != self.n_stages or min(vector) < 1:
            raise WorkloadError(f"depth: expected {self.n_stages} stages of >= 1 units; got {list(depth)}")
        return vector

    def blocks(self, depth: Sequence[int]) -> list[tuple[str, tuple[Layer, ...]]]:
        """The variant's layers in execution order, cut into blocks: ``(kind, layers)`` per block.

        Kinds: ``stem``; per stage ``sSu1`` (the first unit), ``sSeven`` (units 2, 4, ...) and
        ``sSodd`` (units 3, 5, ...), the three unit templates; ``head``. Blocks of one kind
        have the same layer signatures in every variant, so compositional pricing
        (``accelsim.codesign.compose``) prices each kind once.
        """
        vector = self.check_depth(depth)
        out: list[tuple[str, tuple[Layer, ...]]] = [("stem", tuple(self._stem))]
        source = self._templates[(1, 1)].external
        for stage, units in enumerate(vector, start=1):
            for unit in range(1, units + 1):
                out.append((unit_kind(stage, unit), self._unit(stage, unit, source)))
                source = self.output_of(stage, unit)
        head = []
        for layer in self._head:
            if self._last_output in layer.inputs:
                layer = replace(layer, inputs=tuple(source if s == self._last_output else s for s in layer.inputs))
            head.append(layer)
        out.append(("head", tuple(head)))
        return out

    def layers(self, depth: Sequence[int]) -> list[Layer]:
        """The variant's layers in execution order, without building a graph."""
        return [layer for _, block in self.blocks(depth) for layer in block]

    def build(self, depth: Sequence[int]) -> LayerGraph:
        """The shape-checked ``LayerGraph`` of ``depth`` (same layers as a direct export)."""
        vector = self.check_depth(depth)
        graph = LayerGraph(self._name_of(vector), self.input_shape, self._meta_of(vector))
        for layer in self.layers(vector):
            graph.add(layer)
        return graph


def squeezenext_options(name: str, overrides: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The preset's paper name and its constructor options with ``overrides`` applied.

    Raises:
        WorkloadError: if ``name`` is not a SqueezeNext preset (depth redistribution needs one).
    """
    from accelsim.workload.zoo import resolve_name
    from networks.registry import get_preset

    preset = get_preset(resolve_name(name))
    if preset.family != "squeezenext":
        raise WorkloadError(f"redistribute: {preset.name!r} is from the {preset.family} family; depth "
                            "redistribution needs a SqueezeNext base such as '1.0-SqNxt-23v2'")
    options = dict(preset.options)
    unknown = sorted(set(overrides) - set(options))
    if unknown:
        raise WorkloadError(f"redistribute: unknown SqueezeNext option(s) {', '.join(unknown)}; "
                            f"expected {', '.join(sorted(options))}")
    options.update({k: v for k, v in overrides.items() if v is not None})
    options["depth"] = tuple(int(d) for d in options["depth"])
    return preset.name, options
