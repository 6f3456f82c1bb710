"""What plan, apply and status cost on a big cluster, computed from the per-request counts.

Run: `python benchmarks/scale_model.py [--cluster-jobs 100000] [--stack-jobs 2000]
[--failed 100] [--changed 20] [--rtt-ms 20 --rtt-ms 100]`.

Nothing here is timed: the counts are the ones the benchmarks measure at the counting proxy
(bench_status.py, bench_apply_proxy.py, bench_plan.py) and the rules that produce them,
written out as arithmetic, so the table grows with the cluster the way the code does:

- a job listing is sequential pages of `PAGE` rows (HPC Pack's continuation tokens) over
  every job the caller can see — the server cannot filter by ClientSource, so a stack costs
  as many pages as the whole cluster;
- plan: the cluster's date format (once per client), the listing, and for each job whose
  spec changed its custom properties, job, env and task listing (`DETAILS`, 4 at a time);
- apply via job XML: the plan, then per created job create + marker + submit (`XML_PER_JOB`,
  `parallelism` at a time), plus race-settling listings: the first batch is an eighth of the
  wave, later ones `pages × parallelism` keys (executor.py), each a whole listing;
- status: the date format, the listing, and one Failed-task listing per job with failed tasks
  (8 at a time); `--watch` repeats the last two every refresh.

Wall is requests × RTT with the concurrency each stage has, server and client work left out
(at 20 ms the measured walls are within 1.1–1.5× of this on the 2-core machine; see
docs/performance.md). Add `parse` time for tens of thousands of listing rows on a real run.
"""

from __future__ import annotations

import argparse
import math

PAGE = 1000  # rows per listing request (the client's rowsPerRead)
DETAILS = 4  # reads per changed job: custom properties, job, env, tasks (one page)
DETAIL_READERS = 4  # discovery reads 4 changed jobs at once
XML_PER_JOB = 3  # POST /jobs/jobFile, PUT marker, POST submit (measured: bench_apply_proxy)
STATUS_READERS = 8  # failed-task listings at once
SETTLE_BATCHES = 8  # the first settle batch is an eighth of the wave


def settles(stack_jobs: int, pages: int, parallelism: int) -> int:
    """How many settling listings a wave of `stack_jobs` creates takes (executor.py)."""
    done, batch, count = 0, max(parallelism, stack_jobs // SETTLE_BATCHES), 0
    while done < stack_jobs:
        done += batch
        count += 1
        batch = max(batch, pages * parallelism)
    return count


def table(args: argparse.Namespace) -> list[tuple[str, int, float]]:
    """(stage, requests, wall in round trips) for each stage."""
    pages = math.ceil(args.cluster_jobs / PAGE)
    plan = 1 + pages
    changed = args.changed * DETAILS
    settle = settles(args.stack_jobs, pages, args.parallelism) * pages
    creates = XML_PER_JOB * args.stack_jobs
    status = 1 + pages + args.failed
    return [
        ("plan, nothing changed", plan, plan),
        (f"plan, {args.changed} jobs changed", plan + changed, plan + changed / DETAIL_READERS),
        (
            f"apply: create all {args.stack_jobs} jobs by job XML",
            plan + creates + settle,
            plan + (creates + settle) / args.parallelism + pages,  # + the last settle's pages
        ),
        (
            f"status ({args.failed} jobs with failed tasks)",
            status,
            1 + pages + math.ceil(args.failed / STATUS_READERS),
        ),
        (
            "status --watch, each refresh",
            status - 1,
            pages + math.ceil(args.failed / STATUS_READERS),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster-jobs", type=int, default=100_000)
    parser.add_argument("--stack-jobs", type=int, default=2_000)
    parser.add_argument("--failed", type=int, default=100)
    parser.add_argument("--changed", type=int, default=20)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--rtt-ms", type=float, action="append")
    args = parser.parse_args()
    rtts = args.rtt_ms or [20.0, 100.0]
    print(
        f"{args.cluster_jobs:,} jobs on the cluster, a {args.stack_jobs:,}-job stack, "
        f"parallelism {args.parallelism}; {math.ceil(args.cluster_jobs / PAGE)} listing pages"
    )
    header = "".join(f" | wall at {r:g} ms" for r in rtts)
    print(f"| stage | requests{header} |")
    print("|---|---:" + "|---:" * len(rtts) + "|")
    for stage, requests, trips in table(args):
        walls = "".join(f" | {trips * r / 1000:.1f} s" for r in rtts)
        print(f"| {stage} | {requests:,}{walls} |")


if __name__ == "__main__":
    main()
