"""Hardware specs: the validated accelerator description, YAML loading and CLI overrides.

``HardwareSpec()`` is the SqueezeNext paper's 16x16/128KB accelerator; ``PAPER_CONFIGS``
holds both paper configurations (``"8x8"``, ``"16x16"``), identical to ``hwconfigs/*.yaml``.
"""

from accelsim.hardware.load import load_spec, parse_spec, spec_to_yaml
from accelsim.hardware.overrides import resolve_field_path, resolve_hardware, spec_fields, spec_table_markdown
from accelsim.hardware.spec import (
    CALIBRATION,
    PAPER_8X8,
    PAPER_16X16,
    PAPER_CONFIGS,
    REFERENCE,
    Dataflow,
    HardwareSpec,
    TilingCost,
    UnitKind,
)

__all__ = [
    "PAPER_8X8",
    "CALIBRATION",
    "REFERENCE",
    "PAPER_16X16",
    "PAPER_CONFIGS",
    "Dataflow",
    "HardwareSpec",
    "TilingCost",
    "UnitKind",
    "load_spec",
    "parse_spec",
    "resolve_field_path",
    "resolve_hardware",
    "spec_fields",
    "spec_table_markdown",
    "spec_to_yaml",
]
