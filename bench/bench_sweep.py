"""Benchmark a 3 x 3 x 3 hardware sweep of 1.0-SqNxt-23 (27 points, one shared layer cache).

Run: ``python bench/bench_sweep.py [--network sqnxt23]`` (prints; asserts nothing). The grid:
PE array 8x8/16x16/32x32 x global buffer 32KB/128KB/512KB x DRAM bandwidth 8/16/32 GB/s around
the paper's 16x16 accelerator. The graph is loaded (from the disk cache, or exported once)
before the clock starts, so the time is simulation only: every point is a new spec, so each
distinct layer is simulated afresh at every point and the cache only shares repeated blocks.
"""

from __future__ import annotations

import argparse
import os
import time

from accelsim.codesign import sweep
from accelsim.simulation import SimCache
from accelsim.workload.zoo import load_graph

VARY = {"pe": ["8x8", "16x16", "32x32"], "buffer": ["32KB", "128KB", "512KB"],
        "dram.bandwidth": ["8GB/s", "16GB/s", "32GB/s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="sqnxt23")
    args = parser.parse_args()
    graph = load_graph(args.network)
    cache = SimCache()
    wall, cpu = time.perf_counter(), time.process_time()
    result = sweep([graph], None, VARY, cache=cache)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    points = len(result.points)
    print(f"{graph.name}: {result.size} points ({' x '.join(str(len(v)) for v in VARY.values())}), "
          f"{len(graph.layers())} layers each; load average {os.getloadavg()[0]:.2f}")
    print(f"wall {wall:.2f} s (CPU {cpu:.2f} s): {points / wall:.1f} points/s, {wall / points * 1e3:.0f} ms per point")
    print(f"layer cache: {cache.hits} hits, {cache.misses} misses; {cache.candidates:,} tilings priced "
          f"({cache.candidates / wall / 1e6:.1f} M/s)")
    best = result.ranked(graph.name)[0]
    print(f"best by cycles: {' '.join(best.labels)}: {best.cycles:,.0f} cycles, energy {best.energy:.3e}; "
          f"Pareto front {len(result.pareto(graph.name))} point(s)")


if __name__ == "__main__":
    main()
