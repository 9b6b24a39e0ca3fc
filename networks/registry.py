"""Named presets for every network of the SqueezeNext hardware study.

Each :class:`Preset` has the paper's exact name (``"1.0-SqNxt-23v5"``), short
aliases, the constructor family and its keyword ``options``, the input size the
paper's counts use, and a note on where the definition comes from (the networks'
public definitions: Caffe prototxts, Darknet cfg, TF-slim). This module does not import torch;
:meth:`Preset.build` imports the family's module on first use.

Alias scheme (names are matched case-insensitively, ignoring ``-``, ``_``,
``.`` and spaces):

* ``alexnet``, ``tinydarknet``, ``mobilenet`` / ``mobilenet_v1``;
* ``squeezenet1_0`` (also ``squeezenet``), ``squeezenet1_1``,
  ``squeezenet1_0_simple_bypass``, ``squeezenet1_0_complex_bypass``;
* SqueezeNext: ``[g]sqnxt<depth>[v<k>][_w<width>]`` with the width left out at
  1.0, e.g. ``sqnxt23``, ``sqnxt23v5``, ``sqnxt23_w1.5``, ``sqnxt23v5_w2``,
  ``gsqnxt23``, ``sqnxt44_w2``.

``PRESETS`` is in paper order: SqNxt Table 3, then the remaining rows of Tables 1
and 2, then the bypass variants of the SqueezeNet paper.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from torch import nn

Family = Literal["alexnet", "squeezenet", "tinydarknet", "mobilenet", "squeezenext"]

# family -> (module, class) of its constructor
_CONSTRUCTORS: dict[str, tuple[str, str]] = {
    "alexnet": ("networks.alexnet", "AlexNet"),
    "squeezenet": ("networks.squeezenet", "SqueezeNet"),
    "tinydarknet": ("networks.tinydarknet", "TinyDarknet"),
    "mobilenet": ("networks.mobilenet", "MobileNetV1"),
    "squeezenext": ("networks.squeezenext", "SqueezeNext"),
}


@dataclass(frozen=True)
class Preset:
    """A named network definition.

    Attributes:
        name: the paper's name, e.g. ``"1.0-SqNxt-23v5"``.
        aliases: short names that also resolve to this preset.
        family: constructor family (a key of the family table).
        input_size: square input side (pixels) of the paper's MAC count.
        options: keyword arguments of the family constructor (read-only).
        notes: where the definition comes from.
        num_classes: default number of classes.
    """

    name: str
    aliases: tuple[str, ...]
    family: Family
    input_size: int
    options: Mapping[str, Any] = field(hash=False)
    notes: str
    num_classes: int = 1000

    def __post_init__(self) -> None:
        if self.family not in _CONSTRUCTORS:
            raise ValueError(f"family: expected one of {sorted(_CONSTRUCTORS)}, got {self.family!r}")
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def build(self, num_classes: int | None = None, **overrides: Any) -> nn.Module:
        """Construct the network; ``overrides`` replace entries of :attr:`options`.

        Example: ``get_preset("sqnxt23v5").build(depth=(3, 3, 14, 1))``.
        Returns a module mapping ``(N, 3, input_size, input_size)`` to
        ``(N, num_classes)``.
        """
        module_name, class_name = _CONSTRUCTORS[self.family]
        constructor = getattr(importlib.import_module(module_name), class_name)
        classes = self.num_classes if num_classes is None else num_classes
        return constructor(num_classes=classes, **{**self.options, **overrides})


class UnknownNetworkError(ValueError):
    """No preset has this name or alias.

    Attributes:
        name: the name asked for.
        suggestions: the closest known names and aliases, best first (may be empty).
    """

    def __init__(self, name: str, suggestions: tuple[str, ...]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = (
            "did you mean " + ", ".join(repr(s) for s in suggestions)
            if suggestions
            else "see networks.list_presets()"
        )
        super().__init__(f"unknown network {name!r}; {hint}")


_SQNXT_RELEASED = "released Caffe prototxt amirgholami/SqueezeNext {}/train_val.prototxt"
_SQNXT_INFERRED = (
    "no released definition: 5x5 stem + serial first unit inferred from the released "
    "23v5 pattern, depth {}; the parallel alternative fits MACs slightly better but "
    "under-shoots the paper's params by 2-4%"
)
_SQNXT_44 = (
    "depth [12,12,16,2] from the third-party jolibrain/deepdetect squeezenext_2_44 "
    "template (parallel, 7x7 stem){}"
)
_SQNXT_34 = (
    "UNVERIFIED ASSUMPTION: no public definition; depth [9,9,12,2] is a placeholder "
    "(1.5x the 23 depth), off the paper's params by +5%/+3%/-3% at widths 1.0/1.5/2.0"
)
_SQNXT_WIDTH_SCALED = "; width {} obtained by width scaling (stem 64 and head 128 kept)"


def _sqnxt(
    name: str,
    aliases: tuple[str, ...],
    notes: str,
    width: float = 1.0,
    depth: tuple[int, ...] = (6, 6, 8, 1),
    serial: bool = False,
    groups: int = 1,
) -> Preset:
    options = {
        "width": width,
        "depth": depth,
        "stem_kernel": 5 if serial else 7,
        "first_unit": "serial" if serial else "parallel",
        "groups": groups,
    }
    return Preset(name, aliases, "squeezenext", 227, options, notes)


_V2, _V3, _V4, _V5 = (6, 6, 8, 1), (4, 8, 8, 1), (2, 10, 8, 1), (2, 4, 14, 1)
_D34, _D44 = (9, 9, 12, 2), (12, 12, 16, 2)

PRESETS: tuple[Preset, ...] = (
    Preset("AlexNet", ("alexnet",), "alexnet", 227, {},
           "Caffe BVLC/caffe models/bvlc_alexnet (grouped conv2/4/5, LRN, ceil pools)"),
    Preset("SqueezeNet v1.0", ("squeezenet1_0", "squeezenet"), "squeezenet", 227,
           {"version": "1.0"},
           "forresti/SqueezeNet SqueezeNet_v1.0 prototxt; conv10 pad 0 as in the paper's "
           "count (the released prototxt has pad 1)"),
    Preset("SqueezeNet v1.1", ("squeezenet1_1",), "squeezenet", 224, {"version": "1.1"},
           "forresti/SqueezeNet SqueezeNet_v1.1 prototxt; counted at 224 (prototxt crops 227)"),
    Preset("Tiny Darknet", ("tinydarknet",), "tinydarknet", 224, {},
           "pjreddie/darknet cfg/tiny.cfg"),
    _sqnxt("1.0-SqNxt-23", ("sqnxt23",), _SQNXT_RELEASED.format("1.0-SqNxt-23")),
    _sqnxt("1.0-SqNxt-23v2", ("sqnxt23v2",), _SQNXT_INFERRED.format("[6,6,8,1]"),
           depth=_V2, serial=True),
    _sqnxt("1.0-SqNxt-23v3", ("sqnxt23v3",), _SQNXT_INFERRED.format("[4,8,8,1]"),
           depth=_V3, serial=True),
    _sqnxt("1.0-SqNxt-23v4", ("sqnxt23v4",), _SQNXT_INFERRED.format("[2,10,8,1]"),
           depth=_V4, serial=True),
    _sqnxt("1.0-SqNxt-23v5", ("sqnxt23v5",), _SQNXT_RELEASED.format("1.0-SqNxt-23v5"),
           depth=_V5, serial=True),
    Preset("MobileNet", ("mobilenet", "mobilenet_v1"), "mobilenet", 224,
           {"width_multiplier": 1.0},
           "tensorflow/models research/slim mobilenet_v1 1.0-224 (_CONV_DEFS); 1000 "
           "classes (TF-slim checkpoints use 1001)"),
    _sqnxt("2.0-SqNxt-23", ("sqnxt23_w2",), _SQNXT_RELEASED.format("2.0-SqNxt-23"), width=2.0),
    _sqnxt("2.0-SqNxt-23v4", ("sqnxt23v4_w2",), _SQNXT_INFERRED.format("[2,10,8,1]"),
           width=2.0, depth=_V4, serial=True),
    _sqnxt("2.0-SqNxt-23v5", ("sqnxt23v5_w2",), _SQNXT_RELEASED.format("2.0-SqNxt-23v5"),
           width=2.0, depth=_V5, serial=True),
    _sqnxt("1.0-G-SqNxt-23", ("gsqnxt23",), _SQNXT_RELEASED.format("1.0-G-SqNxt-23")
           + " (groups 2 on squeeze1 and both separable convs)", groups=2),
    _sqnxt("1.0-SqNxt-34", ("sqnxt34",), _SQNXT_34, depth=_D34),
    _sqnxt("1.0-SqNxt-44", ("sqnxt44",), _SQNXT_44.format(_SQNXT_WIDTH_SCALED.format("1.0")),
           depth=_D44),
    _sqnxt("1.5-SqNxt-23", ("sqnxt23_w1.5",),
           "1.0-SqNxt-23 released prototxt" + _SQNXT_WIDTH_SCALED.format("1.5"), width=1.5),
    _sqnxt("1.5-SqNxt-34", ("sqnxt34_w1.5",), _SQNXT_34, width=1.5, depth=_D34),
    _sqnxt("1.5-SqNxt-44", ("sqnxt44_w1.5",), _SQNXT_44.format(_SQNXT_WIDTH_SCALED.format("1.5")),
           width=1.5, depth=_D44),
    _sqnxt("2.0-SqNxt-34", ("sqnxt34_w2",), _SQNXT_34, width=2.0, depth=_D34),
    _sqnxt("2.0-SqNxt-44", ("sqnxt44_w2",), _SQNXT_44.format(""), width=2.0, depth=_D44),
    Preset("SqueezeNet v1.0 simple bypass", ("squeezenet1_0_simple_bypass",), "squeezenet",
           227, {"version": "1.0", "bypass": "simple"},
           "SqueezeNet paper: v1.0 plus identity bypasses around fire3, 5, 7, 9 (no params)"),
    Preset("SqueezeNet v1.0 complex bypass", ("squeezenet1_0_complex_bypass",), "squeezenet",
           227, {"version": "1.0", "bypass": "complex"},
           "SqueezeNet paper: simple bypass plus 1x1 conv (bias, no ReLU) bypasses around "
           "fire2, 4, 6, 8; the conv form is inferred from the paper's description"),
)


def _normalise(name: str) -> str:
    return re.sub(r"[-_. ]", "", name.lower())


def _build_index(presets: tuple[Preset, ...]) -> dict[str, tuple[str, Preset]]:
    """Map each normalised name/alias to (its spelling, preset); reject collisions."""
    index: dict[str, tuple[str, Preset]] = {}
    for preset in presets:
        for spelling in (preset.name, *preset.aliases):
            key = _normalise(spelling)
            if key in index and index[key][1] is not preset:
                raise RuntimeError(f"preset name {spelling!r} collides with {index[key][0]!r}")
            index.setdefault(key, (spelling, preset))
    return index


_INDEX = _build_index(PRESETS)


def get_preset(name: str) -> Preset:
    """Return the preset with this paper name or alias.

    Matching ignores case and the characters ``-``, ``_``, ``.`` and space.

    Raises:
        UnknownNetworkError: with up to 3 close names as ``suggestions``.
    """
    key = _normalise(name)
    if key in _INDEX:
        return _INDEX[key][1]
    close = difflib.get_close_matches(key, list(_INDEX), n=3, cutoff=0.6)
    raise UnknownNetworkError(name, tuple(_INDEX[k][0] for k in close))


def build(name: str, num_classes: int | None = None, **overrides: Any) -> nn.Module:
    """Build preset ``name`` (default 1000 classes) with optional option overrides."""
    return get_preset(name).build(num_classes, **overrides)


def list_presets() -> tuple[str, ...]:
    """Paper names of all presets, in paper order."""
    return tuple(preset.name for preset in PRESETS)
