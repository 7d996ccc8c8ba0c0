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


def stop_now(deadline: float | None, interrupted: bool, device: torch.device, world: int) -> bool:
    """Whether the session ends after this iteration: the time budget (a ``time.monotonic()``
    deadline) is spent or a stop signal came (``interrupted``); with several processes,
    for any of them, so that all stop after the same iteration."""
    late = deadline is not None and time.monotonic() >= deadline
    return any_process(late or interrupted, device, world)


def any_process(flag: bool, device: torch.device, world: int) -> bool:
    """Whether ``flag`` holds in any process (one all-reduce under ``torchrun``)."""
    if world == 1:
        return flag
    value = torch.tensor(float(flag), device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value)


def gather(state: torch.Tensor, world: int) -> list[torch.Tensor]:
    """Every process's ``state`` (e.g. its random-generator state), in rank order, on the
    CPU."""
    if world == 1:
        return [state]
    states: list[Any] = [None] * world
    dist.all_gather_object(states, state.cpu())
    return states
