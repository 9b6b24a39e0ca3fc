"""SqNxt Figure 6 regenerated: per-layer cycles, layers of one configuration summed, and the
acceleration efficiency (MACs per cycle) of each item; plus the statements made around it.

**Items** (the x axis). The paper sums layers "with the same configuration" into one item.
accelsim groups a SqueezeNext unit layer (named ``s<stage>u<unit>.<role>``) by its stage, its
role in the unit and its shape: ``(stage, role, in channels, out channels, stride, groups)``.
So all stage-1 ``squeeze1`` convs of non-first units form one item, while the first unit's
``squeeze1`` (a different input width or stride) is an item of its own. The separable convs
keep their kernel in the role (``sep3x1``, ``sep1x3``) and their position in the unit in the
channels (first: C/4 -> C/2, second: C/2 -> C/2), since the 3x1/1x3 order alternates between
units. A parallel unit's ``shortcut`` and a serial unit's ``transition`` are the same
1x1/stride-s Cin -> C conv and are both labelled ``shortcut``. Layers outside the units (the
stem ``conv1``, pools, ``conv_final``, ``fc``) are items named after the layer, so ``conv1`` is
one item whether its kernel is 7x7 (v1) or 5x5 (v2-v5). Map sizes are left out of the key so
the same item lines up across networks whose stage-1 maps differ (55 vs 56). Labels read
``s1 squeeze1 32→16`` (stage, role, in→out channels) with ``/2`` for stride 2.

Layers of other networks are not grouped: each is an item named after the layer.
Efficiency uses pure MACs (the multiply-accumulates the array executes); an item without
MACs (pooling) has no efficiency point. Items with zero cycles in every network (fused adds)
are left out of the plot but kept in the CSV.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accelsim.errors import WorkloadError
from accelsim.results import LayerResult, NetworkResult
from accelsim.workload.layer import Layer, LayerKind

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The five 1.0-SqNxt-23 variants of the paper's Figure 6.
FIGURE6_NETWORKS: tuple[str, ...] = ("1.0-SqNxt-23", "1.0-SqNxt-23v2", "1.0-SqNxt-23v3",
                                     "1.0-SqNxt-23v4", "1.0-SqNxt-23v5")

_UNIT_LAYER = re.compile(r"^s(\d+)u(\d+)[._](\w+)$")
_ROLE_ALIASES = {"transition": "shortcut"}


def unit_position(name: str) -> tuple[int, int, str] | None:
    """``(stage, unit, role)`` of a SqueezeNext unit layer name (``s2u1.squeeze1``), else None."""
    match = _UNIT_LAYER.match(name)
    if not match:
        return None
    return int(match[1]), int(match[2]), match[3]


def item_of(layer: Layer) -> tuple[tuple[Any, ...], str]:
    """The Figure 6 item of a layer: its grouping key and its readable label (module docstring)."""
    pos = unit_position(layer.name)
    if pos is None:
        return ("layer", layer.name), layer.name
    stage, _, role = pos
    role = _ROLE_ALIASES.get(role, role)
    stride = max(layer.stride)
    key = ("unit", stage, role, layer.in_channels, layer.out_channels, stride, layer.groups)
    label = f"s{stage} {role}"
    if layer.kind is not LayerKind.ADD:
        label += f" {layer.in_channels}\u2192{layer.out_channels}"
    label += "/2" if stride == 2 else (f"/{stride}" if stride > 2 else "")
    label += f" g{layer.groups}" if layer.groups > 1 and not layer.is_depthwise else ""
    return key, label


@dataclass(frozen=True)
class Figure6Panel:
    """The data of one configuration's panel.

    Attributes:
        hardware: spec label; pe_count: Pr * Pc.
        networks: one bar series each, in order.
        items: item labels, in x order (execution order, merged across networks).
        cycles: ``cycles[n][i]``, cycles of network n summed over item i's layers (0 if absent).
        macs: ``macs[n][i]``, pure MACs likewise.
        layers: ``layers[n][i]``, how many layers were summed.
        totals: total cycles of each network (every layer, including zero-MAC ones).
    """

    hardware: str
    pe_count: int
    networks: tuple[str, ...]
    items: tuple[str, ...]
    cycles: tuple[tuple[float, ...], ...]
    macs: tuple[tuple[int, ...], ...]
    layers: tuple[tuple[int, ...], ...]
    totals: tuple[float, ...]

    def efficiency(self, n: int) -> tuple[float, ...]:
        """MACs per cycle of network n per item; NaN where the item has no MACs or no cycles."""
        return tuple(m / c if m and c else math.nan for m, c in zip(self.macs[n], self.cycles[n], strict=True))

    def visible_items(self) -> list[int]:
        """Indices of items with cycles in at least one network (the plotted ones)."""
        return [i for i in range(len(self.items)) if any(self.cycles[n][i] > 0 for n in range(len(self.networks)))]

    def records(self) -> list[dict[str, Any]]:
        """Long-format rows (one per network and item) for the CSV behind the plot."""
        out = []
        for n, net in enumerate(self.networks):
            eff = self.efficiency(n)
            for i, label in enumerate(self.items):
                out.append({
                    "hardware": self.hardware, "network": net, "item_index": i, "item": label,
                    "layers": self.layers[n][i], "macs": self.macs[n][i], "cycles": self.cycles[n][i],
                    "efficiency_macs_per_cycle": eff[i],
                    "dense_fraction_of_peak": eff[i] / self.pe_count,
                    "share_of_network_cycles": self.cycles[n][i] / self.totals[n] if self.totals[n] else math.nan,
                })
        return out


def _merge(orders: Sequence[Sequence[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    """Merge per-network item sequences into one x order (the first network's order first).

    A new item goes right after its predecessor in the network that introduces it; a network's
    leading new items go before that network's first item already placed, or at the end if it
    shares none (so unrelated networks follow each other in the order given).
    """
    merged: list[tuple[Any, ...]] = []
    for order in orders:
        previous = None
        for j, key in enumerate(order):
            if key not in merged:
                if previous is not None:
                    merged.insert(merged.index(previous) + 1, key)
                else:
                    later = next((k for k in order[j + 1:] if k in merged), None)
                    merged.insert(merged.index(later) if later is not None else len(merged), key)
            previous = key
    return merged


def figure6_panel(results: Sequence[NetworkResult], names: Sequence[str] | None = None) -> Figure6Panel:
    """Group each network's layers into items (module docstring) for one configuration.

    Args:
        results: one per network, all on the same hardware spec.
        names: series names (default: each result's ``network``).

    Raises:
        WorkloadError: if the results are empty or on different hardware.
    """
    if not results:
        raise WorkloadError("Figure 6: no networks")
    spec = results[0].hardware
    if any(r.hardware != spec for r in results):
        raise WorkloadError("Figure 6: a panel's networks must all run on the same hardware spec")
    labels: dict[tuple[Any, ...], str] = {}
    per_net: list[dict[tuple[Any, ...], list[LayerResult]]] = []
    for result in results:
        groups: dict[tuple[Any, ...], list[LayerResult]] = {}
        for lr in result.layers:
            key, label = item_of(lr.layer)
            labels.setdefault(key, label)
            groups.setdefault(key, []).append(lr)
        per_net.append(groups)
    keys = _merge([list(g) for g in per_net])
    return Figure6Panel(
        hardware=spec.label,
        pe_count=spec.pe_array.rows * spec.pe_array.cols,
        networks=tuple(names) if names is not None else tuple(r.network for r in results),
        items=tuple(labels[k] for k in keys),
        cycles=tuple(tuple(sum(lr.cycles for lr in g.get(k, ())) for k in keys) for g in per_net),
        macs=tuple(tuple(sum(lr.macs for lr in g.get(k, ())) for k in keys) for g in per_net),
        layers=tuple(tuple(len(g.get(k, ())) for k in keys) for g in per_net),
        totals=tuple(r.cycles for r in results),
    )


def plot_figure6(panels: Sequence[Figure6Panel], title: str | None = None) -> Figure:
    """Grouped bars of cycles per item (one bar per network) and dotted efficiency lines on a
    second y axis, one panel per configuration, the larger PE array on top.

    Returns the Figure; ``fig.axes`` holds the bar axes of each panel (top first), then the
    efficiency twin axes in the same order.
    """
    import numpy as np
    from matplotlib.lines import Line2D

    from accelsim.reporting.plotting import colour, new_figure

    ordered = sorted(panels, key=lambda p: -p.pe_count)
    n_items = max(len(p.visible_items()) for p in ordered)
    fig, axes = new_figure(max(11.0, 0.34 * n_items + 3.0), 4.6 * len(ordered) + 0.6,
                           nrows=len(ordered), ncols=1, squeeze=False)
    for ax, panel in zip(axes[:, 0], ordered, strict=True):
        items = panel.visible_items()
        x = np.arange(len(items), dtype=float)
        n_nets = len(panel.networks)
        width = 0.8 / n_nets
        eff_ax = ax.twinx()
        for n, net in enumerate(panel.networks):
            offset = (n - (n_nets - 1) / 2) * width
            ax.bar(x + offset, [panel.cycles[n][i] / 1e3 for i in items], width,
                   color=colour(n), label=net, zorder=2)
            eff = panel.efficiency(n)
            eff_ax.plot(x, [eff[i] for i in items], linestyle=":", marker="o", markersize=2.5,
                        linewidth=1.3, color=colour(n), label=f"{net} efficiency", zorder=3)
        eff_ax.axhline(panel.pe_count, color="0.35", linewidth=0.8, linestyle="--", zorder=1)
        eff_ax.annotate(f"Pr x Pc = {panel.pe_count}", (1.0, panel.pe_count), xycoords=("axes fraction", "data"),
                        xytext=(-4, 2), textcoords="offset points", ha="right", va="bottom", fontsize=7.5,
                        color="0.35")
        eff_ax.set_ylim(0, max([panel.pe_count * 1.1] + [v * 1.1 for n in range(n_nets)
                                                         for v in panel.efficiency(n) if not math.isnan(v)]))
        ax.set_xticks(x, [panel.items[i] for i in items], rotation=60, ha="right", rotation_mode="anchor",
                      fontsize=7.5)
        ax.set_xlim(-0.6, len(items) - 0.4)
        ax.set_ylabel("inference time (kcycles, summed over the item's layers)")
        eff_ax.set_ylabel("acceleration efficiency (MACs/cycle, dotted)")
        ax.set_title(f"{panel.hardware}", loc="left", fontsize=10, fontweight="bold")
        ax.grid(axis="y", linewidth=0.4, alpha=0.5, zorder=0)
        ax.set_axisbelow(True)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    handles.append(Line2D([], [], color="0.3", linestyle=":", marker="o", markersize=3))
    labels.append("MACs/cycle (dotted, right axis; one line per network, same colour)")
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6), fontsize=8.5, frameon=False)
    fig.suptitle(title or "Per-layer inference time and acceleration efficiency (layers of one "
                 "configuration summed)", fontsize=11)
    return fig


@dataclass(frozen=True, slots=True)
class StageEfficiency:
    """Figure 6 statistics of one network on one configuration.

    Attributes:
        hardware: spec label; pe_count: Pr * Pc.
        first_conv: name of the first conv layer (the stem).
        first_conv_share: the stem's cycles / the network's total cycles.
        stage1_efficiency: pure MACs / cycles summed over the stage-1 unit convs (MACs/cycle).
        later_efficiency: the same over the convs of stages 2 and later.
    """

    hardware: str
    pe_count: int
    first_conv: str
    first_conv_share: float
    stage1_efficiency: float
    later_efficiency: float

    @property
    def stage1_utilisation(self) -> float:
        """Stage-1 MACs/cycle as a fraction of the dense peak Pr*Pc."""
        return self.stage1_efficiency / self.pe_count

    @property
    def later_utilisation(self) -> float:
        return self.later_efficiency / self.pe_count

    @property
    def drop(self) -> float:
        """The efficiency drop of the first stage: ``1 - stage1_efficiency / later_efficiency``
        (0 = stage 1 as efficient as the later stages; 0.5 = half as efficient)."""
        return 1.0 - self.stage1_efficiency / self.later_efficiency


def stage_efficiency(result: NetworkResult) -> StageEfficiency:
    """First-conv share and stage-1 vs later-stage efficiency of a SqueezeNext run.

    Raises:
        WorkloadError: if the network has no conv layer or no ``s1u*`` / later unit convs.
    """
    convs = [lr for lr in result.layers if lr.layer.kind is LayerKind.CONV]
    if not convs:
        raise WorkloadError(f"{result.network}: no conv layer")
    stage1 = [lr for lr in convs if (p := unit_position(lr.layer.name)) and p[0] == 1]
    later = [lr for lr in convs if (p := unit_position(lr.layer.name)) and p[0] > 1]
    if not stage1 or not later:
        raise WorkloadError(f"{result.network}: not a SqueezeNext graph (no s1u*/s2u* unit convs)")
    spec = result.hardware

    def eff(group: list[LayerResult]) -> float:
        return sum(lr.macs for lr in group) / sum(lr.cycles for lr in group)

    return StageEfficiency(
        hardware=spec.label,
        pe_count=spec.pe_array.rows * spec.pe_array.cols,
        first_conv=convs[0].layer.name,
        first_conv_share=convs[0].cycles / result.cycles,
        stage1_efficiency=eff(stage1),
        later_efficiency=eff(later),
    )


@dataclass(frozen=True, slots=True)
class Figure6Stats:
    """The paper's Figure 6 statements, measured on our runs of one network.

    Attributes:
        network: the network (1.0-SqNxt-23 for the paper's statements).
        configs: per configuration, larger PE array first.
        larger_drop_on: the configuration whose stage-1 drop is larger.
    """

    network: str
    configs: tuple[StageEfficiency, ...]
    larger_drop_on: str

    def config(self, label: str) -> StageEfficiency:
        for c in self.configs:
            if c.hardware == label:
                return c
        raise KeyError(label)


def figure6_stats(results: Sequence[NetworkResult]) -> Figure6Stats:
    """:class:`Figure6Stats` of one network's runs on several configurations."""
    if not results:
        raise WorkloadError("Figure 6 statistics: no runs")
    configs = tuple(sorted((stage_efficiency(r) for r in results), key=lambda s: -s.pe_count))
    larger = max(configs, key=lambda s: s.drop).hardware
    return Figure6Stats(results[0].network, configs, larger)
