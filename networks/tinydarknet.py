"""Tiny Darknet (pjreddie/darknet ``cfg/tiny.cfg``).

Sixteen convs. conv1-conv15 have batch norm without a bias and leaky ReLU (slope
0.1); conv16 is a linear 1x1 conv with a bias that maps to the classes. Darknet's
``pad=1`` means padding ``k // 2``. The four 2/2 max pools use ceil rounding,
which is what darknet's ``padding = size - 1`` gives (the same as floor for the
even sizes met at 224). A global average pool ends the net.

Sizes at 224: 224 -> 112 -> 56 -> 28 -> 14 after maxpool1..4. Module names are
``conv1``..``conv16``, ``maxpool1``..``maxpool4``, ``avgpool`` (the layer names),
with ``<conv>_bn`` and ``<conv>_leaky`` beside each of conv1-conv15.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from networks._blocks import check_int, conv_bn_act, register, run

# Conv output channels and kernel sizes in cfg order; None marks a max pool.
_CFG: tuple[tuple[int, int] | None, ...] = (
    (16, 3), None,
    (32, 3), None,
    (16, 1), (128, 3), (16, 1), (128, 3), None,
    (32, 1), (256, 3), (32, 1), (256, 3), None,
    (64, 1), (512, 3), (64, 1), (512, 3), (128, 1),
)


class TinyDarknet(nn.Module):
    """Tiny Darknet (1,042,104 params at 1000 classes, BN gamma/beta included).

    Args:
        num_classes: output channels of conv16.

    Shapes: ``(N, 3, H, W) -> (N, num_classes)``; the paper's count uses 224.
    """

    layer_name_sep: ClassVar[str] = "/"

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        check_int("num_classes", num_classes)
        layers: list[tuple[str, nn.Module]] = []
        in_ch, n_conv, n_pool = 3, 0, 0
        for entry in _CFG:
            if entry is None:
                n_pool += 1
                layers.append((f"maxpool{n_pool}", nn.MaxPool2d(2, 2, ceil_mode=True)))
                continue
            out_ch, k = entry
            n_conv += 1
            layers += conv_bn_act(f"conv{n_conv}", in_ch, out_ch, k, padding=k // 2, act="leaky")
            in_ch = out_ch
        layers += [
            (f"conv{n_conv + 1}", nn.Conv2d(in_ch, num_classes, 1)),
            ("avgpool", nn.AdaptiveAvgPool2d(1)),
        ]
        self._layers = register(self, layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W) -> (N, num_classes)`` logits."""
        return torch.flatten(run(self, self._layers, x), 1)
