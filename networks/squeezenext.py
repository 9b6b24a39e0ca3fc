"""SqueezeNext (Gholami et al. 2018), the parametric family of the paper.

Structure (the official SqueezeNext Caffe prototxts, amirgholami/SqueezeNext):

* Stem: conv ``stem_kernel`` x ``stem_kernel``/2, pad 0, 64 channels at every
  width, then a 3/2 max pool with Caffe's ceil rounding. At 227: 7x7 -> 111 -> 55,
  5x5 -> 112 -> 56.
* ``len(depth)`` stages of ``depth[i]`` units with width ``C_i = 32 * width * 2**i``
  (32w, 64w, 128w, 256w for the paper's 4 stages). The first unit of stage ``i > 1``
  has stride 2.
* Unit of width C: squeeze1 1x1 -> C/2, squeeze2 1x1 -> C/4, two separable convs
  -> C/2 (3x1 pad (1, 0) and 1x3 pad (0, 1); 3x1 first in units 1, 3, 5, ... of a
  stage, 1x3 first in units 2, 4, ...), expand 1x1 -> C, then shortcut add and
  ReLU. The first unit of a stage is either
  * ``parallel``: a shortcut conv 1x1/s Cin -> C and squeeze1 (stride s) both read
    the unit input; or
  * ``serial``: a transition conv 1x1/s Cin -> C, then an ordinary unit whose
    identity shortcut is the transition output.
  Other units have an identity shortcut.
* Head: conv 1x1 -> 128 (at every width), global average pool, FC 128 -> classes
  without bias.

Every conv has no bias and is followed by batch norm and ReLU. ``groups > 1``
(G-SqNxt) groups squeeze1 and both separable convs only.

Module names join with ``_`` into the reference layer names: ``conv1``, ``pool1``,
``s1u1.shortcut`` / ``s1u1.transition``, ``s1u1.squeeze1``, ``s1u1.squeeze2``,
``s1u1.sep3x1``, ``s1u1.sep1x3``, ``s1u1.expand``, ``conv_final``, ``pool_final``,
``fc``; ``<conv>_bn`` and ``<conv>_relu`` sit beside each conv and the ReLU after a
unit's add is ``sNuM.add_relu`` (layer ``sNuM_add``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import torch
from torch import nn

from networks._blocks import check_int, check_positive_number, conv_bn_act, register, run

Shortcut = Literal["identity", "parallel", "serial"]

STEM_CHANNELS = 64
HEAD_CHANNELS = 128
BASE_WIDTH = 32


class SqueezeNextUnit(nn.Module):
    """One SqueezeNext unit: ``(N, in_ch, H, W) -> (N, out_ch, ceil(H / s), ceil(W / s))``.

    Args:
        in_ch: input channels.
        out_ch: unit width C (divisible by ``4 * groups``).
        stride: stride ``s`` of the first 1x1 conv(s); 2 in the first unit of stages 2+.
        shortcut: ``identity`` (needs ``in_ch == out_ch`` and stride 1),
            ``parallel`` or ``serial`` (see the module docstring).
        sep3x1_first: run the 3x1 separable conv before the 1x3 one.
        groups: groups of squeeze1 and of both separable convs.
    """

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        stride: int = 1,
        shortcut: Shortcut = "identity",
        sep3x1_first: bool = True,
        groups: int = 1,
    ) -> None:
        super().__init__()
        if shortcut not in ("identity", "parallel", "serial"):
            raise ValueError(
                f"shortcut: expected 'identity', 'parallel' or 'serial', got {shortcut!r}"
            )
        if shortcut == "identity" and (in_ch != out_ch or stride != 1):
            raise ValueError(
                f"shortcut: identity needs in_ch == out_ch and stride 1, "
                f"got {in_ch}->{out_ch} stride {stride}"
            )
        self.shortcut_kind = shortcut
        self._transition: tuple[str, ...] = ()
        self._shortcut: tuple[str, ...] = ()
        squeeze_stride = stride
        if shortcut == "parallel":
            self._shortcut = register(self, conv_bn_act("shortcut", in_ch, out_ch, 1, stride))
        elif shortcut == "serial":
            self._transition = register(
                self, conv_bn_act("transition", in_ch, out_ch, 1, stride)
            )
            in_ch, squeeze_stride = out_ch, 1
        half, quarter = out_ch // 2, out_ch // 4
        separable = [("sep3x1", (3, 1), (1, 0)), ("sep1x3", (1, 3), (0, 1))]
        if not sep3x1_first:
            separable.reverse()
        sep_layers: list[tuple[str, nn.Module]] = []
        for (name, kernel, padding), sep_in in zip(separable, (quarter, half), strict=True):
            sep_layers += conv_bn_act(name, sep_in, half, kernel, padding=padding, groups=groups)
        self._body = register(
            self,
            [
                *conv_bn_act("squeeze1", in_ch, half, 1, squeeze_stride, groups=groups),
                *conv_bn_act("squeeze2", half, quarter, 1),
                *sep_layers,
                *conv_bn_act("expand", half, out_ch, 1),
            ],
        )
        self.add_relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_ch, H, W) -> (N, out_ch, H', W')``; ReLU(shortcut + body).

        The shortcut is the first operand, as in the released prototxts: the exported add then
        lists ``[shortcut, expand]``, and the expand conv (last operand) is the one a fused
        residual add is folded into.
        """
        if self.shortcut_kind == "serial":
            x = run(self, self._transition, x)
        shortcut = run(self, self._shortcut, x) if self.shortcut_kind == "parallel" else x
        return self.add_relu(shortcut + run(self, self._body, x))


def stage_widths(width: float, n_stages: int) -> tuple[int, ...]:
    """Unit widths ``32 * width * 2**i`` of ``n_stages`` stages (32w must be an integer)."""
    base = BASE_WIDTH * width
    return tuple(round(base) << i for i in range(n_stages))


class SqueezeNext(nn.Module):
    """SqueezeNext family; the defaults build 1.0-SqNxt-23 (717,280 params).

    Args:
        width: width multiplier w > 0; ``32 * w`` must be an integer divisible by
            ``4 * groups``. Stem (64) and head (128) channels do not scale.
        depth: units per stage, any length >= 1, every entry >= 1.
        stem_kernel: odd stem conv kernel >= 1 (7 in v1, 5 in v2-v5).
        first_unit: ``"parallel"`` or ``"serial"`` first unit of each stage.
        groups: groups of squeeze1 and the separable convs (2 for 1.0-G-SqNxt-23).
        num_classes: FC outputs.

    Shapes: ``(N, 3, H, W) -> (N, num_classes)``; at 227 the stages run at
    55/28/14/7 (7x7 stem) or 56/28/14/7 (5x5 stem).

    Raises:
        ValueError: naming the first invalid argument.
    """

    layer_name_sep: ClassVar[str] = "_"

    def __init__(
        self,
        width: float = 1.0,
        depth: Sequence[int] = (6, 6, 8, 1),
        stem_kernel: int = 7,
        first_unit: Literal["parallel", "serial"] = "parallel",
        groups: int = 1,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        check_positive_number("width", width)
        if isinstance(depth, (str, bytes)) or not isinstance(depth, Sequence) or not depth:
            raise ValueError(f"depth: expected a non-empty sequence of ints >= 1, got {depth!r}")
        for units in depth:
            check_int("depth entries", units)
        check_int("stem_kernel", stem_kernel)
        if stem_kernel % 2 == 0:
            raise ValueError(f"stem_kernel: expected an odd integer >= 1, got {stem_kernel}")
        if first_unit not in ("parallel", "serial"):
            raise ValueError(f"first_unit: expected 'parallel' or 'serial', got {first_unit!r}")
        check_int("groups", groups)
        check_int("num_classes", num_classes)
        base = BASE_WIDTH * width
        if abs(base - round(base)) > 1e-9 or round(base) % (4 * groups):
            raise ValueError(
                f"width: 32*width must be an integer divisible by 4*groups={4 * groups}, "
                f"got 32*{width}={base:g}"
            )
        if first_unit == "parallel" and STEM_CHANNELS % groups:
            raise ValueError(
                f"groups: a parallel first unit needs groups dividing {STEM_CHANNELS}, got {groups}"
            )
        self.width, self.depth, self.stem_kernel = width, tuple(depth), stem_kernel
        self.first_unit, self.groups = first_unit, groups

        layers = conv_bn_act("conv1", 3, STEM_CHANNELS, stem_kernel, stride=2)
        layers.append(("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)))
        in_ch = STEM_CHANNELS
        widths = stage_widths(width, len(depth))
        for stage, (out_ch, units) in enumerate(zip(widths, depth, strict=True), start=1):
            for unit in range(1, units + 1):
                block = SqueezeNextUnit(
                    in_ch,
                    out_ch,
                    stride=2 if stage > 1 and unit == 1 else 1,
                    shortcut=first_unit if unit == 1 else "identity",
                    sep3x1_first=unit % 2 == 1,
                    groups=groups,
                )
                layers.append((f"s{stage}u{unit}", block))
                in_ch = out_ch
        layers += conv_bn_act("conv_final", in_ch, HEAD_CHANNELS, 1)
        layers.append(("pool_final", nn.AdaptiveAvgPool2d(1)))
        self._features = register(self, layers)
        self.fc = nn.Linear(HEAD_CHANNELS, num_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W) -> (N, num_classes)`` logits."""
        return self.fc(torch.flatten(run(self, self._features, x), 1))
