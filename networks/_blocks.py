"""Shared building blocks for the network zoo.

Every network registers its layers *flat* under their reference names, so that a
conv / FC / pool module's dotted path, with ``.`` replaced by the network's
``layer_name_sep``, is the layer's name in ``zoo_layers.json``. The batch norm and
activation that follow a conv are siblings named ``<conv>_bn`` and
``<conv>_relu`` (``_relu6``, ``_leaky``). A network's ``forward`` runs a tuple of
such names in order (:func:`run`), which keeps it free of data-dependent control
flow, so ``torch.fx.symbolic_trace`` works on every network.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Literal

import torch
from torch import nn

Activation = Literal["relu", "relu6", "leaky"]

_ACT_SUFFIX: dict[str, str] = {"relu": "_relu", "relu6": "_relu6", "leaky": "_leaky"}


def make_activation(act: Activation) -> nn.Module:
    """Return the (not in-place) activation module named by ``act``.

    ``leaky`` is darknet's leaky ReLU with slope 0.1.
    """
    if act == "relu":
        return nn.ReLU()
    if act == "relu6":
        return nn.ReLU6()
    if act == "leaky":
        return nn.LeakyReLU(0.1)
    raise ValueError(f"act: expected one of {sorted(_ACT_SUFFIX)}, got {act!r}")


def conv_bn_act(
    name: str,
    in_ch: int,
    out_ch: int,
    kernel: int | tuple[int, int],
    stride: int = 1,
    padding: int | tuple[int, int] = 0,
    groups: int = 1,
    act: Activation = "relu",
) -> list[tuple[str, nn.Module]]:
    """Bias-free conv, affine batch norm and activation, named for registration.

    Returns ``[(name, Conv2d), (name + "_bn", BatchNorm2d), (name + act suffix,
    activation)]``. Shapes: ``(N, in_ch, H, W) -> (N, out_ch, H', W')`` with the
    usual conv output size.
    """
    conv = nn.Conv2d(
        in_ch, out_ch, kernel, stride=stride, padding=padding, groups=groups, bias=False
    )
    return [
        (name, conv),
        (f"{name}_bn", nn.BatchNorm2d(out_ch)),
        (name + _ACT_SUFFIX[act], make_activation(act)),
    ]


def conv_act(
    name: str,
    in_ch: int,
    out_ch: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    groups: int = 1,
) -> list[tuple[str, nn.Module]]:
    """Caffe-style conv with bias followed by ReLU: ``[(name, Conv2d), (name + "_relu", ReLU)]``."""
    conv = nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=padding, groups=groups)
    return [(name, conv), (f"{name}_relu", nn.ReLU())]


def register(parent: nn.Module, named: Iterable[tuple[str, nn.Module]]) -> tuple[str, ...]:
    """Register ``named`` modules on ``parent`` in order; return their names."""
    names = []
    for name, module in named:
        parent.add_module(name, module)
        names.append(name)
    return tuple(names)


def run(parent: nn.Module, names: Sequence[str], x: torch.Tensor) -> torch.Tensor:
    """Apply ``parent``'s children ``names`` to ``x`` one after the other."""
    for name in names:
        x = parent.get_submodule(name)(x)
    return x


def check_int(argument: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer (not bool) ``>= minimum``.

    Raises:
        ValueError: naming ``argument`` otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{argument}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def check_positive_number(argument: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite real number > 0, else raise ValueError."""
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not 0 < value < float("inf")
    ):
        raise ValueError(f"{argument}: expected a finite number > 0, got {value!r}")
    return float(value)
