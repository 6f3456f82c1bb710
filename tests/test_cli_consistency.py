"""The command line behaves the same everywhere (issue 14): `-o/--output` is the format of
every command, `--out FILE` saves a plan and never overwrites a file that is not one, global
options are accepted before or after the subcommand, HPCSPEC_DEBUG=1 is `--debug`, Ctrl-C
exits 130 and says what keeps running, and `--timeout` without `--wait` or a bad DURATION is a
usage error before any request."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import sys
from pathlib import Path

import click
import pytest

from hpcspec.cli import cli, main, stop_on_signals
from tests.conftest import Runner

MANIFEST = """\
apiVersion: hpcspec/v1
stack: consistent
jobs:
  a:
    tasks: {t: {commandLine: echo hi}}
"""


def _commands() -> list[tuple[str, click.Command]]:
    root = click.Context(cli, info_name="hpcspec")
    out = []
    for name in cli.list_commands(root):
        command = cli.get_command(root, name)
        assert command is not None
        subs = (
            [(f"{name} {s}", command.get_command(root, s)) for s in command.list_commands(root)]
            if isinstance(command, click.Group)
            else [(name, command)]
        )
        out += [(path, sub) for path, sub in subs if sub is not None]
    return out


@pytest.mark.slow
def test_every_format_option_is_dash_o_output_and_no_other_option_takes_dash_o() -> None:
    for path, command in _commands():
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            if "-o" in param.opts:
                assert param.name == "output" and "--output" in param.opts, path
            if param.name == "output":
                assert "-o" in param.opts, path
            assert "-O" not in param.opts, path


def test_plan_out_refuses_to_overwrite_a_file_that_is_not_a_plan(
    run_cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 6: `plan -o x.yaml x.yaml` overwrote the manifest with plan JSON, exit 0."""
    monkeypatch.chdir(tmp_path)
    manifest = tmp_path / "x.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    code, _, err = run_cli("plan", "x.yaml", "--out", "x.yaml")
    assert code == 1 and "[plan-file-not-overwritten]" in err
    assert manifest.read_text(encoding="utf-8") == MANIFEST
    code, _, err = run_cli("plan", "x.yaml", "-o", "x.yaml")
    assert code == 1 and "'x.yaml' is not one of" in err
    assert manifest.read_text(encoding="utf-8") == MANIFEST


def test_global_options_are_accepted_before_or_after_the_subcommand() -> None:
    """Finding 7: `--debug` was refused after the subcommand."""
    from hpcspec.cli.argv import normalise

    env: dict[str, str] = {}
    assert normalise(["plan", "m.yaml", "--debug"], env) == ["--debug", "plan", "m.yaml"]
    assert normalise(["--cluster", "prod", "plan", "m.yaml"], env) == [
        "plan",
        "m.yaml",
        "--cluster",
        "prod",
    ]
    assert normalise(["--insecure", "--cluster=x", "status", "m.yaml"], env) == [
        "status",
        "m.yaml",
        "--insecure",
        "--cluster=x",
    ]
    assert normalise(["plan", "--", "--debug"], env) == ["plan", "--", "--debug"]
    assert normalise(["plan", "m.yaml"], {"HPCSPEC_DEBUG": "1"})[0] == "--debug"
    assert normalise(["plan", "m.yaml"], {"HPCSPEC_DEBUG": "0"})[0] == "plan"


def test_debug_after_the_subcommand_and_from_the_environment_shows_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hpcspec.cli import main
    from hpcspec.cli import validate as validate_module

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    monkeypatch.setattr(validate_module, "load_manifest", broken)
    with pytest.raises(SystemExit) as done:
        main(["validate", "m.yaml"])
    assert done.value.code == 1 and "[internal-error]" in capsys.readouterr().err
    with pytest.raises(RuntimeError, match="boom"):  # --debug: the traceback, not one line
        main(["validate", "m.yaml", "--debug"])
    monkeypatch.setenv("HPCSPEC_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(["validate", "m.yaml"])


def test_ctrl_c_exits_130_and_says_what_keeps_running(
    run_cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 7: Ctrl-C exited 1 with "Aborted." and did not say jobs keep running."""
    from hpcspec.cli import apply as apply_module

    def interrupt(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    monkeypatch.setattr(apply_module, "load_stacks", interrupt)
    code, _, err = run_cli("apply", "m.yaml", "--auto-approve")
    assert code == 130
    assert "keep running on the cluster" in err and "hpcspec status m.yaml --wait" in err


# The arguments each command that has a DURATION option needs besides its options.
DURATION_COMMANDS = {
    "apply": ["m.yaml"],
    "destroy": ["m.yaml"],
    "reconcile": ["m.yaml"],
    "requeue": ["m.yaml", "a"],
    "status": ["m.yaml"],
}


def _duration_options() -> list[tuple[str, click.Command, str]]:
    out = []
    for path, command in _commands():
        for param in command.params:
            if isinstance(param, click.Option) and param.metavar == "DURATION":
                out.append((path, command, param.opts[-1]))
    return out


@pytest.fixture
def unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A manifest, and a cluster that nothing answers: a command that got as far as a request
    fails with a transport error, not a usage error."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    monkeypatch.setenv("HPCSPEC_CLUSTER", "http://127.0.0.1:9/hpc")
    monkeypatch.setenv("HPCSPEC_USERNAME", "u")
    monkeypatch.setenv("HPCSPEC_PASSWORD", "p")
    monkeypatch.setenv("HPCSPEC_CONFIG", str(tmp_path / "no-contexts.yaml"))
    monkeypatch.setenv("HPCSPEC_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def test_timeout_without_wait_is_a_usage_error_in_every_command(
    run_cli: Runner, unreachable: Path
) -> None:
    """Finding 10: `apply --timeout` without `--wait` was accepted silently; then `status` and
    `requeue` still accepted it (and `status` answered with its rows, exit 0)."""
    waiting = [
        (path, c) for path, c in _commands() if {"wait", "timeout"} <= {p.name for p in c.params}
    ]
    assert {path for path, _ in waiting} == {"apply", "requeue", "status"}
    for path, _ in waiting:
        code, _, err = run_cli(*path.split(), *DURATION_COMMANDS[path], "--timeout", "5m")
        assert code == 1 and "--timeout limits --wait" in err and "[usage]" in err, (path, err)


def test_a_bad_duration_is_a_usage_error_before_any_request(
    run_cli: Runner, unreachable: Path
) -> None:
    """`status --wait --timeout 5x` (and `--watch --interval 5x`) answered with the status
    rows, then an internal error; `--watch --interval 0s` polled the cluster without a pause."""
    options = _duration_options()
    assert {path for path, _, _ in options} == set(DURATION_COMMANDS)
    for path, command, option in options:
        wanted = {p.name for p in command.params}
        extra = [
            flag for flag, name in (("--wait", "wait"), ("--watch", "watch")) if name in wanted
        ]
        for bad in ("5x", "-5m", "-5"):
            argv = [*path.split(), *DURATION_COMMANDS[path], *extra, option, bad]
            code, out, err = run_cli(*argv)
            assert code == 1 and f"{option} {bad!r}" in err and "[usage]" in err, (argv, err)
            assert out == "" and "internal-error" not in err, (argv, out, err)
    for path, option in (("status", "--interval"), ("reconcile", "--interval")):
        argv = [path, *DURATION_COMMANDS[path], "--watch" if path == "status" else "--once"]
        code, out, err = run_cli(*argv, option, "0s")
        assert code == 1 and f"{option} must be longer than 0s" in err and out == "", err


@pytest.mark.slow
def test_a_saved_plan_file_is_still_json_after_a_second_save(
    run_cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    for _ in range(2):  # a plan file may be overwritten by a new plan
        code, _, err = run_cli("plan", "m.yaml", "--out", "p.json", "--cluster", "local")
        assert code == 0, err
    assert json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))["stack"] == "consistent"


def test_output_to_a_full_disk_is_an_os_error_not_an_internal_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hpcspec validate m.yaml > log` on a full disk: the machine's doing, said as such."""

    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", Full())
    with pytest.raises(SystemExit) as done:
        main(["validate", "m.yaml"])
    err = capsys.readouterr().err
    assert done.value.code == 1 and "No space left on device [os-error]" in err, err
    assert "internal-error" not in err and "Traceback" not in err


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_a_signal_ignored_by_whoever_started_hpcspec_stays_ignored() -> None:
    """`nohup hpcspec apply …` ignores SIGHUP: hpcspec must not turn it back into a stop."""
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with stop_on_signals():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # ours, while it runs
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # given back
    finally:
        signal.signal(signal.SIGHUP, before)


@pytest.mark.parametrize(
    ("argv", "typed", "meant"),
    [
        (["apply", "-auto-approve", "m.yaml"], "-auto-approve", "--auto-approve"),
        (["plan", "-out=plan.json", "m.yaml"], "-out", "--out"),
        (["plan", "-target=a", "m.yaml"], "-target", "--target"),
        (["plan", "-var", "x=1", "m.yaml"], "-var", "--var"),
        (["plan", "-detailed-exitcode", "m.yaml"], "-detailed-exitcode", "--detailed-exitcode"),
        (["destroy", "-auto-approve", "m.yaml"], "-auto-approve", "--auto-approve"),
    ],
)
def test_terraforms_one_dash_options_are_named_with_the_long_option_they_mean(
    run_cli: Runner, unreachable: Path, argv: list[str], typed: str, meant: str
) -> None:
    """Red-team finding: `apply -auto-approve` (a Terraform user's habit) said "No such option
    '-a'", and `plan -out=plan.json` "Invalid value for '-o' / '--output': 'ut=plan.json'"."""
    code, out, err = run_cli(*argv)
    assert code == 1 and out == "", err
    assert f"No such option '{typed}'. Did you mean '{meant}'?" in err, err
