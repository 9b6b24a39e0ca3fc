"""Train and evaluate the zoo's networks on small image data sets, on the CPU.

Notebook use::

    from networks.training import TrainConfig, train, evaluate_checkpoint, train_variant

    result = train("sqnxt23", "synthetic:classes=10,size=32", TrainConfig(epochs=2, image_size=32),
                   overrides={"width": 0.5}, out="runs/sqnxt.pt")
    result.final.val.top1                       # 0..1
    evaluate_checkpoint("runs/sqnxt.pt")        # EvalMetrics(loss, top1, top5, k, images)
    train_variant("sqnxt23v5", {"depth": (2, 4, 14, 1)}, "digits", epochs=2, image_size=32, seed=0)

Data sources are described in :mod:`networks.training.data`, checkpoints in
:mod:`networks.training.checkpoint`.  Progress is reported through
:class:`TrainCallback`; nothing here prints.  Every user error is a
:class:`TrainingError` (a ``ValueError``) with a one-line message.
"""

from networks.training.api import evaluate, evaluate_checkpoint, train, train_variant
from networks.training.checkpoint import load_checkpoint, save_checkpoint
from networks.training.config import (
    EpochMetrics,
    EvalMetrics,
    RunPlan,
    StepInfo,
    TrainCallback,
    TrainConfig,
    TrainResult,
)
from networks.training.data import DataSplits, load_data
from networks.training.errors import CheckpointError, ConfigError, DataError, TrainingError
from networks.training.model import build_model

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DataSplits",
    "EpochMetrics",
    "EvalMetrics",
    "RunPlan",
    "StepInfo",
    "TrainCallback",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "build_model",
    "evaluate",
    "evaluate_checkpoint",
    "load_checkpoint",
    "load_data",
    "save_checkpoint",
    "train",
    "train_variant",
]
