"""AlexNet as in Caffe's ``bvlc_alexnet`` (the SqueezeNext paper's baseline).

Input ``(N, 3, 227, 227)``; output logits ``(N, num_classes)``. Every conv and FC
has a bias and no batch norm. conv2, conv4 and conv5 are grouped (2 groups, as in
the original two-GPU net). Local response normalisation follows the ReLUs of conv1
and conv2; max pools are 3/2 with Caffe's ceil rounding.

Layer sizes at 227: conv1 55, pool1 27, conv2 27, pool2 13, conv3-5 13, pool5 6,
so fc6 reads 256*6*6 = 9216 features. Module names are the Caffe layer names
(``conv1``, ``norm1``, ``pool1``, ..., ``fc8``); each ReLU is ``<layer>_relu``.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from networks._blocks import check_int, conv_act, register, run


class AlexNet(nn.Module):
    """Caffe ``bvlc_alexnet`` (60,965,224 params at 1000 classes).

    Args:
        num_classes: size of fc8.
        adaptive_pool: insert ``AdaptiveAvgPool2d((6, 6))`` (module ``adaptive_pool``)
            after pool5 so that images smaller or larger than 227 work. With the
            default ``False`` the net is exactly the Caffe definition and needs a
            227x227 input (fc6 expects 9216 features).

    Shapes: ``(N, 3, 227, 227) -> (N, num_classes)``.
    """

    layer_name_sep: ClassVar[str] = "/"

    def __init__(self, num_classes: int = 1000, adaptive_pool: bool = False) -> None:
        super().__init__()
        check_int("num_classes", num_classes)
        features: list[tuple[str, nn.Module]] = [
            *conv_act("conv1", 3, 96, 11, stride=4),
            ("norm1", nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75)),
            ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
            *conv_act("conv2", 96, 256, 5, padding=2, groups=2),
            ("norm2", nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75)),
            ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True)),
            *conv_act("conv3", 256, 384, 3, padding=1),
            *conv_act("conv4", 384, 384, 3, padding=1, groups=2),
            *conv_act("conv5", 384, 256, 3, padding=1, groups=2),
            ("pool5", nn.MaxPool2d(3, 2, ceil_mode=True)),
        ]
        if adaptive_pool:
            features.append(("adaptive_pool", nn.AdaptiveAvgPool2d((6, 6))))
        classifier: list[tuple[str, nn.Module]] = [
            ("fc6", nn.Linear(256 * 6 * 6, 4096)),
            ("fc6_relu", nn.ReLU()),
            ("drop6", nn.Dropout(0.5)),
            ("fc7", nn.Linear(4096, 4096)),
            ("fc7_relu", nn.ReLU()),
            ("drop7", nn.Dropout(0.5)),
            ("fc8", nn.Linear(4096, num_classes)),
        ]
        self._features = register(self, features)
        self._classifier = register(self, classifier)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, 227, 227) -> (N, num_classes)`` logits."""
        x = run(self, self._features, x)
        return run(self, self._classifier, torch.flatten(x, 1))
