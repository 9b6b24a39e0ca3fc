"""Benchmark the exhaustive depth-redistribution search, export included, in a fresh process.

Run: ``python bench/bench_redistribute.py [--pe 16x16 --buffer 128KB --budget blocks=21]``
(prints; asserts nothing). Target: the 1,140-candidate search of 1.0-SqNxt-23v2 with 21 blocks
on 16x16/128KB in under 10 s wall time, counting the torch import and the probe export.

The search runs in a child interpreter with an empty graph cache (``ACCELSIM_CACHE_DIR`` in a
temporary directory), so nothing is imported or exported before the clock starts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import sys, time
wall, cpu = time.perf_counter(), time.process_time()
from accelsim.codesign import redistribute
from accelsim.codesign.search import make_builder
from accelsim.codesign.variants import squeezenext_options
from accelsim.hardware import resolve_hardware
spec = resolve_hardware(None, sys.argv[1], sys.argv[2], ())
make_builder(*squeezenext_options(sys.argv[3], {}))  # imports and the probe export (then disk-cached)
setup = time.perf_counter() - wall
result = redistribute(sys.argv[3], spec, budgets=sys.argv[4:])
end = time.perf_counter()
wall, cpu = end - wall, time.process_time() - cpu
print(f"network {result.network} on {spec.label}, budgets {result.budgets.to_list()}, {result.method.value}")
print(f"wall {wall:.2f} s (CPU {cpu:.2f} s) for {result.evaluated} of {result.space_size} candidates: "
      f"{result.evaluated / wall:.0f} candidates/s overall")
print(f"  imports + probe export {setup:.2f} s; the search itself (composition, references, ranking) "
      f"{wall - setup:.2f} s ({result.evaluated / (wall - setup):.0f} candidates/s)")
print(f"layer cache: {result.cache_hits} hits, {result.cache_misses} misses")
print("torch imported:", "torch" in sys.modules)
for rank, c in enumerate(result.ranked()[:5], start=1):
    rel = c.cycles / result.base.cycles
    print(f"  {rank}. {list(c.depth)} cycles {c.cycles:,.0f} (x{rel:.3f}) energy {c.energy:.3e}")
print(f"  base {list(result.base.depth)} cycles {result.base.cycles:,.0f}, on Pareto front: {result.base.pareto}")
"""

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="1.0-SqNxt-23v2")
    parser.add_argument("--pe", default="16x16")
    parser.add_argument("--buffer", default="128KB")
    parser.add_argument("--budget", action="append", default=None)
    args = parser.parse_args()
    env = dict(os.environ, ACCELSIM_CACHE_DIR=tempfile.mkdtemp(prefix="accelsim-bench-"))
    command = [sys.executable, "-c", CHILD, args.pe, args.buffer, args.network, *(args.budget or ["blocks=21"])]
    print(subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout, end="")


if __name__ == "__main__":
    main()
