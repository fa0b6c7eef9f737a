import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portail.celery import app
from portail.tasks import ping

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.redis
def test_task_goes_through_a_real_worker(redis_url, tmp_path):
    """A task sent to Redis is consumed by a real `celery worker --pool=solo` and answers."""
    queue = f"smoke-{os.getpid()}-{time.time_ns()}"
    env = {**os.environ, "REDIS_URL": redis_url, "DEBUG": "1"}
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portail",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "result_backend")}
    try:
        app.conf.update(task_always_eager=False, broker_url=redis_url, result_backend=redis_url)
        result = ping.apply_async(queue=queue)
        assert result.get(timeout=60) == "pong"
    finally:
        app.conf.update(saved)
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
