"""SIGTERM (what ``kill``, ``timeout`` and process managers send) ends ``deblurgan deblur``
like Ctrl-C: no temp file left, an "interrupted" message, exit status 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from PIL import Image

from deblurgan.cli import terminate_as_interrupt

# Runs `deblurgan deblur` with an instant method and a slow image encoder that signals
# (with a marker file) once its temp file is on disk, so the test can interrupt mid-write.
SCRIPT = textwrap.dedent(
    """
    import signal, sys, time
    from pathlib import Path

    # as from a terminal: a shell starts background jobs with SIGINT ignored, and Python
    # then keeps it ignored (a test suite run with `&` would see exit status 0)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from deblurgan.io import images
    from deblurgan.restoration import Restoration

    marker = Path(sys.argv[3])
    real_save = images._pillow_save

    def slow_save(path, *args, **kwargs):
        real_save(path, *args, **kwargs)
        Path(f"{marker}.new").write_text(str(path))
        Path(f"{marker}.new").replace(marker)  # whole, when it appears
        time.sleep(3)

    class Instant:
        name = "instant"
        def restore(self, rgb):
            return Restoration(1.0 - rgb)
        def __call__(self, rgb):
            return 1.0 - rgb
        def settings(self):
            return {"method": "instant"}

    images._pillow_save = slow_save
    import deblurgan.cli.deblur as deblur
    deblur.method_from_args = lambda *args, **kwargs: Instant()
    from deblurgan.cli import main
    sys.exit(main(["deblur", sys.argv[1], "-o", sys.argv[2], "-q"]))
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_write_leaves_no_temp_file_and_says_interrupted(tmp_path, signum):
    source, out, marker = tmp_path / "in", tmp_path / "out", tmp_path / "writing"
    source.mkdir()
    for name in ("a", "b"):
        Image.fromarray(np.full((16, 20, 3), 40, np.uint8)).save(source / f"{name}.png")
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(source), str(out), str(marker)],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), process.communicate()[1]
    assert os.path.exists(marker.read_text())  # a temp file is on disk now
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    left = [p.name for p in out.iterdir()] if out.exists() else []
    assert not [name for name in left if name.startswith(".")], left  # no temp file


def test_the_sigterm_handler_is_restored_after_the_command():
    # The handler is called directly: a real SIGTERM to the test process, with the threads
    # of earlier tests' native libraries running, once crashed it (the subprocess test
    # above delivers real signals).
    before = signal.getsignal(signal.SIGTERM)
    with terminate_as_interrupt():
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler) and handler is not before
        with pytest.raises(KeyboardInterrupt):
            handler(signal.SIGTERM, None)
    assert signal.getsignal(signal.SIGTERM) is before
