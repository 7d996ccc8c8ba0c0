import threading
import time

import pytest

from deblurgan.io.background import OrderedWriter, prefetch


def test_prefetch_keeps_order_and_reads_ahead_in_another_thread():
    threads = []

    def items():
        for i in range(6):
            threads.append(threading.current_thread())
            yield i

    assert list(prefetch(items(), depth=2)) == list(range(6))
    assert threading.current_thread() not in threads


def test_prefetch_reraises_the_producer_error_after_the_items_before_it():
    def items():
        yield 1
        raise OSError("disk gone")

    seen = []
    with pytest.raises(OSError, match="disk gone"):
        for item in prefetch(items()):
            seen.append(item)
    assert seen == [1]


def test_prefetch_stops_its_producer_when_the_consumer_stops():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    for item in prefetch(items(), depth=2):
        if item == 3:
            break
    time.sleep(0.1)
    assert len(produced) <= 3 + 1 + 2 + 1  # consumed, in hand, queued, blocked on put


def test_ordered_writer_reports_each_outcome_against_its_own_write_in_order():
    outcomes = []

    def write(value):
        time.sleep(0.01 * (3 - value))  # later writes finish faster if run in parallel
        if value == 1:
            raise OSError("No space left on device")
        return value

    with OrderedWriter() as writer:
        for value in range(3):
            writer.submit(write, value, done=lambda err, v=value: outcomes.append((v, err)))
    assert [v for v, _ in outcomes] == [0, 1, 2]
    assert outcomes[0][1] is None and isinstance(outcomes[1][1], OSError) and outcomes[2][1] is None


def test_ordered_writer_without_a_callback_raises_the_write_error():
    def fail():
        raise OSError("read-only")

    with pytest.raises(OSError, match="read-only"), OrderedWriter() as writer:
        writer.submit(fail)
