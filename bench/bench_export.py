"""Benchmark the torch.fx export of every zoo preset and the cached reload.

Run: ``python bench/bench_export.py`` (prints; asserts nothing). Targets: exporting
1.0-SqNxt-23 well under a second once torch is imported; a cache hit in milliseconds and
without importing torch (checked in a fresh interpreter).

Each process gets its own empty cache directory, so the exports here are real.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time


def main() -> None:
    cache = tempfile.mkdtemp(prefix="accelsim-bench-")
    os.environ["ACCELSIM_CACHE_DIR"] = cache

    start = time.perf_counter()
    import torch  # noqa: F401 -- timed on purpose

    print(f"import torch: {(time.perf_counter() - start) * 1e3:8.0f} ms")

    from accelsim.workload import zoo
    from accelsim.workload.export import build_meta, export_module
    from networks.registry import get_preset

    print(f"{'network':32s} {'layers':>6s} {'meta build ms':>13s} {'export ms':>10s} {'cache hit ms':>13s}")
    for name in zoo.list_presets():
        preset = get_preset(name)
        t0 = time.perf_counter()
        module = build_meta(preset.build)  # as load_graph does: no weight allocation or init
        t1 = time.perf_counter()
        graph = export_module(module, (3, preset.input_size, preset.input_size), name=name)
        t2 = time.perf_counter()
        zoo.load_graph(name)  # fills the cache (exports once more)
        t3 = time.perf_counter()
        zoo.load_graph(name)
        t4 = time.perf_counter()
        print(f"{name:32s} {len(graph):6d} {(t1 - t0) * 1e3:13.1f} {(t2 - t1) * 1e3:10.1f} {(t4 - t3) * 1e3:13.1f}")

    code = ("import sys, time; t = time.perf_counter(); from accelsim.workload.zoo import load_graph; "
            "g = load_graph('sqnxt23'); print(f'{(time.perf_counter() - t) * 1e3:.0f}', 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    print(f"fresh interpreter, cache hit of 1.0-SqNxt-23 incl. imports: {out[0]} ms (torch imported: {out[1]})")


if __name__ == "__main__":
    main()
