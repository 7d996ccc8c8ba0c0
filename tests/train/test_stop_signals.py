import signal
import subprocess
import sys

import pytest

from deblurgan.train import stop_signals
from deblurgan.train.stop_signals import StopRequest


def test_a_repeat_counts_as_the_same_request_only_within_the_window(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(stop_signals.time, "monotonic", lambda: clock[0])
    request = StopRequest()
    assert not request.requested
    request.receive(signal.SIGINT)
    clock[0] += 0.5
    request.receive(signal.SIGTERM)  # the launcher passing on the terminal's Ctrl-C
    assert request.requested and request.signal == signal.SIGINT
    clock[0] += 1.0
    with pytest.raises(KeyboardInterrupt):  # pressed again: the checkpoint takes too long
        request.receive(signal.SIGINT)


def test_signals_set_the_request_and_an_ignored_one_stays_ignored():
    # In a process of its own: a test runner's worker need not run tests on its main
    # thread, where alone handlers are installed, and a real SIGTERM would end it.
    code = (
        "import os, signal; from deblurgan.train.stop_signals import stop_on_signals\n"
        "before = signal.getsignal(signal.SIGTERM)\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a background job\n"
        "with stop_on_signals() as request:\n"
        "    os.kill(os.getpid(), signal.SIGINT); os.kill(os.getpid(), signal.SIGTERM)\n"
        "    print(signal.Signals(request.signal).name,"
        " signal.getsignal(signal.SIGINT) is signal.SIG_IGN)\n"
        "print(signal.getsignal(signal.SIGTERM) is before)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, "SIGTERM True\nTrue\n", "")


def test_a_data_worker_ignores_stop_signals():
    code = (
        "import os, signal; from deblurgan.train.stop_signals import ignore_stop_signals\n"
        "ignore_stop_signals(); os.kill(os.getpid(), signal.SIGINT)\n"
        "os.kill(os.getpid(), signal.SIGTERM); print('alive')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "alive\n"
