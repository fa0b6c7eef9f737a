"""`make loadtest`: simulated parents (Locust, headless, at most 3 minutes) against gunicorn and
PostgreSQL on loopback, on a throwaway database seeded with the bench's volume.

    python bench/loadtest/run.py [--users 200] [--spawn-rate 20] [--duration 3m] [--think 5]
                                 [--workers 4] [--families 3000] [--today 2026-11-26]

Steps: create the database `loadtest` on DATABASE_URL's server (PostgreSQL only), migrate, seed
`seed_bench` on the pinned "today", plan each parent's journey (plan.py), collect the static
files, start gunicorn (production settings, DEBUG off; the bench URLconf adds the floor view;
each worker's clock starts at the pinned today), run Locust (locustfile.py), stop gunicorn,
print the figures (requests per second, p50/p95/p99 per request and overall, errors, the
journey's cost against the floor's from the workers' own timings), check the database (no
créneau over capacity, no duplicate booking) and drop it. Exits 1 if a request failed or a
check did not hold.
"""

import argparse
import contextlib
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zoneinfo
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
RESULTS_DIR = ROOT / "test-artifacts" / "loadtest"
MAX_SECONDS = 180
SECRET_KEY = "loadtest-only-secret-key-never-used-to-sign-anything-real-0123456789"
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"  # method, path, status, microseconds in the worker
FLOOR_NAME = "floor (1 query)"


def duration(value: str) -> int:
    """Seconds from "180", "180s", "3m" or "2m30s"; at most 3 minutes."""
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s?)?", value.strip())
    if not value.strip() or not match:
        raise argparse.ArgumentTypeError(f"invalid duration: {value!r} (e.g. 3m, 90s)")
    seconds = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    if not 10 <= seconds <= MAX_SECONDS:
        raise argparse.ArgumentTypeError("the duration must be between 10 s and 3 min")
    return seconds


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="simulated parents (200)")
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=None,
        help="parents started per second (default: all of them within the first minute: each "
        "sign-in hashes a password, a third of a second of CPU)",
    )
    parser.add_argument("--duration", type=duration, default=MAX_SECONDS, help="≤ 3m (3m)")
    parser.add_argument("--think", type=float, default=5.0, help="mean think time, s (5)")
    # Measured at 200 parents: 4 sync workers were 95 % busy but on the CPU a third of that time
    # (the rest waiting on PostgreSQL); 8 overlap those waits (steady p95 1.7 s → 0.6 s).
    parser.add_argument("--workers", type=int, default=8, help="gunicorn workers (8)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1: sync)")
    parser.add_argument("--families", type=int, default=3000, help="bench families (3000)")
    parser.add_argument(
        "--today",
        type=datetime.date.fromisoformat,
        default=datetime.date(2026, 11, 26),
        help="the pinned date (2026-11-26, as the bench)",
    )
    parser.add_argument("--database", default="loadtest", help="throwaway database's name")
    parser.add_argument("--profile", action="store_true", help="sample the workers with py-spy")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling priority of gunicorn, Locust and the PostgreSQL backends serving the "
        "load test's database (e.g. -10 on a machine other jobs share, so that they do not "
        "starve the measured server; below 0 needs root)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--fresh", action="store_true", help="seed afresh, even if a seeded copy is kept"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="copy the kept seeded database even if the seeding code changed since",
    )
    args = parser.parse_args(argv)
    if args.spawn_rate is None:
        args.spawn_rate = max(1.0, round(args.users / 60, 1))
    if args.users < 1 or args.workers < 1 or args.threads < 1 or args.think < 0:
        parser.error("--users, --workers and --threads must be 1 or more, --think 0 or more")
    return args


def log(message, since=None):
    took = f" in {time.perf_counter() - since:.1f} s" if since is not None else ""
    print(f"[loadtest] {message}{took}", file=sys.stderr, flush=True)


def configure_environment():
    """The driver's own Django: production settings (DEBUG off), tasks in-process."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "portail.settings"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", SECRET_KEY)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    os.environ["REDIS_URL"] = ""
    os.environ["EMAIL_URL"] = "dummymail://"  # the seed's notices go nowhere
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = "postgres://portail:portail@127.0.0.1:5432/portail"


def pinned_now(today: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(
        today, datetime.time(10, 0), tzinfo=zoneinfo.ZoneInfo("Europe/Paris")
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    configure_environment()
    scratch = Path(tempfile.mkdtemp(prefix="portail-loadtest-"))
    os.environ["MEDIA_ROOT"] = str(scratch / "media")  # the documents, the driver's and gunicorn's
    import django

    django.setup()
    from django.db import connection

    started = time.perf_counter()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = args.database
    template, key = f"{args.database}_seed", seed_key(args)
    step = time.perf_counter()
    seeded = not args.fresh and copy_template(template, None if args.reuse else key, args.database)
    if seeded:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)  # migrations added since
        log(f"database {args.database} copied from {template} (seeded before), migrated", step)
    else:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        log(f"database {args.database} created and migrated", step)
    try:
        return run(args, scratch, started, seeded=seeded, template=(template, key))
    finally:
        connection.close()
        if args.keep:
            log(f"database {args.database} kept")
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(scratch, ignore_errors=True)


# The seeded database is kept as a template (`<database>_seed`), labelled with a digest of what
# made it: the seeding code (bench/seeding.py and the apps' demo.py), the volume and the date. A later run with the same digest copies it
# in seconds (CREATE DATABASE … TEMPLATE) and applies the migrations added since; a change of
# the seeding code seeds afresh.
SEED_SOURCES = ["*/demo.py", "bench/seeding.py"]


def seed_key(args) -> str:
    import hashlib

    digest = hashlib.sha256(f"{args.families}|{args.today}".encode())
    for pattern in SEED_SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    return digest.hexdigest()[:32]


def _quoted(name: str) -> str:
    from django.db import connection

    return connection.ops.quote_name(name)


def copy_template(template: str, key: str | None, database: str) -> bool:
    """Create `database` as a copy of `template` if the template's label is `key` (None: any)."""
    from django.db import connection

    with connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [template],
        )
        row = cursor.fetchone()
        if not row or (key is not None and row[0] != key):
            return False
        cursor.execute(f"DROP DATABASE IF EXISTS {_quoted(database)}")
        cursor.execute(f"CREATE DATABASE {_quoted(database)} TEMPLATE {_quoted(template)}")
    connection.close()
    connection.settings_dict["NAME"] = database
    return True


def save_template(database: str, template: str, key: str) -> None:
    """Keep a copy of the freshly seeded `database` as `template`, labelled `key`."""
    from django.db import connection

    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {_quoted(template)}")
        cursor.execute(f"CREATE DATABASE {_quoted(template)} TEMPLATE {_quoted(database)}")
        cursor.execute(f"COMMENT ON DATABASE {_quoted(template)} IS %s", [key])


def run(args, scratch: Path, started, *, seeded: bool, template) -> int:
    import time_machine
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    from bench.loadtest import checks
    from bench.loadtest.plan import build_plan, write_plan
    from bench.seeding import seed_bench
    from billing.documents import store_invoice_documents

    now = pinned_now(args.today)
    with time_machine.travel(now, tick=True):
        if not seeded:
            step = time.perf_counter()
            seed_bench(families=args.families, today=args.today)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            log(f"{args.families} bench families seeded for {args.today}", step)
            step = time.perf_counter()
            save_template(args.database, *template)
            log(f"seeded database kept as {template[0]} for the next runs", step)
        step = time.perf_counter()
        plan = build_plan(users=args.users, today=args.today)
        plan_path = scratch / "plan.json"
        write_plan(plan, plan_path)
        before = checks.overbooked()
        log(f"journeys of {len(plan['parents'])} parents planned", step)
        step = time.perf_counter()
        made = store_invoice_documents([parent["invoice"] for parent in plan["parents"]])
        log(f"{made} invoice PDFs made and kept, as the invoicing run does when it issues", step)
    step = time.perf_counter()
    static_root = scratch / "static"
    # The manifest that production's storage reads, without its compressed copies (the load
    # asks for no static file): seconds instead of half a minute.
    with override_settings(
        STATIC_ROOT=static_root,
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {
                "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
            },
        },
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
    log("static files collected", step)
    connection.close()

    prioritise_session(args.nice)
    port = free_port()
    access_log = scratch / "access.log"
    server = start_gunicorn(args, port, scratch, static_root, access_log, now)
    load_started = datetime.datetime.now(datetime.UTC)
    commit = git_commit()  # what gunicorn loads now
    try:
        wait_until_up(port, server)
        warm_up(port, args.workers)
        cpu_before = process_cpu(worker_pids(server.pid))
        profiler = start_profiler(server.pid, args, scratch) if args.profile else None
        backends = BackendCPU(args.database, args.nice)
        load_before = os.getloadavg()[0]
        samples_path = scratch / "samples.json"
        locust = run_locust(args, port, plan_path, samples_path)
        load_after = os.getloadavg()[0]
        cpu_after = process_cpu(worker_pids(server.pid))
        db_cpu = backends.stop()
        profile = stop_profiler(profiler)
    finally:
        stop(server)
    recorded = json.loads(samples_path.read_text()) if samples_path.exists() else {}
    report = summarise(recorded, args, parse_access_log(access_log))
    report["load_average"] = f"{load_before:.1f} before, {load_after:.1f} after"
    report["locust_exit_code"] = locust
    report["gunicorn_cpu_s"] = round(sum(cpu_after.values()) - sum(cpu_before.values()), 1)
    report["postgres_cpu_s"] = db_cpu
    report["load_started"] = load_started.isoformat(timespec="seconds")
    report["commit"] = commit
    print_report(report, args)
    if profile:
        print("\nWhere the workers' time goes (py-spy, share of samples, inclusive):")
        for line in profile:
            print("  " + line)

    step = time.perf_counter()
    result = checks.check_after_load(before)
    print("\nDatabase after the load:")
    for line in result.lines():
        print("  " + line)
    report["checks_ok"] = result.ok
    out = RESULTS_DIR / f"results-{args.users}u.json"
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str) + "\n")
    log(f"checks done; figures in {out.relative_to(ROOT)}; whole run", started)
    errors = report["overall"]["failures"]
    if errors or not result.ok or locust not in (0, 1):
        print(
            f"\nLOAD TEST FAILED: {errors} failed request(s), checks {'ok' if result.ok else 'FAILED'}"
        )
        return 1
    return 0


def priority(nice: int):
    """What a child process runs before its program: take the scheduling priority `nice`."""
    return (lambda: os.nice(nice)) if nice else None


def prioritise_session(nice: int) -> None:
    """With the kernel's autogroups (sched_autogroup_enabled), the processes' own nice counts
    only inside their session: every session on the machine gets an equal share of the CPU.
    Give this run's session (the driver, gunicorn, Locust) the priority `nice` as a whole."""
    if nice:
        with contextlib.suppress(OSError):
            Path("/proc/self/autogroup").write_text(str(nice))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(args, static_root, scratch, now) -> dict:
    """gunicorn's environment: production settings with the bench URLconf; behind one trusted
    proxy (Locust plays it: X-Forwarded-Proto and X-Forwarded-For)."""
    from django.db import connection

    db = connection.settings_dict
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.loadtest.settings",
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=(
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{args.database}"
        ),
        REDIS_URL="",
        TRUSTED_PROXY_COUNT="1",
        STATIC_ROOT=str(static_root),
        MEDIA_ROOT=str(scratch / "media"),
        LOG_LEVEL="WARNING",
        EMAIL_URL="dummymail://",
        LOADTEST_NOW=now.isoformat(),
        PYTHONPATH=str(ROOT),
    )
    return env


def start_gunicorn(args, port, scratch, static_root, access_log, now):
    command = [
        str(VENV_BIN / "gunicorn"),
        "--config",
        str(HERE / "gunicorn_conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--timeout",
        "60",
        "--access-logfile",
        str(access_log),
        "--access-logformat",
        ACCESS_FORMAT,
        "--no-control-socket",
    ]
    if args.threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(args.threads)]
    log(f"gunicorn on 127.0.0.1:{port}, {args.workers} worker(s) × {args.threads} thread(s)")
    with open(RESULTS_DIR / "gunicorn.log", "w") as output:  # the workers' own log too
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=server_environment(args, static_root, scratch, now),
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=priority(args.nice),
        )


def wait_until_up(port, server, timeout=60):
    """Until /sante/ answers 200 (asked as through the TLS proxy)."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/sante/", headers={"X-Forwarded-Proto": "https"}
    )
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped (exit {server.returncode}), see gunicorn.log")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer /sante/ within a minute")


def warm_up(port, workers):
    """A few anonymous pages for every worker, untimed: a running portal's workers have loaded
    their templates and modules long before the parents come."""
    for path in ["/comptes/login/", "/"] * (2 * workers):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"X-Forwarded-Proto": "https"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()


def run_locust(args, port, plan_path, samples_path) -> int:
    """Locust, headless: the parents plus the floor probe; its exit code."""
    prefix = RESULTS_DIR / f"locust-{args.users}u"
    command = [
        str(VENV_BIN / "locust"),
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--users",
        str(args.users + 1),  # + the floor probe (fixed_count 1)
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.duration}s",
        "--stop-timeout",
        "10",
        "--host",
        f"http://127.0.0.1:{port}",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    env = dict(
        os.environ,
        LOADTEST_PLAN=str(plan_path),
        LOADTEST_THINK=str(args.think),
        LOADTEST_SAMPLES=str(samples_path),
        PYTHONPATH=str(ROOT),  # the locustfile imports bench.loadtest.forms
    )
    step = time.perf_counter()
    log(
        f"Locust: {args.users} parents (+ the floor probe), {args.spawn_rate:g}/s, "
        f"{args.duration} s, think time {args.think:g} s"
    )
    code = subprocess.run(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, preexec_fn=priority(args.nice)
    ).returncode
    log(f"Locust done (exit {code})", step)
    return code


def stop(process, timeout=30):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Figures ------------------------------------------------------------------------------------


def percentile(values, q):
    """The q-th percentile (nearest rank) of `values`, in their unit."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def figures(times, failures, seconds) -> dict:
    return {
        "requests": len(times),
        "failures": failures,
        "rps": round(len(times) / seconds, 2) if seconds else 0.0,
        "p50_ms": round(percentile(times, 50)),
        "p95_ms": round(percentile(times, 95)),
        "p99_ms": round(percentile(times, 99)),
        "mean_ms": round(statistics.fmean(times), 1) if times else 0.0,
    }


ROUTES = [
    (re.compile(r"^/agenda/\d+/\d{4}/\d{2}/$"), "/agenda/<enfant>/<aaaa>/<mm>/"),
    (re.compile(r"^/agenda/\d+/\d{4}-\d{2}-\d{2}/$"), "/agenda/<enfant>/<jour>/"),
    (re.compile(r"^/paiements/factures/\d+/pdf/$"), "/paiements/factures/<id>/pdf/"),
]


def route(path: str) -> str:
    for pattern, name in ROUTES:
        if pattern.match(path):
            return name
    return path


def parse_access_log(path: Path) -> dict:
    """{(method, route): [ms in the worker]}, from gunicorn's access log."""
    times = defaultdict(list)
    if not path.exists():
        return times
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3].isdigit():
            times[(parts[0], route(parts[1]))].append(int(parts[3]) / 1000)
    return times


def _by_request(samples, *, steady_only=False):
    """{(type, name): (times of the answered requests, failures)}, and the journeys completed."""
    by_name = defaultdict(lambda: ([], [0]))
    journeys = 0
    for request_type, name, ms, ok, steady in samples:
        if steady_only and not steady:
            continue
        if request_type == "JOURNEY":
            journeys += 1
            continue
        times, failures = by_name[(request_type, name)]
        if not ok:
            failures[0] += 1
        if ms or ok:
            times.append(ms)
    return by_name, journeys


def _groups(by_name, seconds) -> dict:
    """The parents' journey (sign-in apart), the floor, and everything."""

    def pick(keep):
        times = [ms for key, (t, _) in by_name.items() if keep(key[1]) for ms in t]
        fails = sum(f[0] for key, (_, f) in by_name.items() if keep(key[1]))
        return figures(times, fails, seconds)

    return {
        "journey": pick(lambda n: n != FLOOR_NAME and not n.startswith("sign in")),
        "sign_in": pick(lambda n: n.startswith("sign in")),
        "floor": pick(lambda n: n == FLOOR_NAME),
        "overall": pick(lambda n: True),
    }


def summarise(recorded, args, worker_times) -> dict:
    """Per request type and overall: rps, p50/p95/p99, failures, over the whole run and in the
    steady state (once every parent has signed in); the journey against the floor, in the
    clients' times and in the workers' own."""
    samples = recorded.get("samples", [])
    seconds = recorded.get("seconds") or args.duration
    steady_seconds = recorded.get("steady_seconds") or 0
    by_name, journeys = _by_request(samples)
    steady_by_name, steady_journeys = _by_request(samples, steady_only=True)
    rows = {}
    for key in sorted(by_name, key=lambda k: k[1]):
        times, fails = by_name[key]
        row = figures(times, fails[0], seconds)
        steady_times = steady_by_name.get(key, ([], [0]))[0]
        row["steady_p95_ms"] = round(percentile(steady_times, 95)) if steady_times else None
        rows[f"{key[0]} {key[1]}"] = row
    whole, steady = _groups(by_name, seconds), _groups(steady_by_name, steady_seconds)
    server = {
        f"{method} {path}": {
            "requests": len(ms),
            "median_ms": round(statistics.median(ms), 1),
            "mean_ms": round(statistics.fmean(ms), 1),
            "p95_ms": round(percentile(ms, 95), 1),
            "busy_s": round(sum(ms) / 1000, 1),
        }
        for (method, path), ms in sorted(worker_times.items())
        if ms
    }
    floor_server = worker_times.get(("GET", "/__bench__/plancher/"), [])
    journey_server = [
        ms
        for (method, path), times in worker_times.items()
        if path not in ("/__bench__/plancher/", "/comptes/login/", "/sante/")
        for ms in times
    ]
    return {
        "users": args.users,
        "think_s": args.think,
        "duration_s": args.duration,
        "workers": args.workers,
        "threads": args.threads,
        "families": args.families,
        "today": args.today.isoformat(),
        "seconds": round(seconds, 1),
        "all_signed_in_after_s": recorded.get("all_signed_in_after"),
        "steady_seconds": round(steady_seconds, 1),
        "requests": rows,
        "whole_run": whole,
        "steady": steady,
        "journeys_completed": journeys,
        "journeys_completed_steady": steady_journeys,
        "overall": whole["overall"],
        "server": server,
        # Throughput is the inverse of the time a request takes: under the same load, the
        # journey's requests (their mean over the journey's mix) against the floor's.
        "journey_vs_floor_client": ratio(steady["floor"]["mean_ms"], steady["journey"]["mean_ms"]),
        "journey_vs_floor_server": ratio(
            statistics.fmean(floor_server) if floor_server else 0,
            statistics.fmean(journey_server) if journey_server else 0,
        ),
    }


def ratio(floor_ms, journey_ms):
    return round(floor_ms / journey_ms, 3) if floor_ms and journey_ms else None


def print_report(report, args):
    headers = ("request", "count", "fail", "req/s", "p50 ms", "p95 ms", "p99 ms", "steady p95")
    rows = [
        (name, *_cells(r), r["steady_p95_ms"] if r["steady_p95_ms"] is not None else "-")
        for name, r in report["requests"].items()
    ]
    for label, key in (
        ("parents' journey (sign-in apart)", "journey"),
        ("floor", "floor"),
        ("overall", "overall"),
    ):
        rows.append((label, *_cells(report["whole_run"][key]), report["steady"][key]["p95_ms"]))
    rows = [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    print(
        f"\nLoad test at {report['commit']}: {args.users} parents, think time {args.think:g} s, "
        f"{args.duration} s, gunicorn {args.workers}×{args.threads}, {args.families} families, "
        f"today {args.today}; load average {report['load_average']}"
        + (f"; gunicorn, Locust and their backends at nice {args.nice}" if args.nice else "")
    )
    for row in [headers, tuple("-" * w for w in widths), *rows]:
        print(
            "  ".join(
                [row[0].ljust(widths[0])]
                + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
            )
        )
    after = report["all_signed_in_after_s"]
    steady = report["steady"]
    print(
        f"\nEvery parent signed in after {after:.0f} s; "
        if after
        else "\nNot every parent signed in; "
    )
    if after:
        print(
            f"steady state ({report['steady_seconds']:.0f} s): journey {steady['journey']['rps']} "
            f"req/s, p50/p95/p99 {steady['journey']['p50_ms']}/{steady['journey']['p95_ms']}/"
            f"{steady['journey']['p99_ms']} ms, {steady['journey']['failures']} failed; "
            f"overall p95 {steady['overall']['p95_ms']} ms"
        )
    print(
        f"journeys completed: {report['journeys_completed']} "
        f"({report['journeys_completed_steady']} in the steady state)"
    )
    print("\nIn the workers (gunicorn's own time per request, queueing excluded):")
    for name, r in report["server"].items():
        print(
            f"  {name}: {r['requests']} requests, median {r['median_ms']} ms, "
            f"mean {r['mean_ms']} ms, p95 {r['p95_ms']} ms, {r['busy_s']} s in all"
        )
    client, server = report["journey_vs_floor_client"], report["journey_vs_floor_server"]
    print(
        "\nThe journey's throughput against the floor's (floor mean time / journey mean time): "
        f"{_pct(server)} in the workers, {_pct(client)} as the clients saw it in the steady "
        "state (target ≥ 33 %)"
    )
    print(
        f"CPU during the load: gunicorn workers {report['gunicorn_cpu_s']} s, "
        f"PostgreSQL backends {report['postgres_cpu_s']} s "
        f"(of {args.duration * (os.cpu_count() or 1)} s on {os.cpu_count()} cores)"
    )


def _cells(r):
    return (r["requests"], r["failures"], r["rps"], r["p50_ms"], r["p95_ms"], r["p99_ms"])


def _pct(value):
    return f"{value:.0%}" if value is not None else "n/a"


# Where the time goes ------------------------------------------------------------------------


def worker_pids(arbiter: int) -> list[int]:
    try:
        children = Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def process_cpu(pids) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each of `pids`."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return out


class BackendCPU:
    """The CPU seconds of the PostgreSQL backends serving `database` (the workers' connections,
    which come and go with CONN_MAX_AGE), read from /proc every two seconds while the load runs;
    None if this machine does not run the server."""

    def __init__(self, database: str, nice: int = 0):
        import threading

        self.database, self.seen, self.nice = database, {}, nice
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self):
        from django.db import connection

        try:
            while not self.done.wait(2):
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = %s "
                        "AND pid <> pg_backend_pid()",
                        [self.database],
                    )
                    pids = [row[0] for row in cursor.fetchall()]
                for pid, cpu in process_cpu(pids).items():
                    if self.nice and pid not in self.seen:
                        self._prioritise(pid)
                    self.seen[pid] = max(cpu, self.seen.get(pid, 0.0))
        finally:
            connection.close()

    def _prioritise(self, pid):
        """The backend serves only the load test's database: it takes the priority of the
        workers it answers, or every query would wait its turn behind the other jobs."""
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, self.nice)

    def stop(self) -> float | None:
        self.done.set()
        self.thread.join(10)
        return round(sum(self.seen.values()), 1) if self.seen else None


def start_profiler(arbiter: int, args, scratch: Path):
    py_spy = shutil.which("py-spy", path=str(VENV_BIN)) or shutil.which("py-spy")
    if not py_spy:
        log("py-spy not installed: no profile (pip install py-spy)")
        return None
    out = scratch / "profile.txt"
    command = [
        py_spy,
        "record",
        "--pid",
        str(arbiter),
        "--subprocesses",
        "--format",
        "raw",
        "--rate",
        "50",
        "--duration",
        str(args.duration),
        "--output",
        str(out),
        "--nonblocking",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, out


def stop_profiler(profiler) -> list[str]:
    if not profiler:
        return []
    process, out = profiler
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        process.wait(10)
    if not out.exists():
        return []
    shutil.copy(out, RESULTS_DIR / "profile-collapsed.txt")
    return profile_lines(out.read_text())


PROFILE_BUCKETS = [
    ("psycopg (sending queries, reading rows)", ("psycopg/", "psycopg_binary")),
    ("templates (render)", ("django/template/",)),
    ("PDF (WeasyPrint)", ("weasyprint/",)),
    ("sessions", ("django/contrib/sessions/",)),
    ("ORM (query building, model instances)", ("django/db/models/", "django/db/backends/")),
    ("password hashing (Argon2, at sign-in)", ("argon2", "hashers.py")),
    ("middleware and URL resolving", ("django/core/handlers/", "django/urls/")),
]


PROJECT_PACKAGES = {
    "portail", "billing", "reservations", "enrolment", "exchanges", "families", "accounts",
    "common",
}  # fmt: skip


def profile_lines(collapsed: str, top: int = 15) -> list[str]:
    """Share of the samples spent under each bucket, and the project's functions that take the
    most (inclusive), from py-spy's collapsed stacks."""
    total = 0
    buckets = defaultdict(int)
    functions = defaultdict(int)
    idle = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        if any("wait (" in f or "select (" in f or "accept (" in f for f in frames[-2:]):
            idle += n
            continue
        for name, needles in PROFILE_BUCKETS:
            if any(needle in stack for needle in needles):
                buckets[name] += n
                break
        seen = set()
        for frame in frames:
            name, _, where = frame.rpartition(" (")
            if where.split("/")[0] in PROJECT_PACKAGES:
                label = f"{name} ({where.split(':')[0]})"
                if label not in seen:
                    seen.add(label)
                    functions[label] += n
    if not total:
        return []
    busy = total - idle
    out = [f"idle (waiting for a request): {idle / total:.0%} of {total} samples"]
    for name, n in sorted(buckets.items(), key=lambda i: -i[1]):
        out.append(f"{name}: {n / busy:.0%} of busy samples")
    out.append("project functions (inclusive, share of busy samples):")
    for label, n in sorted(functions.items(), key=lambda i: -i[1])[:top]:
        out.append(f"  {label}: {n / busy:.0%}")
    return out


def git_commit() -> str:
    """The commit served, and how many files of the tree differ from it (served too)."""

    def git(*command):
        return subprocess.run(
            ["git", *command], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout

    try:
        changed = len(git("status", "--porcelain", "--untracked-files=no").splitlines())
        return git("rev-parse", "--short", "HEAD").strip() + (
            f" (+{changed} uncommitted file(s))" if changed else ""
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
