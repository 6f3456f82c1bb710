"""`hpcspec plan` tells what apply's default create path (job XML) will refuse with
`xml-trims` (the second review and two helpers: the plan showed a clean create that the
pipeline's apply then refused, since plan does not know apply's --create-via)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Runner
from tests.plan_cli.conftest import write_manifest

JOBS = """\
  a:
    env: {V: " padded "}
    tasks:
      t: {commandLine: "echo 1"}
"""


def test_plan_notes_a_value_job_xml_would_trim_and_exits_as_a_plan_with_changes(
    cli_env: Path, run_cli: Runner
) -> None:
    manifest = write_manifest(cli_env, "trims-note", JOBS)
    code, out, err = run_cli("plan", str(manifest))
    assert code == 0, out + err
    assert "note: jobs.a.env.V: HPC Pack's job XML importer trims" in out, out
    assert "apply refuses it unless --create-via rest" in out
    code, out, err = run_cli("plan", str(manifest), "--output", "json")
    notes = json.loads(out)["notes"]
    assert any(n.startswith("jobs.a.env.V:") for n in notes), notes
