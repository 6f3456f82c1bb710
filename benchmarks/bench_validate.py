"""Benchmark: `hpcspec validate` against a bare `YAML(typ='safe')` load, as whole processes.

For each manifest shape (default: 200 jobs x 500 tasks and 1000 jobs x 100 tasks), runs two
processes back to back, `--repeat` times, alternating which goes first:

- bare: `python -c "YAML(typ='safe').load(text)"` (ruamel's safe loader on libyaml, C);
- validate: `python -m hpcspec validate FILE` (parse, schema, resolve, every offline check).

Prints each pair's wall times and their ratio, then the median wall of each and the median
of the paired ratios, and the peak RSS of each process (median). Targets (issue 17):
ratio < 1.0, validate's peak memory <= 1.2x the bare load's.

    python benchmarks/bench_validate.py [--shape 200x500 --shape 1000x100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = (
    "import sys\n"
    "from ruamel.yaml import YAML\n"
    "YAML(typ='safe').load(open(sys.argv[1], encoding='utf-8').read())\n"
)


def write_manifest(path: Path, jobs: int, tasks: int) -> None:
    """A manifest of `jobs` jobs of `tasks` chained tasks, with vars, defaults and properties."""
    with path.open("w") as out:
        out.write("# yaml-language-server: $schema=../schemas/hpcspec-v1.schema.json\n")
        out.write("apiVersion: hpcspec/v1\nstack: bench\nvars:\n  solver: solve.exe\n")
        out.write("defaults:\n  properties:\n    Project: bench\n    UnitType: Core\n")
        out.write("jobs:\n")
        for j in range(jobs):
            out.write(f"  job{j:04d}:\n    properties:\n      Name: Bench job {j}\n")
            out.write("      Priority: Normal+5\n      MinCores: 1\n      MaxCores: 4\n")
            out.write("      RuntimeSeconds: 2h\n    env:\n      CASE_SET: set-" + str(j) + "\n")
            out.write("    tasks:\n")
            for t in range(tasks):
                out.write(f"      t{t:04d}:\n        commandLine: ${{solver}} --case {t}\n")
                if t:
                    out.write(f"        dependsOn: [t{t - 1:04d}]\n")
                out.write("        properties:\n          IsRerunnable: true\n")


def measure(command: list[str]) -> tuple[float, float, str, float]:
    """(wall seconds, the child's own peak RSS in MiB, stdout, CPU seconds) of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    out = process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)  # this child's rusage alone
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"{' '.join(command)} failed: {err.decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024, out.decode(), usage.ru_utime + usage.ru_stime


def bench_shape(jobs: int, tasks: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.yaml"
        write_manifest(path, jobs, tasks)
        size = path.stat().st_size
        bare_cmd = [sys.executable, "-c", BARE, str(path)]
        validate_cmd = [sys.executable, "-m", "hpcspec", "validate", str(path)]
        print(f"\n{jobs} jobs x {tasks} tasks = {jobs * tasks} tasks, {size / 1e6:.1f} MB")
        bare_walls, validate_walls, ratios, bare_peaks, validate_peaks = [], [], [], [], []
        cpu_ratios = []
        summary = ""
        for i in range(repeat):
            order = [("bare", bare_cmd), ("validate", validate_cmd)]
            if i % 2:
                order.reverse()
            result = {name: measure(cmd) for name, cmd in order}
            bare_wall, bare_peak, _, bare_cpu = result["bare"]
            validate_wall, validate_peak, summary, validate_cpu = result["validate"]
            cpu_ratios.append(validate_cpu / bare_cpu)
            bare_walls.append(bare_wall)
            validate_walls.append(validate_wall)
            ratios.append(validate_wall / bare_wall)
            bare_peaks.append(bare_peak)
            validate_peaks.append(validate_peak)
            print(
                f"  pair {i + 1}: bare {bare_wall:.2f} s, validate {validate_wall:.2f} s, "
                f"ratio {validate_wall / bare_wall:.2f} (CPU {bare_cpu:.2f} s vs "
                f"{validate_cpu:.2f} s, ratio {validate_cpu / bare_cpu:.2f})"
            )
        median = statistics.median
        bare_median, validate_median = median(bare_walls), median(validate_walls)
        print(f"  median wall: bare {bare_median:.2f} s, validate {validate_median:.2f} s")
        print(f"  median paired ratio validate/bare: {median(ratios):.2f}  (target < 1.0)")
        print(f"  median paired CPU-time ratio validate/bare: {median(cpu_ratios):.2f}")
        print(
            f"  median peak RSS: bare {median(bare_peaks):.0f} MiB, validate "
            f"{median(validate_peaks):.0f} MiB, ratio "
            f"{median(validate_peaks) / median(bare_peaks):.2f}  (target <= 1.2)"
        )
        print(f"  {summary.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--shape",
        action="append",
        metavar="JOBSxTASKS",
        help="manifest shape (repeatable; default 200x500 and 1000x100)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="pairs per shape (default 5)")
    args = parser.parse_args()
    shapes = args.shape or ["200x500", "1000x100"]
    from hpcspec.manifest.source import parser_backend

    print(f"python {sys.version.split()[0]}, hpcspec parser: {parser_backend()}")
    for shape in shapes:
        jobs, tasks = (int(n) for n in shape.lower().split("x"))
        bench_shape(jobs, tasks, args.repeat)


if __name__ == "__main__":
    main()
