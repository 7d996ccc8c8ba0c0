"""Machine facts asked without PyTorch."""

import sys

from deblurgan import hardware


def test_cpu_answers_agree_with_the_flags():
    flags = hardware.cpu_flags()
    assert hardware.cpu_has_int8_dot_product() == bool(
        {"avx512_vnni", "avx_vnni", "amx_int8"} & flags
    )
    if "avx512_bf16" in flags or "amx_bf16" in flags:
        assert hardware.cpu_has_native_bf16()


def test_machine_id_is_stable_and_short():
    assert hardware.machine_id() == hardware.machine_id.__wrapped__()
    assert len(hardware.machine_id()) == 16


def test_gpu_visibility_comes_from_device_nodes_and_nvidia_smi(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(hardware.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(hardware.os.path, "exists", lambda path: False)
    monkeypatch.setattr(hardware.shutil, "which", lambda name: None)
    assert not hardware.gpu_may_be_visible()
    monkeypatch.setattr(hardware.glob, "glob", lambda pattern: ["/dev/nvidia0"])
    assert hardware.gpu_may_be_visible()
    monkeypatch.setattr(hardware.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(hardware.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    assert hardware.gpu_may_be_visible()


def test_process_device_outside_torchrun_is_the_one_asked_for(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert hardware.torchrun_place() == (0, 1)
    assert hardware.process_device("auto") == "auto"
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setattr(hardware, "gpu_may_be_visible", lambda: False)
    assert hardware.torchrun_place() == (3, 4)
    assert hardware.process_device("cuda") == "cuda"  # no GPU: left for PyTorch to refuse
    assert hardware.process_device("cpu") == "cpu"


def test_hidden_gpus_are_not_visible(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(hardware.glob, "glob", lambda pattern: ["/dev/nvidia0"])
    for hidden in ("", "-1"):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", hidden)
        assert not hardware.gpu_may_be_visible()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert hardware.gpu_may_be_visible()
