"""A secret that cannot be sent stops apply before anything changes, with an error naming the
manifest key path of the variable and the reference, never a value nor hpcspec's internal
job names (docs/security.md, "Secrets in manifests")."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import Runner

MANIFEST = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  job:
    env:
      TOKEN: {{secret: {reference}}}
    tasks:
      t: {{commandLine: 'echo hi'}}
"""


def _absent(run_cli: Runner) -> bool:
    code, out, err = run_cli("status", "m.yaml", "--output", "json")
    assert code == 0, out + err
    return [row["state"] for row in json.loads(out)["jobs"]] == ["absent"]


def test_a_secret_file_that_is_not_utf8_names_the_variable_and_the_file(
    cli_env: Path, run_cli: Runner
) -> None:
    (cli_env / "token.bin").write_bytes(b"\xff\xfe secret")
    (cli_env / "m.yaml").write_text(
        MANIFEST.format(stack="secret-bytes", reference="file:token.bin")
    )
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 1, out + err
    assert "m.yaml: error: secret file:token.bin is not UTF-8 text (at jobs.job.env.TOKEN)" in err
    assert "internal error" not in err
    assert _absent(run_cli)


@pytest.mark.parametrize("via", ["xml", "rest"])
def test_an_env_secret_holding_a_control_character_names_the_variable_not_the_pending_job(
    cli_env: Path, run_cli: Runner, monkeypatch: pytest.MonkeyPatch, via: str
) -> None:
    monkeypatch.setenv("CONTROL_SECRET", "sec\x01ret-canary")
    stack = f"secret-control-{via}"
    (cli_env / "m.yaml").write_text(MANIFEST.format(stack=stack, reference="env:CONTROL_SECRET"))
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve", "--create-via", via)
    assert code == 1, out + err
    assert (
        "m.yaml: error: secret env:CONTROL_SECRET holds a character job XML cannot carry"
    ) in err
    assert "(at jobs.job.env.TOKEN) [secret-invalid]" in err
    assert not re.search(r"hpcspec:[0-9a-f]{16}:", err)  # the pending job's internal name
    assert "canary" not in out + err
    assert _absent(run_cli)
