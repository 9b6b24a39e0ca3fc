"""Reports that regenerate the paper's results: Table 3, Figure 6, Figure 7, and a per-run
energy breakdown with a roofline.

Each report is split into data (pure functions of finished ``NetworkResult`` objects, tested
on hand-built results), a plot (a matplotlib ``Figure`` returned to the caller) and writers
(CSV/JSON/Markdown/PNG/SVG with provenance). :func:`~accelsim.reporting.suite.report_all`
simulates the paper's networks once and writes everything. matplotlib is imported only when
a figure is drawn.
"""

from accelsim.reporting.breakdown import breakdown_records, plot_breakdown, roofs
from accelsim.reporting.figure6 import (
    FIGURE6_NETWORKS,
    Figure6Panel,
    Figure6Stats,
    StageEfficiency,
    figure6_panel,
    figure6_stats,
    plot_figure6,
)
from accelsim.reporting.figure7 import figure7_records, plot_figure7
from accelsim.reporting.suite import AllReports, report_all, simulate_networks
from accelsim.reporting.table3 import TABLE3_NETWORKS, Table3, build_table3, table3_markdown
from accelsim.reporting.writers import Provenance

__all__ = [
    "FIGURE6_NETWORKS", "TABLE3_NETWORKS", "AllReports", "Figure6Panel", "Figure6Stats", "Provenance",
    "StageEfficiency", "Table3", "breakdown_records", "build_table3", "figure6_panel", "figure6_stats",
    "figure7_records", "plot_breakdown", "plot_figure6", "plot_figure7", "report_all", "roofs",
    "simulate_networks", "table3_markdown",
]
