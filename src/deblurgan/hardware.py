"""What this machine has: CPU instruction sets, visible GPUs, and the process's place under
``torchrun``, answered without importing PyTorch where the answer allows.

``deblurgan deblur`` asks these questions before it knows whether it needs PyTorch at all
(importing it takes seconds; a core install has none), so only :func:`cpu_has_native_bf16`,
whose answer is oneDNN's, imports it, where it is installed.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import os
import platform
import shutil
import sys


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where that does not exist)."""
    try:
        with open("/proc/cpuinfo") as info:
            return frozenset(next((ln.split() for ln in info if ln.startswith("flags")), []))
    except OSError:
        return frozenset()


@functools.cache
def cpu_has_int8_dot_product() -> bool:
    """Whether this CPU has int8 dot-product instructions (AVX512-VNNI, AVX-VNNI or AMX), which
    make OpenVINO's int8 convolutions fast. False where ``/proc/cpuinfo`` does not exist
    (int8 speed is not verified there)."""
    return bool({"avx512_vnni", "avx_vnni", "amx_int8"} & cpu_flags())


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether oneDNN runs bf16 convolutions natively on this CPU (imports PyTorch; without
    it, whether the CPU has bf16 dot products: AVX512-BF16 or AMX)."""
    try:
        import torch
    except ImportError:
        return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@functools.cache
def machine_id() -> str:
    """A short hash of the CPU model and its flags: what a speed or accuracy verdict measured
    on this machine holds for."""
    try:
        with open("/proc/cpuinfo") as info:
            model = next((ln for ln in info if ln.startswith("model name")), "")
    except OSError:
        model = ""
    model = model or platform.processor()  # elsewhere (it may start a process: only then)
    text = f"{platform.machine()}|{model.strip()}|{' '.join(sorted(cpu_flags()))}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (``MemAvailable`` of
    ``/proc/meminfo``; else free physical pages), or None where neither can be read."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def gpu_may_be_visible() -> bool:
    """Whether PyTorch might find a GPU here: an NVIDIA or AMD device node, ``nvidia-smi`` on
    the PATH, or a Mac (Metal), unless ``CUDA_VISIBLE_DEVICES`` hides every GPU (empty or
    ``-1``). False means ``device="auto"`` is the CPU, without asking PyTorch; True means
    only PyTorch can tell."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1"):
        return sys.platform == "darwin"
    return bool(
        sys.platform == "darwin"
        or glob.glob("/dev/nvidia*")
        or os.path.exists("/dev/kfd")
        or shutil.which("nvidia-smi")
    )


def torchrun_place() -> tuple[int, int]:
    """``(rank, world size)`` of this process under ``torchrun`` (``(0, 1)`` otherwise)."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def process_device(device: str) -> str:
    """The device this process should use: under ``torchrun`` with several processes and
    GPUs, ``"auto"`` and any ``"cuda"`` device become this process's own GPU
    (``cuda:LOCAL_RANK``: one process per GPU, so one index cannot be right for every
    process); anything else is returned as it is.

    Examples:
        >>> process_device("cpu")
        'cpu'
    """
    rank, world = torchrun_place()
    if world == 1 or not (device == "auto" or device.startswith("cuda")):
        return device
    if not gpu_may_be_visible():
        return device
    import torch

    if not torch.cuda.is_available():
        return device
    return f"cuda:{os.environ.get('LOCAL_RANK', rank % torch.cuda.device_count())}"
