"""`make bench`: how fast the catalogue answers, cold and warm, from the real catalogue's 47
products to 100,000 synthetic ones.

For each catalogue the benchmark

1. makes sure it exists in its own database ``bench_<size>`` on an embedded PostgreSQL in
   ``.data/bench-postgres`` (never the data of ``make run``), migrated to the current schema:
   ``catalogue`` is the real one (``load_catalogue``), a number is that many synthetic products
   (``python -m bench.generate``, generated once and reused);
2. chooses real URLs from it and times each with Django's test client (``bench/probe.py``): cold,
   the first request after a write (the catalogue version bumped), and warm, the same again;
   the median of ``BENCH_SAMPLES`` (7) each, and the SQL queries of a cold one;
3. serves the project with gunicorn as in production (DEBUG off, ``WEB_CONCURRENCY`` workers as
   ``make run``, static files collected) on a free loopback port;
4. drives each endpoint with wrk for a bounded time after a short warm-up, sampling the workers'
   memory all along.

It prints one table (size x endpoint: requests/s, p50, p99, throughput as a fraction of the
trivial constant-JSON view, SQL queries, cold and warm ms side by side), the workers' peak memory
and the targets (issue 15's cold path, issue 8's throughput) with whether each is met, then, at
the first size, two instances sharing Redis against one (``bench/instances.py``; left out without
redis-server), and writes the same as JSON to ``artifacts/bench/`` (git-ignored).

Environment: ``BENCH_SIZES`` (``catalogue,1000,10000,100000``), ``BENCH_SAMPLES`` (7),
``BENCH_DURATION`` (seconds per endpoint, 5), ``BENCH_WARMUP`` (1), ``BENCH_CONNECTIONS`` (wrk's
open connections, default the number of workers), ``BENCH_REGENERATE=1`` (generate the
catalogues again), ``BENCH_EXPLAIN=1`` (write the plans of the slow queries to
``artifacts/bench/explain-<size>.txt``), ``WEB_CONCURRENCY`` (3).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from atmp_catalogue.localdb import (
    BASE_DIR,
    DATA_DIR,
    LocalDatabaseError,
    local_secret_key,
    start_embedded_server,
)
from bench.instances import Gunicorn, GunicornError, bench_instances, free_port
from bench.instances import table as instances_table

OUTPUT_DIR = BASE_DIR / "artifacts" / "bench"
PGDATA = DATA_DIR / "bench-postgres"

#: (key, label) in the order of the table.
ENDPOINTS = (
    ("home", "home page"),
    ("list", "list page"),
    ("list_filtered", "list, two filters"),
    ("list_misspelled_search", "list, misspelt search"),
    ("detail", "detail page"),
    ("api_list_filtered", "API list, filters"),
    ("api_search", "API search"),
    ("api_detail", "API detail"),
    ("csv_export", "CSV export, filters"),
    ("api_revalidation_304", "API list, 304"),
    ("trivial", "trivial JSON"),
)
#: The real catalogue's "size" in BENCH_SIZES: fixtures/catalogue.json in ``bench_catalogue``.
REAL = "catalogue"
#: Issue 15's targets: the first request after a write (median, in-process, ms) per catalogue.
COLD_TARGETS_MS = {
    (REAL, "list"): 15,
    (REAL, "list_filtered"): 15,
    ("100000", "list_filtered"): 150,
    ("100000", "home"): 100,
}
PROBE_SAMPLES = int(os.environ.get("BENCH_SAMPLES") or 7)
#: Issue 8's targets, checked at the largest size: p99 limits (ms) and throughput fractions.
P99_TARGETS_MS = {
    "list_filtered": 50,
    "detail": 50,
    "api_list_filtered": 50,
    "api_detail": 50,
    "list_misspelled_search": 100,
    "api_search": 100,
}
FRACTION_TARGETS = {"api_list_filtered": 0.40, "api_revalidation_304": 0.80}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def python(*args: str, env: dict) -> str:
    """``python <args>`` in the project (``manage.py …`` or ``-m bench.…``); its output."""
    result = subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"python {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


class MemorySampler(threading.Thread):
    """The largest resident set of any gunicorn worker, sampled every 0.2 s."""

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master = psutil.Process(master)
        self.peak = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.2):
            try:
                for worker in self.master.children():
                    self.peak = max(self.peak, worker.memory_info().rss)
            except psutil.Error:
                pass

    def stop(self) -> int:
        self.stopping.set()
        self.join()
        return self.peak


def ping(base: str) -> None:
    try:
        with urllib.request.urlopen(f"{base}/healthz/ping", timeout=120) as response:
            response.read()
    except OSError:
        pass


def wait_until_idle(base: str, workers: int, *, limit: float = 120) -> None:
    """Return once every worker answers the trivial view promptly again.

    A slow endpoint leaves requests queued in gunicorn after wrk stops; the next endpoint must
    not pay for them.
    """
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        started = time.monotonic()
        threads = [threading.Thread(target=ping, args=(base,)) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=limit)
        if time.monotonic() - started < 0.1:
            return
        time.sleep(0.5)


class Server(Gunicorn):
    """gunicorn serving the catalogue as ``make run`` does, on a free loopback port."""

    def __init__(self, env: dict, *, workers: int, log_file: Path) -> None:
        access_log = log_file.with_suffix(".access.log")
        options = (f"--access-logfile={access_log}", "--graceful-timeout=5")
        try:
            super().__init__(env, workers=workers, log_file=log_file, options=options)
        except GunicornError as exc:
            raise SystemExit(str(exc)) from None


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_duration_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()
    return float(number) * UNITS[unit]


def parse_wrk(output: str) -> dict:
    """Requests/s, p50 and p99 (ms), requests, and failures from ``wrk --latency``'s report."""
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+[a-z]+)\s*$", output, re.M))
    requests = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    completed = int(requests.group(1)) if requests else 0
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        # wrk prints zeros when no request completed: no latency was measured then.
        "p50_ms": parse_duration_ms(percentiles["50"]) if completed else None,
        "p99_ms": parse_duration_ms(percentiles["99"]) if completed else None,
        "requests": completed,
        "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


def run_wrk(wrk: str, url: str, *, seconds: float, connections: int, headers: dict) -> dict:
    command = [
        wrk,
        "--threads=1",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        "--latency",
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    result = subprocess.run(command + [url], capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise SystemExit(f"wrk failed on {url}:\n{result.stdout}{result.stderr}")
    return parse_wrk(result.stdout)


def bench_size(size: str, *, wrk: str, base_env: dict, settings: dict) -> dict:
    """One catalogue: ``catalogue`` (the real one, ``fixtures/catalogue.json``) or a number of
    synthetic products."""
    try:
        database_url = start_embedded_server(PGDATA, database=f"bench_{size}")
    except LocalDatabaseError as exc:
        raise SystemExit(str(exc)) from None
    env = {**base_env, "DATABASE_URL": database_url}
    log(f"{size}: migrating bench_{size}")
    python("manage.py", "migrate", "--no-input", "--verbosity=0", env=env)
    if size == REAL:
        generated = python("manage.py", "load_catalogue", "--if-empty", env=env).strip()
    else:
        generate = ["-m", "bench.generate", f"--size={size}"]
        regenerate = os.environ.get("BENCH_REGENERATE") == "1"
        generate.append("--replace" if regenerate else "--if-needed")
        log(f"{size}: generating the synthetic catalogue if needed")
        generated = python(*generate, env=env).strip()
    log(f"{size}: {generated}")

    log(f"{size}: choosing URLs, timing them cold and warm, counting SQL queries")
    explain_file = OUTPUT_DIR / f"explain-{size}.txt"
    explain_file.unlink(missing_ok=True)
    probe_env = {**env, "BENCH_EXPLAIN_FILE": str(explain_file) if settings["explain"] else ""}
    probe = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bench.probe"],
            cwd=BASE_DIR,
            env=probe_env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    server = Server(env, workers=settings["workers"], log_file=OUTPUT_DIR / f"gunicorn-{size}.log")
    sampler = MemorySampler(server.process.pid)
    sampler.start()
    results = {}
    try:
        for key, label in ENDPOINTS:
            endpoint = probe["endpoints"][key]
            headers = {}
            url = server.base + endpoint["url"]
            if key == "api_revalidation_304":  # the ETag this server gives (it names the host)
                with urllib.request.urlopen(url, timeout=60) as response:
                    headers["If-None-Match"] = response.headers["ETag"]
            # A warm-up (if any), then the run measured: the figures of the last.
            for seconds in [settings["warmup"]] * bool(settings["warmup"]) + [settings["duration"]]:
                figures = run_wrk(
                    wrk, url, seconds=seconds, connections=settings["connections"], headers=headers
                )
                wait_until_idle(server.base, settings["workers"])
            results[key] = {"label": label, **endpoint, **figures}
            log(
                f"{size}: {label:<22} {figures['rps']:8.1f} req/s  "
                f"p99 {milliseconds(figures['p99_ms'])} ms  (HTTP {endpoint['status']}, "
                f"{figures['requests']} requests)"
            )
    finally:
        peak = sampler.stop()
        server.stop()
    trivial = results["trivial"]["rps"]
    for figures in results.values():
        figures["fraction_of_trivial"] = figures["rps"] / trivial if trivial else None
    return {
        "size": probe["products"],
        "catalogue": size,
        "generation": generated,
        "worker_peak_rss_mib": round(peak / 2**20, 1),
        "endpoints": results,
    }


def milliseconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def check(target: str, value: str, met: bool) -> dict:
    return {"target": target, "value": value, "met": met}


def check_targets(runs: list[dict]) -> list[dict]:
    """Issue 15's cold-path targets; issue 8's at the largest size measured; and SQL queries
    constant across the synthetic sizes."""
    checks = []
    by_catalogue = {run["catalogue"]: run for run in runs}
    for (catalogue, key), limit in COLD_TARGETS_MS.items():
        if catalogue in by_catalogue:
            endpoint = by_catalogue[catalogue]["endpoints"][key]
            value = endpoint["cold_ms"]
            checks.append(
                check(
                    f"{endpoint['label']}: first request after a write (median) <= {limit} ms "
                    f"at {describe(by_catalogue[catalogue])}",
                    f"{value:.1f} ms",
                    value <= limit and endpoint["status"] == 200,
                )
            )
    largest = max(runs, key=lambda run: run["size"])
    endpoints = largest["endpoints"]
    for key, limit in P99_TARGETS_MS.items():
        value = endpoints[key]["p99_ms"]
        checks.append(
            check(
                f"{endpoints[key]['label']}: p99 <= {limit} ms at {describe(largest)}",
                "no request completed" if value is None else f"{value:.1f} ms",
                value is not None and value <= limit and endpoints[key]["status"] == 200,
            )
        )
    for key, fraction in FRACTION_TARGETS.items():
        value = endpoints[key]["fraction_of_trivial"]
        expected_status = 304 if key == "api_revalidation_304" else 200
        checks.append(
            check(
                f"{endpoints[key]['label']}: >= {fraction:.0%} of the trivial view's throughput "
                f"at {describe(largest)}",
                f"{value:.0%}",
                value >= fraction and endpoints[key]["status"] == expected_status,
            )
        )
    synthetic = [run for run in runs if run["catalogue"] != REAL]
    for key, label in ENDPOINTS:
        counts = {run["size"]: run["endpoints"][key]["sql"] for run in synthetic}
        checks.append(
            check(
                f"{label}: SQL queries per request constant in size (synthetic catalogues)",
                " / ".join(str(counts[size]) for size in sorted(counts)),
                len(set(counts.values())) <= 1,
            )
        )
    return checks


def describe(run: dict) -> str:
    """``the real catalogue (47 products)`` or ``100,000 products``."""
    if run["catalogue"] == REAL:
        return f"the real catalogue ({run['size']:,} products)"
    return f"{run['size']:,} products"


def table(runs: list[dict]) -> str:
    header = (
        f"| {'size':>7} | {'endpoint':<22} | {'HTTP':>4} | {'req/s':>7} | {'p50 ms':>6} | "
        f"{'p99 ms':>6} | {'vs trivial':>10} | {'SQL':>3} | {'cold ms':>7} | {'warm ms':>7} |"
    )
    rule = re.sub(r"[^|]", "-", header)
    lines = [header, rule]
    for run in runs:
        for key, _label in ENDPOINTS:
            e = run["endpoints"][key]
            failures = e["non_2xx_3xx"] + e["socket_errors"]
            note = f" ({failures} failed)" if failures else ""
            p50, p99 = milliseconds(e["p50_ms"]), milliseconds(e["p99_ms"])
            lines.append(
                f"| {run['size']:>7,} | {e['label']:<22} | {e['status']:>4} | {e['rps']:>7.0f} | "
                f"{p50:>6} | {p99:>6} | {e['fraction_of_trivial']:>10.0%} | {e['sql']:>3} | "
                f"{e['cold_ms']:>7.1f} | {e['warm_ms']:>7.1f} |{note}"
            )
    return "\n".join(lines)


def report(result: dict) -> str:
    m = result["machine"]
    s = result["settings"]
    lines = [
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gib']} GiB RAM, {m['system']}, "
        f"Python {m['python']}",
        f"gunicorn: {s['workers']} sync workers, DEBUG off; wrk: 1 thread, "
        f"{s['connections']} connections, {s['duration']:g} s per endpoint after a "
        f"{s['warmup']:g} s warm-up; loopback",
        "",
        table(result["runs"]),
        "",
        "req/s, p50, p99: wrk over HTTP, the same URL again and again (so from the cache after "
        "the first request); vs trivial: req/s as a fraction of the trivial view's; cold ms: "
        f"the median of {PROBE_SAMPLES} first requests after a write (the catalogue version "
        "bumped before each), in-process, and SQL its queries; warm ms: the median of the same "
        "request again (from the cache), in-process. The first size is the real catalogue "
        "(fixtures/catalogue.json).",
        "",
        "Peak resident memory of a gunicorn worker: "
        + ", ".join(
            f"{run['worker_peak_rss_mib']:.0f} MiB at {run['size']:,}" for run in result["runs"]
        ),
        "",
        "Targets:",
    ]
    for check in result["targets"]:
        lines.append(
            f"  [{'met' if check['met'] else 'MISSED'}] {check['target']}: {check['value']}"
        )
    return "\n".join(lines)


def main() -> None:
    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit(
            "wrk is not installed: run `make bench` (installs it) or apt-get install wrk"
        )
    sizes = os.environ.get("BENCH_SIZES", f"{REAL},1000,10000,100000").split(",")
    workers = env_int("WEB_CONCURRENCY", 3)
    settings = {
        "workers": workers,
        "connections": env_int("BENCH_CONNECTIONS", workers),
        "duration": env_float("BENCH_DURATION", 5),
        "warmup": env_float("BENCH_WARMUP", 1),
        "explain": os.environ.get("BENCH_EXPLAIN") == "1",
    }
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    static_root = OUTPUT_DIR / "static"
    base_env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or local_secret_key(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(static_root),
        # The anonymous throttle stays on (as in production) with a rate wrk cannot reach.
        "API_ANON_RATE": "100000000/second",
        "LOG_LEVEL": "ERROR",
    }
    base_env.pop("DATABASE_URL", None)
    started = time.monotonic()
    log("collecting static files")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity=0"],
        cwd=BASE_DIR,
        env={**base_env, "DATABASE_URL": "postgres://unused@localhost/unused"},
        check=True,
    )
    runs = [bench_size(size, wrk=wrk, base_env=base_env, settings=settings) for size in sizes]
    log(f"{runs[0]['size']:,} products: one instance against two sharing Redis")
    instances = bench_instances(
        runs[0],
        wrk=wrk,
        env={
            **base_env,
            "DATABASE_URL": start_embedded_server(PGDATA, database=f"bench_{sizes[0]}"),
        },
        settings=settings,
        server_class=Server,
        run_wrk=run_wrk,
        free_port=free_port,
        output=OUTPUT_DIR,
    )
    if instances is None:
        log("no redis-server (make bench installs it): the row of two instances is left out")
    result = {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": settings,
        "runs": runs,
        "targets": check_targets(runs),
        "instances": instances,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in (f"bench-{stamp}.json", "latest.json"):
        (OUTPUT_DIR / name).write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    if instances is not None:
        print("\nTwo instances sharing Redis against one (wrk on each at once; same CPUs):\n")
        print(instances_table(instances))
    print(
        f"\nWhole run {result['elapsed_s']:.0f} s; results in "
        f"{(OUTPUT_DIR / f'bench-{stamp}.json').relative_to(BASE_DIR)}"
    )


if __name__ == "__main__":
    main()
