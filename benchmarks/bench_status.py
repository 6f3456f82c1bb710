"""Status cost: `hpcspec status` of a 1,000-job stack behind a counting proxy adding 20 ms.

Run: `python benchmarks/bench_status.py [--jobs 1000] [--latency-ms 20] [--repeat 5]
[--base /work/.venv-base/bin/hpcspec]` (issue 17's target: the listing pages + 1 request per
job with failed tasks to explain; 1,000 jobs at 20 ms ≤ 1.5 s; `--watch` refreshes at the
same cost).

The emulator runs as its own process with a fast scheduler; the stack (one task per job:
every 20th fails with `exit:3`, every 20th runs for an hour, the rest finish) is applied
straight to it, then left to settle. `counting_proxy.py` — another process, not part of
hpcspec — sits in front, waits `--latency-ms` per request and counts what crossed the wire.

Figures: each `hpcspec status MANIFEST --output json` as a whole process (start-up
included, as a user sees it), this tree's against `--base`'s (the round's baseline, with
`--no-provenance`, its cheapest form), interleaved run by run so machine load falls on both
alike; median of `--repeat`. Then the cost of one `--watch` refresh (the same calls the
command's loop makes, in this process: no start-up), and once each `status --stack NAME`
(no manifest: each job's key is a custom-property read) and `--provenance` (one read per
job). Wall times on this shared 2-core machine are load-sensitive; request counts are not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from counting_proxy import ProxyCounts, counting_proxy
from emulator_process import PASSWORD, USER, serve

from hpcspec.engine.events import Recorder
from hpcspec.engine.journal import stack_journal
from hpcspec.engine.outcomes import ApplyVerdict, apply_verdict
from hpcspec.engine.pipeline import apply_plan, plan_stack
from hpcspec.engine.status import stack_status
from hpcspec.engine.steps import ApplyOptions
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.states import JobState
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import ResolvedStack

STACK = "bench-status"
HERE = Path(sys.executable).with_name("hpcspec")
SCHEDULER = (
    "--tick",
    "0.05",
    "--simulate-seconds",
    "0.05",
    "--nodes",
    "4",
    "--cores-per-node",
    "64",
)


def command_of(n: int) -> str:
    return "exit:3" if n % 20 == 0 else "sleep:3600" if n % 20 == 1 else "echo ok"


def manifest(jobs: int) -> str:
    lines = ["apiVersion: hpcspec/v1", f"stack: {STACK}", "jobs:"]
    for n in range(jobs):
        lines += [f"  j{n:04d}:", "    tasks:", f"      t: {{commandLine: '{command_of(n)}'}}"]
    return "\n".join(lines) + "\n"


def stack(jobs: int) -> ResolvedStack:
    return resolve(parse_manifest(manifest(jobs), file="bench.yaml"))


def client(url: str) -> HpcPackClient:
    return HpcPackClient(Transport(TransportOptions(url, Credentials(USER, PASSWORD))))


def settle(url: str, jobs: int) -> Counter[str]:
    """Wait until every job of the stack is Running, Finished or Failed; their states."""
    reader = client(url)
    try:
        for _ in range(600):
            states = Counter(j.state.name or "" for j in reader.list_jobs())
            settled = sum(states[s.name or ""] for s in (JobState.Running, *_ENDED))
            if settled >= jobs:
                return states
            time.sleep(0.5)
    finally:
        reader.close()
    raise SystemExit(f"the stack did not settle: {states}")


_ENDED = (JobState.Finished, JobState.Failed)


def run_status(hpcspec: Path, url: str, counts: ProxyCounts, *extra: str) -> tuple[float, int]:
    """One `hpcspec status` process: (wall seconds, requests at the proxy)."""
    env = os.environ | {
        "HPCSPEC_CLUSTER": url,
        "HPCSPEC_USERNAME": USER,
        "HPCSPEC_PASSWORD": PASSWORD,
        "NO_COLOR": "1",
    }
    counts.reset()
    started = time.perf_counter()
    done = subprocess.run(
        [str(hpcspec), "status", "--output", "json", *extra],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{hpcspec} status failed ({done.returncode}): {done.stderr[-500:]}")
    calls = counts.counts()
    ROUTES[str(hpcspec), *extra] = calls
    return wall, sum(calls.values())


ROUTES: dict[tuple[str, ...], Counter[str]] = {}  # the last run's requests by route


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--base", type=Path, help="the baseline's hpcspec (e.g. /work/base)")
    args = parser.parse_args()
    desired = stack(args.jobs)
    failing = sum(1 for n in range(args.jobs) if n % 20 == 0)
    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp) / "e.db", 0, *SCHEDULER) as url:
        setup = client(url)
        plan = plan_stack(setup, desired, cluster_name=url)
        journal = stack_journal("bench", STACK, Path(tmp) / "journal")
        options = ApplyOptions(parallelism=8)
        result = apply_plan(setup, desired, plan, journal, options=options, observer=Recorder())
        setup.close()
        assert apply_verdict([result]) is ApplyVerdict.APPLIED, result
        states = settle(url, args.jobs)
        print(
            f"status of {args.jobs} jobs ({dict(states)}), {args.latency_ms:g} ms per request "
            f"at an independent counting proxy; {failing} jobs have failed tasks"
        )
        file = Path(tmp) / "bench.yaml"
        file.write_text(manifest(args.jobs))
        with counting_proxy(url, args.latency_ms) as (proxied, counts):
            pairs = [("this tree", HERE, (str(file),))]
            if args.base:
                pairs.append(("base --no-provenance", args.base, (str(file), "--no-provenance")))
            runs: dict[str, list[tuple[float, int]]] = {name: [] for name, *_ in pairs}
            for _ in range(args.repeat):
                for name, binary, extra in pairs:
                    runs[name].append(run_status(binary, proxied, counts, *extra))
            for name, got in runs.items():
                walls = [w for w, _ in got]
                requests = got[0][1]
                print(
                    f"  {name:>20}: {requests} requests, wall {statistics.median(walls):.2f} s "
                    f"(median of {len(walls)}: {', '.join(f'{w:.2f}' for w in walls)}); "
                    f"ideal {requests * args.latency_ms / 1000:.2f} s sequential"
                )
            for (binary, *extra), calls in ROUTES.items():
                top = ", ".join(f"{route} ×{n}" for route, n in calls.most_common(4))
                print(f"      {Path(binary).parent.parent.name} {' '.join(extra)}: {top}")
            for extra in (("--stack", STACK), (str(file), "--provenance")):
                wall, requests = run_status(HERE, proxied, counts, *extra)
                print(f"  this tree {' '.join(extra)}: {requests} requests, wall {wall:.2f} s")
            reader = client(proxied)
            refreshes = []
            for _ in range(3):
                counts.reset()
                started = time.perf_counter()
                stack_status(reader, STACK, list(desired.jobs))
                refreshes.append((time.perf_counter() - started, sum(counts.counts().values())))
            reader.close()
            print(
                "  --watch refreshes (in process): "
                + ", ".join(f"{n} requests {w:.2f} s" for w, n in refreshes)
            )
            median = statistics.median(w for w, _ in runs["this tree"])
            print(
                f"  expected requests: 1 listing page + {failing} failed-task listings + 1 "
                f"date-format read = {failing + 2}; target 1,000 jobs ≤ 1.5 s: "
                f"{'met' if median <= 1.5 else 'MISSED'}"
            )


if __name__ == "__main__":
    main()
