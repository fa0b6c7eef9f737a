"""`make bench`: time the portal's pages against a seeded volume, next to a one-query floor.

Runs on the configured database (DATABASE_URL, SQLite when unset) without touching it: like
Django's test runner, it creates a throwaway test database, migrates it, seeds it with
`seed_bench` ("today" pinned) and destroys it at the end. Each scenario is requested through
Django's test Client a few times to warm up, once under CaptureQueriesContext to count its
queries, then `--runs` times, in rounds that interleave the scenarios, to time it. The table
gives the median and p90 wall time, the queries of one request and the ratio of the median to
the floor's (a bare authenticated view with one query of its own); bench/results.json keeps the
same data.

    python bench/run.py [--families 300] [--today 2026-11-26] [--runs 30] [-k home]

Adding a scenario is one line in SCENARIOS.
"""

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_PATH = Path(__file__).with_name("results.json")

DEMO_PARENT = "parent@example.org"
FLOOR_PATH = "/__bench__/plancher/"  # served by bench/urls.py only


@dataclass(frozen=True)
class Scenario:
    """One measured request. `url` and `data` may be callables, resolved after seeding."""

    name: str
    url: str | Callable[[], str]
    user: str | None = None  # e-mail of the signed-in user; None: anonymous
    method: str = "get"
    data: dict | Callable[[], dict] | None = None
    status: int = 200  # anything else stops the bench

    def resolve(self):
        url = self.url() if callable(self.url) else self.url
        data = self.data() if callable(self.data) else self.data
        return url, data


FLOOR = Scenario("floor (1 query)", FLOOR_PATH, user=DEMO_PARENT)

SCENARIOS = [
    Scenario("landing (anonymous)", "/"),
    Scenario("home (demo parent)", "/", user=DEMO_PARENT),
    Scenario("foyer (demo parent)", "/foyer/", user=DEMO_PARENT),
]


class BenchFailure(Exception):
    pass


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=300, help="bench families (default 300)")
    parser.add_argument(
        "--today",
        type=datetime.date.fromisoformat,
        default=datetime.date(2026, 11, 26),
        help="the pinned date, YYYY-MM-DD (default 2026-11-26)",
    )
    parser.add_argument("--runs", type=int, default=30, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first")
    parser.add_argument(
        "-k", dest="keyword", default="", help="only the scenarios whose name contains this"
    )
    args = parser.parse_args(argv)
    if args.runs < 2 or args.warmup < 0 or args.families < 0:
        parser.error("--runs must be 2 or more, --warmup and --families 0 or more")
    return args


def configure_environment():
    """Production-like settings (DEBUG off), tasks in-process, whatever the developer's .env says."""
    sys.path.insert(0, str(ROOT))  # the project, also when run as `python bench/run.py`
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings")
    os.environ["DEBUG"] = "0"  # DEBUG on would log every query and skew every timing
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-never-used-to-sign-anything-real")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ["REDIS_URL"] = ""  # Celery tasks run eagerly; the cache is in-process


def main(argv=None):
    args = parse_args(argv)
    configure_environment()

    import django

    django.setup()

    from django.db import connection

    started = time.perf_counter()
    scenarios = [FLOOR] + [s for s in SCENARIOS if args.keyword.lower() in s.name.lower()]
    try:
        results = run_in_test_database(scenarios, args)
    except BenchFailure as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1

    floor_median = results[0]["median_ms"]
    for result in results:
        result["ratio_to_floor"] = round(result["median_ms"] / floor_median, 1)
    print_table(results)
    report = {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "database": connection.vendor,
        "families": args.families,
        "today": args.today.isoformat(),
        "runs": args.runs,
        "warmup": args.warmup,
        "python": platform.python_version(),
        "django": django.get_version(),
        "scenarios": results,
    }
    RESULTS_PATH.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    log(f"results written to {RESULTS_PATH.relative_to(ROOT)}; whole bench", started)
    return 0


def run_in_test_database(scenarios, args) -> list[dict]:
    """Create, migrate and seed a throwaway database, measure `scenarios`, then drop it."""
    import time_machine
    from django.conf import settings
    from django.db import connection
    from django.template import Template
    from django.test.utils import (
        override_settings,
        setup_test_environment,
        teardown_test_environment,
    )
    from django.urls import clear_url_caches

    from portail.bench_data import seed_bench

    now = datetime.datetime.combine(
        args.today, datetime.time(10, 0), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)
    )
    render = Template._render
    setup_test_environment()
    # The test environment instruments template rendering so that the Client can copy every
    # context into response.context; production renders without it, so the bench does too.
    Template._render = render
    old_name = connection.settings_dict["NAME"]
    scratch = tempfile.TemporaryDirectory(prefix="portail-bench-")
    if connection.vendor == "sqlite":
        # A file, like the developer's database, rather than the test runner's in-memory one.
        connection.settings_dict["TEST"]["NAME"] = str(Path(scratch.name) / "bench.sqlite3")
    overrides = override_settings(
        ROOT_URLCONF="bench.urls",
        SECURE_SSL_REDIRECT=False,
        STATIC_ROOT=scratch.name,  # WhiteNoise warns when the directory is missing
        # The manifest storage would need a collectstatic run first; the plain one builds the
        # same kind of URL.
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )
    try:
        with time_machine.travel(now, tick=True):
            step = time.perf_counter()
            test_name = connection.creation.create_test_db(
                verbosity=0, autoclobber=True, serialize=False
            )
            log(f"test database {test_name} ({connection.vendor}) migrated", step)
            try:
                step = time.perf_counter()
                seed_bench(families=args.families, today=args.today)
                log(f"{args.families} bench families seeded for {args.today}", step)
                with overrides:
                    clear_url_caches()
                    return measure(scenarios, runs=args.runs, warmup=args.warmup)
            finally:
                clear_url_caches()
                connection.creation.destroy_test_db(old_name, verbosity=0)
    finally:
        teardown_test_environment()
        scratch.cleanup()


def measure(scenarios: list[Scenario], *, runs: int, warmup: int) -> list[dict]:
    """Warm up each scenario and count its queries, then time `runs` rounds of all of them.

    Each round requests every scenario once: a busy moment of the machine then slows all of
    them alike instead of one, and the ratios to the floor hold.
    """
    prepared = [_prepare(scenario, warmup=warmup) for scenario in scenarios]
    timings = [[] for _ in prepared]
    gc.collect()
    for _ in range(runs):
        for (request, _), samples in zip(prepared, timings, strict=True):
            start = time.perf_counter()
            request()
            samples.append((time.perf_counter() - start) * 1000)
    return [
        {
            **result,
            "median_ms": round(statistics.median(samples), 2),
            "p90_ms": round(statistics.quantiles(samples, n=10)[-1], 2),
        }
        for (_, result), samples in zip(prepared, timings, strict=True)
    ]


def _prepare(scenario: Scenario, *, warmup: int):
    """A function sending the scenario's request (checking its status) and what one request did."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    if scenario.user:
        client.force_login(get_user_model().objects.get(email=scenario.user))
    url, data = scenario.resolve()
    send = getattr(client, scenario.method.lower())

    def request():
        response = send(url, data) if data is not None else send(url)
        if response.status_code != scenario.status:
            raise BenchFailure(
                f"{scenario.name}: {scenario.method.upper()} {url} answered "
                f"{response.status_code}, expected {scenario.status}"
            )
        return response

    for _ in range(warmup):
        request()
    with CaptureQueriesContext(connection) as queries:
        response = request()
    result = {
        "name": scenario.name,
        "method": scenario.method.upper(),
        "url": url,
        "user": scenario.user,
        "status": response.status_code,
        "queries": len(queries),  # read now: the next request resets the query log
    }
    return request, result


def print_table(results):
    headers = ("scenario", "median ms", "p90 ms", "queries", "× floor")
    rows = [
        (
            r["name"],
            f"{r['median_ms']:.1f}",
            f"{r['p90_ms']:.1f}",
            str(r["queries"]),
            f"{r['ratio_to_floor']:.1f}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells):
        first, *numbers = cells
        return "  ".join(
            [first.ljust(widths[0])]
            + [c.rjust(w) for c, w in zip(numbers, widths[1:], strict=True)]
        )

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def log(message, since):
    print(f"{message} in {time.perf_counter() - since:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
