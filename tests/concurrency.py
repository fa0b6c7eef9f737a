"""Running calls at the same moment on PostgreSQL, for the tests that prove a race is handled."""

import threading

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
