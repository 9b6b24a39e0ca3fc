"""The generated ``reports/README.md``: what each file is, what produced it, the hardware used,
and the paper's Figure 6 statements beside ours (computed, never typed in)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accelsim import paper
from accelsim.hardware.spec import HardwareSpec
from accelsim.reporting.figure6 import Figure6Stats
from accelsim.reporting.table3 import Table3
from accelsim.reporting.writers import markdown_table

_WHAT = {
    "table3": "SqNxt Table 3: cycles, normalised time and energy of the 13 networks per configuration, "
              "the paper's cells and our deviation, rank agreement",
    "figure6": "SqNxt Figure 6: per-item cycles of 1.0-SqNxt-23 v1-v5 (bars) and MACs/cycle (dotted), "
               "one panel per configuration",
    "figure7": "SqNxt Figure 7: top-1 against energy and against time, circle area ~ sqrt(params)",
    "breakdown": "per-layer energy by memory level and roofline of one run",
    "README": "this file: provenance, the Figure 6 statements beside the paper's, the hardware specs",
}


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out |= _flatten(v, f"{prefix}{k}.")
        return out
    return {prefix[:-1]: data}


def hardware_markdown(specs: Sequence[HardwareSpec]) -> str:
    """Every field of every spec, one column per spec (dotted field paths as in ``--set``)."""
    flat = [_flatten(s.model_dump(mode="json", exclude={"calibration"})) for s in specs]
    keys = list(dict.fromkeys(k for f in flat for k in f if k != "description"))

    def text(v: Any) -> str:
        if isinstance(v, list):
            return ", ".join(map(str, v))
        return "None" if v is None else str(v)

    rows = [[f"`{k}`", *(text(f.get(k)) for f in flat)] for k in keys]
    return markdown_table(["field", *(s.label for s in specs)], rows)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def figure6_statements(stats: Figure6Stats) -> str:
    """The paper's Figure 6 statements beside ours, as Markdown (a table and the definitions)."""
    rows = []
    on16 = next((c for c in stats.configs if c.hardware == paper.CONFIG_16x16), None)
    if on16 is not None:
        rows.append([f"first conv (`{on16.first_conv}`) share of {stats.network}'s cycles on {on16.hardware}",
                     _pct(paper.FIRST_CONV_SHARE_16x16), _pct(on16.first_conv_share)])
    for c in stats.configs:
        if c.hardware != paper.CONFIG_16x16:
            rows.append([f"first conv share on {c.hardware}", "not stated", _pct(c.first_conv_share)])
    for c in stats.configs:
        rows.append([
            f"stage-1 efficiency drop on {c.hardware}",
            {paper.CONFIG_16x16: "significant, larger than on 8x8", paper.CONFIG_8x8: "smaller than on 16x16"}
            .get(c.hardware, "not stated"),
            f"{_pct(c.drop)} (stage 1: {c.stage1_efficiency:.1f} MACs/cycle = {_pct(c.stage1_utilisation)} of "
            f"Pr*Pc; stages 2-4: {c.later_efficiency:.1f} = {_pct(c.later_utilisation)})",
        ])
    agree = "agrees" if stats.larger_drop_on == paper.EFFICIENCY_DROP_WORSE_ON else "disagrees"
    rows.append(["configuration with the larger stage-1 drop", paper.EFFICIENCY_DROP_WORSE_ON,
                 f"{stats.larger_drop_on} ({agree})"])
    table = markdown_table(["statement", "paper", "accelsim"], rows)
    definitions = (
        "Definitions: *share* = cycles of the first conv layer / total cycles of the network (every layer, "
        "pools included). *Efficiency* = pure MACs / cycles (the paper's acceleration efficiency). "
        "*Stage-1 drop* = 1 - E1 / E2+, where E1 = MACs / cycles summed over the convs of the first "
        "SqueezeNext stage (units `s1u*`) and E2+ the same over stages 2-4; 0% means stage 1 runs as "
        "efficiently as the later stages. The percentages of Pr*Pc are dense-equivalent fractions of peak "
        "(dense MACs/cycle per PE; OS can exceed 100% by skipping zero weights; the PE utilisation, which "
        "cannot, is in `accelsim run`).\n"
    )
    return table + "\n" + definitions


def readme_text(table: Table3, stats: Figure6Stats, files: Sequence[Path], command: str,
                specs: Sequence[HardwareSpec]) -> str:
    """The README of a report folder (deterministic: no dates)."""
    out = _out_option(command)
    by_kind: dict[str, list[str]] = {}
    for path in files:
        kind = path.stem.split("_")[0]
        by_kind.setdefault(kind, []).append(path.name)
    standalone = {
        "table3": f"accelsim report table3{out}",
        "figure6": f"accelsim report figure6{out}",
        "figure7": f"accelsim report figure7{out}",
        "breakdown": f"accelsim report breakdown {stats.network} --hw {_hw_word(specs)}{out}",
    }
    by_kind.setdefault("README", ["README.md"])
    file_rows = [[", ".join(f"`{n}`" for n in names), _WHAT.get(kind, ""), f"`{standalone.get(kind, command)}`"]
                 for kind, names in by_kind.items()]
    agreement = []
    for a in table.rank_agreements():
        if len(a.networks) > 1:
            tau = "undefined" if math.isnan(a.tau_b) else f"{a.tau_b:.2f}"
            agreement.append(f"- {a.config} {a.metric}: Kendall tau-b {tau}, {a.agreeing_pairs}/{a.ordered_pairs} "
                             "strictly ordered pairs in the paper's order.")
    parts = [
        "# Reports (generated)\n",
        f"Every file here was produced by `{command}` with accelsim {table.version}. Do not edit by hand: "
        "re-run the command (it is deterministic: same inputs, same bytes). Each file carries its "
        "provenance (command, version, hardware labels, networks): CSV files in leading `#` lines, "
        "JSON in a `provenance` object, Markdown in an HTML comment, PNG/SVG in their metadata.\n",
        markdown_table(["files", "what", "regenerate alone"], file_rows),
        f"Energies are in {table.scale_text()}.\n",
        "## Figure 6 statements: the paper's and ours\n",
        figure6_statements(stats),
        "## Table 3 rank agreement with the paper\n",
        "\n".join(agreement) + "\n" if agreement else "No configuration matches the paper's.\n",
        "## Hardware specs used\n",
        hardware_markdown(specs),
    ]
    return "\n".join(parts)


def _hw_word(specs: Sequence[HardwareSpec]) -> str:
    """The --hw value of the breakdown's spec (the largest PE array): a built-in name or FILE."""
    spec = max(specs, key=lambda s: s.pe_array.rows * s.pe_array.cols)
    return {paper.CONFIG_16x16: "16x16", paper.CONFIG_8x8: "8x8"}.get(spec.label, "FILE")


def _out_option(command: str) -> str:
    """`` --out DIR`` of ``command``, or empty."""
    words = command.split()
    if "--out" in words and words.index("--out") + 1 < len(words):
        return f" --out {words[words.index('--out') + 1]}"
    return ""
