#!/usr/bin/env bash
# Training throughput on a GPU machine: one GPU, then every GPU (DDP, NCCL) via torchrun.
# Prints images/s (total and per rank) and seconds per step for each, from bench/bench_train_scale.py.
#
#   bash bench/gpu_train.sh                 # 1.0-SqNxt-23 at 227 px, batch 128 per GPU, with and without AMP
#   NETWORK=alexnet SIZE=227 BATCH=256 STEPS=50 bash bench/gpu_train.sh
#
# Needs a CUDA build of torch (this repository pins the CPU wheel: install the CUDA wheel of the same
# version first, e.g. pip install torch==2.13.0 --index-url <your CUDA wheel index>).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
NETWORK="${NETWORK:-1.0-SqNxt-23}"
SIZE="${SIZE:-227}"
BATCH="${BATCH:-128}"   # per GPU: the global batch grows with the GPU count
STEPS="${STEPS:-30}"
WORKERS="${WORKERS:-6}"
"$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else "error: no CUDA device (torch " + torch.__version__ + ")")'
"$PY" -c 'import torch; [print(f"cuda:{i} {torch.cuda.get_device_name(i)}") for i in range(torch.cuda.device_count())]'
for amp in --amp ""; do
  "$PY" bench/bench_train_scale.py --device cuda --nproc 1,all --network "$NETWORK" --image-size "$SIZE" \
      --batch-size "$BATCH" --scale-batch --steps "$STEPS" --workers "$WORKERS" $amp
done
