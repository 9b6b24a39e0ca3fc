"""SqueezeNet v1.0 and v1.1 (forresti/SqueezeNet Caffe definitions), with the
SqueezeNet paper's simple and complex bypass variants of v1.0.

Every conv has a bias and a ReLU; there is no batch norm and no FC layer. A fire
module squeezes with a 1x1 conv and expands with parallel 1x1 and 3x3 (pad 1)
convs whose outputs are concatenated (1x1 channels first). Max pools are 3/2 with
Caffe's ceil rounding; dropout 0.5 follows fire9; conv10 (1x1, pad 0, as in the
paper's count) maps to the classes and a global average pool ends the net.

Module names are the Caffe names joined with ``/`` (``fire2.squeeze1x1`` is layer
``fire2/squeeze1x1``); ReLUs are ``<conv>_relu``, a bypass conv is ``fireN.bypass``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from torch import nn

from networks._blocks import check_int, conv_act, register, run

Bypass = Literal["none", "simple", "complex"]

# (squeeze, expand) per fire module, fire2..fire9; identical in v1.0 and v1.1.
_FIRES: tuple[tuple[int, int], ...] = (
    (16, 64), (16, 64), (32, 128), (32, 128), (48, 192), (48, 192), (64, 256), (64, 256),
)
# version -> (conv1 out channels, conv1 kernel, fire numbers followed by a max pool)
_STEMS: dict[str, tuple[int, int, tuple[int, ...]]] = {
    "1.0": (96, 7, (4, 8)),
    "1.1": (64, 3, (3, 5)),
}


class Fire(nn.Module):
    """Fire module: ``(N, in_ch, H, W) -> (N, 2 * expand, H, W)``.

    Args:
        in_ch: input channels.
        squeeze: channels of the 1x1 squeeze conv.
        expand: channels of each of the 1x1 and 3x3 expand convs.
        bypass: ``"none"``; ``"identity"`` adds the input to the output (needs
            ``in_ch == 2 * expand``); ``"conv"`` adds a 1x1 conv (with bias, no
            ReLU) of the input, module ``bypass``.
    """

    def __init__(
        self,
        in_ch: int,
        squeeze: int,
        expand: int,
        bypass: Literal["none", "identity", "conv"] = "none",
    ) -> None:
        super().__init__()
        if bypass not in ("none", "identity", "conv"):
            raise ValueError(f"bypass: expected 'none', 'identity' or 'conv', got {bypass!r}")
        if bypass == "identity" and in_ch != 2 * expand:
            raise ValueError(
                f"bypass: identity needs in_ch == 2*expand, got {in_ch} and {2 * expand}"
            )
        self._squeeze = register(self, conv_act("squeeze1x1", in_ch, squeeze, 1))
        self._expand1x1 = register(self, conv_act("expand1x1", squeeze, expand, 1))
        self._expand3x3 = register(self, conv_act("expand3x3", squeeze, expand, 3, padding=1))
        if bypass == "conv":
            self.bypass = nn.Conv2d(in_ch, 2 * expand, 1)
        self.bypass_kind = bypass

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_ch, H, W) -> (N, 2 * expand, H, W)``."""
        s = run(self, self._squeeze, x)
        out = torch.cat([run(self, self._expand1x1, s), run(self, self._expand3x3, s)], 1)
        if self.bypass_kind == "identity":
            return out + x
        if self.bypass_kind == "conv":
            return out + self.bypass(x)
        return out


class SqueezeNet(nn.Module):
    """SqueezeNet v1.0 / v1.1 (1,248,424 / 1,235,496 params at 1000 classes).

    Args:
        version: ``"1.0"`` (conv1 7x7/2 -> 96; pools after conv1, fire4, fire8) or
            ``"1.1"`` (conv1 3x3/2 -> 64; pools after conv1, fire3, fire5).
        num_classes: output channels of conv10.
        bypass: ``"none"``; ``"simple"`` adds identity bypasses around the fire
            modules whose input and output widths agree (fire3, 5, 7, 9; no extra
            params); ``"complex"`` adds those plus a 1x1 conv bypass around the
            others (fire2, 4, 6, 8). The paper defines the bypasses on v1.0.

    Shapes: ``(N, 3, H, W) -> (N, num_classes)`` for any H, W the pools accept
    (the paper's counts use 227 for v1.0 and 224 for v1.1).
    """

    layer_name_sep: ClassVar[str] = "/"

    def __init__(
        self, version: str = "1.0", num_classes: int = 1000, bypass: Bypass = "none"
    ) -> None:
        super().__init__()
        if version not in _STEMS:
            raise ValueError(f"version: expected one of {sorted(_STEMS)}, got {version!r}")
        if bypass not in ("none", "simple", "complex"):
            raise ValueError(f"bypass: expected 'none', 'simple' or 'complex', got {bypass!r}")
        check_int("num_classes", num_classes)
        stem_ch, stem_k, pooled_after = _STEMS[version]
        layers: list[tuple[str, nn.Module]] = [
            *conv_act("conv1", 3, stem_ch, stem_k, stride=2),
            ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
        ]
        in_ch = stem_ch
        for number, (squeeze, expand) in enumerate(_FIRES, start=2):
            out_ch = 2 * expand
            kind: Literal["none", "identity", "conv"] = "none"
            if bypass != "none" and in_ch == out_ch:
                kind = "identity"
            elif bypass == "complex":
                kind = "conv"
            layers.append((f"fire{number}", Fire(in_ch, squeeze, expand, kind)))
            if number in pooled_after:
                layers.append((f"pool{number}", nn.MaxPool2d(3, 2, ceil_mode=True)))
            in_ch = out_ch
        layers += [
            ("drop9", nn.Dropout(0.5)),
            *conv_act("conv10", in_ch, num_classes, 1),
            ("pool10", nn.AdaptiveAvgPool2d(1)),
        ]
        self.version = version
        self._layers = register(self, layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W) -> (N, num_classes)`` (post-ReLU conv10, averaged)."""
        return torch.flatten(run(self, self._layers, x), 1)
