"""Apply cost at an independent counting proxy: wall against requests × latency / parallelism.

Run: `python benchmarks/bench_apply_proxy.py --via xml --jobs 40 --tasks 50` (issue 17: ≤ 1.3 ×
ideal) or `--via rest --jobs 1 --tasks 10000` (≤ 1.5 × ideal), with `--base
/work/.venv-base/bin/python` to pair each run with the round's baseline.

Each run has a fresh emulator (its own process, no injected latency, a slow scheduler clock)
and `counting_proxy.py` in front of it (another process, adding `--latency-ms` to every
request and counting what crossed the wire). A worker process — this script with
`--worker`, under this tree's Python or `--base` — plans the stack (not timed) and applies it
exactly as `hpcspec apply --auto-approve` does (`apply_plan`), timing the apply only. The
ideal is the apply's requests × latency / parallelism: every request paying the latency
once, `parallelism` at a time, and nothing else. Runs of the two trees alternate, so load
on this shared machine falls on both alike; the figure is the median of `--repeat`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from counting_proxy import counting_proxy
from emulator_process import PASSWORD, USER, serve

QUIET_SCHEDULER = ("--tick", "30", "--nodes", "1", "--cores-per-node", "1")


def worker(url: str, via: str, jobs: int, tasks: int, parallelism: int, reset: str) -> None:
    """Plan, then apply and time it; print the result as JSON (runs under either tree)."""
    import urllib.request

    from hpcspec.cli import THREAD_SWITCH_INTERVAL
    from hpcspec.hpcpack.client import HpcPackClient
    from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions
    from hpcspec.manifest import parse_manifest, resolve

    try:  # this round's engine
        from hpcspec.engine.events import Recorder
        from hpcspec.engine.journal import stack_journal
        from hpcspec.engine.outcomes import Outcome
        from hpcspec.engine.pipeline import apply_plan, plan_stack
        from hpcspec.engine.steps import ApplyOptions, CreateMethod

        def apply(client: Any, desired: Any, plan: Any, journal: Any) -> Any:
            options = ApplyOptions(via=CreateMethod(via), parallelism=parallelism)
            return apply_plan(client, desired, plan, journal, options=options, observer=Recorder())
    except ImportError:  # the round's baseline (/work/base)
        from hpcspec.engine.apply import (  # type: ignore[no-redef]
            ApplyOptions,
            Outcome,
            apply_plan,
        )
        from hpcspec.engine.workflow import plan_stack  # type: ignore[no-redef]

        from hpcspec.engine.journal import Journal

        def stack_journal(state_key: str, stack: str, root: Path) -> Any:
            return Journal(stack, root=root)

        def apply(client: Any, desired: Any, plan: Any, journal: Any) -> Any:
            options = ApplyOptions(via=via, parallelism=parallelism)
            return apply_plan(client, desired, plan, journal, options=options)

    sys.setswitchinterval(THREAD_SWITCH_INTERVAL)  # as every hpcspec command does
    lines = ["apiVersion: hpcspec/v1", "stack: bench", "jobs:"]
    for n in range(jobs):
        lines += [f"  j{n}:", f"    properties: {{Name: bench-{n}}}", "    tasks:"]
        lines += [f"      t{t}: {{commandLine: 'sleep:3600 {t}'}}" for t in range(tasks)]
    desired = resolve(parse_manifest("\n".join(lines) + "\n", file="bench.yaml"))
    client = HpcPackClient(Transport(TransportOptions(url, Credentials(USER, PASSWORD))))
    plan = plan_stack(client, desired, cluster_name=url)
    urllib.request.urlopen(urllib.request.Request(reset, method="POST"), timeout=30).close()
    with tempfile.TemporaryDirectory() as tmp:
        journal = stack_journal("bench", desired.stack, Path(tmp))
        started, cpu = time.perf_counter(), time.process_time()
        result = apply(client, desired, plan, journal)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    client.close()
    bad = [str(r) for r in result.results if r.outcome is not Outcome.DONE]
    print(json.dumps({"wall": wall, "cpu": cpu, "bad": bad[:1]}))


def run(python: str, args: argparse.Namespace) -> dict[str, Any]:
    """One paired-run half: fresh emulator and proxy, a worker under `python`."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(Path(tmp) / "e.db", 0, *QUIET_SCHEDULER) as url,
        counting_proxy(url, args.latency_ms) as (proxied, counts),
    ):
        command = [
            python, __file__, "--worker", proxied, "--via", args.via, "--jobs", str(args.jobs),
            "--tasks", str(args.tasks), "--parallelism", str(args.parallelism),
            "--reset", counts.base + "/__proxy/reset",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"worker under {python} failed: {done.stderr[-800:]}")
        got = json.loads(done.stdout.strip().splitlines()[-1])
        if got["bad"]:
            raise SystemExit(f"worker under {python}: not applied: {got['bad']}")
        calls = counts.counts()
    requests = sum(calls.values())
    ideal = requests * args.latency_ms / 1000 / args.parallelism
    return {
        "wall": got["wall"],
        "cpu": got.get("cpu"),
        "requests": requests,
        "ideal": ideal,
        "calls": calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--via", choices=("xml", "rest"), default="xml")
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--base", help="the baseline tree's python (e.g. /work/.venv-base/bin/python)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--reset", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.via, args.jobs, args.tasks, args.parallelism, args.reset)
        return
    trees = {"this tree": sys.executable} | ({"base": args.base} if args.base else {})
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for _ in range(args.repeat):
        for name, python in trees.items():
            runs[name].append(run(python, args))
    print(
        f"apply {args.jobs} job(s) × {args.tasks} tasks via {args.via}, parallelism "
        f"{args.parallelism}, {args.latency_ms:g} ms per request at an independent counting "
        f"proxy; median of {args.repeat} (machine shared: walls are load-sensitive)"
    )
    for name, got in runs.items():
        walls = sorted(r["wall"] for r in got)
        wall = statistics.median(walls)
        requests, ideal = got[0]["requests"], got[0]["ideal"]
        top = ", ".join(f"{route} ×{n}" for route, n in got[0]["calls"].most_common(5))
        cpus = [r["cpu"] for r in got if r["cpu"] is not None]
        if cpus:  # the worker's CPU (every thread) during the apply, per request
            cpu = statistics.median(cpus)
            each = cpu / requests * 1000
            top += f"\n             client CPU {cpu:.2f} s, {each:.2f} ms per request"

        print(
            f"  {name:>9}: {requests} requests, wall {wall:.2f} s, ideal {ideal:.2f} s, "
            f"wall/ideal {wall / ideal:.2f} (runs: {', '.join(f'{w / ideal:.2f}' for w in walls)})"
            f"\n             {top}"
        )


if __name__ == "__main__":
    main()
