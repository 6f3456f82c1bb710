"""`hpcspec emulator serve`: run the HPC Pack REST API emulator until SIGINT/SIGTERM."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from hpcspec.emulator import ClusterSpec, Emulator, EmulatorOptions, Timings
from hpcspec.emulator.cluster import parse_groups
from hpcspec.emulator.options import (
    check_host,
    fault_plan,
    load_profile,
    parse_user,
    read_users,
    write_private,
)
from hpcspec.errors import UsageError


@click.group()
def emulator() -> None:
    """Run the HPC Pack REST API emulator (docs/emulator.md)."""


@emulator.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=0, show_default=True, help="Port (0 picks a free one).")
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("hpcspec-emulator.db"),
    show_default=True,
    help="SQLite file holding all state (kept across restarts).",
)
@click.option("--user", "users", multiple=True, help="NAME:PASSWORD[:admin] (repeatable).")
@click.option("--users-file", type=click.Path(path_type=Path, exists=True), hidden=True)
@click.option(
    "--executor",
    type=click.Choice(["simulate", "local"]),
    default="simulate",
    show_default=True,
    help="simulate (sleep:N / exit:N command lines) or local (real subprocesses).",
)
@click.option("--nodes", default=2, show_default=True, help="Compute nodes.")
@click.option("--cores-per-node", default=4, show_default=True, help="Cores of each node.")
@click.option("--group", "groups", multiple=True, help="Custom node group NAME=CN001,CN002.")
@click.option("--template", "templates", multiple=True, help="Extra job template names.")
@click.option("--tick", default=0.2, show_default=True, help="Scheduler clock period (s).")
@click.option("--simulate-seconds", default=1.0, show_default=True, help="Default task time.")
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Default working directory of local tasks (default: the temp directory).",
)
@click.option(
    "--faults",
    type=click.Path(path_type=Path, exists=True),
    default=None,
    help="JSON fault rules (docs/emulator.md).",
)
@click.option("--seed", type=int, default=None, help="Seed for fault injection.")
@click.option("--fault-route", default="*", show_default=True, help="METHOD /path glob.")
@click.option("--latency-ms", default=0.0, help="Added latency per matching request.")
@click.option("--jitter-ms", default=0.0, help="Uniform extra latency up to this.")
@click.option("--error-rate", default=0.0, help="Probability of a 5xx before handling.")
@click.option("--error-status", default=503, show_default=True, help="Status of injected errors.")
@click.option("--drop-rate", default=0.0, help="Probability of dropping the connection after.")
@click.option("--idle-timeout", default=0.0, help="Stop after this many idle seconds (0 = never).")
@click.option(
    "--profile",
    "profile_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Behave like the cluster this profile describes (JSON, docs/emulator.md).",
)
@click.option(
    "--sweep-expansion",
    type=click.Choice(["eager", "lazy"]),
    default=None,
    help="Create sweep subtasks all at validation (eager) or as they run (lazy, as 2016 U3).",
)
@click.option("--state-file", type=click.Path(path_type=Path), hidden=True)
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host.")
def serve(
    host: str,
    port: int,
    db: Path,
    users: tuple[str, ...],
    users_file: Path | None,
    executor: str,
    nodes: int,
    cores_per_node: int,
    groups: tuple[str, ...],
    templates: tuple[str, ...],
    tick: float,
    simulate_seconds: float,
    work_dir: Path | None,
    faults: Path | None,
    seed: int | None,
    fault_route: str,
    latency_ms: float,
    jitter_ms: float,
    error_rate: float,
    error_status: int,
    drop_rate: float,
    idle_timeout: float,
    profile_file: Path | None,
    sweep_expansion: str | None,
    state_file: Path | None,
    allow_remote: bool,
) -> int:
    """Serve /hpc on HOST:PORT until interrupted."""
    check_host(host, allow_remote)
    accounts = [parse_user(u) for u in users] + (read_users(users_file) if users_file else [])
    if not accounts:
        raise UsageError("give at least one --user NAME:PASSWORD[:admin]", code="emulator-user")
    options = EmulatorOptions(
        db=db,
        users=tuple(accounts),
        host=host,
        port=port,
        executor=executor,
        cluster=ClusterSpec(
            compute_nodes=nodes,
            cores_per_node=cores_per_node,
            custom_groups=parse_groups(list(groups)),
            templates=("Default", *templates),
        ),
        timings=Timings(tick=tick, simulate=simulate_seconds),
        faults=fault_plan(
            faults, seed, fault_route, latency_ms, jitter_ms, error_rate, error_status, drop_rate
        ),
        work_root=work_dir,
        idle_timeout=idle_timeout,
        profile=load_profile(profile_file, sweep_expansion),
    )
    running = Emulator(options)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    running.start()
    if state_file is not None:
        write_private(state_file, {"pid": os.getpid(), "url": running.url})
    click.echo(f"hpcspec emulator listening on {running.url}")
    while not stop.is_set() and running.serving:
        stop.wait(0.5)
    running.stop()
    if state_file is not None:
        state_file.unlink(missing_ok=True)
    return 0
