"""`hpcspec render` and `hpcspec import` end to end (click's runner, real files)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from hpcspec.cli import main
from hpcspec.hpcpack import jobxml
from hpcspec.manifest import load_and_resolve
from tests.jobxml.conftest import ROOT

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
    assert "secret env:HPCSPEC_TEST_LICENSE" in out
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
