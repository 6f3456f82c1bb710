"""Apply cost: create 100 jobs × 100 tasks via job XML and via REST at 20 ms latency.

Run: `python benchmarks/bench_apply.py [--jobs 100] [--tasks 100] [--parallelism 8]
[--repeat 3] [--via xml|rest|both]`.

The emulator runs as its own process (`hpcspec emulator serve --latency-ms 20`) on a fresh
SQLite file per path. The stack is planned (not timed), then applied with `apply_plan` exactly
as `hpcspec apply --auto-approve` does: create (one job XML request, or the job, its custom
properties and each task by REST), the ClientSource marker, one race-settling listing per wave,
submit. Jobs are independent, so they form one wave.

Figures per path: requests in all and per job (the apply only; the plan is left out), wall
time, and the ideal = requests × latency / parallelism — every request paying the latency
once, `parallelism` at a time, and nothing else (no server or client work). Issue 7's
targets: job XML ≤ 4 requests per job whatever the task count, and wall ≤ 1.5 × ideal.

The emulator stands for the head node, another machine: on Linux with two cores or more it
runs on a core of its own and the client on the others (`--no-pin` to share). The emulator is
one Python process: importing a 100-task job costs it a few milliseconds of
CPU that parallel requests cannot overlap (on a 2-core machine shared with the client). So each
path is also run with no injected latency, and "work" is that wall time; (wall − work) / ideal
isolates what the latency costs, as bench_plan.py does with its "parse time". Wall times on a
shared machine drift by ±15% from one minute to the next: each path runs `--repeat` times and
the median is the figure (every run's ratio is printed too).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from emulator_process import PASSWORD, USER, separate_cores, serve

from hpcspec.cli import THREAD_SWITCH_INTERVAL
from hpcspec.engine.events import Recorder
from hpcspec.engine.journal import stack_journal
from hpcspec.engine.outcomes import Outcome
from hpcspec.engine.pipeline import apply_plan, plan_stack
from hpcspec.engine.steps import ApplyOptions, CreateMethod
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import ResolvedStack


def stack(name: str, jobs: int, tasks: int) -> ResolvedStack:
    lines = ["apiVersion: hpcspec/v1", f"stack: {name}", "jobs:"]
    for n in range(jobs):
        lines += [f"  j{n}:", f"    properties: {{Name: bench-{n}}}", "    tasks:"]
        lines += [f"      t{t}: {{commandLine: 'sleep:3600 {t}'}}" for t in range(tasks)]
    return resolve(parse_manifest("\n".join(lines) + "\n", file="bench.yaml"))


# A slow scheduler clock and one core: the scheduler stays out of the measurement.
QUIET_SCHEDULER = ("--tick", "30", "--nodes", "1", "--cores-per-node", "1")


def counting_client(url: str, pool: int) -> tuple[HpcPackClient, Counter[str]]:
    """A client and a counter of `METHOD route` for each request it sends."""
    options = TransportOptions(url, Credentials(USER, PASSWORD))
    client = HpcPackClient(Transport(options))
    calls: Counter[str] = Counter()
    original = client.transport.request

    def request(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        parts = ["*" if p.isdigit() else p for p in path.split("?")[0].split("/")]
        calls[f"{method} {'/'.join(parts)}"] += 1
        return original(method, path, *args, **kwargs)

    client.transport.request = request  # type: ignore[method-assign]
    return client, calls


def run(
    via: str, jobs: int, tasks: int, parallelism: int, latency_ms: float, pin: bool = True
) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(Path(tmp) / "e.db", latency_ms, *QUIET_SCHEDULER, pin=pin) as url,
    ):
        desired = stack(f"bench-{via}", jobs, tasks)
        client, calls = counting_client(url, parallelism)
        plan = plan_stack(client, desired, cluster_name=url)
        calls.clear()
        started = time.perf_counter()
        result = apply_plan(
            client,
            desired,
            plan,
            stack_journal("bench", desired.stack, Path(tmp) / "journal"),
            options=ApplyOptions(via=CreateMethod(via), parallelism=parallelism),
            observer=Recorder(),
        )
        wall = time.perf_counter() - started
        client.close()
    bad = [r for r in result.results if r.outcome is not Outcome.DONE]
    if bad:
        raise SystemExit(f"{via}: {len(bad)} job(s) not done, e.g. {bad[0]}")
    requests = sum(calls.values())
    ideal = requests * latency_ms / 1000 / parallelism
    return {"requests": requests, "wall": wall, "ideal": ideal, "calls": calls}


def main() -> None:
    sys.setswitchinterval(THREAD_SWITCH_INTERVAL)  # as every hpcspec command does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per path; the median wall is reported"
    )
    parser.add_argument("--via", choices=("xml", "rest", "both"), default="both")
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="let the emulator share cores with the client (by default it has one of its own)",
    )
    args = parser.parse_args()
    split = separate_cores() if args.pin else None
    print(
        f"apply {args.jobs} jobs × {args.tasks} tasks, {args.latency_ms:g} ms latency, "
        f"parallelism {args.parallelism}; "
        + (f"emulator on core {min(split[1])}, client on the rest" if split else "cores shared")
    )
    for via in ("xml", "rest") if args.via == "both" else (args.via,):
        shape = (args.jobs, args.tasks, args.parallelism)
        runs = [run(via, *shape, args.latency_ms, pin=args.pin) for _ in range(args.repeat)]
        walls = sorted(r["wall"] for r in runs)
        got = runs[0] | {"wall": statistics.median(walls)}
        work = run(via, *shape, 0.0, pin=args.pin)["wall"]
        per_job = got["requests"] / args.jobs
        ratio = got["wall"] / got["ideal"]
        spread = ", ".join(f"{w / got['ideal']:.2f}" for w in walls)
        print(
            f"  {via:4}: {got['requests']} requests ({per_job:.2f} per job), "
            f"wall {got['wall']:.2f} s (median of {len(walls)}), ideal {got['ideal']:.2f} s, "
            f"wall/ideal {ratio:.2f} (runs: {spread}); work (no latency) {work:.2f} s, "
            f"(wall − work)/ideal {(got['wall'] - work) / got['ideal']:.2f}"
        )
        top = ", ".join(f"{route} ×{n}" for route, n in got["calls"].most_common(6))
        print(f"        {top}")
        if via == "xml":
            print(
                f"        target ≤ 4 requests per job: {'met' if per_job <= 4 else 'MISSED'}; "
                f"wall ≤ 1.5 × ideal: {'met' if ratio <= 1.5 else 'MISSED'}"
            )


if __name__ == "__main__":
    main()
