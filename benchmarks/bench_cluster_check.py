"""`hpcspec cluster check` wall time against a head node far away: parallel probes vs one at a time.

Run: `python benchmarks/bench_cluster_check.py [--latency-ms 150] [--repeat 3]`.

The emulator runs as its own process (`hpcspec emulator serve --latency-ms N`) and stands for a
real head node across a WAN or a busy IIS (150 ms per request by default). The whole battery
(`hpcpack.check.run_check`, clean-up included) runs with 4 probes at a time (what the command
does) and with 1, on a fresh SQLite file each. Figures: requests, median wall time of each, and
the target of issue 15: "about a minute" against a real head node. Wall times on a shared
machine drift: each runs `--repeat` times and the median is the figure.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from emulator_process import PASSWORD, USER, serve

from hpcspec.hpcpack.check import run_check
from hpcspec.hpcpack.check.trace import RecordingSession
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import ClusterProfile
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions


def one_run(latency_ms: float, parallel: int) -> tuple[float, int]:
    """(wall seconds, requests) of one whole check on a fresh emulator."""
    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp) / "e.db", latency_ms) as url:
        session = RecordingSession(url)
        options = TransportOptions(url, credentials=Credentials(USER, PASSWORD))
        client = HpcPackClient(Transport(options, session=session), profile=ClusterProfile())
        try:
            started = time.perf_counter()
            report = run_check(client, parallel=parallel)
            wall = time.perf_counter() - started
        finally:
            client.close()
        assert report.all_hold, [f for f in report.findings if f.outcome.value != "holds"]
        return wall, len(session.exchanges)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    walls: dict[int, list[float]] = {4: [], 1: []}
    requests = 0
    for _ in range(args.repeat):  # paired: each repeat runs both
        for parallel, times in walls.items():
            wall, requests = one_run(args.latency_ms, parallel)
            times.append(wall)
    for parallel, times in walls.items():
        print(
            f"parallel={parallel}: {requests} requests, median {statistics.median(times):.1f} s "
            f"at {args.latency_ms:g} ms per request (runs: {', '.join(f'{w:.1f}' for w in times)})"
        )


if __name__ == "__main__":
    main()
