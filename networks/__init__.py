"""PyTorch network zoo of the SqueezeNext hardware study (Gholami et al. 2018).

Registry (no torch import)::

    import networks
    networks.list_presets()                      # paper names, paper order
    model = networks.build("1.0-SqNxt-23v5")     # or an alias: "sqnxt23v5"
    preset = networks.get_preset("sqnxt23v5")    # .input_size, .options, .notes
    variant = preset.build(depth=(3, 3, 14, 1))

Constructors (imported lazily, with torch, on first access): ``AlexNet``,
``SqueezeNet``, ``TinyDarknet``, ``MobileNetV1``, ``SqueezeNext``,
``SqueezeNextUnit``, ``Fire``.

Naming: every conv / FC / pool module's dotted path, joined with the network's
``layer_name_sep``, is its layer name in the project's reference layer lists
(``tests/data/zoo_layers.json``).
"""

from __future__ import annotations

import importlib
from typing import Any

from networks.registry import (
    PRESETS,
    Preset,
    UnknownNetworkError,
    build,
    get_preset,
    list_presets,
)

_LAZY: dict[str, str] = {
    "AlexNet": "networks.alexnet",
    "SqueezeNet": "networks.squeezenet",
    "Fire": "networks.squeezenet",
    "TinyDarknet": "networks.tinydarknet",
    "MobileNetV1": "networks.mobilenet",
    "SqueezeNext": "networks.squeezenext",
    "SqueezeNextUnit": "networks.squeezenext",
}

__all__ = [
    "PRESETS",
    "Preset",
    "UnknownNetworkError",
    "build",
    "get_preset",
    "list_presets",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    """Import a network constructor on first access (keeps ``import networks`` cheap)."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'networks' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
