"""Benchmark: start-up of `hpcspec --help` and `hpcspec validate` against `python -c pass`.

Whole processes, interleaved round by round, median of `--repeat` (default 9). Targets
(issue 17): `--help` <= 0.15 s above `python -c pass`; `validate` of the quickstart
<= 0.25 s. Also times the refusal of an 800-byte manifest whose matrix has 10^8 combinations
(issue 13: < 1 s).

Wall time on this shared VM drifts with its load and speed: the run prints a fixed Python
loop's time before and after (0.9-1.1 s is the usual speed here). `--instructions` counts
each command's instructions under valgrind's cachegrind instead ("I refs": the same on every
run, for A/B comparisons of a change). Run it as a user's shell would, writing bytecode
(`env -u PYTHONDONTWRITEBYTECODE`), so that no module is compiled on every run.

    python benchmarks/bench_startup.py [--repeat 9] [--instructions]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOMB_AXES = "\n".join(f"      a{i}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]" for i in range(8))
BOMB = f"""apiVersion: hpcspec/v1
stack: bomb
jobs:
  a:
    tasks:
      t:
        commandLine: run
        matrix:
{BOMB_AXES.replace("      ", "          ")}
"""


def measure(command: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process: on a busy machine CPU time is the steadier."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    assert process.stderr is not None
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in ok:
        sys.exit(f"{command} exited {os.waitstatus_to_exitcode(status)}: {err.decode()[-500:]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def host_speed() -> float:
    """Seconds for a fixed pure-Python loop (as benchmarks/bench_jobxml.py prints it)."""
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def instructions(command: list[str], ok: tuple[int, ...]) -> int:
    """Instructions one process executes (cachegrind's "I refs"), after a run that warms .pyc."""
    subprocess.run(command, capture_output=True, cwd=ROOT, check=False)
    counted = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    done = subprocess.run([*counted, *command], capture_output=True, text=True, cwd=ROOT)
    if done.returncode not in ok:
        sys.exit(f"{command} exited {done.returncode}: {done.stderr[-500:]}")
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        sys.exit(f"no instruction count from valgrind: {done.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--instructions", action="store_true", help="count, do not time")
    args = parser.parse_args()
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("note: PYTHONDONTWRITEBYTECODE is set: every hpcspec module compiles on every run")
    if args.instructions and shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind")
    with tempfile.TemporaryDirectory() as folder:
        bomb = Path(folder) / "bomb.yaml"
        bomb.write_text(BOMB)
        hpcspec = [sys.executable, "-m", "hpcspec"]
        commands = {
            "python -c pass": ([sys.executable, "-c", "pass"], (0,)),
            "hpcspec --help": ([*hpcspec, "--help"], (0,)),
            "hpcspec validate examples/quickstart.yaml": (
                [*hpcspec, "validate", "examples/quickstart.yaml"],
                (0,),
            ),
            f"hpcspec validate bomb ({len(BOMB)} bytes, 10^8 combinations)": (
                [*hpcspec, "validate", str(bomb)],
                (1,),
            ),
        }
        if args.instructions:
            for name, (command, ok) in commands.items():
                print(f"{name}: {instructions(command, ok):,} instructions")
            return
        print(f"host speed: a 10,000,000-step Python loop takes {host_speed():.2f} s")
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, (command, ok) in commands.items():
                samples[name].append(measure(command, ok))
    median = statistics.median
    base_wall = median(w for w, _ in samples["python -c pass"])
    base_cpu = median(c for _, c in samples["python -c pass"])
    for name, runs in samples.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        extra = (
            f"  (+{median(walls) - base_wall:.3f} s wall, +{median(cpus) - base_cpu:.3f} s CPU "
            "over python -c pass)"
            if name != "python -c pass"
            else ""
        )
        print(
            f"{name}: wall median {median(walls):.3f} s (min {min(walls):.3f}), "
            f"CPU median {median(cpus):.3f} s{extra}"
        )
    print(f"host speed after: {host_speed():.2f} s for the same loop")


if __name__ == "__main__":
    main()
