"""gunicorn's configuration for `make loadtest`: each worker's clock starts at the pinned
"today" (LOADTEST_NOW, ISO date-time with its offset) and runs on from there, as the seed and
the plan assumed; the arbiter keeps the real clock."""

import datetime
import os

wsgi_app = "portail.wsgi:application"


def post_fork(server, worker):
    import time_machine

    now = datetime.datetime.fromisoformat(os.environ["LOADTEST_NOW"])
    time_machine.travel(now, tick=True).start()
