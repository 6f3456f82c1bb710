"""A model of how apply schedules a wave of job XML creates: the floor of bench_apply_proxy's ratio.

Run: `python benchmarks/schedule_model.py --jobs 40` (the figures in docs/performance.md).

It replays the policy of `executor._Executor._run_wave` with simulated requests instead of a
cluster: at most `parallelism` tasks at once; a key's first task is its create and mark (two
requests, plus the one ClientSource read of the first batch), then it parks for a race check;
a batch is settled by one listing (a task of its own) once `max(parallelism, jobs / 8)`
checks are parked or nothing else can park one; a settled key's submit runs (one request),
then it parks for the re-check, which rides along with the next listing. Keys waiting to
resume go before keys not started yet, as in the executor. Each request takes the latency
plus a random server time (uniform, `--server-ms` on average) plus `--client-ms`. The ratio
is wall / (requests × latency / parallelism), as the bench computes it; with no overhead it
is what the schedule itself costs.
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
from collections import deque


def simulate(
    jobs: int,
    parallelism: int,
    latency: float,
    server: float,
    client: float,
    seed: int,
    *,
    starts_first_tail: bool = False,
) -> tuple[float, int]:
    """(wall ms, requests) of one simulated wave. `starts_first_tail`: once at most
    2 × parallelism keys are left to start, start them before resuming others."""
    rng = random.Random(seed)
    batch = max(parallelism, jobs // 8)
    to_start: deque[int] = deque(range(jobs))
    to_resume: deque[tuple[int, str]] = deque()
    parked: list[tuple[int, str]] = []  # (key, "check" | "recheck")
    running: dict[int, tuple[str, object]] = {}
    ends: list[tuple[float, int]] = []
    now, serial, requests, learned, reading, settling = 0.0, 0, 0, False, False, False

    def request_time(count: int) -> float:
        return sum(latency + rng.uniform(0, 2 * server) + client for _ in range(count))

    def launch(kind: str, item: object, count: int, waits: int = 0) -> None:
        """`count` requests in a row, after `waits` request times spent waiting."""
        nonlocal serial, requests
        serial += 1
        requests += count
        running[serial] = (kind, item)
        heapq.heappush(ends, (now + request_time(count + waits), serial))

    while to_start or to_resume or parked or running:
        busy = any(kind != "settle" for kind, _ in running.values())
        while len(running) < parallelism:
            idle = not (to_start or to_resume or busy)
            checks = sum(1 for _, what in parked if what == "check")
            tail = starts_first_tail and 0 < len(to_start) <= 2 * parallelism
            if parked and not settling and (checks >= batch or idle):
                launch("settle", list(parked), 1)
                parked, settling = [], True
            elif to_resume and not tail:
                key, what = to_resume.popleft()
                launch("resume", (key, what), 1 if what == "submit" else 0)
                busy = True
            elif to_start:
                # Before the read of whether ClientSource is kept has answered, every mark
                # waits for it; one of them sends it.
                launch("start", to_start.popleft(), 2 + (not reading and not learned),
                       waits=not learned and reading)  # fmt: skip
                reading = reading or not learned
                busy = True
            elif to_resume:
                key, what = to_resume.popleft()
                launch("resume", (key, what), 1 if what == "submit" else 0)
                busy = True
            else:
                break
        now, first = heapq.heappop(ends)
        done = [first]
        while ends and ends[0][0] <= now:  # the executor takes every task finished so far
            done.append(heapq.heappop(ends)[1])
        for serial_done in done:
            kind, item = running.pop(serial_done)
            if kind == "settle":
                settling = False
                assert isinstance(item, list)
                to_resume.extend((k, "submit" if what == "check" else "done") for k, what in item)
            elif kind == "start":
                learned = True
                assert isinstance(item, int)
                parked.append((item, "check"))
            else:
                assert isinstance(item, tuple)
                if item[1] == "submit":
                    parked.append((item[0], "recheck"))
    return now, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=15, help="seeds; the median is printed")
    args = parser.parse_args()
    print(f"{args.jobs} job XML creates, parallelism {args.parallelism}, {args.latency_ms:g} ms")
    for server, client in ((0.0, 0.0), (4.0, 3.0), (8.0, 5.0)):
        cells = []
        for tail in (False, True):
            ratios = []
            for seed in range(args.runs):
                wall, requests = simulate(
                    args.jobs, args.parallelism, args.latency_ms, server, client, seed,
                    starts_first_tail=tail,
                )  # fmt: skip
                ratios.append(wall / (requests * args.latency_ms / args.parallelism))
            name = "last keys started first" if tail else "as apply does"
            cells.append(f"{name} {statistics.median(ratios):.2f} ×")
        print(f"  server {server:g} ms, client {client:g} ms per request: " + "; ".join(cells))


if __name__ == "__main__":
    main()
