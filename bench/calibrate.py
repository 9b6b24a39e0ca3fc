"""Re-run the paper calibration (``accelsim calibrate`` on SqNxt Table 3) and time it.

    python bench/calibrate.py            # prints the ranking, folds and ensemble; writes nothing
    python bench/calibrate.py --out hwconfigs   # regenerates hwconfigs/paper_*.yaml (= the README's command)

The knobs are ``accelsim.calibration.table3.PAPER_FIT`` (the structural [A] assumptions and
the continuous knobs the paper leaves open); the command it runs is
``accelsim.calibration.table3.paper_command()``, the one hwconfigs/README.md quotes.
"""

from __future__ import annotations

import os
import shlex
import sys
import time

from typer.testing import CliRunner

from accelsim.calibration.table3 import paper_command
from accelsim.cli import app


def main() -> None:
    extra = sys.argv[1:]
    words = shlex.split(paper_command(out=None))[1:] + extra
    print("$", "accelsim", " ".join(shlex.quote(w) for w in words), file=sys.stderr)
    start = time.perf_counter()
    result = CliRunner().invoke(app, words)
    elapsed = time.perf_counter() - start
    print(result.output)
    print(f"calibration: {elapsed:.1f} s wall, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    sys.exit(result.exit_code)


if __name__ == "__main__":
    main()
