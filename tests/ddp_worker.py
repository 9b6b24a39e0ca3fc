"""One torchrun worker of tests/test_training_distributed.py (not a test module itself).

``torchrun --nproc_per_node 2 tests/ddp_worker.py OUT`` runs, in one process
group, the scenarios below and writes ``OUT/reports/rank{R}.json`` per rank (the
test's own instrumentation); checkpoints go to ``OUT/ckpt/``.  The same
functions give the one-process references when imported by the test.

* ``plain``: :class:`PlainNet` (no batch norm, no dropout) for two epochs,
  where a two-process run must equal a one-process run of the same global batch;
* ``dropout_whole`` / ``dropout_first`` + ``dropout_rest``: :class:`DropoutNet`
  run uninterrupted, and stopped after 3 steps then resumed, which must agree
  exactly (every rank's dropout stream restored);
* ``zoo``: 1.0-SqNxt-23 at width 0.25 (batch norm per process) for one epoch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

import networks.training.loop as loop
from networks.training import StepInfo, TrainCallback, TrainConfig, train

DATA = "synthetic:classes=4,size=32,train=128,val=64"
TINY = {"width": 0.25, "depth": (1, 1, 1, 1)}


class PlainNet(nn.Module):
    """Convolutions and a linear head without batch norm or dropout: per-sample independent."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip
        self.head = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class DropoutNet(PlainNet):
    """:class:`PlainNet` with dropout before the head, to exercise per-rank random streams."""

    def __init__(self) -> None:
        super().__init__()
        self.drop = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.body(x)))


def config(**changes: Any) -> TrainConfig:
    """Global batch 32 (16 per rank of two), 4 steps per epoch on 128 images, 16 px crops."""
    return TrainConfig(**{"epochs": 2, "batch_size": 32, "lr": 0.1, "image_size": 16, "seed": 3, **changes})


class Losses(TrainCallback):
    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_step(self, info: StepInfo) -> None:
        self.losses.append(info.loss)


def run(module: nn.Module | str, cfg: TrainConfig, **kwargs: Any) -> tuple[list[float], Any]:
    """Step losses and the result of one training run."""
    record = Losses()
    overrides = TINY if isinstance(module, str) else None
    result = train(module, DATA, cfg, overrides=overrides, callbacks=[record], **kwargs)
    return record.losses, result


def weights_sum(model: nn.Module) -> float:
    return float(sum(p.double().sum() for p in model.state_dict().values() if p.is_floating_point()))


def main(out: Path) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo")  # one group for every scenario (train() joins it, leaves it running)
    rank = dist.get_rank()
    saves: list[str] = []
    real_save = loop.save_checkpoint

    def counting_save(path: Any, checkpoint: dict[str, Any]) -> Path:
        saves.append(str(path))
        return real_save(path, checkpoint)

    loop.save_checkpoint = counting_save  # type: ignore[assignment]
    ckpt = out / "ckpt"
    report: dict[str, Any] = {"rank": rank, "world": dist.get_world_size()}
    losses, result = run(PlainNet(), config())
    report["plain"] = {"losses": losses, "weights": weights_sum(result.model), "val": result.final.val.to_dict()}
    report["dropout_whole"], _ = run(DropoutNet(), config())
    report["dropout_first"], first = run(DropoutNet(), config(max_steps=3), out=ckpt / "dropout.pt")
    report["dropout_rest"], _ = run(DropoutNet(), None, resume=ckpt / "dropout.pt", out=ckpt / "dropout.pt")
    report["first_checkpoint"] = None if first.checkpoint is None else str(first.checkpoint)
    report["zoo"], _ = run("sqnxt23", config(epochs=1, image_size=32), out=ckpt / "zoo.pt")
    report["saves"] = saves
    (out / "reports").mkdir(parents=True, exist_ok=True)
    (out / "reports" / f"rank{rank}.json").write_text(json.dumps(report))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
