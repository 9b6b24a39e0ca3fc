"""The ``synthetic`` built-in data set: procedurally drawn shapes and textures.

Each class is one kind of picture drawn with random colours, position, size,
period and phase plus a little Gaussian noise: five filled shapes on a plain
background (disc, square, upward triangle, plus sign, ring) and five
full-image textures (horizontal stripes, vertical stripes, checkerboard,
diagonal stripes in either direction, grid of dots).  Every class is closed
under left-right mirroring, so horizontal flips are label-preserving.

The set is a pure function of its options: ``synthetic:classes=10,size=64,
train=2000,val=500,seed=0`` (these are the defaults).  Labels are balanced
(``i % classes`` for the i-th image, shuffled).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from networks.training.data import ArrayImages, DataSplits, Split, array_splits
from networks.training.errors import DataError

Mask = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]
"""Draws one class: ``(yy, xx, rng) -> bool mask``, coordinates in 0..1 of shape ``(S, S)``."""


def _centre(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    cy, cx = rng.uniform(0.32, 0.68, size=2)
    return yy - cy, xx - cx, float(rng.uniform(0.18, 0.3))


def _disc(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dy, dx, r = _centre(yy, xx, rng)
    return dy**2 + dx**2 < r**2


def _square(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dy, dx, r = _centre(yy, xx, rng)
    return np.maximum(np.abs(dy), np.abs(dx)) < 0.85 * r


def _triangle(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dy, dx, r = _centre(yy, xx, rng)
    return (np.abs(dy) < r) & (np.abs(dx) < (dy + r) / 2)


def _plus(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dy, dx, r = _centre(yy, xx, rng)
    arm = 0.3 * r
    return ((np.abs(dx) < arm) & (np.abs(dy) < r)) | ((np.abs(dy) < arm) & (np.abs(dx) < r))


def _ring(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dy, dx, r = _centre(yy, xx, rng)
    dist2 = dy**2 + dx**2
    return (dist2 < r**2) & (dist2 > (0.6 * r) ** 2)


def _period(rng: np.random.Generator) -> tuple[float, float, float]:
    return float(rng.uniform(0.12, 0.3)), float(rng.uniform()), float(rng.uniform())


def _hstripes(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    period, phase, _ = _period(rng)
    return (yy / period + phase) % 1.0 < 0.5


def _vstripes(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    period, phase, _ = _period(rng)
    return (xx / period + phase) % 1.0 < 0.5


def _checker(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    period, phase_y, phase_x = _period(rng)
    return (np.floor(yy / period + phase_y) + np.floor(xx / period + phase_x)) % 2 == 0


def _diagonal(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    period, phase, _ = _period(rng)
    sign = 1.0 if rng.uniform() < 0.5 else -1.0
    return ((xx + sign * yy) / period + phase) % 1.0 < 0.5


def _dots(yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    period, phase_y, phase_x = _period(rng)
    fy = (yy / period + phase_y) % 1.0 - 0.5
    fx = (xx / period + phase_x) % 1.0 - 0.5
    return fy**2 + fx**2 < 0.3**2


CLASSES: dict[str, Mask] = {
    "hstripes": _hstripes,
    "vstripes": _vstripes,
    "disc": _disc,
    "checker": _checker,
    "plus": _plus,
    "diagonal": _diagonal,
    "square": _square,
    "dots": _dots,
    "triangle": _triangle,
    "ring": _ring,
}
"""Class kinds in label order; ``classes=K`` uses the first ``K`` (the most distinct come first)."""

DEFAULTS = {"classes": 10, "size": 64, "train": 2000, "val": 500, "seed": 0}
_NOISE_STD = 0.04
_MIN_CONTRAST = 0.3


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Foreground and background RGB colours (0..1) whose mean brightness differs by >= 0.3."""
    while True:
        fg, bg = rng.uniform(size=3), rng.uniform(size=3)
        if abs(fg.mean() - bg.mean()) >= _MIN_CONTRAST:
            return fg, bg


def generate(count: int, classes: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``count`` images of the first ``classes`` kinds.

    Returns:
        ``(images, labels)``: ``uint8`` of shape ``(count, 3, size, size)`` and
        ``int64`` of shape ``(count,)``.
    """
    labels = rng.permutation(np.arange(count) % classes)
    coords = (np.arange(size) + 0.5) / size
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    draws = list(CLASSES.values())
    images = np.empty((count, 3, size, size), dtype=np.uint8)
    for i, label in enumerate(labels):
        mask = draws[label](yy, xx, rng)
        fg, bg = _colours(rng)
        picture = np.where(mask[None], fg[:, None, None], bg[:, None, None])
        picture += rng.normal(0.0, _NOISE_STD, size=picture.shape)
        images[i] = np.clip(np.rint(picture * 255.0), 0, 255).astype(np.uint8)
    return images, labels.astype(np.int64)


#: Bounds on the generated set, checked before anything is drawn: images per split, side in
#: pixels, and the bytes the two splits take as uint8 (3 x size^2 each).
MAX_IMAGES = 1_000_000
MAX_SIZE = 1024
MAX_BYTES = 2 << 30


def _int_options(options: dict[str, str]) -> dict[str, int]:
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise DataError(f"synthetic: unknown option '{unknown[0]}' (expected {', '.join(DEFAULTS)})")
    values = dict(DEFAULTS)
    for key, text in options.items():
        try:
            values[key] = int(text)
        except ValueError:
            raise DataError(f"synthetic: option {key}={text} is not an integer") from None
    return values


def load(options: dict[str, str], val_fraction: float, split_seed: int) -> DataSplits:
    """Build the synthetic set from ``k=v`` options (``val_fraction`` and ``split_seed`` are unused:
    the set has its own ``val`` count and ``seed``)."""
    opts = _int_options(options)
    if not 2 <= opts["classes"] <= len(CLASSES):
        raise DataError(f"synthetic: classes={opts['classes']} must be between 2 and {len(CLASSES)}")
    if opts["size"] < 16:
        raise DataError(f"synthetic: size={opts['size']} must be at least 16 pixels")
    if opts["train"] < 2 or opts["val"] < 1:
        raise DataError(f"synthetic: train={opts['train']} must be >= 2 and val={opts['val']} >= 1")
    if opts["size"] > MAX_SIZE:
        raise DataError(f"synthetic: size={opts['size']:,} must be at most {MAX_SIZE} pixels")
    if opts["train"] > MAX_IMAGES or opts["val"] > MAX_IMAGES:
        raise DataError(f"synthetic: train={opts['train']:,} and val={opts['val']:,} must each be at most "
                        f"{MAX_IMAGES:,} images")
    need = (opts["train"] + opts["val"]) * 3 * opts["size"] ** 2  # uint8 images, before any work
    if need > MAX_BYTES:
        raise DataError(f"synthetic: train+val={opts['train'] + opts['val']:,} images of {opts['size']} px need "
                        f"{need / 2**30:.1f} GiB; at most {MAX_BYTES / 2**30:g} GiB")
    splits = []
    for stream, count in enumerate((opts["train"], opts["val"])):
        rng = np.random.default_rng([opts["seed"], stream])
        images, labels = generate(count, opts["classes"], opts["size"], rng)
        splits.append(Split(ArrayImages(torch.from_numpy(images)), torch.from_numpy(labels)))
    names = list(CLASSES)[: opts["classes"]]
    source = "synthetic:" + ",".join(f"{k}={v}" for k, v in opts.items())
    return array_splits(source, splits[0], splits[1], names, flip=True)
