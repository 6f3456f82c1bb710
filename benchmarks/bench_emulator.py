"""Emulator throughput: every job-listing query shape, GET /jobs/{id}, and big listings.

Run: `python benchmarks/bench_emulator.py` (targets on a 2-core machine, issue 17: every job
listing shape ≥ 1,000 requests/s with 8 clients; 20,000 jobs listed with rowsPerRead=1000 in
≤ 3 s; a job of 100,000 tasks listed with rowsPerRead=1000 in ≤ 3 s). The server runs as its own
process (`hpcspec emulator serve`) so the clients do not share its interpreter; jobs and tasks
are inserted straight through the store before it starts. `--runs N` repeats each measurement
and prints the median and the range; for the big listings it also prints the CPU time the
emulator process used, a figure other load on the machine changes far less than wall time.

Shapes (rowsPerRead=10 unless said, over a cluster of `--jobs` jobs of three owners in every
state): `GET /jobs/{id}`; `plain` `GET /jobs`; `$filter` `GET /jobs?$filter=JobState eq
Failed`; `owner` `GET /jobs?owner=HPC\\bob`; `properties` `GET /jobs?properties=Id,Name,State,
ClientSource,FailedTaskCount` (the columns hpcspec's status reads).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

from hpcspec.emulator import state_machine
from hpcspec.emulator.store import Store
from hpcspec.hpcpack.states import TaskState

USER, PASSWORD = "HPC\\bench", "bench-password"
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
OWNERS = ("HPC\\bench", "HPC\\bob", "HPC\\carol")
# States the scheduler's clock leaves alone, so what is measured is the listing, not the clock
# moving thousands of seeded jobs that hold no cores.
STATES = ("Configuring", "Finished", "Failed", "Canceled")
BIG_JOB = 1  # the job that holds --tasks tasks
SHAPES = {
    "plain": "/jobs?rowsPerRead=10",
    "$filter": "/jobs?rowsPerRead=10&$filter=" + quote("JobState eq Failed"),
    "owner": "/jobs?rowsPerRead=10&owner=" + quote("HPC\\bob"),
    "properties": "/jobs?rowsPerRead=10&properties=Id,Name,State,ClientSource,FailedTaskCount",
}


def seed(db: Path, jobs: int, tasks: int) -> None:
    """`jobs` jobs of three owners in every state; job 1 holds `tasks` Finished tasks."""
    store = Store(db)
    now = time.time()
    rows = []
    for job_id in range(1, jobs + 1):
        job = state_machine.new_job(job_id, OWNERS[job_id % 3], now)
        job.props["Name"] = f"bench-{job_id:05d}"
        job.props["State"] = STATES[job_id % len(STATES)]
        job.props["ClientSource"] = "hpcspec" if job_id % 2 else "HPC Cluster Manager"
        rows.append(job)
    store.insert_jobs(rows)
    big = rows[BIG_JOB - 1]
    batch = 10_000
    for first in range(1, tasks + 1, batch):
        chunk = state_machine.new_tasks(big, range(first, min(first + batch, tasks + 1)), now)
        for task in chunk:
            task.props["CommandLine"] = f"echo {task.task_id}"
            state_machine.set_task_state(task, TaskState.Finished, now)
        store.save_tasks(chunk)
    store.close()


def start_server(db: Path) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable, "-m", "hpcspec", "emulator", "serve", "--port", "0", "--db", str(db),
        "--user", f"{USER}:{PASSWORD}:admin",
    ]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline().strip()
    if "listening on" not in line:
        server.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return server, line.rsplit(" ", 1)[-1]


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes, str | None]:
    conn.request("GET", path, headers={"Authorization": AUTH, "Accept": "application/json"})
    reply = conn.getresponse()
    body = reply.read()
    return reply.status, body, reply.getheader("x-ms-continuation-queryId")


def requests_per_second(
    url: str, clients: int, seconds: float, path_of: Callable[[int], str]
) -> tuple[float, int]:
    """(requests answered per second, requests) by `clients` threads, each on its own
    connection."""
    parts = urlsplit(url)
    done = [0] * clients
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        count = index
        while time.monotonic() < stop:
            status, _, _ = get(conn, parts.path + path_of(count))
            assert status == 200, status
            done[index] += 1
            count += clients
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - began), sum(done)


def list_all(url: str, path: str, rows: int) -> tuple[float, int, int]:
    """(seconds, rows, pages) to read a whole listing with the continuation header."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    began = time.monotonic()
    total = pages = 0
    query = ""
    while True:
        suffix = f"&queryId={query}" if query else ""
        status, body, token = get(conn, f"{parts.path}{path}?rowsPerRead={rows}{suffix}")
        assert status == 200, (status, body[:200])
        total += len(json.loads(body))
        pages += 1
        if not token:
            break
        query = token
    conn.close()
    return time.monotonic() - began, total, pages


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(values: list[float], unit: str) -> str:
    """`median unit (median of N, low–high)`."""
    precise = unit in ("s", "ms")
    middle = statistics.median(values)
    shown = f"{middle:.2f}" if precise else f"{middle:.0f}"
    if len(values) == 1:
        return f"{shown} {unit}"
    low, high = min(values), max(values)
    spread = f"{low:.2f}–{high:.2f}" if precise else f"{low:.0f}–{high:.0f}"
    return f"{shown} {unit} (median of {len(values)}, {spread})"


def host_speed() -> float:
    """Seconds for a fixed pure-Python loop (as benchmarks/bench_jobxml.py prints it): this
    shared VM's speed varies by half over minutes, so figures are read next to it."""
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def context() -> str:
    """The host's speed and load, printed before and after the measurements."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return f"a 10,000,000-step Python loop takes {host_speed():.2f} s; load average {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks of the big job")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        began = time.monotonic()
        seed(db, args.jobs, args.tasks)
        print(f"seeded {args.jobs} jobs and a job of {args.tasks} tasks through the store "
              f"in {time.monotonic() - began:.2f} s")  # fmt: skip
        print(f"host before: {context()}")
        server, url = start_server(db)
        try:
            jobs = args.jobs
            shapes: dict[str, Callable[[int], str]] = {
                "GET /jobs/{id}": lambda i: f"/jobs/{i % jobs + 1}",
                **{name: (lambda i, p=path: p) for name, path in SHAPES.items()},
            }
            for name, path_of in shapes.items():
                rates, cpu = [], []
                for _ in range(args.runs):
                    before = cpu_seconds(server.pid)
                    rate, count = requests_per_second(url, args.clients, args.seconds, path_of)
                    rates.append(rate)
                    cpu.append((cpu_seconds(server.pid) - before) / count * 1000)
                print(f"{name:<16} {args.clients} clients: {summary(rates, 'requests/s')} "
                      f"(target >= 1000); emulator CPU per request "
                      f"{summary(cpu, 'ms')}")  # fmt: skip
            for label, path, target in (
                (f"{args.jobs} jobs", "/jobs", 3.0),
                (f"a job of {args.tasks} tasks", f"/jobs/{BIG_JOB}/tasks", 3.0),
            ):
                times, cpu = [], []
                for _ in range(args.runs):
                    before = cpu_seconds(server.pid)
                    elapsed, total, pages = list_all(url, path, 1000)
                    times.append(elapsed)
                    cpu.append(cpu_seconds(server.pid) - before)
                print(f"listed {label} ({total} rows, {pages} pages of rowsPerRead=1000): "
                      f"{summary(times, 's')} (target <= {target:.0f} s); "
                      f"emulator CPU {summary(cpu, 's')}")  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=10)
        print(f"host after: {context()}")


if __name__ == "__main__":
    main()
