"""Training checkpoints: one ``torch.save`` of a plain dict.

Keys of a checkpoint (format 1):

``format``
    ``1``.
``model_state``, ``optimizer_state``
    ``state_dict()`` of the network and of the SGD optimiser.
``epoch``, ``step_in_epoch``, ``step``
    Completed epochs, steps done in the current (unfinished) epoch, and total
    steps; a checkpoint written at an epoch boundary has ``step_in_epoch == 0``.
``partial``
    Running sums of the unfinished epoch (``loss_sum``, ``correct``,
    ``images``, ``seconds``), so a resumed epoch reports whole-epoch means.
``rng_state``
    ``torch.get_rng_state()`` of rank 0 (drives dropout), restored on resume.
``rank_rng``, ``processes`` (optional)
    Every rank's generator states (``{"cpu": ..., "cuda": ...}``, indexed by
    rank) and the process count of the run; a resume with the same count
    restores each rank's own state.
``scaler_state`` (optional)
    The fp16 gradient scaler's ``state_dict()``.
``options``
    ``network`` (preset name, or ``None`` for a custom module), ``overrides``
    (constructor options, as passed to ``Preset.build``), ``data`` (source
    string), ``config`` (:meth:`TrainConfig.to_dict`), ``image_size``,
    ``num_classes``, ``class_names``, ``mean``/``std`` (RGB normalisation, 0..1
    units) and ``flip``.
``history``
    :meth:`EpochMetrics.to_dict` of every completed epoch.

Everything is plain Python data or tensors, so it loads with
``torch.load(path, weights_only=True)``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from networks.training.errors import CheckpointError, one_line

FORMAT = 1
_REQUIRED = ("model_state", "optimizer_state", "epoch", "step_in_epoch", "step", "partial", "rng_state", "options")
_REQUIRED_OPTIONS = ("network", "overrides", "data", "config", "image_size", "num_classes", "mean", "std", "flip")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_checkpoint(path: str | Path, checkpoint: dict[str, Any]) -> Path:
    """Write ``checkpoint`` to ``path`` atomically (via a temporary file), creating parent folders.

    Raises:
        CheckpointError: The file cannot be written.
    """
    path = Path(path).expanduser()
    # networks/ never imports accelsim, so this is accelsim.atomic's recipe for one torch file: a
    # private temporary beside the target, synced, then renamed over it (the old checkpoint
    # survives a kill, a full disk or a raising torch.save)
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        tmp = Path(tmp_name)
        with os.fdopen(fd, "wb") as handle:
            torch.save({"format": FORMAT, **checkpoint}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot write checkpoint ({one_line(exc)})") from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read and check a checkpoint written by :func:`save_checkpoint`.

    Raises:
        CheckpointError: Missing file, not a checkpoint, or missing keys.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many types for foreign or truncated files
        raise CheckpointError(f"{path}: not a readable checkpoint ({one_line(exc)})") from exc
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an accelsim training checkpoint (expected format {FORMAT})")
    missing = [key for key in _REQUIRED if key not in checkpoint]
    missing += [f"options.{key}" for key in _REQUIRED_OPTIONS if key not in checkpoint["options"]]
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks '{missing[0]}'")
    return checkpoint
