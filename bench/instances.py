"""Two instances sharing Redis against one: the row of `make bench` for a deployment.

At the smallest catalogue of the run, a Redis (or Valkey) server is started on loopback and the
catalogue is served with ``REDIS_URL`` by one gunicorn (``WEB_CONCURRENCY`` workers), then by two
(as many workers each), and wrk drives the same URL on every instance at once. The figure is the
total requests/s (the mean of two rounds, one instance then two, then two then one, as this
machine's load drifts), and the ratio of two instances to one. Every request names one host, as
behind the proxy, so the instances share their cache entries. Both instances, both wrk processes,
Redis and PostgreSQL share this machine's CPUs: on a machine with 2 CPUs the ratio measures the
cost of sharing, not what a second machine adds.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

#: (key, label) of the endpoints measured: a page and an API list, both from the shared cache,
#: and the trivial view (no cache, no database): what the stack itself does with two instances.
ENDPOINTS = (
    ("home", "home page"),
    ("api_list_filtered", "API list, filters"),
    ("trivial", "trivial JSON"),
)
#: One instance, two, two, one: each count measured twice, early and late.
ORDER = (1, 2, 2, 1)


def free_port() -> int:
    """A loopback TCP port that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class GunicornError(RuntimeError):
    """gunicorn exited, or did not answer in time; the message ends with its log's last lines."""


class Gunicorn:
    """The project under gunicorn, as `make run` serves it, on a free loopback port.

    The one launcher of ``make bench`` and the tests. It returns once ``ready_path`` answers 200
    (any status with ``any_status``: a host the settings refuse still proves gunicorn is up).
    """

    def __init__(
        self,
        env: dict,
        *,
        workers: int,
        log_file: Path,
        options: tuple[str, ...] = (),
        ready_path: str = "/healthz",
        any_status: bool = False,
        timeout: float = 60,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_file = log_file
        with log_file.open("w") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "atmp_catalogue.wsgi"]
                + [f"--config={BASE_DIR / 'gunicorn.conf.py'}", f"--bind=127.0.0.1:{self.port}"]
                + [f"--workers={workers}", *options],
                cwd=BASE_DIR,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise self.error(f"gunicorn exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.base + ready_path, timeout=2) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError:
                if any_status:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise self.error(f"gunicorn did not answer {ready_path} within {timeout:.0f} s")

    def error(self, what: str) -> GunicornError:
        tail = self.log_file.read_text(errors="replace").splitlines()[-20:]
        return GunicornError("\n".join([f"{what}: see {self.log_file}", *tail]))

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def redis_program() -> str | None:
    return shutil.which("redis-server") or shutil.which("valkey-server")


def start_redis(program: str, port: int, folder: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    import redis

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            redis.Redis(port=port, socket_connect_timeout=1).ping()
            return process
        except redis.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not answer within 20 s")


def drive(run_wrk, wrk: str, urls: list[str], settings: dict) -> float:
    """wrk on every URL at once (one wrk each); the requests/s of all of them together."""
    figures: list[dict] = []

    def one(url: str, seconds: float, keep: bool) -> None:
        result = run_wrk(wrk, url, seconds=seconds, connections=settings["connections"], headers={})
        if keep:
            figures.append(result)

    for seconds, keep in ((settings["warmup"], False), (settings["duration"], True)):
        if not seconds:
            continue
        threads = [threading.Thread(target=one, args=(url, seconds, keep)) for url in urls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return sum(f["rps"] for f in figures)


def bench_instances(
    run: dict, *, wrk: str, env: dict, settings: dict, server_class, run_wrk, free_port, output
) -> dict | None:
    """One instance against two, sharing Redis, at the catalogue of ``run``; None without Redis."""
    program = redis_program()
    if program is None:
        return None
    folder = output / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    redis = start_redis(program, port := free_port(), folder)
    env = {**env, "REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    rows: dict = {}
    try:
        for count in ORDER:
            servers = [
                server_class(
                    env,
                    workers=settings["workers"],
                    log_file=output / f"gunicorn-redis-{count}-{n}.log",
                )
                for n in range(count)
            ]
            try:
                for key, label in ENDPOINTS:
                    path = run["endpoints"][key]["url"]
                    rps = drive(run_wrk, wrk, [s.base + path for s in servers], settings)
                    row = rows.setdefault(key, {"label": label, 1: [], 2: []})
                    row[count].append(rps)
            finally:
                for server in servers:
                    server.stop()
    finally:
        redis.terminate()
        redis.wait(10)
    for row in rows.values():
        row["rounds"] = {1: row[1], 2: row[2]}
        row[1], row[2] = (sum(row[n]) / len(row[n]) for n in (1, 2))
        row["ratio"] = row[2] / row[1] if row[1] else None
    return {"size": run["size"], "endpoints": rows}


def table(result: dict) -> str:
    header = (
        f"| {'size':>7} | {'endpoint (Redis)':<22} | {'1 instance req/s':>16} | "
        f"{'2 instances req/s':>17} | {'ratio':>5} | {'rounds (1; 2)':<27} |"
    )
    lines = [header, "".join("|" if c == "|" else "-" for c in header)]
    for row in result["endpoints"].values():
        rounds = "; ".join(", ".join(f"{rps:.0f}" for rps in row["rounds"][n]) for n in (1, 2))
        lines.append(
            f"| {result['size']:>7,} | {row['label']:<22} | {row[1]:>16.0f} | {row[2]:>17.0f} | "
            f"{row['ratio']:>5.2f} | {rounds:<27} |"
        )
    return "\n".join(lines)
