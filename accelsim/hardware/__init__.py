"""Hardware specs: the validated accelerator description, YAML loading and CLI overrides."""

from accelsim.hardware.spec import Dataflow, HardwareSpec, TilingCost

__all__ = ["Dataflow", "HardwareSpec", "TilingCost"]
