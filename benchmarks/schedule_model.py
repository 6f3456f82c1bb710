"""A model of how apply schedules a wave of job XML creates: the floor of bench_apply_proxy's ratio.

Run: `python benchmarks/schedule_model.py` (40 and 100 jobs; the figures in
docs/performance.md).

It replays the policy of `executor._Executor._run_wave` with simulated requests instead of a
cluster: at most `parallelism` tasks at once; a key's first task is its create; its mark is
one request (plus, for the first one, the read of whether the cluster keeps ClientSource,
which the marks sent meanwhile wait for, unless the policy lets them go on and has the
listing wait for it instead); a batch of race checks is settled by one listing
(a task of its own) once `max(parallelism, jobs / 8)` checks are parked or nothing else can
park one; a settled key's submit runs (one request), then it parks for the re-check, which
rides along with the next listing. Keys waiting to resume go before keys not started yet.
Each request takes the latency plus a random server time (uniform around its mean; a
create's mean may differ) plus the client's time. The ratio is wall / (requests × latency /
parallelism), as the bench computes it; with no overhead it is what the schedule itself
costs. Perfect packing with overhead is (latency + overhead) / latency: 1.35 × at 4 + 3 ms.

The policies compared:

- *mark, then check*: the executor before the mark ran beside the race check (a key's
  create and mark are one task; the key parks after both).
- *mark beside the check*: a job XML job is whole when its create returns and its pending
  Name already carries its identity, so the key parks for the race check right after the
  create while its mark runs as a task of its own, before any other waiting work; the submit
  waits for both. A running mark parks no key, so a batch does not wait for marks to end.
  Until the ClientSource read has answered, marks run right after their create, as before.
- *… and the last keys first*: once at most 2 × parallelism keys are left
  to start, they start before other keys resume (their marks excepted), so the wave's last
  key is not created late.
- *… and marks not waiting for the ClientSource read*: what apply does. Without a cluster
  profile, the marks sent while the first one's read is in flight go on at once (their slots
  start the next keys); the race check's listing waits for the read instead.
- *… and eager last batches* (not done): once every key has started, whatever is parked is
  settled whenever slots would idle; more listings, and no gain at 40 jobs.
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """One way to schedule a wave."""

    name: str
    mark_beside: bool = False  # the mark runs beside the race check, not before it
    tail_first: bool = False  # the last keys start before others resume
    eager_tail: bool = False  # once every key started, settle whatever is parked if slots idle
    read_aside: bool = False  # marks do not wait for the ClientSource read; a listing does


POLICIES = (
    Policy("mark, then check (before)"),
    Policy("mark beside the check", mark_beside=True),
    Policy("… and the last keys first", mark_beside=True, tail_first=True),
    Policy(
        "… and marks not waiting for the ClientSource read (apply)",
        mark_beside=True,
        tail_first=True,
        read_aside=True,
    ),
    Policy(
        "… and eager last batches",
        mark_beside=True,
        tail_first=True,
        read_aside=True,
        eager_tail=True,
    ),
)


Trace = list[tuple[float, float, str, object]]  # (start, end, kind, item) of each task


def simulate(
    jobs: int, parallelism: int, latency: float, server: float, client: float, seed: int,
    policy: Policy, create_server: float | None = None, trace: Trace | None = None,
) -> tuple[float, int]:  # fmt: skip
    """(wall ms, requests) of one simulated wave; each task goes to `trace`."""
    rng = random.Random(seed)
    create_server = server if create_server is None else create_server
    batch = max(parallelism, jobs // 8)
    to_start: deque[int] = deque(range(jobs))
    to_resume: deque[tuple[int, str]] = deque()  # (key, "mark" | "submit" | "done")
    parked: list[tuple[int, str]] = []  # (key, "check" | "recheck")
    marked: set[int] = set()  # keys whose mark ended
    won: set[int] = set()  # keys settled in our favour whose mark has not ended
    running: dict[int, tuple[str, object]] = {}
    ends: list[tuple[float, int]] = []
    now, serial, requests = 0.0, 0, 0
    learned = reading = settling = False
    read_end: float | None = None  # when the ClientSource read answers (`read_aside`)

    def request_time(count: int, creates: int) -> float:
        times = [create_server] * creates + [server] * (count - creates)
        return sum(latency + rng.uniform(0, 2 * mean) + client for mean in times)

    def launch(
        kind: str, item: object, count: int, waits: int = 0, not_before: float = 0.0
    ) -> float:
        """`count` requests in a row, after `waits` request times spent waiting (and not
        before `not_before`); when they end."""
        nonlocal serial, requests
        serial += 1
        requests += count
        running[serial] = (kind, item)
        end = max(now, not_before) + request_time(count + waits, int(kind == "start"))
        heapq.heappush(ends, (end, serial))
        if trace is not None:
            trace.append((now, end, kind, item))
        return end

    def mark_requests() -> tuple[int, int]:
        """A mark's requests and waits: before the read of whether ClientSource is kept has
        answered, every mark waits for it (unless `read_aside`); one of them sends it."""
        nonlocal reading
        waits = int(not learned and reading and not policy.read_aside)
        count = 1 + (not reading and not learned)
        reading = reading or not learned
        return count, waits

    def marking(kind: str, item: object, first: int = 0) -> None:
        """Launch a mark (after `first` requests of its key's own); the read's end, if it
        sends the read."""
        nonlocal read_end
        reads = not reading and not learned
        count, waits = mark_requests()
        end = launch(kind, item, first + count, waits)
        if reads and policy.read_aside:
            read_end = end

    def resume() -> int:
        """Launch the next resumed task; 1 if it will park a key."""
        key, what = to_resume.popleft()
        if what == "mark":
            marking("mark", key)
            return 0
        launch("resume", (key, what), 1 if what == "submit" else 0)
        return 1

    while to_start or to_resume or parked or running:
        # Tasks that will park a key: a batch waits for them (a running mark parks none).
        parking = sum(kind in ("start", "marking", "resume") for kind, _ in running.values())
        while len(running) < parallelism:
            resuming = any(what != "mark" for _, what in to_resume)
            idle = not (to_start or resuming or parking)
            checks = sum(1 for _, what in parked if what == "check")
            tail = policy.tail_first and 0 < len(to_start) <= 2 * parallelism
            eager = policy.eager_tail and not to_start and not to_resume and checks
            if parked and not settling and (checks >= batch or idle or eager):
                waiting = policy.read_aside and not learned and read_end is not None
                launch("settle", list(parked), 1, not_before=read_end if waiting else 0.0)
                parked, settling = [], True
            elif to_resume and (not tail or to_resume[0][1] == "mark"):
                parking += resume()
            elif to_start:
                key = to_start.popleft()
                if policy.mark_beside:
                    launch("start", key, 1)
                else:
                    marking("start", key, first=1)
                parking += 1
            elif to_resume:
                parking += resume()
            else:
                break
        now, first = heapq.heappop(ends)
        learned = learned or (read_end is not None and now >= read_end)
        done = [first]
        while ends and ends[0][0] <= now:  # the executor takes every task finished so far
            done.append(heapq.heappop(ends)[1])
        for serial_done in done:
            kind, item = running.pop(serial_done)
            if kind == "settle":
                settling = False
                assert isinstance(item, list)
                for key, what in item:
                    if what == "recheck":
                        to_resume.append((key, "done"))
                    elif key in marked or not policy.mark_beside:
                        to_resume.append((key, "submit"))
                    else:
                        won.add(key)
            elif kind == "start" and policy.mark_beside and not learned:
                # Until the ClientSource read has answered, a listing could miss marked
                # jobs: the key's mark runs first, in its slot, as before.
                marking("marking", item)
            elif kind in ("start", "marking"):
                inline = kind == "marking" or not policy.mark_beside
                learned = learned or (inline and not policy.read_aside)
                assert isinstance(item, int)
                parked.append((item, "check"))
                if inline:
                    marked.add(item)
                else:
                    to_resume.appendleft((item, "mark"))
            elif kind == "mark":
                learned = True
                assert isinstance(item, int)
                marked.add(item)
                if item in won:
                    won.discard(item)
                    to_resume.append((item, "submit"))
            else:
                assert isinstance(item, tuple)
                if item[1] == "submit":
                    parked.append((item[0], "recheck"))
    assert not won, "every key settled in our favour was submitted"
    return now, requests


SCENARIOS = (  # (server ms, server ms of a create, client ms) per request
    (0.0, 0.0, 0.0),
    (4.0, 4.0, 3.0),
    (8.0, 8.0, 5.0),
    (4.0, 16.0, 5.0),  # as the proxy's timelines show: an import waits 15–18 ms, a PUT 3–4
)


def floor(jobs: int, parallelism: int, latency: float, scenario: tuple[float, float, float],
          runs: int, policy: Policy) -> float:  # fmt: skip
    """The median ratio over `runs` seeds."""
    server, create, client = scenario
    ratios = []
    for seed in range(runs):
        wall, requests = simulate(
            jobs, parallelism, latency, server, client, seed, policy, create_server=create
        )
        ratios.append(wall / (requests * latency / parallelism))
    return statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[40, 100])
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=15, help="seeds; the median is printed")
    args = parser.parse_args()
    for jobs in args.jobs:
        print(f"{jobs} job XML creates, parallelism {args.parallelism}, {args.latency_ms:g} ms")
        for scenario in SCENARIOS:
            server, create, client = scenario
            creates = f" ({create:g} ms a create)" if create != server else ""
            print(f"  server {server:g} ms{creates}, client {client:g} ms per request:")
            for policy in POLICIES:
                ratio = floor(jobs, args.parallelism, args.latency_ms, scenario, args.runs, policy)
                print(f"    {policy.name}: {ratio:.2f} ×")


if __name__ == "__main__":
    main()
