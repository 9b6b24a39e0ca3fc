"""Image transforms on ``(C, H, W)`` tensors.

Images enter as ``uint8`` tensors (values 0..255) or floating tensors (values
0..1), shape ``(C, H, W)`` with ``C`` in {1, 3}.  Every function returns a new
tensor and leaves its input untouched.  Random transforms take an explicit
:class:`torch.Generator` so that a sample's augmentation depends only on the
seed the caller derives for it, never on global random state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from networks.training.errors import ConfigError

#: Fraction of the resized image kept by the crop (the usual 224/256 ratio).
DEFAULT_CROP_FRACTION = 0.875
#: Random-resized-crop ranges of the ImageNet recipe (Szegedy et al. 2015, "Going deeper with
#: convolutions"; the defaults of the common PyTorch ImageNet training scripts): share of the
#: image's area kept, and aspect ratio (width / height) of the window.
RRC_SCALE = (0.08, 1.0)
RRC_RATIO = (3.0 / 4.0, 4.0 / 3.0)
_RRC_ATTEMPTS = 10


def to_float(image: torch.Tensor) -> torch.Tensor:
    """Convert ``uint8`` 0..255 to ``float32`` 0..1; floating input is cast to ``float32``."""
    if image.dtype == torch.uint8:
        return image.to(torch.float32) / 255.0
    return image.to(torch.float32)


def to_rgb(image: torch.Tensor) -> torch.Tensor:
    """Repeat a single greyscale channel three times: ``(1, H, W) -> (3, H, W)``.

    Three-channel images are returned unchanged (as a copy).
    """
    channels = image.shape[0]
    if channels == 3:
        return image.clone()
    if channels == 1:
        return image.expand(3, -1, -1).clone()
    raise ConfigError(f"image has {channels} channels; expected 1 (greyscale) or 3 (RGB)")


def resize_shorter(image: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinearly resize a float image so its shorter side is ``size`` pixels.

    The longer side keeps the aspect ratio, rounded to the nearest pixel.
    Antialiasing is applied when shrinking.
    """
    height, width = image.shape[-2:]
    short = min(height, width)
    new_h = size if height == short else max(size, round(height * size / short))
    new_w = size if width == short else max(size, round(width * size / short))
    if (new_h, new_w) == (height, width):
        return image.clone()
    shrinking = new_h < height or new_w < width
    resized = F.interpolate(
        image.unsqueeze(0), size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=shrinking
    )
    return resized.squeeze(0)


def crop(image: torch.Tensor, top: int, left: int, size: int) -> torch.Tensor:
    """Return the ``size x size`` window whose top-left pixel is ``(top, left)``."""
    height, width = image.shape[-2:]
    if not (0 <= top <= height - size and 0 <= left <= width - size):
        raise ConfigError(f"crop of {size}x{size} at ({top}, {left}) does not fit a {height}x{width} image")
    return image[..., top : top + size, left : left + size].clone()


def center_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """Crop the central ``size x size`` window; odd margins put the extra pixel bottom/right."""
    height, width = image.shape[-2:]
    return crop(image, (height - size) // 2, (width - size) // 2, size)


def random_crop(image: torch.Tensor, size: int, rng: torch.Generator) -> torch.Tensor:
    """Crop a ``size x size`` window at a uniformly random position."""
    height, width = image.shape[-2:]
    if height < size or width < size:
        raise ConfigError(f"crop of {size}x{size} does not fit a {height}x{width} image")
    top = int(torch.randint(height - size + 1, (1,), generator=rng))
    left = int(torch.randint(width - size + 1, (1,), generator=rng))
    return crop(image, top, left, size)


def resize_to(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Bilinearly resize a float image to ``height x width`` (antialiased when shrinking)."""
    if tuple(image.shape[-2:]) == (height, width):
        return image.clone()
    shrinking = height < image.shape[-2] or width < image.shape[-1]
    resized = F.interpolate(
        image.unsqueeze(0), size=(height, width), mode="bilinear", align_corners=False, antialias=shrinking
    )
    return resized.squeeze(0)


def resized_crop_window(
    height: int,
    width: int,
    rng: torch.Generator,
    scale: tuple[float, float] = RRC_SCALE,
    ratio: tuple[float, float] = RRC_RATIO,
) -> tuple[int, int, int, int]:
    """``(top, left, h, w)`` of a random window covering ``scale`` of the area with aspect in ``ratio``.

    Up to ten draws of (area share uniform in ``scale``, log-aspect uniform in
    ``log(ratio)``); the first window that fits is placed uniformly at random.
    If none fits, the largest centred window with its aspect clamped to ``ratio``.
    """
    area = height * width
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(_RRC_ATTEMPTS):
        share = scale[0] + (scale[1] - scale[0]) * float(torch.rand((), generator=rng))
        aspect = math.exp(log_lo + (log_hi - log_lo) * float(torch.rand((), generator=rng)))
        w = round(math.sqrt(area * share * aspect))
        h = round(math.sqrt(area * share / aspect))
        if 0 < w <= width and 0 < h <= height:
            top = int(torch.randint(height - h + 1, (1,), generator=rng))
            left = int(torch.randint(width - w + 1, (1,), generator=rng))
            return top, left, h, w
    aspect = width / height
    if aspect < ratio[0]:
        w, h = width, round(width / ratio[0])
    elif aspect > ratio[1]:
        h, w = height, round(height * ratio[1])
    else:
        h, w = height, width
    return (height - h) // 2, (width - w) // 2, h, w


def random_resized_crop(image: torch.Tensor, size: int, rng: torch.Generator) -> torch.Tensor:
    """Crop a :func:`resized_crop_window` and resize it to ``size x size`` (float images)."""
    top, left, h, w = resized_crop_window(image.shape[-2], image.shape[-1], rng)
    return resize_to(image[..., top : top + h, left : left + w], size, size)


def hflip(image: torch.Tensor) -> torch.Tensor:
    """Mirror the image left-right (reverse the width axis)."""
    return image.flip(-1)


def random_hflip(image: torch.Tensor, rng: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Mirror the image left-right with probability ``p``."""
    if float(torch.rand((), generator=rng)) < p:
        return hflip(image)
    return image.clone()


def normalize(image: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Subtract a per-channel ``mean`` and divide by a per-channel ``std`` (both length ``C``)."""
    mean_t = torch.as_tensor(mean, dtype=image.dtype).view(-1, 1, 1)
    std_t = torch.as_tensor(std, dtype=image.dtype).view(-1, 1, 1)
    return (image - mean_t) / std_t


@dataclass(frozen=True)
class ImagePipeline:
    """The full preprocessing of one sample, for training or for evaluation.

    Training with ``augment="crop"``: resize the shorter side to
    ``ceil(image_size / crop_fraction)``, take a random ``image_size`` crop,
    mirror with probability 0.5 (when ``flip``), convert to float RGB and
    normalise.  With ``augment="rrc"`` the crop is :func:`random_resized_crop`
    of the original image instead.  Evaluation resizes the shorter side the same
    way, takes the centre crop and never mirrors (the ImageNet validation recipe:
    256 then 224, or 260 then 227).

    Attributes:
        image_size: Side of the square output, pixels.
        train: Whether to apply the random augmentations.
        mean: Per-channel mean of the RGB input in 0..1 units.
        std: Per-channel standard deviation, same units.
        flip: Whether left-right mirroring preserves the label.
        crop_fraction: Output side over resized shorter side, in (0, 1].
        augment: Training crop, ``"crop"`` or ``"rrc"`` (see above).
    """

    image_size: int
    train: bool
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    flip: bool = True
    crop_fraction: float = DEFAULT_CROP_FRACTION
    augment: str = "crop"

    def __post_init__(self) -> None:
        if self.augment not in ("crop", "rrc"):
            raise ConfigError(f"augment must be 'crop' or 'rrc', got {self.augment!r}")
        if self.image_size < 1:
            raise ConfigError(f"image_size must be a positive number of pixels, got {self.image_size}")
        if not 0.0 < self.crop_fraction <= 1.0:
            raise ConfigError(f"crop_fraction must be in (0, 1], got {self.crop_fraction}")

    @property
    def resize_to(self) -> int:
        """Shorter side after resizing, pixels."""
        return math.ceil(self.image_size / self.crop_fraction - 1e-9)

    def __call__(self, image: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """Map one ``(C, H, W)`` image to a normalised ``(3, image_size, image_size)`` float tensor."""
        out = to_rgb(to_float(image))
        if self.train and self.augment == "rrc":
            out = random_resized_crop(out, self.image_size, rng)
        else:
            out = resize_shorter(out, self.resize_to)
            out = random_crop(out, self.image_size, rng) if self.train else center_crop(out, self.image_size)
        if self.train and self.flip:
            out = random_hflip(out, rng)
        return normalize(out, self.mean, self.std)
