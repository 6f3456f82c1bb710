"""Turning command-line words into emulator options: users, loopback check, fault flags.

Kept out of the CLI module so `hpcspec emulator serve` stays a thin parse → run → exit code.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from hpcspec.capped_read import FileTooLarge, read_capped_text
from hpcspec.emulator.api import User
from hpcspec.emulator.faults import FaultPlan, FaultRule, load_plan
from hpcspec.errors import HpcspecError, UsageError
from hpcspec.hpcpack.profile import ClusterProfile, SweepExpansion
from hpcspec.whole_write import replace_file

MAX_USERS_FILE_BYTES = 1024 * 1024
MAX_PROFILE_FILE_BYTES = 256 * 1024  # as a profile saved by `cluster check` (config/profiles.py)


def parse_user(spec: str) -> User:
    """`NAME:PASSWORD[:admin]` → a user (the password may itself contain colons)."""
    name, sep, rest = spec.partition(":")
    if not sep or not name or not rest:
        raise UsageError(
            f"--user {name or spec!r}: expected NAME:PASSWORD[:admin]", code="emulator-user"
        )
    admin = rest.endswith(":admin")
    password = rest[: -len(":admin")] if admin else rest
    return User(name, password, admin)


def read_users(path: Path) -> list[User]:
    """One `NAME:PASSWORD[:admin]` per line (the local cluster's credentials file)."""
    try:
        lines = read_capped_text(path, MAX_USERS_FILE_BYTES).splitlines()
    except (OSError, UnicodeDecodeError, FileTooLarge) as error:
        why = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise UsageError(f"--users-file {path}: {why}", code="emulator-users-file") from None
    return [parse_user(line.strip()) for line in lines if line.strip()]


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, allow_remote: bool) -> None:
    if not allow_remote and not is_loopback(host):
        raise UsageError(
            f"refusing to listen on {host}: the emulator accepts Basic auth over plain HTTP",
            code="emulator-remote-host",
            hint="use 127.0.0.1, or pass --allow-remote if you really mean to expose it",
        )


def fault_plan(
    path: Path | None,
    seed: int | None,
    route: str,
    latency_ms: float,
    jitter_ms: float,
    error_rate: float,
    error_status: int,
    drop_rate: float,
) -> FaultPlan | None:
    """A plan from `--faults FILE` plus the single-rule flags; None when there are no faults."""
    plan = load_plan(path, seed) if path else FaultPlan((), seed or 0)
    rules = list(plan.rules)
    if latency_ms or jitter_ms:
        rules.append(FaultRule(route, 1.0, latency_ms, jitter_ms))
    if error_rate:
        rules.append(FaultRule(route, error_rate, error_status=error_status))
    if drop_rate:
        rules.append(FaultRule(route, drop_rate, drop_after_commit=True))
    for rule in rules:
        if not 0 <= rule.probability <= 1:
            raise HpcspecError(f"fault probability {rule.probability} is not within 0..1")
    return FaultPlan(tuple(rules), plan.seed) if rules else None


def load_profile(path: Path | None, sweep_expansion: str | None) -> ClusterProfile:
    """The cluster profile to behave like: `--profile FILE` (default: the emulator's own), with
    `--sweep-expansion` on top."""
    profile = ClusterProfile()
    if path is not None:
        try:
            text = read_capped_text(path, MAX_PROFILE_FILE_BYTES)
        except (OSError, UnicodeDecodeError, FileTooLarge) as error:
            why = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise UsageError(f"--profile {path}: {why}", code="emulator-profile") from None
        profile = ClusterProfile.from_json(text, where=str(path))
    if sweep_expansion is not None:
        profile = profile.with_changes(sweep_expansion=SweepExpansion(sweep_expansion))
    return profile


def write_private(path: Path, data: dict[str, object]) -> None:
    """Write JSON readable by the owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, json.dumps(data).encode("utf-8"))
