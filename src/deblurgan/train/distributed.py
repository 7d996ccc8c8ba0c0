"""Training processes under ``torchrun``: the process group, one clock, gathered states.

With one process (no ``torchrun``) every function here is a no-op that answers for that
process alone, so the training loop reads the same either way.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.distributed as dist

from deblurgan.hardware import torchrun_place


def start_processes(device: str) -> tuple[int, int]:
    """Join the process group under ``torchrun`` (NCCL for CUDA, else gloo); ``(rank, world
    size)``, ``(0, 1)`` without ``torchrun``.

    Args:
        device: The configured device (``run.device``): ``"auto"``, ``"cpu"``, ``"cuda[:N]"``.
    """
    _, world = torchrun_place()
    if world == 1:
        return 0, 1
    if not dist.is_initialized():
        uses_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
        dist.init_process_group("nccl" if uses_cuda else "gloo")
    return dist.get_rank(), dist.get_world_size()


def out_of_time(deadline: float | None, device: torch.device, world: int) -> bool:
    """Whether the time budget (a ``time.monotonic()`` deadline) is spent; with several
    processes, whether it is spent for any of them, so that all stop after the same
    iteration."""
    if deadline is None:
        return False
    late = time.monotonic() >= deadline
    if world == 1:
        return late
    flag = torch.tensor(float(late), device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag)


def gather(state: torch.Tensor, world: int) -> list[torch.Tensor]:
    """Every process's ``state`` (e.g. its random-generator state), in rank order, on the
    CPU."""
    if world == 1:
        return [state]
    states: list[Any] = [None] * world
    dist.all_gather_object(states, state.cpu())
    return states
