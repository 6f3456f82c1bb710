"""Fixtures that run the HPC Pack emulator on 127.0.0.1 for end-to-end tests over real HTTP.

Stable interface (other test suites rely on it):

- `emulator` (session scope): a running emulator with the `simulate` executor and fast
  timings on a temporary SQLite file. Attributes:
    `.url`    `http://127.0.0.1:<port>/hpc`
    `.admin`  `("HPC\\\\admin", password)`  an HPC administrator (may use `x-ms-as-user`)
    `.user`   `("HPC\\\\alice", password)`  a plain user
    `.db`     the SQLite path;  `.emulator` the `hpcspec.emulator.Emulator` itself.
  Simulated tasks take 0.2 s unless their command line says `sleep:SECONDS`; `exit:CODE`
  sets the exit code (docs/emulator.md). Jobs are shared by the whole session: filter by
  your own ids or names.
- `start_emulator(**options)` (function scope): a factory for a private emulator, stopped at
  the end of the test. Options (all optional): `db` (Path; reuse it to test restarts),
  `executor` ("simulate" | "local"), `nodes`, `cores_per_node`, `faults`
  (`hpcspec.emulator.faults.FaultPlan`), `timings` (`hpcspec.emulator.Timings`),
  `work_root` (Path), `templates` (tuple of names), `groups` (tuple of (group, node names)),
  `admin_password` / `user_password` (str; pass the old ones when restarting on a `db`),
  `profile` (`hpcspec.hpcpack.profile.ClusterProfile`: behave like that cluster, e.g.
  `ClusterProfile(client_source_kept=False, error_style=ErrorStyle.ASPNET)`).
  Returns the same kind of object as `emulator`; call `.stop()` to stop it early (e.g. to
  restart on the same `db`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hpcspec.emulator import ClusterSpec, Emulator, EmulatorOptions, Timings, User
from hpcspec.hpcpack.profile import ClusterProfile

FAST = Timings(tick=0.05, simulate=0.2)


@dataclass
class RunningEmulator:
    url: str
    admin: tuple[str, str]
    user: tuple[str, str]
    db: Path
    emulator: Emulator
    stopped: bool = False

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.emulator.stop()


def _start(directory: Path, **options: Any) -> RunningEmulator:
    admin_password = options.pop("admin_password", secrets.token_urlsafe(12))
    user_password = options.pop("user_password", secrets.token_urlsafe(12))
    db = options.pop("db", directory / "emulator.db")
    cluster = ClusterSpec(
        compute_nodes=options.pop("nodes", 2),
        cores_per_node=options.pop("cores_per_node", 4),
        templates=options.pop("templates", ("Default",)),
        custom_groups=options.pop("groups", ()),
    )
    emulator = Emulator(
        EmulatorOptions(
            db=db,
            users=(
                User("HPC\\admin", admin_password, admin=True),
                User("HPC\\alice", user_password),
            ),
            executor=options.pop("executor", "simulate"),
            cluster=cluster,
            timings=options.pop("timings", FAST),
            faults=options.pop("faults", None),
            work_root=options.pop("work_root", directory),
            profile=options.pop("profile", ClusterProfile()),
        )
    )
    if options:
        raise TypeError(f"unknown emulator options: {sorted(options)}")
    emulator.start()
    return RunningEmulator(
        emulator.url, ("HPC\\admin", admin_password), ("HPC\\alice", user_password), db, emulator
    )


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = _start(tmp_path_factory.mktemp("emulator"))
    yield running
    running.stop()


@pytest.fixture
def start_emulator(tmp_path: Path) -> Iterator[Callable[..., RunningEmulator]]:
    started: list[RunningEmulator] = []

    def start(**options: Any) -> RunningEmulator:
        directory = tmp_path / f"emulator{len(started)}"
        directory.mkdir(exist_ok=True)
        running = _start(directory, **options)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
