"""Bad input that once ended in "internal error" or a misleading message gets a clear error
naming the place and what was expected (docs/security.md, "Untrusted input")."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpcspec.cluster_flags import ClusterFlags
from hpcspec.config import ConfigError, load_profile, resolve
from hpcspec.emulator.faults import load_plan
from hpcspec.errors import HpcspecError, UsageError
from hpcspec.hpcpack import jobxml
from hpcspec.hpcpack.check.cluster_probes import date_time_format
from hpcspec.hpcpack.check.model import CheckRun, Outcome
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import UNKNOWN, ClusterProfile, ProfileError
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions
from hpcspec.manifest import InvalidManifest, parse_manifest
from hpcspec.manifest import resolve as resolve_manifest
from tests.conftest import Runner

ENV = {"HPCSPEC_CLUSTER": "http://127.0.0.1:9/hpc", "HPCSPEC_PASSWORD": "pw"}


# --- emulator --faults ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ({"probability": "x"}, 'rules.0.probability must be a number from 0 to 1, not "x"'),
        ({"probability": 2}, "rules.0.probability must be a number from 0 to 1, not 2"),
        ({"probability": True}, "rules.0.probability must be a number from 0 to 1, not true"),
        ({"latency_ms": -1}, "rules.0.latency_ms must be a number of milliseconds, 0 or more"),
        ({"error_status": "503"}, "rules.0.error_status must be an HTTP status from 400 to 599"),
        ({"error_status": 200}, "rules.0.error_status must be an HTTP status from 400 to 599"),
        ({"drop_after_commit": 1}, "rules.0.drop_after_commit must be true or false, not 1"),
        ({"match": 5}, "rules.0.match must be a METHOD /path glob (text), not 5"),
    ],
)
def test_a_wrong_field_in_a_faults_file_is_named_with_what_it_must_hold(
    tmp_path: Path, rule: dict[str, object], said: str
) -> None:
    path = tmp_path / "faults.json"
    path.write_text(json.dumps({"rules": [rule]}))
    with pytest.raises(HpcspecError) as refused:
        load_plan(path)
    assert f"{path}: {said}" in refused.value.message
    assert refused.value.code == "emulator-faults-file"


@pytest.mark.parametrize(
    ("document", "said"),
    [
        ("[]", 'must be an object {"seed": N, "rules": [...]}, not []'),
        ('{"rules": {}}', "rules must be a list of rules, not {}"),
        ('{"rules": [3]}', "rules.0 must be an object of rule fields, not 3"),
        ('{"seed": "x"}', 'seed must be a whole number, not "x"'),
        ('{"rules": [], "rules": []}', "rules: the key 'rules' appears twice"),
    ],
)
def test_a_faults_file_of_the_wrong_shape_says_what_it_must_be(
    tmp_path: Path, document: str, said: str
) -> None:
    path = tmp_path / "faults.json"
    path.write_text(document)
    with pytest.raises(HpcspecError) as refused:
        load_plan(path)
    assert said in refused.value.message


def test_the_emulator_refuses_a_bad_faults_file_before_it_serves(
    tmp_path: Path, run_cli: Runner
) -> None:
    path = tmp_path / "faults.json"
    path.write_text('{"rules": [{"probability": "x"}]}')
    db = str(tmp_path / "d")
    code, _, err = run_cli("emulator", "serve", "--faults", str(path), "--db", db, "--user", "a:b")
    assert code == 1
    assert "rules.0.probability must be a number from 0 to 1" in err
    assert "internal error" not in err


def test_a_well_formed_faults_file_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    rule = {"match": "POST /hpc/jobs", "probability": 0.5, "drop_after_commit": True}
    path.write_text(json.dumps({"seed": 7, "rules": [rule, {"error_status": 503}]}))
    plan = load_plan(path)
    assert plan.seed == 7 and plan.rules[0].probability == 0.5 and plan.rules[1].error_status == 503


# --- user names sent on requests -------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "env", "said"),
    [
        (
            ClusterFlags(as_user="x\r\nX: 1"),
            {},
            "the as-user (the x-ms-as-user header) from flag --as-user cannot be sent: it holds "
            "a control character",
        ),
        (
            ClusterFlags(),
            {"HPCSPEC_AS_USER": " HPC\\bob"},
            "from env HPCSPEC_AS_USER cannot be sent: it starts or ends with whitespace",
        ),
        (
            ClusterFlags(as_user="HPC\\李"),
            {},
            "it holds a character outside Latin-1, which an HTTP header cannot carry",
        ),
        (
            ClusterFlags(username="HPC\\al:ice"),
            {},
            "the user name from flag --username cannot be sent: it holds a colon",
        ),
        (
            ClusterFlags(),
            {"HPCSPEC_USERNAME": "HPC\\al\nice"},
            "the user name from env HPCSPEC_USERNAME cannot be sent: it holds a control character",
        ),
    ],
)
def test_a_user_name_that_cannot_go_out_on_a_request_is_a_usage_error(
    flags: ClusterFlags, env: dict[str, str], said: str
) -> None:
    settings = {**ENV, "HPCSPEC_USERNAME": "HPC\\alice", **env}
    with pytest.raises(UsageError) as refused:
        resolve(flags, env=settings)
    assert said in refused.value.message


def test_names_hpc_pack_accepts_pass(tmp_path: Path) -> None:
    config = resolve(
        ClusterFlags(as_user="HPC\\José Müller"), env={**ENV, "HPCSPEC_USERNAME": "HPC\\alice"}
    )
    assert config.as_user.value == "HPC\\José Müller"


def test_as_user_with_a_line_break_fails_at_once_without_a_request(
    run_cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 9 (discard) on loopback: a request would be refused and retried for seconds.
    for name, value in {**ENV, "HPCSPEC_USERNAME": "HPC\\alice"}.items():
        monkeypatch.setenv(name, value)
    started = time.monotonic()
    code, _, err = run_cli("status", "--stack", "s", "--as-user", "x\r\nX: 1")
    assert code == 1
    assert "[invalid-user-name]" in err and "transport-error" not in err
    assert time.monotonic() - started < 5  # one retry's wait would already be close to it


class EndlessStdin(io.StringIO):
    """stdin as `< /dev/zero` gives it: NULs without end (and no line break)."""

    def readline(self, size: int | None = -1) -> str:
        if size is None or size < 0:
            raise AssertionError("an unbounded read of an endless stdin")
        return "\0" * size


def test_password_stdin_reads_one_bounded_line_from_an_endless_stdin() -> None:
    env = {"HPCSPEC_CLUSTER": ENV["HPCSPEC_CLUSTER"], "HPCSPEC_USERNAME": "HPC\\alice"}
    flags = ClusterFlags(password_stdin=True)
    with pytest.raises(UsageError) as refused:
        resolve(flags, env=env, stdin=EndlessStdin())
    assert refused.value.message == "--password-stdin: the first line is over 4096 characters"
    config = resolve(flags, env=env, stdin=io.StringIO("s3cret\r\nmore\n"))
    assert config.password.value == "s3cret"


# --- the profile's datetime_format -----------------------------------------------------------


@pytest.mark.parametrize("pattern", ["%s%n%x{{", "", "HH:mm", "M/d/yyyy h:mm:ss"])
def test_a_profile_datetime_format_that_cannot_read_back_a_time_is_refused(pattern: str) -> None:
    with pytest.raises(ProfileError) as refused:
        ClusterProfile.from_json(json.dumps({"datetime_format": pattern}), where="p.json")
    assert refused.value.message.startswith(f"p.json.datetime_format {pattern!r} is not a usable")
    assert "reads back as" in refused.value.message


@pytest.mark.parametrize(
    "pattern",
    ["M/d/yyyy h:mm:ss tt", "dd.MM.yyyy HH:mm:ss", "yyyy-MM-ddTHH:mm:ss.fffffffK", "d/M/yy H:mm"],
)
def test_real_cluster_datetime_formats_are_accepted(pattern: str) -> None:
    profile = ClusterProfile.from_json(json.dumps({"datetime_format": pattern}))
    assert profile.datetime_format == pattern


def test_a_saved_profile_with_a_broken_datetime_format_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"datetime_format": "%s%n%x{{"}))
    with pytest.raises(ConfigError) as refused:
        load_profile(path)
    assert refused.value.location.file == str(path)
    assert "datetime_format" in refused.value.message


# --- characters job XML cannot carry ---------------------------------------------------------

MANIFEST = """\
apiVersion: hpcspec/v1
stack: s
jobs:
  job:
    tasks:
      t: {commandLine: "echo \\0 hi"}
"""


def test_validate_refuses_a_command_line_job_xml_cannot_carry_at_its_line_and_column(
    tmp_path: Path, run_cli: Runner
) -> None:
    (tmp_path / "m.yaml").write_text(MANIFEST)
    code, _, err = run_cli("validate", str(tmp_path / "m.yaml"))
    assert code == 1
    assert f"{tmp_path / 'm.yaml'}:6:11: error: the value holds U+0000 at character 6" in err
    assert "(at jobs.job.tasks.t.commandLine)" in err


def test_a_variable_that_brings_a_control_character_is_refused_where_it_is_used(
    tmp_path: Path, run_cli: Runner
) -> None:
    text = MANIFEST.replace('"echo \\0 hi"', "'echo ${x}'").replace("jobs:", "vars: {x: a}\njobs:")
    (tmp_path / "m.yaml").write_text(text)
    code, _, err = run_cli("validate", str(tmp_path / "m.yaml"), "--var", "x=a\x01b")
    assert code == 1 and "U+0001" in err and "jobs.job.tasks.t.commandLine" in err


def test_an_env_name_job_xml_cannot_carry_is_refused(tmp_path: Path, run_cli: Runner) -> None:
    text = MANIFEST.replace("    tasks:", '    env: {"A\\x07": x}\n    tasks:')
    text = text.replace("\\0 ", "")
    (tmp_path / "m.yaml").write_text(text)
    code, _, err = run_cli("validate", str(tmp_path / "m.yaml"))
    assert code == 1 and "the name holds U+0007" in err


CHARACTERS = st.characters(codec="utf-8") | st.sampled_from(
    ["\x00", "\x01", "\x0b", "\x1f", "\x7f", "\x85", "\ufffe", "\uffff", "\t", "\r", "\n"]
)


@given(char=CHARACTERS)
def test_validate_accepts_a_command_line_exactly_when_job_xml_can_carry_it(char: str) -> None:
    text = MANIFEST.replace('"echo \\0 hi"', f'"echo \\U{ord(char):08X} hi"')
    try:
        stack = resolve_manifest(parse_manifest(text, file="m.yaml"))
    except (InvalidManifest, HpcspecError):
        valid = False
    else:
        valid = True
    try:
        from hpcspec.hpcpack.definition import JobDefinition, TaskDefinition

        jobxml.render(JobDefinition(tasks=(TaskDefinition("t", f"echo {char} hi"),)))
    except HpcspecError:
        renders = False
    else:
        renders = True
    assert valid == renders
    if valid:
        assert stack.jobs["job"].definition.tasks[0].command_line == f"echo {char} hi"


def test_a_cluster_format_that_cannot_read_back_a_time_is_reported_and_never_saved(
    start_emulator: Any,
) -> None:
    # A profile holding it would not load (above), so neither `cluster check` nor a client
    # learning the format on first use may save it: the check says it differs instead.
    running = start_emulator(profile=ClusterProfile(datetime_format="HH:mm"))
    options = TransportOptions(running.url, credentials=Credentials(*running.admin))
    client = HpcPackClient(Transport(options), profile=UNKNOWN)
    try:
        result = date_time_format(CheckRun(client))
        assert "datetime_format" not in result.facts
        [finding] = result.findings
        assert finding.outcome is Outcome.DIFFERS and "reads back as" in finding.evidence
        assert client.time_format.pattern == "HH:mm"  # still used to read this run's times
        assert not client.profile.knows("datetime_format")
    finally:
        client.close()
