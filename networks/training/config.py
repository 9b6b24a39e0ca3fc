"""Options, progress reports and results of a training run."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from networks.training.errors import CheckpointError, ConfigError

if TYPE_CHECKING:
    from torch import nn

Schedule = Literal["cosine", "poly"]
SCHEDULES: tuple[str, ...] = ("cosine", "poly")
AMP_DTYPES: tuple[str, ...] = ("auto", "bf16", "fp16")
AUGMENTS: tuple[str, ...] = ("auto", "rrc", "crop")
_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")


#: Upper bounds on the sizes a user sets, checked before any data is loaded or model built:
#: far beyond a CPU run (the README's examples use 3-10 epochs, 32-px images, batches of 32),
#: low enough that no option can ask for unbounded time or memory on its own.
MAX_COUNTS: dict[str, int] = {"epochs": 10_000, "batch_size": 4096, "image_size": 1024, "num_classes": 100_000,
                              "max_steps": 10**9}
MAX_WORKERS = 64


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of a training run.

    Attributes:
        epochs: Passes over the training split.
        batch_size: Images per SGD step (also used for validation).
        lr: Peak learning rate of the schedule.
        momentum: SGD momentum.
        weight_decay: L2 penalty on conv and linear weights (not on biases or
            batch-norm parameters).
        label_smoothing: Cross-entropy label smoothing in [0, 1).
        schedule: ``"cosine"`` (half cosine from ``lr`` to 0) or ``"poly"``
            (``lr * (1 - t/T) ** poly_power``), evaluated at every step ``t``
            of ``T = epochs * steps_per_epoch``.
        poly_power: Exponent of the ``"poly"`` schedule (1 = linear decay).
        image_size: Side of the square training crop, pixels; ``None`` uses the
            data source's size, else the network preset's input size.
        num_classes: Classifier outputs; ``None`` uses the data's class count.
        seed: Seeds weights, shuffling, augmentation and dropout.
        val_fraction: Share of each class held out when the source has no
            validation split of its own, in (0, 1).
        workers: DataLoader worker processes (0 = load in the main process).
        max_steps: Stop after this many SGD steps in total (smoke runs); the
            schedule still spans all ``epochs``.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA when
            available, else the CPU).  Under torchrun each process takes
            ``cuda:LOCAL_RANK``, so give ``"cuda"`` or ``"auto"`` there.
        amp: Mixed precision: forward passes under ``torch.autocast`` (weights,
            optimiser and loss stay float32).
        amp_dtype: ``"bf16"``, ``"fp16"`` (CUDA only; uses a gradient scaler) or
            ``"auto"`` (bf16 on the CPU and on GPUs that support it, else fp16).
        channels_last: NHWC memory layout for weights and batches; ``None`` =
            on for CUDA (where tensor-core convolutions want it), off on the CPU.
        sync_bn: Under torchrun on GPUs, batch-norm statistics over the global
            batch (``SyncBatchNorm``) instead of each process's share.
        augment: Training crop: ``"rrc"`` (random-resized crop, area 8-100 %,
            aspect 3/4-4/3, resized to ``image_size``: the ImageNet recipe),
            ``"crop"`` (resize the shorter side to ``image_size / 0.875``, random
            ``image_size`` crop), or ``"auto"`` (``rrc`` for image folders,
            ``crop`` for in-memory sets).  Both mirror when the data allows.

    Under torchrun ``batch_size`` is the global batch: each of the ``W``
    processes takes ``batch_size / W`` images per step, so a run has the same
    steps, schedule and (for networks without batch norm) the same numbers
    whatever ``W``.
    """

    epochs: int = 10
    batch_size: int = 32
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    schedule: Schedule = "cosine"
    poly_power: float = 1.0
    image_size: int | None = None
    num_classes: int | None = None
    seed: int = 0
    val_fraction: float = 0.1
    workers: int = 0
    max_steps: int | None = None
    device: str = "cpu"
    amp: bool = False
    amp_dtype: str = "auto"
    channels_last: bool | None = None
    sync_bn: bool = False
    augment: str = "auto"

    def __post_init__(self) -> None:
        counts: dict[str, int | None] = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "image_size": self.image_size,
            "num_classes": self.num_classes,
            "max_steps": self.max_steps,
        }
        for name, count in counts.items():
            optional = name in ("image_size", "num_classes", "max_steps")
            if not (optional and count is None) and (not isinstance(count, int) or count < 1):
                raise ConfigError(f"{name}: expected an integer >= 1, got {count!r}")
            if count is not None and isinstance(count, int) and count > MAX_COUNTS[name]:
                raise ConfigError(f"{name}: at most {MAX_COUNTS[name]:,}, got {count:,}")
        if isinstance(self.workers, int) and self.workers > MAX_WORKERS:
            raise ConfigError(f"workers: at most {MAX_WORKERS}, got {self.workers}")
        if self.num_classes == 1:
            raise ConfigError("num_classes: expected at least 2 classes, got 1")
        if not isinstance(self.workers, int) or self.workers < 0:
            raise ConfigError(f"workers: expected an integer >= 0, got {self.workers!r}")
        if not math.isfinite(self.lr) or self.lr <= 0:
            raise ConfigError(f"lr: expected a positive learning rate, got {self.lr}")
        fractions: dict[str, float] = {"momentum": self.momentum, "label_smoothing": self.label_smoothing}
        for name, fraction in fractions.items():
            if not 0.0 <= fraction < 1.0:
                raise ConfigError(f"{name}: expected a value in [0, 1), got {fraction}")
        if not 0.0 <= self.weight_decay < math.inf:
            raise ConfigError(f"weight_decay: expected a finite value >= 0, got {self.weight_decay}")
        if self.poly_power <= 0:
            raise ConfigError(f"poly_power: expected a positive exponent, got {self.poly_power}")
        if not 0.0 < self.val_fraction < 1.0:
            raise ConfigError(f"val_fraction: expected a value in (0, 1), got {self.val_fraction}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule: expected one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if not isinstance(self.device, str) or not _DEVICE.fullmatch(self.device):
            raise ConfigError(f"device: expected auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.amp_dtype not in AMP_DTYPES:
            raise ConfigError(f"amp_dtype: expected one of {', '.join(AMP_DTYPES)}, got {self.amp_dtype!r}")
        if self.augment not in AUGMENTS:
            raise ConfigError(f"augment: expected one of {', '.join(AUGMENTS)}, got {self.augment!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as stored in checkpoints."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`CheckpointError`."""
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise CheckpointError(f"config: unknown field '{unknown[0]}'")
        return cls(**values)


@dataclass(frozen=True)
class RunPlan:
    """What a run is about to do, reported once before the first step.

    Attributes:
        epochs: Total epochs of the schedule.
        steps_per_epoch: SGD steps per epoch.
        total_steps: Steps this run will have done when it ends (``max_steps`` applied).
        start_step: Steps already done (non-zero when resuming).
        train_images: Size of the training split.
        val_images: Size of the validation split.
        image_size: Training crop side, pixels.
        num_classes: Classifier outputs.
    """

    epochs: int
    steps_per_epoch: int
    total_steps: int
    start_step: int
    train_images: int
    val_images: int
    image_size: int
    num_classes: int


@dataclass(frozen=True)
class StepInfo:
    """Progress after one SGD step.

    Attributes:
        epoch: 1-based epoch number.
        step: Steps done in the whole run, counting from the first epoch.
        step_in_epoch: 1-based step number within the epoch.
        loss: Training loss of this batch (with label smoothing).
        top1: Top-1 accuracy of this batch, 0..1.
        mean_loss: Mean training loss over the epoch so far.
        mean_top1: Mean top-1 accuracy over the epoch so far, 0..1.
        lr: Learning rate used for this step.
    """

    epoch: int
    step: int
    step_in_epoch: int
    loss: float
    top1: float
    mean_loss: float
    mean_top1: float
    lr: float


@dataclass(frozen=True)
class EvalMetrics:
    """Validation metrics.

    Attributes:
        loss: Mean cross-entropy (no label smoothing), nats per image.
        top1: Top-1 accuracy, 0..1.
        top5: Top-k accuracy with ``k = min(5, classes)``, 0..1.
        k: The ``k`` of ``top5``.
        images: Number of images evaluated.
    """

    loss: float
    top1: float
    top5: float
    k: int
    images: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (for JSON)."""
        return asdict(self)


@dataclass(frozen=True)
class EpochMetrics:
    """Summary of one epoch (or of a partial epoch cut short by ``max_steps``).

    Attributes:
        epoch: 1-based epoch number.
        steps: SGD steps done in this epoch.
        complete: ``False`` when ``max_steps`` stopped the epoch early.
        train_loss: Mean training loss over the epoch's steps.
        train_top1: Mean training top-1 accuracy, 0..1.
        val: Validation metrics at the end of the epoch.
        lr: Learning rate of the epoch's last step.
        seconds: Wall time of the epoch's training steps (excluding validation).
        images_per_second: Training throughput, images per wall-clock second
            (all processes together under torchrun).
        processes: Processes that trained (torchrun's world size; 1 otherwise).
        rank_images_per_second: Each process's own throughput, indexed by rank.
    """

    epoch: int
    steps: int
    complete: bool
    train_loss: float
    train_top1: float
    val: EvalMetrics
    lr: float
    seconds: float
    images_per_second: float
    processes: int = 1
    rank_images_per_second: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as stored in checkpoints."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EpochMetrics:
        """Inverse of :meth:`to_dict`."""
        ranks = tuple(values.get("rank_images_per_second", ()))
        return cls(**{**values, "val": EvalMetrics(**values["val"]), "rank_images_per_second": ranks})


@dataclass
class TrainResult:
    """Outcome of :func:`networks.training.train`.

    Attributes:
        model: The trained network (in eval mode).
        history: Metrics of every completed epoch, including those before a resume.
        final: Metrics of the last epoch run (partial if ``max_steps`` stopped it).
        options: The run's options as stored in checkpoints (network, overrides,
            data source, config, image size, class count, normalisation).
        checkpoint: Where the last checkpoint was written, if anywhere.
    """

    model: nn.Module
    history: list[EpochMetrics]
    final: EpochMetrics | None
    options: dict[str, Any]
    checkpoint: Path | None


class TrainCallback(Protocol):
    """Receives progress from the training loop.

    Any object with these three methods will do; subclass this class to
    inherit no-op defaults and override only the methods you need.
    """

    def on_start(self, plan: RunPlan) -> None:
        """Called once before the first step."""
        return None

    def on_step(self, info: StepInfo) -> None:
        """Called after every SGD step."""
        return None

    def on_epoch(self, metrics: EpochMetrics) -> None:
        """Called after each epoch's validation (and after a partial epoch)."""
        return None
