"""The emulator's instructions per request of the 40 × 50 job XML apply (issue 17).

Run: `python benchmarks/bench_emulator_apply.py` (add `--base /tmp/before` — a directory holding
another tree's `hpcspec` package — to count that tree's emulator too). Each request kind of
`bench_apply_proxy.py --via xml --jobs 40 --tasks 50` is replayed as the client sends it (the
same headers, a 50-task job XML as its writer renders it, `[]` for submit) through the
emulator's own HTTP/1.1 handler (`server._Handler`: header parsing, the WSGI app, the store) in
one process, one keep-alive connection per kind: the creates, the marker `PUT`s, the submits,
then the settling listings of the 40 jobs. Counts are valgrind's instructions (cachegrind "I
refs", the same on every run whatever the machine's load): one process per number of phases
replayed, the difference divided by the phase's requests. A warm-up replay on another database
first, so imports and caches are not counted; PYTHONHASHSEED is fixed.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

USER, PASSWORD = "HPC\\admin", "bench-password"
JOBS, TASKS = 40, 50
PHASES = ("create", "mark", "submit", "list")
VALGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")
HEADERS = {
    "Host": "127.0.0.1:8080",
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate",
    "User-Agent": "hpcspec/0.1.0",
    "Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
}


def job_xml(n: int) -> str:
    """Job `n` of the bench's stack as hpcspec's job XML writer renders it."""
    terms = {"hpcspec.digest": f"{n:016x}", "hpcspec.key": f"j{n}", "hpcspec.stack": "bench"}
    terms["hpcspec.token"] = f"{n:024x}"
    lines = [
        '<Job xmlns="http://schemas.microsoft.com/HPCS2008R2/scheduler/" Version="3.000" '
        f'Name="hpcspec:{n:016x}:{n:016x}:xml-{n:024x}">',
        "  <ExtendedTerms>",
    ]
    for name, value in terms.items():
        lines += ["    <Term>", f"      <Name>{name}</Name>", f"      <Value>{value}</Value>"]
        lines += ["    </Term>"]
    lines += ["  </ExtendedTerms>", "  <Dependencies/>", "  <Tasks>"]
    lines += [
        f'    <Task Name="t{t}" CommandLine="sleep:3600 {t}" StartValue="0" EndValue="0" '
        'IncrementValue="1" Type="Basic"/>'
        for t in range(TASKS)
    ]
    lines += ["  </Tasks>", "</Job>"]
    return "\n".join(lines)


def request(method: str, target: str, body: bytes | None = None) -> bytes:
    """One HTTP/1.1 request as the client's transport sends it."""
    headers = dict(HEADERS)
    if body is not None:
        headers["Content-Type"] = "application/json; charset=utf-8"
        headers["Content-Length"] = str(len(body))
    head = [f"{method} {target} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b"")


def phases() -> dict[str, list[bytes]]:
    """The apply's requests by kind, in the order the emulator sees them."""
    listing = "/hpc/jobs?properties=Id%2CName%2CState%2COwner%2CClientSource&rowsPerRead=1000"
    marks = [
        [{"Name": "Name", "Value": f"bench-{n}"}, {"Name": "ClientSource", "Value": f"hpcspec:{n}"}]
        for n in range(1, JOBS + 1)
    ]
    return {
        "create": [
            request("POST", "/hpc/jobs/jobFile", json.dumps(job_xml(n)).encode())
            for n in range(JOBS)
        ],
        "mark": [
            request("PUT", f"/hpc/jobs/{n}", json.dumps(mark).encode())
            for n, mark in enumerate(marks, 1)
        ],
        "submit": [request("POST", f"/hpc/jobs/{n}/submit", b"[]") for n in range(1, JOBS + 1)],
        "list": [request("GET", listing)] * 6,
    }


class _Connection:
    """A keep-alive connection whose requests are all there, answers collected."""

    def __init__(self, data: bytes) -> None:
        self.data, self.out = data, bytearray()

    def settimeout(self, _: float) -> None: ...

    def setsockopt(self, *_: Any) -> None: ...

    def makefile(self, *_: Any) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self.data))  # type: ignore[arg-type]

    def sendall(self, data: bytes) -> None:
        self.out += data


def replay(count: int) -> None:
    """Warm up on one emulator, then replay the first `count` phases on a fresh one."""
    from hpcspec.emulator.api import User
    from hpcspec.emulator.cluster import ClusterSpec
    from hpcspec.emulator.scheduler import Timings
    from hpcspec.emulator.server import Emulator, EmulatorOptions, _Handler

    requests = phases()

    def serve(names: tuple[str, ...]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            options = EmulatorOptions(
                db=Path(tmp) / "e.db",
                users=(User(USER, PASSWORD, True),),
                cluster=ClusterSpec(compute_nodes=1, cores_per_node=1),
                timings=Timings(tick=30),
            )
            emulator = Emulator(options)  # its clock thread never starts: no scheduling
            for name in names:
                connection = _Connection(b"".join(requests[name]))
                _Handler(connection, ("127.0.0.1", 40000), emulator.server)
                statuses = re.findall(rb"HTTP/1.1 (\d{3}) ", bytes(connection.out))
                if len(statuses) != len(requests[name]) or any(s[:1] != b"2" for s in statuses):
                    raise SystemExit(f"{name}: answers {statuses[:5]!r}…")
            emulator.server.server_close()
            emulator.store.close()

    serve(PHASES)
    serve(PHASES[:count])


def instructions(tree: str | None, count: int) -> int:
    """valgrind's instruction count of `replay(count)` under `tree`'s hpcspec."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    if tree:
        env["PYTHONPATH"] = tree
    command = [*VALGRIND, sys.executable, __file__, "--replay", str(count)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd="/", check=False)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"no instruction count:\n{done.stderr[-800:]}")
    return int(found[1].replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="a directory holding another tree's hpcspec package")
    parser.add_argument("--replay", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay is not None:
        replay(args.replay)
        return
    sizes = {name: len(found) for name, found in phases().items()}
    trees = {"this tree": None} | ({"base": args.base} if args.base else {})
    print("emulator instructions per request of the 40 × 50 XML apply (valgrind I refs)")
    for label, tree in trees.items():
        counts = [instructions(tree, count) for count in range(len(PHASES) + 1)]
        each = [
            f"{name} {(counts[i + 1] - counts[i]) / sizes[name] / 1e6:.2f} M"
            for i, name in enumerate(PHASES)
        ]
        total = (counts[-1] - counts[0]) / 1e6
        print(f"  {label:>9}: {', '.join(each)}; all {sum(sizes.values())} requests {total:.0f} M")


if __name__ == "__main__":
    main()
