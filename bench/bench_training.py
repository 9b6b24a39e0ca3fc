"""Training throughput of 1.0-SqNxt-23 at 64x64 on this CPU.

Usage: ``python bench/bench_training.py [--steps 30] [--warmup 5] [--batch-size 32] [--image-size 64]``

Prints two measurements, in images per second of wall time, each as the mean
over all timed steps and as the best of its windows of 10 steps (the machine
may be shared: the 1-minute load average is printed too):

* ``training loop``: :func:`networks.training.train` on the built-in
  synthetic set (10 classes of 64x64 images), timed from the end of the last
  warm-up step to the end of the last timed step, so it includes loading,
  augmenting and batching the images;
* ``compute only``: forward, backward and SGD step on a fixed random batch,
  i.e. the ceiling the data pipeline could reach.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from networks.registry import get_preset
from networks.training import StepInfo, TrainCallback, TrainConfig, train

NETWORK = "1.0-SqNxt-23"


class StepClock(TrainCallback):
    """Records ``time.perf_counter()`` (seconds) after every step."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def on_step(self, info: StepInfo) -> None:
        self.times.append(time.perf_counter())


WINDOW = 10


def rates(times: list[float], batch_size: int) -> tuple[float, float]:
    """Mean and best-window images/s from step end times (seconds), the first entry being the start mark."""
    mean = (len(times) - 1) * batch_size / (times[-1] - times[0])
    windows = [WINDOW * batch_size / (times[i + WINDOW] - times[i]) for i in range(0, len(times) - WINDOW, WINDOW)]
    return mean, max(windows, default=mean)


def loop_throughput(steps: int, warmup: int, batch_size: int, image_size: int) -> tuple[float, float]:
    """Images per second (mean, best window) of the full training loop over ``steps`` steps after ``warmup``."""
    total = steps + warmup
    data = f"synthetic:classes=10,size={image_size},train={total * batch_size},val={batch_size}"
    config = TrainConfig(epochs=1, batch_size=batch_size, image_size=image_size, max_steps=total)
    clock = StepClock()
    train(NETWORK, data, config, callbacks=[clock])
    return rates(clock.times[warmup - 1 :], batch_size)


def compute_throughput(steps: int, warmup: int, batch_size: int, image_size: int) -> tuple[float, float]:
    """Images per second (mean, best window) of forward + backward + SGD on one random ``(B, 3, S, S)`` batch."""
    torch.manual_seed(0)
    model = get_preset(NETWORK).build(num_classes=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.randn(batch_size, 3, image_size, image_size)
    labels = torch.randint(0, 10, (batch_size,))
    model.train()
    times: list[float] = []
    for _ in range(steps + warmup):
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter())
    return rates(times[warmup - 1 :], batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (>= 1)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=64)
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 1:
        parser.error("--steps and --warmup must be >= 1")
    shape = (args.steps, args.warmup, args.batch_size, args.image_size)
    print(
        f"{NETWORK} at {args.image_size}x{args.image_size}, batch {args.batch_size}, "
        f"{args.steps} steps after {args.warmup} warm-up, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(f"load average (1 min) before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for label, measure in (("training loop", loop_throughput), ("compute only", compute_throughput)):
        mean, best = measure(*shape)
        print(f"{label + ':':15}{mean:7.1f} images/s mean, {best:7.1f} best {WINDOW}-step window")


if __name__ == "__main__":
    main()
