"""Client CPU per request for the XML apply's request kinds, against a running emulator.

Run: `python benchmarks/bench_client_cpu.py` (CPU time), `--instructions` (instruction counts
under valgrind: deterministic, what an A/B decision on a shared machine should use),
`--profile KIND` (a cProfile of one kind's loop), `--base /work/.venv-base/bin/python` to pair
each measure with another tree.

Each kind runs in its own worker process against a fresh emulator (its own process, no
injected latency, a slow scheduler clock), so what is measured is the client's alone. The
kinds are the calls the XML apply makes, as it makes them: `create` (render a 50-task
`JobDefinition` to job XML and `POST /jobs/jobFile`), `render` (the rendering alone), `mark`
(the marker `PUT /jobs/{id}`), `submit` (`POST /jobs/{id}/submit`), `listing` (`GET /jobs`
of a 40-job stack with the status columns, as the apply's lock listings read it) and `settle`
(the same with the identity columns only, as the race check's settling listing reads it).
CPU time is `time.thread_time()` of the calling thread over `--calls` calls: other
processes do not add to it, but the VM's speed still moves it. Instructions are valgrind's
"I refs" of a worker making `--calls` calls, less those of the same worker making none.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from emulator_process import PASSWORD, USER, serve

KINDS = ("create", "render", "mark", "submit", "listing", "settle")
QUIET_SCHEDULER = ("--tick", "30", "--nodes", "1", "--cores-per-node", "1")
STACK_JOBS = 40  # the jobs a settling listing reads (issue 17's 40 × 50 apply)
VALGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")


def worker(url: str, kind: str, calls: int, pool: int, profile: bool) -> float:
    """Microseconds of this thread's CPU per call of `kind` (runs under either tree)."""
    import cProfile
    import pstats
    import time

    from hpcspec.hpcpack import jobxml
    from hpcspec.hpcpack.client import HpcPackClient
    from hpcspec.hpcpack.definition import JobDefinition, TaskDefinition
    from hpcspec.hpcpack.live import JobColumns
    from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions

    client = HpcPackClient(Transport(TransportOptions(url, Credentials(USER, PASSWORD))))
    tasks = tuple(TaskDefinition(name=f"t{i}", command_line=f"sleep:3600 {i}") for i in range(50))
    definition = JobDefinition(
        properties=(("Name", "hpcspec-pending-bench"), ("Priority", "Normal")), tasks=tasks
    )
    marker = {"Name": "bench", "ClientSource": "hpcspec:0123456789abcdef:0123456789abcdef"}
    # The same jobs whatever `calls` is (instruction counts subtract a run making no calls);
    # every path is warmed once.
    made = STACK_JOBS if kind in ("listing", "settle") else 2
    ids = [client.create_job_xml(definition) for _ in range(made)]
    if kind == "submit":  # jobs to submit: the same number for every `calls`
        ids += [client.create_job_xml(JobDefinition()) for _ in range(pool)]
    for job in ids[:2]:
        client.set_job(job, marker)
    client.submit_job(ids[0])
    prefix = "hpcspec-pending"  # every row is one of the stack's, as in the apply

    columns = JobColumns.IDENTITY if kind == "settle" else JobColumns.STATUS

    def listing() -> list[Any]:
        jobs = client.list_jobs(columns=columns, name_prefix=prefix)
        return list(jobs)

    assert len(listing()) == STACK_JOBS or kind not in ("listing", "settle")
    jobxml.render(definition)

    def loop() -> None:
        for n in range(calls):
            if kind == "create":
                client.create_job_xml(definition)
            elif kind == "render":
                jobxml.render(definition).decode()
            elif kind == "mark":
                client.set_job(ids[1], marker)
            elif kind == "submit":
                client.submit_job(ids[2 + n])
            else:
                listing()

    if profile:
        profiler = cProfile.Profile(time.thread_time)
        profiler.runcall(loop)
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats(os.environ.get("SORT", "tottime")).print_stats(40)
    start = time.thread_time()
    if not profile:
        loop()
    spent = time.thread_time() - start
    client.close()
    return spent / max(calls, 1) * 1e6


def measure(python: str, kind: str, calls: int, *, instructions: bool, profile: bool) -> float:
    """One worker against a fresh emulator: µs per call, or instructions per call."""
    runs = (calls, 0) if instructions else (calls,)
    got: list[float] = []
    for count in runs:
        with (
            tempfile.TemporaryDirectory() as scratch,
            serve(Path(scratch) / "emulator.db", 0, *QUIET_SCHEDULER) as url,
        ):
            command = [python, __file__, "--worker", url, "--kind", kind, "--calls", str(count)]
            command += ["--pool", str(calls)]
            command += ["--profile"] if profile else []
            if instructions:
                command = [*VALGRIND, *command]
            out = subprocess.run(command, capture_output=True, text=True, check=False)
            if out.returncode:
                raise SystemExit(f"{python} {kind}: the worker failed:\n{out.stderr[-2000:]}")
            if profile:
                print(out.stderr)
            if instructions:
                refs = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
                if refs is None:
                    raise SystemExit(f"no instruction count from valgrind:\n{out.stderr[-800:]}")
                got.append(float(refs.group(1).replace(",", "")))
            else:
                got.append(float(out.stdout.strip().splitlines()[-1]))
    return (got[0] - got[1]) / calls if instructions else got[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="CPU time: alternating rounds")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--instructions", action="store_true", help="valgrind I refs per call")
    parser.add_argument("--profile", action="store_true", help="cProfile each kind's loop")
    parser.add_argument("--base", help="another tree's python, measured alongside")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--kind", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--pool", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(worker(args.worker, args.kind, args.calls, args.pool, args.profile))
        return
    pythons = {"this": sys.executable} | ({"base": args.base} if args.base else {})
    kinds = args.kinds.split(",")
    rounds = 1 if args.instructions or args.profile else args.rounds
    results: dict[str, dict[str, list[float]]] = {n: {k: [] for k in kinds} for n in pythons}
    for _ in range(rounds):
        for kind in kinds:
            for name, python in pythons.items():
                figure = measure(
                    python, kind, args.calls, instructions=args.instructions, profile=args.profile
                )
                results[name][kind].append(figure)
    unit = "instructions" if args.instructions else "µs of CPU"
    print(f"client {unit} per call ({args.calls} calls; median of {rounds} rounds):")
    print(f"{'kind':<10}" + "".join(f"{name:>14}" for name in pythons))
    for kind in kinds:
        medians: list[Any] = [statistics.median(results[n][kind]) for n in pythons]
        print(f"{kind:<10}" + "".join(f"{m:>14,.0f}" for m in medians))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
