"""MobileNet v1 (TF-slim ``mobilenet_v1.py``, ``_CONV_DEFS``).

A 3x3/2 stem conv, then 13 depthwise-separable blocks: a depthwise 3x3 conv
(``groups = channels``) and a pointwise 1x1 conv. Every conv has no bias and is
followed by batch norm and ReLU6. TF 'SAME' padding is taken as symmetric pad 1
for the 3x3 convs (same output sizes). A global average pool and an FC with bias
end the net (TF-slim's 1x1 conv logits, as nn.Linear).

Width multiplier ``alpha`` scales every conv's channels with TF-slim's rule
``max(int(c * alpha), 8)`` (truncation, at least 8 channels); at 1.0 the channels
are exactly 32, 64, ..., 1024.

Module names: ``conv0``, ``dw1``/``pw1`` .. ``dw13``/``pw13``, ``avgpool``, ``fc``
(the layer names), with ``<conv>_bn`` and ``<conv>_relu6`` beside each conv.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from networks._blocks import check_int, check_positive_number, conv_bn_act, register, run

# (stride of the depthwise conv, output channels of the pointwise conv) per block.
_BLOCKS: tuple[tuple[int, int], ...] = (
    (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512),
    (1, 512), (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024),
)
_STEM_CHANNELS = 32
_MIN_DEPTH = 8


def scaled_channels(channels: int, width_multiplier: float) -> int:
    """TF-slim's channel rule: ``max(int(channels * width_multiplier), 8)``."""
    return max(int(channels * width_multiplier), _MIN_DEPTH)


class MobileNetV1(nn.Module):
    """MobileNet v1 (4,231,976 params at width 1.0 and 1000 classes).

    Args:
        num_classes: FC outputs (TF-slim checkpoints use 1001).
        width_multiplier: alpha > 0, see :func:`scaled_channels`.

    Shapes: ``(N, 3, H, W) -> (N, num_classes)``; at 224 the final map is 7x7.
    """

    layer_name_sep: ClassVar[str] = "/"

    def __init__(self, num_classes: int = 1000, width_multiplier: float = 1.0) -> None:
        super().__init__()
        check_int("num_classes", num_classes)
        check_positive_number("width_multiplier", width_multiplier)
        in_ch = scaled_channels(_STEM_CHANNELS, width_multiplier)
        layers = conv_bn_act("conv0", 3, in_ch, 3, stride=2, padding=1, act="relu6")
        for index, (stride, out) in enumerate(_BLOCKS, start=1):
            out_ch = scaled_channels(out, width_multiplier)
            layers += conv_bn_act(
                f"dw{index}", in_ch, in_ch, 3, stride=stride, padding=1, groups=in_ch, act="relu6"
            )
            layers += conv_bn_act(f"pw{index}", in_ch, out_ch, 1, act="relu6")
            in_ch = out_ch
        layers.append(("avgpool", nn.AdaptiveAvgPool2d(1)))
        self.width_multiplier = width_multiplier
        self._features = register(self, layers)
        self.fc = nn.Linear(in_ch, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W) -> (N, num_classes)`` logits."""
        return self.fc(torch.flatten(run(self, self._features, x), 1))
