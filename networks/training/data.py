"""Data sources for training: image folders, ``.npz`` arrays and built-in sets.

A *source* is a string given to :func:`load_data`:

``PATH`` (a folder)
    One sub-folder of images per class (``PATH/cat/*.png``).  If ``PATH``
    holds ``train/`` and ``val/`` folders, each laid out that way, they are the
    two splits (``val/`` may lack some classes); if it holds only ``train/`` or
    only class folders, a stratified, seeded ``val_fraction`` of each class is
    held out.  Image files: .png .jpg .jpeg .bmp .gif .webp .ppm .pgm .tif .tiff,
    decoded with Pillow to RGB on each access.
``PATH.npz``
    Arrays ``x_train``/``y_train`` with ``x_val``/``y_val`` (or ``x_test``/
    ``y_test``) as the validation split; or ``x_train``/``y_train`` alone, or
    ``x``/``y``, split by ``val_fraction``.  Images are ``(N, H, W)``
    greyscale, ``(N, H, W, C)`` or ``(N, C, H, W)`` with ``C`` 1 or 3 (the
    last axis wins when both could be channels), ``uint8`` 0..255 or float
    0..1.  Labels are 1-D integers ``0..K-1``.  An optional ``class_names``
    string array names the classes.
``synthetic[:k=v,...]``, ``digits``
    Built-in offline sets, see :mod:`networks.training.synthetic` and
    :mod:`networks.training.digits`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from networks.training.errors import DataError, one_line
from networks.training.transforms import ImagePipeline, to_float

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".ppm", ".pgm", ".tif", ".tiff")
#: Per-channel RGB statistics of ImageNet, used for folders (too costly to scan).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_STATS_SAMPLE = 2048


def derive_seed(*parts: int) -> int:
    """A well-mixed 63-bit seed determined by the non-negative integers ``parts``."""
    state = np.random.SeedSequence(list(parts)).generate_state(1, np.uint64)[0]
    return int(state) & 0x7FFF_FFFF_FFFF_FFFF


class ArrayImages:
    """Images held in memory as one ``(N, C, H, W)`` tensor (``uint8`` or ``float32``)."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.images[index]

    def subset(self, indices: np.ndarray) -> ArrayImages:
        """Images at ``indices`` (a 1-D integer array), in that order."""
        return ArrayImages(self.images[torch.from_numpy(indices)])


class FileImages:
    """Images read from files on each access, returned as ``(3, H, W)`` ``uint8``."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        from PIL import Image, UnidentifiedImageError

        path = self.paths[index]
        try:
            with Image.open(path) as img:
                pixels = np.asarray(img.convert("RGB"))
        except (OSError, UnidentifiedImageError) as exc:
            raise DataError(f"{path}: cannot read image ({one_line(exc)})") from exc
        return torch.from_numpy(pixels.copy()).permute(2, 0, 1).contiguous()

    def subset(self, indices: np.ndarray) -> FileImages:
        """Images at ``indices`` (a 1-D integer array), in that order."""
        return FileImages([self.paths[i] for i in indices])


Images = ArrayImages | FileImages


@dataclass
class Split:
    """One split of a data set: images and their ``int64`` labels of shape ``(N,)``."""

    images: Images
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, indices: np.ndarray) -> Split:
        """The samples at ``indices`` (a 1-D integer array)."""
        return Split(self.images.subset(indices), self.labels[torch.from_numpy(indices)])


@dataclass
class DataSplits:
    """A loaded data source: training and validation splits plus metadata.

    Attributes:
        source: The source string it was loaded from.
        train: Training split.
        val: Validation split.
        class_names: Name of each class, indexed by label.
        native_size: Image side the source suggests training at (pixels), or
            ``None`` when images vary in size.
        flip: Whether a left-right mirror keeps the label (digits: no).
        mean: Per-channel RGB mean of the training images, 0..1 units.
        std: Per-channel RGB standard deviation, 0..1 units.
    """

    source: str
    train: Split
    val: Split
    class_names: list[str]
    native_size: int | None
    flip: bool
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    @property
    def num_classes(self) -> int:
        """Number of classes, ``len(class_names)``."""
        return len(self.class_names)


class AugmentedDataset(Dataset[tuple[torch.Tensor, int]]):
    """A split seen through an :class:`ImagePipeline`.

    The random augmentation of sample ``i`` in epoch ``e`` is seeded from
    ``(seed, e, i)`` alone, so it is the same whatever the worker count,
    batch order or resume point.  Call :meth:`set_epoch` before each epoch.
    """

    def __init__(self, split: Split, pipeline: ImagePipeline, seed: int) -> None:
        self.split = split
        self.pipeline = pipeline
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the augmentation stream of ``epoch`` (0-based)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        rng = torch.Generator().manual_seed(derive_seed(self.seed, self.epoch, index))
        return self.pipeline(self.split.images[index], rng), int(self.split.labels[index])


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hold out ``fraction`` of each class, chosen by a seeded shuffle.

    Every class with at least two samples keeps at least one sample on each side.

    Args:
        labels: Integer labels, shape ``(N,)``.
        fraction: Share of each class to hold out, in (0, 1).
        seed: Seed of the shuffle.

    Returns:
        ``(train_indices, val_indices)``, each sorted ascending.
    """
    rng = np.random.default_rng(seed)
    train_parts, val_parts = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_val = round(len(members) * fraction)
        if len(members) >= 2:
            n_val = min(max(n_val, 1), len(members) - 1)
        val_parts.append(members[:n_val])
        train_parts.append(members[n_val:])
    return np.sort(np.concatenate(train_parts)), np.sort(np.concatenate(val_parts))


def channel_stats(images: torch.Tensor) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Per-channel RGB mean and standard deviation (0..1 units) of up to 2048 images ``(N, C, H, W)``."""
    sample = to_float(images[:_STATS_SAMPLE])
    if sample.shape[1] == 1:
        sample = sample.expand(-1, 3, -1, -1)
    flat = sample.transpose(0, 1).reshape(3, -1).to(torch.float64)
    mean = flat.mean(dim=1).tolist()
    std = flat.std(dim=1).clamp_min(1e-3).tolist()
    return (mean[0], mean[1], mean[2]), (std[0], std[1], std[2])


def array_splits(
    source: str,
    train: Split,
    val: Split,
    class_names: list[str],
    *,
    flip: bool,
    native_size: int | None = None,
) -> DataSplits:
    """Bundle in-memory splits, taking normalisation statistics from ``train``."""
    if not isinstance(train.images, ArrayImages):
        raise TypeError("array_splits needs in-memory ArrayImages")
    mean, std = channel_stats(train.images.images)
    if native_size is None:
        native_size = max(train.images.images.shape[-2:])
    return DataSplits(source, train, val, class_names, native_size, flip, mean, std)


def _class_folders(root: Path) -> list[str]:
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not names:
        raise DataError(f"{root}: no class folders (expected one sub-folder of images per class)")
    return names


def _scan(root: Path, classes: list[str], *, require_all: bool) -> Split:
    paths: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        folder = root / name
        if not folder.is_dir():
            if require_all:
                raise DataError(f"{folder}: missing class folder")
            continue
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        if not files:
            raise DataError(f"{folder}: no image files (expected {', '.join(IMAGE_EXTENSIONS)})")
        paths += files
        labels += [label] * len(files)
    return Split(FileImages(paths), torch.tensor(labels, dtype=torch.int64))


def load_image_folder(root: Path, val_fraction: float, split_seed: int) -> DataSplits:
    """Load an image-folder tree (layouts in the module docstring)."""
    train_dir, val_dir = root / "train", root / "val"
    if val_dir.is_dir() and not train_dir.is_dir():
        raise DataError(f"{root}: has val/ but no train/ folder")
    if train_dir.is_dir():
        classes = _class_folders(train_dir)
        train = _scan(train_dir, classes, require_all=True)
    else:
        classes = _class_folders(root)
        train = _scan(root, classes, require_all=True)
    if len(classes) < 2:
        raise DataError(f"{root}: found 1 class folder ({classes[0]}); expected at least 2")
    if val_dir.is_dir():
        extra = sorted(set(_class_folders(val_dir)) - set(classes))
        if extra:
            raise DataError(f"{val_dir}: class folders not in train/: {', '.join(extra)}")
        val = _scan(val_dir, classes, require_all=False)
    else:
        train_idx, val_idx = stratified_split(train.labels.numpy(), val_fraction, split_seed)
        train, val = train.subset(train_idx), train.subset(val_idx)
    return DataSplits(str(root.resolve()), train, val, classes, None, True, IMAGENET_MEAN, IMAGENET_STD)


def _npz_images(array: np.ndarray, where: str) -> torch.Tensor:
    layouts = "(N, H, W), (N, H, W, C) or (N, C, H, W) with C = 1 or 3"
    if array.ndim == 3:
        array = array[:, None]
    elif array.ndim == 4 and array.shape[-1] in (1, 3):
        array = array.transpose(0, 3, 1, 2)
    elif not (array.ndim == 4 and array.shape[1] in (1, 3)):
        raise DataError(f"{where}: shape {array.shape} is not an image batch; expected {layouts}")
    if array.dtype == np.uint8:
        return torch.from_numpy(np.ascontiguousarray(array))
    if np.issubdtype(array.dtype, np.floating):
        if array.size and (array.min() < 0.0 or array.max() > 1.0):
            raise DataError(f"{where}: float images must lie in 0..1, found {array.min():g}..{array.max():g}")
        return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    raise DataError(f"{where}: dtype {array.dtype} is not supported; expected uint8 (0..255) or float (0..1)")


def _npz_labels(array: np.ndarray, count: int, where: str) -> torch.Tensor:
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise DataError(f"{where}: expected 1-D integer labels, got shape {array.shape} dtype {array.dtype}")
    if len(array) != count:
        raise DataError(f"{where}: has {len(array)} labels for {count} images")
    if count and array.min() < 0:
        raise DataError(f"{where}: labels must be >= 0, found {array.min()}")
    return torch.from_numpy(array.astype(np.int64))


def load_npz(path: Path, val_fraction: float, split_seed: int) -> DataSplits:
    """Load a ``.npz`` archive (keys and layouts in the module docstring)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({one_line(exc)})") from exc

    def split(x_key: str, y_key: str) -> Split:
        images = _npz_images(arrays[x_key], f"{path}[{x_key}]")
        labels = _npz_labels(arrays[y_key], len(images), f"{path}[{y_key}]")
        return Split(ArrayImages(images), labels)

    for x_key, y_key in (("x_train", "y_train"), ("x_val", "y_val"), ("x_test", "y_test"), ("x", "y")):
        if (x_key in arrays) != (y_key in arrays):
            present, missing = (x_key, y_key) if x_key in arrays else (y_key, x_key)
            raise DataError(f"{path}: has key '{present}' but not '{missing}'")
    if "x_train" in arrays:
        train = split("x_train", "y_train")
        val_keys = ("x_val", "y_val") if "x_val" in arrays else ("x_test", "y_test")
        val = split(*val_keys) if val_keys[0] in arrays else None
    elif "x" in arrays:
        train, val = split("x", "y"), None
    else:
        found = ", ".join(sorted(arrays)) or "none"
        raise DataError(
            f"{path}: expected keys x_train/y_train (with x_val/y_val or x_test/y_test) or x/y; found {found}"
        )
    if len(train) < 2:
        raise DataError(f"{path}: needs at least 2 training images, found {len(train)}")
    if val is None:
        train_idx, val_idx = stratified_split(train.labels.numpy(), val_fraction, split_seed)
        train, val = train.subset(train_idx), train.subset(val_idx)
    num_classes = int(max(train.labels.max(), val.labels.max() if len(val) else 0)) + 1
    if "class_names" in arrays:
        names = [str(name) for name in arrays["class_names"].reshape(-1)]
        if len(names) < num_classes:
            raise DataError(f"{path}[class_names]: names {len(names)} classes but labels reach {num_classes - 1}")
    else:
        names = [str(i) for i in range(num_classes)]
    return array_splits(str(path.resolve()), train, val, names, flip=True)


BuiltinLoader = Callable[[dict[str, str], float, int], DataSplits]


def _builtins() -> dict[str, BuiltinLoader]:
    from networks.training import digits, synthetic

    return {"synthetic": synthetic.load, "digits": digits.load}


def parse_options(text: str, where: str) -> dict[str, str]:
    """Parse ``k=v,k=v`` into a dict; ``where`` names the source in errors."""
    options: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise DataError(f"{where}: option '{item}' is not of the form key=value")
        options[key.strip()] = value.strip()
    return options


def load_data(source: str, *, val_fraction: float = 0.1, split_seed: int = 0) -> DataSplits:
    """Load a data source (see the module docstring for the accepted forms).

    A built-in name (``synthetic``, ``digits``) is taken as such only when no
    file or folder of that name exists.

    Args:
        source: Folder path, ``.npz`` path, or built-in spec such as
            ``"synthetic:classes=10,size=64,train=2000,val=500"``.
        val_fraction: Share of each class held out when the source has no
            validation split of its own, in (0, 1).
        split_seed: Seed of that hold-out (kept fixed so runs with different
            training seeds validate on the same images).

    Raises:
        DataError: The source is missing, empty, malformed or unknown.
    """
    name, _, spec = source.partition(":")
    builtins = _builtins()
    path = Path(source).expanduser()
    if not path.exists() and name in builtins:
        return builtins[name](parse_options(spec, source), val_fraction, split_seed)
    if path.is_dir():
        return load_image_folder(path, val_fraction, split_seed)
    if path.is_file() and path.suffix.lower() == ".npz":
        return load_npz(path, val_fraction, split_seed)
    if path.is_file():
        raise DataError(f"{path}: unsupported data file; expected a .npz archive or a folder of class folders")
    if path.exists():  # a FIFO, a device or a socket: never opened (a FIFO would block)
        raise DataError(f"{path}: not a regular file or a folder; expected a .npz archive or a folder of class folders")
    kinds = ", ".join(f"'{n}'" for n in builtins)
    raise DataError(f"{source}: no such file or folder (expected a folder, a .npz file, or built-in {kinds})")
