"""Two users adopting one job: for two stacks, or for two keys. A Queued or Running job takes
no ClientSource marker, only hpcspec's identity tags; those tags are a claim like the marker,
and a second adoption of the job for another stack or key is refused. An adopt killed between
its writes leaves the key one job, which the next apply takes on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine.identity import FORGOTTEN_TAG
from hpcspec.hpcpack.client import HpcPackClient
from tests.apply.cli_process import point_cli_at
from tests.apply.stacks import patient_client
from tests.ci.conftest import unique_stack
from tests.conftest import Runner

ONE_JOB = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  {key}:
    properties: {{Name: by hand}}
    tasks:
      t: {{commandLine: "sleep:300"}}
"""


@pytest.fixture
def cli_env(emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    point_cli_at(emulator, tmp_path, monkeypatch)
    return tmp_path


def by_hand(api: HpcPackClient) -> int:
    """A job submitted outside hpcspec, queued or running."""
    job = api.create_job({"Name": "by hand"})
    api.add_task(job, {"Name": "t", "CommandLine": "sleep:300"})
    api.submit_job(job)
    return job


@pytest.mark.parametrize("second", ["another stack", "another key"])
def test_a_submitted_job_adopted_once_is_refused_to_another_stack_or_key(
    cli_env: Path, run_cli: Runner, emulator: Any, second: str
) -> None:
    stack = unique_stack("claimed")
    (cli_env / "one.yaml").write_text(ONE_JOB.format(stack=stack, key="a"), encoding="utf-8")
    other = unique_stack("rival") if second == "another stack" else stack
    key = "a" if second == "another stack" else "b"
    (cli_env / "two.yaml").write_text(ONE_JOB.format(stack=other, key=key), encoding="utf-8")
    api = patient_client(emulator)
    try:
        job = by_hand(api)
        code, out, err = run_cli("adopt", "one.yaml", f"a={job}")
        assert code == 0 and "identity tags" in out, out + err
        before = (cli_env / "two.yaml").read_text(encoding="utf-8")
        code, out, err = run_cli("adopt", "two.yaml", f"{key}={job}")
        assert code == 1 and "[adopted-elsewhere]" in err, out + err
        assert (cli_env / "two.yaml").read_text(encoding="utf-8") == before
        assert run_cli("plan", "one.yaml", "--detailed-exitcode")[0] == 0
        # Let go of it there (the tag `hpcspec forget` writes): then it may move.
        api.set_job_custom_properties(job, {FORGOTTEN_TAG: "a at 2026-11-30T12:00:00Z"})
        code, out, err = run_cli("adopt", "two.yaml", f"{key}={job}")
        assert code == 0 and "identity tags" in out, out + err
    finally:
        api.close()


class Killed(BaseException):
    """The process dying between two of adopt's writes."""


def test_adopt_killed_between_its_marker_and_its_tags_leaves_the_key_its_one_job(
    cli_env: Path, run_cli: Runner, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = unique_stack("adopt-killed")
    (cli_env / "m.yaml").write_text(ONE_JOB.format(stack=stack, key="a"), encoding="utf-8")
    api = patient_client(emulator)
    try:
        job = api.create_job({"Name": "by hand"})
        api.add_task(job, {"Name": "t", "CommandLine": "sleep:300"})

        def killed(*_: Any) -> None:
            raise Killed

        with monkeypatch.context() as patch:
            patch.setattr(HpcPackClient, "set_job_custom_properties", killed)
            with pytest.raises(Killed):
                run_cli("adopt", "m.yaml", f"a={job}")
        # The marker made it the key's job: apply submits it (as after a whole adopt), never
        # cancels it as a pending leftover nor creates another.
        code, out, err = run_cli("apply", "--auto-approve", "m.yaml")
        assert code == 0 and f"a: submit (job {job}, Configuring)" in out, out + err
        code, out, err = run_cli("status", "--output", "json", "m.yaml")
        assert [row["job_id"] for row in json.loads(out)["jobs"]] == [job], out
        assert run_cli("plan", "m.yaml", "--detailed-exitcode")[0] == 0
    finally:
        api.close()


def test_a_job_adopted_while_running_is_forgotten_by_its_tags_then_free_for_another_stack(
    cli_env: Path, run_cli: Runner, emulator: Any
) -> None:
    """Its ClientSource holds no marker: on a cluster known to keep ClientSource, the listing
    by marker does not show it, and without `adopt:` (the key left the manifest) only its
    tags say whose it is. `forget` must still find it: else the refusal above has no way out."""
    stack, rival = unique_stack("let-go"), unique_stack("taker")
    (cli_env / "one.yaml").write_text(ONE_JOB.format(stack=stack, key="a"), encoding="utf-8")
    (cli_env / "two.yaml").write_text(ONE_JOB.format(stack=rival, key="a"), encoding="utf-8")
    (cli_env / "teach.yaml").write_text(ONE_JOB.format(stack=stack + "-t", key="t"))
    assert run_cli("apply", "--auto-approve", "teach.yaml")[0] == 0  # ClientSource kept: known
    api = patient_client(emulator)
    try:
        job = by_hand(api)
        code, out, err = run_cli("adopt", "one.yaml", f"a={job}")
        assert code == 0 and "identity tags" in out, out + err
        (cli_env / "one.yaml").write_text(ONE_JOB.format(stack=stack, key="c"), encoding="utf-8")
        code, out, err = run_cli("forget", "one.yaml", "a")
        assert code == 0 and f"a (job {job}): forgotten" in out, out + err
        code, out, err = run_cli("adopt", "two.yaml", f"a={job}")
        assert code == 0 and "identity tags" in out, out + err
    finally:
        api.close()


@pytest.mark.parametrize("claimed_by", ["marker", "tags"])
def test_a_hand_written_adopt_entry_naming_another_stacks_job_is_refused_not_destroyed(
    cli_env: Path, run_cli: Runner, emulator: Any, claimed_by: str
) -> None:
    """Found by the verification pass: `adopt` refuses a job another stack claims, but an
    `adopt:` entry written by hand (docs/logs-and-rescue.md allows it) was followed as is —
    `destroy` of that manifest cancelled the other stack's running job, and its plan would
    manage it. The entry is refused as `adopt` refuses it, by the marker or the tags."""
    owner, taker = unique_stack("owner"), unique_stack("taker")
    (cli_env / "one.yaml").write_text(ONE_JOB.format(stack=owner, key="a"), encoding="utf-8")
    api = patient_client(emulator)
    try:
        if claimed_by == "marker":  # created by hpcspec for the owner's stack
            assert run_cli("apply", "--auto-approve", "one.yaml")[0] == 0
            code, out, _ = run_cli("status", "--output", "json", "one.yaml")
            job = json.loads(out)["jobs"][0]["job_id"]
        else:  # adopted by the owner while running: its tags alone say whose it is
            job = by_hand(api)
            code, out, err = run_cli("adopt", "one.yaml", f"a={job}")
            assert code == 0 and "identity tags" in out, out + err
        text = ONE_JOB.format(stack=taker, key="b") + f"adopt:\n  b: {job}\n"
        (cli_env / "two.yaml").write_text(text, encoding="utf-8")
        for command in (("destroy", "--auto-approve", "two.yaml"), ("plan", "two.yaml")):
            code, out, err = run_cli(*command)
            assert code != 0 and "[adopted-elsewhere]" in err, (command, out + err)
        assert api.listed_job(job).state.is_alive
        assert run_cli("plan", "one.yaml", "--detailed-exitcode")[0] == 0
    finally:
        api.close()
