"""Where a run executes: device, mixed precision, memory layout and torch.distributed.

A :class:`Placement` is resolved once per run from a :class:`TrainConfig` and
the environment.  Under ``torchrun`` (which sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``) the default process group
is initialised with gloo on the CPU or NCCL on GPUs, each process taking
``cuda:LOCAL_RANK``; it is torn down again when the run ends, unless the
caller had initialised it.  Without those variables a run is one process and
nothing here touches torch.distributed.

Collectives used by the loop (:func:`sum_across`, :func:`gather_objects`,
:func:`broadcast_buffers`) are no-ops for a single process, so the one-process
path computes exactly what it did before distributed training existed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from networks.training.config import TrainConfig
from networks.training.errors import ConfigError


@dataclass(frozen=True)
class Placement:
    """A run's device and process layout.

    Attributes:
        device: Where the model and batches live.
        rank: This process's rank (0 without torchrun).
        world_size: Number of training processes.
        local_rank: Rank on this node (selects the GPU).
        amp_dtype: Autocast dtype, or ``None`` when mixed precision is off.
        channels_last: Whether weights and batches use the NHWC layout.
    """

    device: torch.device
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    amp_dtype: torch.dtype | None = None
    channels_last: bool = False

    @property
    def distributed(self) -> bool:
        """More than one process."""
        return self.world_size > 1

    @property
    def main(self) -> bool:
        """Rank 0: the process that writes checkpoints and logs."""
        return self.rank == 0

    @property
    def backend(self) -> str:
        """torch.distributed backend: NCCL for CUDA devices, gloo otherwise."""
        return "nccl" if self.device.type == "cuda" else "gloo"

    @property
    def pin_memory(self) -> bool:
        """Page-locked host batches, for asynchronous copies to a GPU."""
        return self.device.type == "cuda"

    @property
    def memory_format(self) -> torch.memory_format:
        """``torch.channels_last`` or ``torch.contiguous_format``."""
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """``torch.autocast`` on this device with :attr:`amp_dtype`, or a no-op context."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def grad_scaler(self) -> torch.amp.GradScaler | None:
        """A gradient scaler for fp16 (whose range underflows small gradients); ``None`` otherwise."""
        if self.amp_dtype != torch.float16:
            return None
        return torch.amp.GradScaler(self.device.type)


def torchrun_env() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from torchrun's variables; ``(0, 1, 0)`` outside torchrun.

    Raises:
        ConfigError: A variable is set but not a valid integer.
    """
    values = []
    for name, default in (("RANK", 0), ("WORLD_SIZE", 1), ("LOCAL_RANK", 0)):
        text = os.environ.get(name)
        try:
            values.append(default if text is None else int(text))
        except ValueError:
            raise ConfigError(f"{name}: expected an integer (set by torchrun), got {text!r}") from None
    rank, world, local = values
    if world < 1 or not 0 <= rank < world or local < 0:
        raise ConfigError(f"RANK={rank}, WORLD_SIZE={world}, LOCAL_RANK={local}: not a valid torchrun layout")
    return rank, world, local


def resolve_device(request: str, *, local_rank: int = 0, distributed: bool = False) -> torch.device:
    """The device a ``device`` option names (see :class:`TrainConfig`).

    Raises:
        ConfigError: CUDA asked for but unavailable, a GPU index out of range, or
            ``cuda:N`` under torchrun (where the GPU is ``LOCAL_RANK``'s).
    """
    cuda = torch.cuda.is_available()
    if request == "cpu" or (request == "auto" and not cuda):
        return torch.device("cpu")
    if not cuda:
        raise ConfigError(
            f"device: {request} asked for, but CUDA is not available (torch {torch.__version__}); use --device cpu"
        )
    count = torch.cuda.device_count()
    if request.startswith("cuda:"):
        if distributed:
            raise ConfigError(f"device: {request} under torchrun; use cuda (each process takes cuda:LOCAL_RANK)")
        index = int(request.split(":")[1])
    else:
        index = local_rank if distributed else torch.cuda.current_device()
    if index >= count:
        raise ConfigError(f"device: cuda:{index} asked for, but this machine has {count} CUDA device(s)")
    return torch.device("cuda", index)


def _amp_dtype(config: TrainConfig, device: torch.device) -> torch.dtype | None:
    if not config.amp:
        return None
    if device.type == "cpu":
        if config.amp_dtype == "fp16":
            raise ConfigError("amp_dtype: fp16 autocast needs a CUDA device; the CPU uses bf16")
        return torch.bfloat16
    if config.amp_dtype == "bf16" or (config.amp_dtype == "auto" and torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    return torch.float16


def resolve(config: TrainConfig) -> Placement:
    """The placement a run with ``config`` gets in this process (no process group is started).

    Raises:
        ConfigError: Bad device, AMP dtype, ``sync_bn`` without CUDA, or a global
            batch not divisible by the number of processes.
    """
    rank, world, local = torchrun_env()
    device = resolve_device(config.device, local_rank=local, distributed=world > 1)
    if config.sync_bn and world > 1 and device.type != "cuda":
        raise ConfigError("sync_bn: needs CUDA devices (torch's SyncBatchNorm runs on GPUs only)")
    if config.batch_size % world:
        raise ConfigError(
            f"batch_size: the global batch {config.batch_size} does not split evenly over {world} processes"
        )
    channels_last = device.type == "cuda" if config.channels_last is None else config.channels_last
    return Placement(device, rank, world, local, _amp_dtype(config, device), channels_last)


@contextlib.contextmanager
def process_group(place: Placement) -> Iterator[None]:
    """Join torchrun's default process group for the run (a no-op for one process).

    A group the caller already initialised is used as it is and left running.
    """
    if not place.distributed or dist.is_initialized():
        yield
        return
    if place.device.type == "cuda":
        torch.cuda.set_device(place.device)
    dist.init_process_group(place.backend, timeout=timedelta(minutes=30))
    try:
        yield
    finally:
        dist.destroy_process_group()


def sum_across(values: Sequence[float], place: Placement) -> list[float]:
    """Element-wise sum of ``values`` over every process (float64); unchanged for one process."""
    if not place.distributed:
        return list(values)
    device = place.device if place.backend == "nccl" else torch.device("cpu")
    tensor = torch.tensor(list(values), dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def max_across(value: float, place: Placement) -> float:
    """The largest ``value`` over every process."""
    if not place.distributed:
        return value
    device = place.device if place.backend == "nccl" else torch.device("cpu")
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return float(tensor.item())


def gather_objects(obj: Any, place: Placement) -> list[Any]:
    """Every process's ``obj`` (picklable), indexed by rank."""
    if not place.distributed:
        return [obj]
    found: list[Any] = [None] * place.world_size
    dist.all_gather_object(found, obj)
    return found


def barrier(place: Placement) -> None:
    """Wait until every process gets here (e.g. until rank 0 has written a checkpoint)."""
    if place.distributed:
        dist.barrier()


def broadcast_buffers(model: nn.Module, place: Placement) -> None:
    """Copy rank 0's buffers (batch-norm running statistics) to every process."""
    if place.distributed:
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0)


def rng_state(place: Placement) -> dict[str, torch.Tensor]:
    """This process's torch generator states: ``cpu``, plus ``cuda`` on a GPU (dropout draws there)."""
    state = {"cpu": torch.get_rng_state()}
    if place.device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(place.device)
    return state


def set_rng_state(state: dict[str, torch.Tensor], place: Placement) -> None:
    """Restore what :func:`rng_state` returned (a CUDA state only onto a CUDA device)."""
    torch.set_rng_state(state["cpu"])
    if place.device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], place.device)
