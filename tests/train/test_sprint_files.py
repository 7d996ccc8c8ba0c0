import subprocess

import pytest
import torch

from deblurgan.train.sprint_files import (
    MIB,
    LimitError,
    check_expected,
    check_outputs,
    check_travel,
    expected_outputs,
    read_state,
    travel_bytes,
    write_state,
)


def test_state_is_cut_into_parts_under_the_limit_and_read_back(tmp_path):
    state = {"w": torch.arange(300_000, dtype=torch.float32), "step": 7}
    paths = write_state(tmp_path, state, 7, max_file_mib=1.5)  # parts under 0.5 MiB
    assert len(paths) == 3 and all(p.stat().st_size <= MIB // 2 for p in paths)
    back = read_state(tmp_path)
    assert back["step"] == 7 and torch.equal(back["w"], state["w"])
    # A newer set replaces the older one; an incomplete newer set is ignored.
    write_state(tmp_path, {**state, "step": 9}, 9, max_file_mib=1.5)
    assert sorted(p.name[:22] for p in tmp_path.iterdir()) == ["sprint_state-00000009-"] * 3
    (tmp_path / "sprint_state-00000011-00-of-02.bin").write_bytes(b"partial")
    assert read_state(tmp_path)["step"] == 9
    with pytest.raises(FileNotFoundError, match="no complete sprint state"):
        read_state(tmp_path / "elsewhere")


def test_outputs_over_the_limits_are_named(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"x" * (2 * MIB))
    (tmp_path / "b.bin").write_bytes(b"x")
    check_outputs(tmp_path, 2, 3.0, 4.0)
    with pytest.raises(LimitError, match=r"a.bin is 2.0 MiB"):
        check_outputs(tmp_path, 2, 2.0, 4.0)
    with pytest.raises(LimitError, match=r"3 files \(at most 2\)"):
        (tmp_path / "c.bin").write_bytes(b"x")
        check_outputs(tmp_path, 2, 3.0, 4.0)


def test_expected_outputs_of_small_and_large_generators():
    small = expected_outputs(2_650_000, 0, 16.0)
    assert small["generator.safetensors"] == 4 * 2_650_000 and len(small) == 6
    check_expected(small, 8, 16.0, 64.0)
    paper = expected_outputs(11_378_179, 2_765_633, 16.0)  # the paper's two networks
    assert paper["generator.safetensors"] == 2 * 11_378_179  # float16, still over 16 MiB
    with pytest.raises(LimitError, match="generator.safetensors about 21.7 MiB"):
        check_expected(paper, 8, 16.0, 64.0)


def test_travel_counts_what_git_sends_and_the_carried_folder(tmp_path):
    run = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    (tmp_path / ".gitignore").write_text("/pack/\n/junk/\n")
    (tmp_path / "tracked.txt").write_bytes(b"x" * 1000)
    (tmp_path / "new.txt").write_bytes(b"x" * 500)  # untracked, not ignored: travels
    for folder in ("pack", "junk"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "f.bin").write_bytes(b"x" * 3000)
    run("add", "tracked.txt", ".gitignore")
    sizes = travel_bytes(tmp_path, ["pack"])
    assert sizes["tree"] == 1000 + 500 + len("/pack/\n/junk/\n")
    assert sizes["pack"] == 3000 and sizes["total"] == sizes["tree"] + 3000
    with pytest.raises(LimitError, match="more than 0.001 MiB"):
        check_travel(tmp_path, ["pack"], limit_mib=0.001)
