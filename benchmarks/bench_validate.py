"""Benchmark: `hpcspec validate` on a 200-job × 500-task manifest vs a plain YAML load.

Prints both wall times, their ratio, the parser backend each used, and the peak memory of
the validate process. Targets (issue 2): ratio ≤ 2.0 against the C parser, peak ≤ 1 GiB.

    python benchmarks/bench_validate.py [--jobs 200] [--tasks 500]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

from hpcspec.manifest.source import parser_backend


def write_manifest(path: Path, jobs: int, tasks: int) -> None:
    with path.open("w") as out:
        out.write("# yaml-language-server: $schema=../schemas/hpcspec-v1.schema.json\n")
        out.write("apiVersion: hpcspec/v1\nstack: bench\nvars:\n  solver: solve.exe\n")
        out.write("defaults:\n  properties:\n    Project: bench\n    UnitType: Core\n")
        out.write("jobs:\n")
        for j in range(jobs):
            out.write(f"  job{j:03d}:\n    properties:\n      Name: Bench job {j}\n")
            out.write("      Priority: Normal+5\n      MinCores: 1\n      MaxCores: 4\n")
            out.write("      RuntimeSeconds: 2h\n    env:\n      CASE_SET: set-" + str(j) + "\n")
            out.write("    tasks:\n")
            for t in range(tasks):
                out.write(f"      t{t:04d}:\n        commandLine: ${{solver}} --case {t}\n")
                if t:
                    out.write(f"        dependsOn: [t{t - 1:04d}]\n")
                out.write("        properties:\n          IsRerunnable: true\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.yaml"
        write_manifest(path, args.jobs, args.tasks)
        size = path.stat().st_size

        yaml = YAML(typ="safe")
        started = time.perf_counter()
        yaml.load(path.read_text())
        plain = time.perf_counter() - started
        plain_backend = "libyaml (C)" if "clib" in yaml.Parser.__module__ else "pure Python"

        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "hpcspec", "validate", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        validate = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        sys.exit(f"validate failed: {done.stderr}")
    print(
        f"manifest: {args.jobs} jobs x {args.tasks} tasks = {args.jobs * args.tasks} tasks, "
        f"{size / 1e6:.1f} MB"
    )
    print(f"plain YAML(typ='safe').load: {plain:.2f} s  [parser: {plain_backend}]")
    print(f"hpcspec validate (whole process): {validate:.2f} s  [parser: {parser_backend()}]")
    print(f"ratio validate / plain load: {validate / plain:.2f}  (target <= 2.0)")
    print(f"peak memory of validate: {peak_kib / 1024:.0f} MiB  (target <= 1024 MiB)")
    print(done.stdout.strip())


if __name__ == "__main__":
    main()
