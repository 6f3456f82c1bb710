"""apply on a machine whose disk or state directory works against it (the CLI, in-process,
against the module's emulator).

The journal is write-ahead, not the source of truth: whatever goes wrong with it, the error
names the file and what was expected, no traceback or "internal error" reaches the user,
nothing is sent that the journal could not announce, the stack lock is released, and the
next apply settles every key exactly once.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from hpcspec.config.state import stack_state_dir
from hpcspec.engine.journal import JOURNAL_FILE
from tests.apply.stacks import audit, patient_client, stack_text
from tests.conftest import Runner

JOBS = 4


def settled(cluster: Any, stack: str) -> None:
    """Every key has one live job, submitted; no job is left Configuring; no lock job lives."""
    client = patient_client(cluster)
    try:
        found = audit(client, stack, [f"j{n}" for n in range(JOBS)])
    finally:
        client.close()
    assert found.locks_alive == [], found.locks_alive
    assert found.configuring() == [] and found.two_alive() == [], found.jobs
    assert sorted(found.jobs) == [f"j{n}" for n in range(JOBS)], found.jobs


def assert_clean_failure(code: int, out: str, err: str, *names: str) -> None:
    assert code != 0, out + err
    assert "internal-error" not in out + err and "Traceback" not in out + err, out + err
    for name in names:
        assert name in out + err, out + err


def test_a_disk_that_fills_up_mid_apply_fails_the_keys_cleanly_and_the_next_apply_settles(
    cluster: Any, cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC from the journal's third write on: the keys it hits fail naming the journal
    (an intent that cannot be written sends no create), and the next apply, on a disk with
    room, adopts or makes what is missing without a second job for any key."""
    (cli_env / "m.yaml").write_text(stack_text("fullx", JOBS))
    journal = stack_state_dir(os.environ["HPCSPEC_CLUSTER"], "fullx", create=False)
    real_write, calls = os.write, [0]

    def filling(fd: int, data: bytes) -> int:
        if os.path.realpath(f"/proc/self/fd/{fd}") == str(journal / JOURNAL_FILE):
            calls[0] += 1
            if calls[0] > 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to tell the journal's writes from others")
    with monkeypatch.context() as patch:
        patch.setattr(os, "write", filling)
        code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--parallelism", "1")
    assert_clean_failure(code, out, err, str(journal / JOURNAL_FILE), "No space left on device")
    assert "[journal-unusable]" in out + err
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    settled(cluster, "fullx")


def test_a_state_dir_that_cannot_be_made_is_a_located_error_before_any_change(
    cluster: Any, cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HPCSPEC_STATE_DIR names a file (a read-only or full disk ends the same way): one
    error naming the directory and the variable; no job made, the lock job released."""
    blocker = cli_env / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("HPCSPEC_STATE_DIR", str(blocker))
    (cli_env / "m.yaml").write_text(stack_text("nostate", JOBS))
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert_clean_failure(code, out, err, str(blocker), "HPCSPEC_STATE_DIR")
    client = patient_client(cluster)
    try:
        found = audit(client, "nostate", [f"j{n}" for n in range(JOBS)])
    finally:
        client.close()
    assert found.locks_alive == [] and not any(found.jobs.values()), found.jobs
    monkeypatch.setenv("HPCSPEC_STATE_DIR", str(cli_env / "state"))
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    settled(cluster, "nostate")


@pytest.mark.skipif(os.name == "nt", reason="POSIX owners and modes (Windows: ACLs)")
def test_a_state_dir_others_may_write_in_is_refused_and_a_planted_link_followed_nowhere(
    cluster: Any, cli_env: Path, run_cli: Runner
) -> None:
    """A state directory on a shared disk (HPCSPEC_STATE_DIR=/shared/...) where another user
    made `clusters/` writable by all, and planted `journal.jsonl` as a link to the victim's
    shell start-up file: apply refuses the directory (as ssh's StrictModes would); with the
    directory closed again but the link still there, it refuses the link. The target is
    never written."""
    (cli_env / "m.yaml").write_text(stack_text("planted", JOBS))
    stack_dir = stack_state_dir(os.environ["HPCSPEC_CLUSTER"], "planted")
    victim = cli_env / "bashrc"
    victim.write_text("export PATH\n")
    (stack_dir / JOURNAL_FILE).symlink_to(victim)
    shared = Path(os.environ["HPCSPEC_STATE_DIR"]) / "clusters"
    shared.chmod(0o777)
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert_clean_failure(code, out, err, str(shared), "others may write in it (mode 0777)")
    shared.chmod(0o700)
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert_clean_failure(code, out, err, str(stack_dir / JOURNAL_FILE), "symbolic link")
    assert victim.read_text() == "export PATH\n"
    (stack_dir / JOURNAL_FILE).unlink()
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    settled(cluster, "planted")
    assert victim.read_text() == "export PATH\n"


@pytest.mark.skipif(os.name == "nt", reason="POSIX owners and modes (Windows: ACLs)")
def test_a_profile_folder_others_may_write_in_costs_the_saved_profile_not_the_apply(
    cluster: Any, cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the client learns of the cluster is saved next to the contexts file, as a cache:
    a folder there that is refused (or cannot be made) is not saved to, and apply goes on."""
    shared = cli_env / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    monkeypatch.setenv("HPCSPEC_CONFIG", str(shared / "config.yaml"))
    (cli_env / "m.yaml").write_text(stack_text("noprofile", JOBS))
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    assert not (shared / "profiles").exists()
    settled(cluster, "noprofile")
