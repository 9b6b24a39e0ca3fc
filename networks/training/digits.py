"""The ``digits`` built-in data set: scikit-learn's bundled handwritten digits.

1797 greyscale 8x8 images of the digits 0-9 (the UCI "optdigits" test set,
shipped inside scikit-learn, so no download).  Pixel values 0..16 are scaled to
0..255; images are upsampled by the transforms, by default to 32x32.  A
stratified ``val_fraction`` is held out.  Mirroring is disabled since it does
not preserve digit identity.  Needs scikit-learn: ``pip install 'accelsim[train]'``.
"""

from __future__ import annotations

import numpy as np
import torch

from networks.training.data import ArrayImages, DataSplits, Split, array_splits, stratified_split
from networks.training.errors import DataError

#: Default training resolution: 8x8 is too small for the zoo's strided stems.
NATIVE_SIZE = 32


def load(options: dict[str, str], val_fraction: float, split_seed: int) -> DataSplits:
    """Load the digits and split them; ``digits`` takes no ``k=v`` options."""
    if options:
        raise DataError(f"digits: takes no options, got '{next(iter(options))}'")
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError("digits: needs scikit-learn, which the train extra installs: "
                        "pip install 'accelsim[train]'") from None
    bunch = load_digits()
    pixels = np.rint(np.asarray(bunch.images, dtype=np.float64) * (255.0 / 16.0)).astype(np.uint8)
    labels = np.asarray(bunch.target, dtype=np.int64)
    everything = Split(ArrayImages(torch.from_numpy(pixels[:, None])), torch.from_numpy(labels))
    train_idx, val_idx = stratified_split(labels, val_fraction, split_seed)
    names = [str(d) for d in range(10)]
    return array_splits(
        "digits", everything.subset(train_idx), everything.subset(val_idx), names, flip=False, native_size=NATIVE_SIZE
    )
