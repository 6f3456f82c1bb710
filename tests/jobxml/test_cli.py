"""`hpcspec render` and `hpcspec import` end to end (click's runner, real files)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from hpcspec.cli import main
from hpcspec.hpcpack import jobxml
from hpcspec.manifest import load_and_resolve
from tests.jobxml.conftest import ROOT
from tests.render.ci import runner_commands

SECRET_MANIFEST = """\
apiVersion: hpcspec/v1
stack: s
jobs:
  one:
    env:
      LICENSE: {secret: env:HPCSPEC_TEST_LICENSE}
    tasks: {t: {commandLine: run.exe}}
"""


def _run(*args: str) -> tuple[int, str, str]:
    """Through `main`, the CLI's error boundary, as a user runs it."""
    result = CliRunner().invoke(cli_main, list(args))
    return result.exit_code, result.stdout, result.stderr


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def cli_main(args: tuple[str, ...]) -> None:
    main(list(args))


def test_render_one_job_to_stdout_with_identity_tags() -> None:
    code, out, _ = _run("render", str(ROOT / "examples" / "quickstart.yaml"))
    assert code == 0
    definition = jobxml.parse(out.encode(), source="stdout")
    job = load_and_resolve(ROOT / "examples" / "quickstart.yaml").jobs["hello"]
    assert dict(definition.custom_properties) == {
        "hpcspec.stack": "quickstart",
        "hpcspec.key": "hello",
        "hpcspec.digest": job.digest,
    }
    assert "hpcspec.token" not in out


def test_render_several_jobs_needs_out_or_job(tmp_path: Path) -> None:
    manifest = str(ROOT / "examples" / "multi-job.yaml")
    code, _, err = _run("render", manifest)
    assert code == 1 and "name one with --job KEY" in err
    code, out, _ = _run("render", manifest, "--job", "solve")
    assert code == 0 and "Solve 2026-11-29" in out
    code, out, _ = _run("render", manifest, "--out", str(tmp_path / "xml"), "--var", "run=r2")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "xml").iterdir()) == [
        "mesh.xml",
        "report.xml",
        "solve.xml",
    ]
    report = jobxml.parse((tmp_path / "xml" / "report.xml").read_bytes(), source="report.xml")
    assert report.name == "Report r2"


def test_render_unknown_job_is_a_usage_error() -> None:
    code, _, err = _run("render", str(ROOT / "examples" / "sweep.yaml"), "--job", "nope")
    assert code == 1 and "--job 'nope' is not a job in stack 'sweep-demo'" in err


def test_render_writes_secrets_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(SECRET_MANIFEST)
    monkeypatch.setenv("HPCSPEC_TEST_LICENSE", "canary-91b2")
    code, out, err = _run("render", str(manifest))
    assert code == 0 and "canary-91b2" not in out + err
    assert "HPCSPEC_TEST_LICENSE" not in out
    assert "note: one: environment variable LICENSE left out: its value is the secret " in err
    code, out, _ = _run("render", str(manifest), "--out", str(tmp_path / "o"), "--include-secrets")
    written = tmp_path / "o" / "one.xml"
    assert code == 0 and b"canary-91b2" in written.read_bytes()
    assert written.stat().st_mode & 0o077 == 0


def test_import_refuses_unsafe_files_with_a_located_error(tmp_path: Path) -> None:
    evil = tmp_path / "evil.xml"
    evil.write_bytes(b'<!DOCTYPE Job [<!ENTITY x SYSTEM "file:///etc/passwd">]><Job Name="&x;"/>')
    code, out, err = _run("import", "--xml", str(evil))
    assert code == 1 and out == ""
    assert f"{evil}: error: the job XML has a DOCTYPE" in err and "[invalid-job-xml]" in err


def test_import_of_rendered_xml_restores_stack_and_keys(tmp_path: Path) -> None:
    _run("render", str(ROOT / "examples" / "multi-job.yaml"), "--out", str(tmp_path))
    files = [f"--xml={tmp_path / k}.xml" for k in ("mesh", "solve", "report")]
    code, out, _ = _run("import", *files)
    assert code == 0
    assert "stack: pipeline-demo" in out and "hpcspec.digest" not in out
    assert out.index("  mesh:") < out.index("  solve:") < out.index("  report:")


def test_import_of_rendered_xml_keeps_job_dependencies_and_retries(tmp_path: Path) -> None:
    source = ROOT / "examples" / "multi-job.yaml"
    _run("render", str(source), "--out", str(tmp_path))
    files = [f"--xml={tmp_path / k}.xml" for k in ("mesh", "solve", "report")]
    code, out, _ = _run("import", *files)
    assert code == 0
    (tmp_path / "back.yaml").write_text(out)
    back, original = load_and_resolve(tmp_path / "back.yaml"), load_and_resolve(source)
    for key, job in original.jobs.items():
        again = back.jobs[key]
        assert again.depends_on == job.depends_on and again.retries == job.retries == 1
        assert (again.state, again.on_spec_change) == (job.state, job.on_spec_change)
        assert again.digest == job.digest  # the same job, so the same identity


def test_import_warns_about_a_dependency_it_cannot_carry(tmp_path: Path) -> None:
    _run("render", str(ROOT / "examples" / "multi-job.yaml"), "--out", str(tmp_path))
    code, out, err = _run("import", f"--xml={tmp_path / 'report.xml'}")
    assert code == 0
    assert "note: job 'report': dependsOn mesh, solve dropped: not among the imported jobs" in err
    assert "dependsOn" not in out.split("jobs:")[1]


def test_render_carries_state_and_on_spec_change_through_import(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "apiVersion: hpcspec/v1\nstack: s\njobs:\n  one:\n    state: configuring\n"
        "    onSpecChange: ignore\n    retries: 3\n    tasks: {t: {commandLine: run.exe}}\n"
    )
    _run("render", str(manifest), "--out", str(tmp_path / "x"))
    code, out, _ = _run("import", f"--xml={tmp_path / 'x' / 'one.xml'}")
    assert code == 0
    assert "state: configuring\n    onSpecChange: ignore\n    retries: 3\n" in out


def test_import_shows_a_hostile_tag_inert_in_its_notes_and_its_manifest(tmp_path: Path) -> None:
    # A dependency named by the (possibly hostile) job XML: a CR, a runner command, an override.
    xml = tmp_path / "job.xml"
    xml.write_text(
        '<Job Name="n"><CustomProperties><Term><Name>hpcspec.dependsOn</Name>'
        "<Value>ghost&#13;::error::forged&#13;  tasks: {t: {commandLine: evil}}\u202e</Value>"
        "</Term></CustomProperties></Job>",
        encoding="utf-8",
    )
    code, out, err = _run("import", "--xml", str(xml))
    assert code == 0, err
    assert runner_commands(err) == [] and "\u202e" not in err
    assert "\r" not in out and "evil" in out  # quoted in a comment, escaped
    assert "commandLine: evil" not in "\n".join(
        line for line in re.split(r"\r\n|\r|\n", out) if not line.lstrip().startswith("#")
    )
