"""Benchmark: start-up of `hpcspec --help` and `hpcspec validate` against `python -c pass`.

Whole processes, interleaved round by round, median of `--repeat` (default 9). Targets
(issue 17): `--help` <= 0.15 s above `python -c pass`; `validate` of the quickstart
<= 0.25 s. Also times the refusal of an 800-byte manifest whose matrix has 10^8 combinations
(issue 13: < 1 s).

    python benchmarks/bench_startup.py [--repeat 9]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
