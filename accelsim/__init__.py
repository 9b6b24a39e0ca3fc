"""accelsim: co-design neural networks and the accelerators that run them.

Quick use::

    import accelsim
    result = accelsim.simulate("sqnxt23", "hwconfigs/paper_16x16.yaml")
    print(result.cycles, result.energy)
    result.to_dataframe()

Heavy modules (torch, pandas, matplotlib) load on first use, not at import.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "simulate"]


def __getattr__(name: str) -> Any:
    if name == "simulate":
        from accelsim.simulation import simulate

        return simulate
    raise AttributeError(f"module 'accelsim' has no attribute {name!r}")
