"""`hpcspec requeue` and `hpcspec cancel` while an apply replaces the key's job: the command
acts on the job its plan names, or on nothing and says so; a key never ends with two alive
jobs because a rescue brought back the job apply had just replaced."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hpcspec.cli import cancel as cancel_cmd
from hpcspec.cli import main
from hpcspec.cli import requeue as requeue_cmd
from tests.apply.cli_process import point_cli_at
from tests.apply.stacks import audit, patient_client
from tests.ci.conftest import unique_stack
from tests.conftest import Runner

FAILING = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  solver:
    tasks:
      step: {{commandLine: "{command}"}}
"""


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A private cluster: the tests wait for their jobs to end, which the session's shared
    emulator, its cores taken by other tests' jobs, may not let happen in time (seen once
    under load: still waiting after 20 s)."""
    from tests.emulator_fixture import _start

    running = _start(tmp_path_factory.mktemp("moving-target"))
    yield running
    running.stop()


@pytest.fixture
def cli_env(emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    point_cli_at(emulator, tmp_path, monkeypatch)
    return tmp_path


def wait_ended(run_cli: Runner, manifest: Path) -> None:
    code, out, err = run_cli("status", "--wait", "--timeout", "20s", str(manifest))
    assert code in (0, 5), out + err


def alive(running: Any, stack: str) -> list[int]:
    """The ids of the key's alive jobs, as the cluster lists them (by identity)."""
    client = patient_client(running)
    try:
        found = audit(client, stack, ["solver"])
    finally:
        client.close()
    return sorted(j["id"] for j in found.jobs["solver"] if j["alive"])


def replaced_meanwhile(
    planner: Callable[..., Any], manifest: Path, stack: str, command: str
) -> Callable[..., Any]:
    """`planner`, then another user's apply of a changed spec, which replaces the key's job
    after the rescue command planned and before it acts."""

    def plan_then_apply(*args: Any, **kwargs: Any) -> Any:
        plan = planner(*args, **kwargs)
        manifest.write_text(FAILING.format(stack=stack, command=command), encoding="utf-8")
        with pytest.raises(SystemExit) as done:
            main(["apply", "--auto-approve", "--allow-replace-running", str(manifest)])
        assert done.value.code == 0
        return plan

    return plan_then_apply


def test_requeue_of_a_job_apply_replaced_after_its_plan_requeues_nothing_and_says_so(
    cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch, emulator: Any
) -> None:
    stack = unique_stack("requeue-moved")
    manifest = cli_env / "m.yaml"
    manifest.write_text(FAILING.format(stack=stack, command="exit:3"), encoding="utf-8")
    assert run_cli("apply", "--auto-approve", str(manifest))[0] == 0
    wait_ended(run_cli, manifest)
    assert alive(emulator, stack) == []  # the job Failed
    monkeypatch.setattr(
        requeue_cmd,
        "plan_requeue",
        replaced_meanwhile(requeue_cmd.plan_requeue, manifest, stack, "sleep:30"),
    )
    code, out, err = run_cli("requeue", str(manifest), "solver")
    assert code == 1, out + err
    assert "is no longer solver's job" in err and "not requeued" in err, err
    assert len(alive(emulator, stack)) == 1, "the replaced job was requeued: two alive jobs"


def test_cancel_of_a_job_apply_replaced_after_its_plan_cancels_nothing_and_says_so(
    cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch, emulator: Any
) -> None:
    """The user asked to stop the key's work; the job the plan named is gone, the key's new
    job runs. Saying `cancel done` would be true of the old job and wrong about the key."""
    stack = unique_stack("cancel-moved")
    manifest = cli_env / "m.yaml"
    manifest.write_text(FAILING.format(stack=stack, command="sleep:30"), encoding="utf-8")
    assert run_cli("apply", "--auto-approve", str(manifest))[0] == 0
    [first] = alive(emulator, stack)
    monkeypatch.setattr(
        cancel_cmd,
        "plan_cancel",
        replaced_meanwhile(cancel_cmd.plan_cancel, manifest, stack, "sleep:31"),
    )
    code, out, err = run_cli("cancel", "--auto-approve", str(manifest), "solver")
    assert code == 1, out + err
    assert f"job {first} is no longer solver's job" in err and "not cancelled" in err, err
    [now] = alive(emulator, stack)
    assert now != first and "cancel done" not in out
