"""Building zoo networks for training at any image size and class count.

The simulator's presets stay untouched: overrides are passed to
:meth:`networks.registry.Preset.build` for this one model only.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from networks.registry import get_preset
from networks.training.errors import ConfigError, one_line

#: Options the ``squeezenext`` family accepts as overrides.
SQUEEZENEXT_OPTIONS = ("width", "depth", "stem_kernel", "first_unit", "groups")


def default_image_size(network: str) -> int:
    """Input side (pixels) of the network's preset, e.g. 227 for SqueezeNext."""
    return get_preset(network).input_size


def training_overrides(network: str, overrides: dict[str, Any], image_size: int) -> dict[str, Any]:
    """The overrides to build ``network`` with for training at ``image_size``.

    AlexNet's classifier needs a 6x6 feature map, which only a 227x227 input
    gives; at any other size ``adaptive_pool=True`` is added (unless given).

    Raises:
        ConfigError: An override does not apply to the network's family.
    """
    preset = get_preset(network)
    allowed = set(preset.options) | ({"adaptive_pool"} if preset.family == "alexnet" else set())
    if preset.family == "squeezenext":
        allowed |= set(SQUEEZENEXT_OPTIONS)
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        hint = f"expected one of {', '.join(sorted(allowed))}" if allowed else "it takes no options"
        raise ConfigError(f"{unknown[0]}: not an option of {preset.name} (family {preset.family}); {hint}")
    result = dict(overrides)
    if preset.family == "alexnet" and image_size != preset.input_size:
        result.setdefault("adaptive_pool", True)
    return result


def build_model(network: str, overrides: dict[str, Any], num_classes: int, image_size: int) -> nn.Module:
    """Build a preset with ``overrides`` and ``num_classes`` outputs, checked at ``image_size``.

    Args:
        network: Preset name or alias, e.g. ``"1.0-SqNxt-23"`` or ``"sqnxt23"``.
        overrides: Constructor options replacing the preset's (e.g. ``{"depth": (2, 4, 14, 1)}``).
        num_classes: Classifier outputs.
        image_size: Square input side, pixels.

    Returns:
        A module mapping ``(N, 3, image_size, image_size)`` to ``(N, num_classes)``.

    Raises:
        networks.registry.UnknownNetworkError: No preset has this name.
        ConfigError: Bad overrides, or an input this small does not fit the network.
    """
    preset = get_preset(network)
    try:
        model = preset.build(num_classes=num_classes, **training_overrides(network, overrides, image_size))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{preset.name}: {one_line(exc)}") from exc
    check_input_size(model, image_size, num_classes, preset.name)
    return model


def check_input_size(model: nn.Module, image_size: int, num_classes: int, name: str) -> None:
    """Run one blank image through ``model`` to check it maps ``(1, 3, S, S)`` to ``(1, num_classes)``.

    Raises:
        ConfigError: The network fails at this size or has a different output width.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, 3, image_size, image_size))
    except RuntimeError as exc:
        raise ConfigError(f"image_size: {image_size} px is too small for {name} ({one_line(exc)})") from exc
    finally:
        model.train(was_training)
    if tuple(out.shape) != (1, num_classes):
        raise ConfigError(f"{name}: outputs shape {tuple(out.shape)} at {image_size} px; expected (1, {num_classes})")
