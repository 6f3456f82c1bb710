"""`hpcspec import --job ID...` against the emulator: each example, applied, imports back to
a manifest that recreates the same job; no secret value reaches the manifest, its notes or
stderr (canary); dependencies among imported jobs stay `dependsOn`; `--out` writes only new
files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.definition import JobDefinition, pairs
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions
from tests.conftest import ROOT, Runner

EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.yaml"))
CANARY = "canary-8a4b1f0e-never-print-me"


@contextmanager
def client(cluster: Any) -> Iterator[HpcPackClient]:
    api = HpcPackClient(Transport(TransportOptions(cluster.url, Credentials(*cluster.admin))))
    try:
        yield api
    finally:
        api.close()


def job_ids(run_cli: Runner, manifest: str) -> dict[str, int]:
    code, out, err = run_cli("status", manifest, "--output", "json")
    assert code == 0, err
    return {row["key"]: row["job_id"] for row in json.loads(out)["jobs"]}


def comparable(definition: JobDefinition) -> JobDefinition:
    """A job's definition without what differs between two creations of the same job."""
    return replace(
        definition,
        custom_properties=definition.user_custom_properties(),
        parent_job_ids=(),
        properties=pairs((k, v) for k, v in definition.properties if k != "ClientSource"),
    )


@pytest.mark.parametrize("example", EXAMPLES)
def test_an_applied_example_imports_to_a_manifest_that_recreates_the_same_job(
    example: str, cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    source = str(ROOT / "examples" / example)
    assert run_cli("apply", source, "--auto-approve")[0] == 0
    original = job_ids(run_cli, source)
    ids = [str(i) for i in original.values()]
    code, out, err = run_cli(
        "import",
        *(f"--job={i}" for i in ids),
        "--stack",
        f"copy-{Path(example).stem}",
        "--out",
        "copy.yaml",
    )
    assert code == 0, out + err
    assert run_cli("validate", "copy.yaml")[0] == 0
    assert run_cli("apply", "copy.yaml", "--auto-approve")[0] == 0
    copies = job_ids(run_cli, "copy.yaml")
    assert sorted(copies) == sorted(original)  # keys kept (hpcspec.key tags)
    with client(cluster) as api:
        for key, job_id in original.items():
            before = api.read_whole_job(job_id)
            after = api.read_whole_job(copies[key])
            assert before.definition is not None and after.definition is not None
            assert comparable(after.definition) == comparable(before.definition), key
            parents = {original_key for original_key, i in original.items()
                       if i in before.definition.parent_job_ids}  # fmt: skip
            copied = {k for k, i in copies.items() if i in after.definition.parent_job_ids}
            assert copied == parents
    code, out, err = run_cli("destroy", "copy.yaml", "--auto-approve")
    assert code == 0, out + err


SECRET_MANIFEST = """apiVersion: hpcspec/v1
stack: import-secrets
jobs:
  solve:
    env:
      INNOCENT_LOOKING: {secret: env:CANARY_VALUE}
      OMP_NUM_THREADS: "4"
    runAs: {userName: 'HPC\\alice', password: {secret: env:CANARY_VALUE}}
    tasks:
      t:
        commandLine: echo hi
        env: {PLAIN_TOO: {secret: env:CANARY_VALUE}}
"""


def test_no_secret_value_reaches_an_imported_manifest(
    cli_env: Path, run_cli: Runner, cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARY_VALUE", CANARY)
    (cli_env / "m.yaml").write_text(SECRET_MANIFEST, encoding="utf-8")
    code, out, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 0, out + err
    (managed,) = job_ids(run_cli, "m.yaml").values()
    with client(cluster) as api:  # a job made outside hpcspec, secrets by their names only
        other = api.create_job({"Name": "by hand"})
        api.set_job_env(other, {"DB_PASSWORD": CANARY, "GREETING": "hello"})
        task = api.add_task(other, {"Name": "t", "CommandLine": "echo hi"})
        api.set_task_env(other, task, {"API_TOKEN": CANARY, "CUSTOM_CANARY": CANARY})
        assert CANARY in api.job_env(other).values()  # the value is on the cluster
    code, out, err = run_cli(
        "import", f"--job={managed}", f"--job={other}", "--secret-env", "CUSTOM_CANARY",
        "--out", "imported.yaml",
    )  # fmt: skip
    assert code == 0, out + err
    written = (cli_env / "imported.yaml").read_text(encoding="utf-8")
    for text in (out, err, written):
        assert CANARY not in text
    for name in ("INNOCENT_LOOKING", "PLAIN_TOO", "DB_PASSWORD", "API_TOKEN", "CUSTOM_CANARY"):
        assert f"{{secret: 'env:{name}'}}" in written or f"{{secret: env:{name}}}" in written, (
            name,
            written,
        )
    assert "GREETING: hello" in written and "OMP_NUM_THREADS: '4'" in written
    assert "userName: HPC\\alice\n" in written
    assert "job 'solve': runs as HPC\\alice: the password is never readable" in err
    assert "env DB_PASSWORD: value not imported (its name says it is a secret)" in err
    assert "env INNOCENT_LOOKING: value not imported (hpcspec created it from a secret)" in err
    code, _, err = run_cli("import", f"--job={managed}", "--out", "imported.yaml")
    assert code == 1 and "the file exists" in err and "[output-exists]" in err


def test_import_usage_errors(cli_env: Path, run_cli: Runner) -> None:
    code, _, err = run_cli("import")
    assert code == 1 and "give --xml FILE... or --job ID..." in err
    code, _, err = run_cli("import", "--job", "1", "--job", "2", "--key", "k")
    assert code == 1 and "--key names the key of one --job" in err
    code, _, err = run_cli("import", "--xml", "x.xml", "--key", "k")
    assert code == 1 and "--key and --secret-env go with --job" in err


def test_a_parent_not_imported_and_an_unsubmitted_job_are_noted(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    with client(cluster) as api:
        parent = api.create_job({"Name": "parent"})
        api.add_task(parent, {"Name": "p", "CommandLine": "echo p"})
        api.submit_job(parent)
        child = api.create_job({"Name": "child job", "ParentJobIds": str(parent)})
        api.add_task(child, {"Name": "c", "CommandLine": "echo c"})
    code, out, err = run_cli("import", f"--job={child}")
    assert code == 0, err
    assert f"job 'child-job': parent job(s) {parent} are not imported here" in err
    assert f"job {child} is Configuring (not submitted)" in err
    assert "dependsOn" not in out
    code, out, err = run_cli("import", f"--job={parent}", f"--job={child}", "--stack", "fam")
    assert code == 0 and "  child-job:\n    dependsOn: [parent]\n" in out, out
