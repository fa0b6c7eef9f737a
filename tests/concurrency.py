"""Running calls at the same moment on PostgreSQL, for the tests that prove a race is handled."""

import contextlib
import threading
from unittest import mock

from django.db import connection


def at_once(*calls):
    """Run the calls in threads released together, each closing its own database connection;
    return their results in order (or, for a call that raised, the exception it raised)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@contextlib.contextmanager
def meeting_after(owner, name, parties, timeout=2.0):
    """While in the block, the first call of `owner.name` in each thread waits, once it has
    returned, until `parties` threads have made theirs (or `timeout` seconds have passed): every
    racer has read before any of them writes. Where a lock lets the racers through one at a
    time, the first waits `timeout` seconds alone, then all go on."""
    original = getattr(owner, name)
    barrier = threading.Barrier(parties)
    waited = threading.local()

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        if not getattr(waited, "done", False):
            waited.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout)
        return result

    with mock.patch.object(owner, name, wrapper):
        yield
