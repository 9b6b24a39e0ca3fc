"""Training throughput with 1, 2, ... processes (DDP under torchrun), on the CPU or on GPUs.

Usage::

    python bench/bench_train_scale.py                       # CPU: 1 and 2 processes, 64 px, global batch 32
    python bench/bench_train_scale.py --device cuda --nproc 1,all --image-size 227 --batch-size 128 --scale-batch --amp

Each configuration is one ``torchrun --nproc_per_node N -m accelsim.train`` run
of 1.0-SqNxt-23 on the built-in synthetic set (10 classes, drawn at the crop
size, so decoding costs nothing) for two epochs of ``--steps`` steps; epoch 1
is the warm-up and epoch 2 is reported, from the run's own ``--throughput``
line: images/s of all processes together, per rank, and seconds per step
(validation excluded).  ``--batch-size`` is the global batch, split over the
processes (strong scaling), or with ``--scale-batch`` each process's batch.
On the CPU each process gets ``cores / N`` threads, so the processes share the
machine rather than oversubscribe it.  ``all`` means every
visible GPU (or every core on the CPU).  Ports are on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"throughput epoch 2: ([\d.]+) img/s total over (\d+) process(?:es)? \((.*)\), ([\d.]+) s/step")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _counts(text: str, device: str) -> list[int]:
    if device.startswith("cuda"):
        import torch

        every = torch.cuda.device_count()
        if every == 0:
            sys.exit("error: --device cuda: no CUDA device is visible")
    else:
        every = os.cpu_count() or 1
    return [every if part == "all" else int(part) for part in text.split(",")]


def measure(nproc: int, args: argparse.Namespace) -> tuple[float, str, float, float]:
    """(images/s total, per-rank text, s/step, wall seconds of the whole launch)."""
    size, steps = args.image_size, args.steps
    batch = args.batch_size * (nproc if args.scale_batch else 1)
    data = f"synthetic:classes=10,size={size},train={steps * batch},val={batch}"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
        "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
        "-m", "accelsim.train", args.network, "--data", data, "--epochs", "2", "--batch-size", str(batch),
        "--image-size", str(size), "--device", args.device, "--workers", str(args.workers), "--throughput",
        "--amp" if args.amp else "--no-amp",
    ]  # fmt: skip
    env = dict(os.environ)
    if not args.device.startswith("cuda"):
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // nproc))
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=args.timeout)
    wall = time.perf_counter() - started
    match = LINE.search(done.stdout)
    if done.returncode != 0 or match is None:
        sys.exit(f"error: {nproc} process(es) failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return float(match[1]), match[3], float(match[4]), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="1.0-SqNxt-23")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    parser.add_argument("--nproc", default="1,2", help="comma-separated process counts; 'all' = every GPU/core")
    parser.add_argument("--steps", type=int, default=10, help="steps per epoch (epoch 2 is timed)")
    parser.add_argument("--batch-size", type=int, default=32, help="global batch (per process with --scale-batch)")
    parser.add_argument("--scale-batch", action="store_true", help="weak scaling: global batch = batch x processes")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=0, help="loader processes per rank")
    parser.add_argument("--amp", action="store_true", help="mixed precision (bf16 on the CPU)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per launch")
    args = parser.parse_args()
    counts = _counts(args.nproc, args.device)
    print(
        f"{args.network} at {args.image_size}x{args.image_size}, "
        f"{'batch per process' if args.scale_batch else 'global batch'} {args.batch_size}, "
        f"{args.steps} timed steps after a {args.steps}-step warm-up epoch, device {args.device}"
        f"{', amp' if args.amp else ''}, {os.cpu_count()} CPUs"
    )
    print(f"load average (1 min) before: {os.getloadavg()[0]:.2f}")
    base = None
    for nproc in counts:
        rate, ranks, step, wall = measure(nproc, args)
        base = base or rate
        print(
            f"{nproc} process{'es' if nproc > 1 else '  '}: {rate:7.1f} images/s total ({ranks}), "
            f"{step:.3f} s/step, x{rate / base:.2f} vs first; launch {wall:.1f} s"
        )


if __name__ == "__main__":
    main()
