"""The command line: version, module entry point, help, exit codes, no tracebacks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hpcspec import __version__
from hpcspec.cli import COMMANDS, main

ROOT = Path(__file__).parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hpcspec", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_version_through_python_m() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"hpcspec {__version__}"


def test_help_lists_exactly_the_registered_commands() -> None:
    done = run("--help")
    assert done.returncode == 0
    listed = [
        line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines() if line.strip()
    ]
    assert listed == sorted(COMMANDS)


def test_the_readme_command_table_names_every_command() -> None:
    """Red-team finding: `hpcspec forget` (Terraform's `state rm`) was missing from the
    README's table, the one list of commands a new user reads."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Commands\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `hpcspec")]
    named = {word for row in rows for word in re.findall(r"`hpcspec ([a-z-]+)", row)}
    assert sorted(COMMANDS) == sorted(named & set(COMMANDS)), set(COMMANDS) - named


def test_validate_examples_exit_0() -> None:
    done = run("validate", *sorted(str(p) for p in (ROOT / "examples").glob("*.yaml")))
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout


def test_usage_errors_exit_1_not_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["validate", "--no-such-flag", "x.yaml"])
    assert done.value.code == 1
    with pytest.raises(SystemExit) as done:
        main(["no-such-command"])
    assert done.value.code == 1


def test_missing_file_is_a_located_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["validate", "does-not-exist.yaml"])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "does-not-exist.yaml: error: no such file [file-not-found]" in err


def test_validate_json_lists_diagnostics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: hpcspec/v1\nstack: s\njobs:\n  a:\n    tasks:\n"
        "      t: {commandLine: x, dependOn: []}\n"
    )
    with pytest.raises(SystemExit) as done:
        main(["validate", "--output", "json", str(bad)])
    assert done.value.code == 1
    document = json.loads(capsys.readouterr().out)
    diagnostic = document["files"][0]["diagnostics"][0]
    assert diagnostic == {
        "code": "unknown-key",
        "message": "unknown key 'dependOn'",
        "hint": "did you mean 'dependsOn'?",
        "file": str(bad),
        "line": 6,
        "column": 27,
        "path": "jobs.a.tasks.t.dependOn",
        "severity": "error",
    }


def test_var_override_reaches_the_resolver(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["validate", "--var", "cases=0", str(ROOT / "examples" / "sweep.yaml")])
    assert done.value.code == 1
    assert "sweep start 1 is greater than end 0" in capsys.readouterr().err
    varfile = tmp_path / "vars.yaml"
    varfile.write_text("cases: 12\n")
    with pytest.raises(SystemExit) as done:
        main(["validate", "--var-file", str(varfile), str(ROOT / "examples" / "sweep.yaml")])
    assert done.value.code == 0


def test_an_undeclared_var_names_the_var_file_it_came_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Red-team finding: an entry of a --var-file that the manifest does not declare was
    reported as `--var casez`, sending the user to a command line that has no such flag."""
    varfile = tmp_path / "vars.yaml"
    varfile.write_text("casez: 12\n")
    sweep = str(ROOT / "examples" / "sweep.yaml")
    with pytest.raises(SystemExit) as done:
        main(["validate", "--var-file", str(varfile), sweep])
    err = capsys.readouterr().err
    assert done.value.code == 1 and f"--var-file {varfile}: casez: the manifest declares" in err
    with pytest.raises(SystemExit) as done:  # given again with --var: that one wins
        main(["validate", "--var-file", str(varfile), "--var", "casez=1", sweep])
    assert "error: --var casez: the manifest declares" in capsys.readouterr().err


def test_internal_errors_print_no_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import hpcspec.cli.validate as validate_module

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(validate_module, "load_manifest", boom)
    with pytest.raises(SystemExit) as done:
        main(["validate", str(ROOT / "examples" / "quickstart.yaml")])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error: RuntimeError: boom" in err
