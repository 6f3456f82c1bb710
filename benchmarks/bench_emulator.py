"""Emulator throughput: GET /jobs/{id} with 8 concurrent clients, and listing 20,000 jobs.

Run: `python benchmarks/bench_emulator.py` (targets on a 2-core machine: ≥ 400 requests/s and
≤ 3 s to list 20,000 jobs with rowsPerRead=1000). The server runs as its own process
(`hpcspec emulator serve`) so the clients do not share its interpreter; the 20,000 jobs are
inserted straight through the store before it starts.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from hpcspec.emulator import state_machine
from hpcspec.emulator.store import Store

USER, PASSWORD = "HPC\\bench", "bench-password"
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def seed(db: Path, count: int) -> None:
    store = Store(db)
    now = time.time()
    jobs = []
    for job_id in range(1, count + 1):
        job = state_machine.new_job(job_id, USER, now)
        job.props["Name"] = f"bench-{job_id:05d}"
        jobs.append(job)
    store.insert_jobs(jobs)
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


def requests_per_second(url: str, clients: int, seconds: float, job_count: int) -> float:
    parts = urlsplit(url)
    done = [0] * clients
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        job = index + 1
        while time.monotonic() < stop:
            status, _, _ = get(conn, f"{parts.path}/jobs/{job}")
            assert status == 200, status
            done[index] += 1
            job = job % job_count + 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - began)


def list_all(url: str, rows: int) -> tuple[float, int, int]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    began = time.monotonic()
    total = pages = 0
    query = ""
    while True:
        suffix = f"&queryId={query}" if query else ""
        status, body, token = get(conn, f"{parts.path}/jobs?rowsPerRead={rows}{suffix}")
        assert status == 200, status
        total += len(json.loads(body))
        pages += 1
        if not token:
            break
        query = token
    return time.monotonic() - began, total, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        began = time.monotonic()
        seed(db, args.jobs)
        print(f"seeded {args.jobs} jobs through the store in {time.monotonic() - began:.2f} s")
        server, url = start_server(db)
        try:
            rate = requests_per_second(url, args.clients, args.seconds, args.jobs)
            print(f"GET /jobs/{{id}} with {args.clients} clients: {rate:.0f} requests/s "
                  f"(target >= 400)")  # fmt: skip
            elapsed, total, pages = list_all(url, 1000)
            print(f"listed {total} jobs in {pages} pages of rowsPerRead=1000: {elapsed:.2f} s "
                  f"(target <= 3 s)")  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
