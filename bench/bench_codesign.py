"""Benchmark compositional pricing: redistribute before/after, and a joint space of over a million designs.

Run: ``python bench/bench_codesign.py`` (prints; asserts nothing but that both paths agree).

1. **Redistribution, before and after.** The 1,140 distributions of 21 blocks of
   1.0-SqNxt-23v2 on 16x16/128KB, priced the old way (``simulate_graph`` of every stitched graph,
   one shared layer cache: what ``redistribute`` did before ``compose``) and the new way
   (``redistribute``, which composes). Same ranking and the same numbers, to float rounding.
   Target: the new search under 0.5 s once the probe graph is exported.
2. **A joint space.** 6 SqueezeNext families (widths 1.0/1.5/2.0 x stems 5/7) x all 1,140
   21-block distributions x 180 hardware points (PE 8x8/12x12/16x16/32x32 x buffer
   32/128/512 KB x DRAM 8/16/32 GB/s x node 22/28/32/45/65 nm) = 1,231,200 design points, in a
   fresh interpreter with an empty graph cache (torch import and six probe exports included).
   Targets: the compose step at >= 1,000,000 points/s; the whole space under 60 s.

Both parts print wall time and CPU time: the machine has 2 cores shared with other work, so
the CPU time is the steadier figure; ``os.getloadavg()`` is printed too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

JOINT = r"""
import sys, time
wall, cpu = time.perf_counter(), time.process_time()
from accelsim.codesign import codesign
vary = {"pe": ["8x8", "12x12", "16x16", "32x32"], "buffer": ["32KB", "128KB", "512KB"],
        "dram.bandwidth": ["8GB/s", "16GB/s", "32GB/s"], "area.technology_nm": [22, 28, 32, 45, 65]}
r = codesign("sqnxt23v2", vary=vary, widths=[1.0, 1.5, 2.0], stems=[5, 7], budgets=["blocks=21"], objective="edap")
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
s = r.stats
print(f"joint space: {r.size:,} design points = {r.n_candidates:,} networks ({s['families']} families x "
      f"{len(r.families[0].candidates):,} depth vectors) x {r.n_points} hardware points")
print(f"  whole space, fresh process, torch import and exports included: wall {wall:.1f} s, CPU {cpu:.1f} s")
print(f"  distinct layers simulated {s['distinct_layers_simulated']:,} ({s['pieces']} pieces); pricing "
      f"{s['price_seconds']:.1f} s wall")
print(f"  pricing CPU {s['price_cpu_seconds']:.1f} s")
print(f"  compose step {s['compose_seconds']:.3f} s wall, {s['compose_cpu_seconds']:.3f} s CPU: "
      f"{s['compose_points_per_second']:,.0f} points/s wall, {s['compose_points_per_cpu_second']:,.0f} per CPU second")
print(f"  Pareto front over (cycles, energy, area, params): {len(r.front):,} designs in {s['pareto_seconds']:.2f} s "
      f"wall, {s['pareto_cpu_seconds']:.2f} s CPU")
print(f"  {s['composition']}")
for d in r.best(3):
    print(f"  {d.rank}. {d.network} on {d.hardware_label} ({dict(zip([a.key for a in r.axes], d.labels))}): "
          f"cycles {d.cycles:,.0f} energy {d.energy:.3e} area {d.area_mm2:.3g} mm2 edap {d.edap:.3e}")
for ref in r.references:
    if ref.label == "v5":
        print(f"  paper v5 on {ref.hardware}: in space {ref.in_space}, dominated by {ref.dominated_by:,}")
"""


def redistribution() -> None:
    from accelsim.codesign import redistribute
    from accelsim.codesign.search import make_builder
    from accelsim.codesign.space import DepthSpace
    from accelsim.codesign.variants import squeezenext_options
    from accelsim.hardware import PAPER_16X16
    from accelsim.simulation import SimCache, simulate_graph

    name, options = squeezenext_options("1.0-SqNxt-23v2", {})
    t0 = time.perf_counter()
    builder = make_builder(name, options)  # the probe export (disk-cached after the first run)
    export = time.perf_counter() - t0

    wall, cpu = time.perf_counter(), time.process_time()
    cache = SimCache()
    before = {d: simulate_graph(builder.build(d), PAPER_16X16, cache=cache) for d in DepthSpace((21,), 4)}
    before_wall, before_cpu = time.perf_counter() - wall, time.process_time() - cpu

    wall, cpu = time.perf_counter(), time.process_time()
    after = redistribute(name, PAPER_16X16, budgets=["blocks=21"])
    after_wall, after_cpu = time.perf_counter() - wall, time.process_time() - cpu

    ranked_before = sorted(before, key=lambda d: (before[d].cycles, before[d].energy, before[d].params, d))
    worst = max(max(abs(c.cycles / before[c.depth].cycles - 1), abs(c.energy / before[c.depth].energy - 1))
                for c in after.candidates)
    same = [c.depth for c in after.ranked()] == ranked_before
    print(f"redistribute 1.0-SqNxt-23v2, blocks=21 on 16x16/128KB: {len(before)} candidates "
          f"(probe export {export * 1e3:.0f} ms, excluded)")
    print(f"  before (simulate each stitched graph): wall {before_wall:.2f} s, CPU {before_cpu:.2f} s; "
          f"{cache.hits:,} cache hits, {cache.misses} misses")
    print(f"  after (compose): wall {after_wall:.3f} s, CPU {after_cpu:.3f} s (references v1-v5 and ranking "
          f"included); {after.cache_hits} cache hits, {after.cache_misses} misses")
    print(f"  same ranking: {same}; best {list(after.best.depth)} in both; largest relative difference "
          f"{worst:.1e}")
    if not same or worst > 1e-9:
        raise SystemExit("before and after disagree")


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    redistribution()
    env = dict(os.environ, ACCELSIM_CACHE_DIR=tempfile.mkdtemp(prefix="accelsim-bench-"))
    print(subprocess.run([sys.executable, "-c", JOINT], env=env, capture_output=True, text=True,
                         check=True).stdout, end="")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
