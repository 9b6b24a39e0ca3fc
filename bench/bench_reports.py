"""Benchmark: wall time of ``accelsim report all`` in a fresh process (imports included).

Target: under 10 s on the project machine (2 cores), with the zoo's graph cache warm (the
first run after a network definition changes also exports the graphs with torch; that run is
printed separately when it happens).

    python bench/bench_reports.py            # 3 runs into a temporary folder, prints each and the best
    python bench/bench_reports.py --runs 1
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 10.0


def time_report_all(out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one ``accelsim report all --out OUT --quiet`` subprocess.

    CPU time (user + system of the child) is printed too because the machine's 2 cores are
    shared: under load the wall time grows while the CPU time stays put.
    """
    exe = shutil.which("accelsim")
    cmd = [exe] if exe else [sys.executable, "-c", "from accelsim.cli import main; main()"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([*cmd, "report", "all", "--out", str(out), "--quiet"], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs (the best is reported)")
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            seconds, cpu = time_report_all(Path(tmp) / f"run{i}")
            times.append(seconds)
            print(f"run {i + 1}: accelsim report all: {seconds:.2f} s wall, {cpu:.2f} s CPU "
                  f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        files = sorted(p.name for p in (Path(tmp) / "run0").iterdir())
    best = min(times)
    verdict = "ok" if best < TARGET_S else "OVER TARGET"
    print(f"best of {len(times)}: {best:.2f} s (target < {TARGET_S:g} s: {verdict}); {len(files)} files: "
          + ", ".join(files))


if __name__ == "__main__":
    main()
