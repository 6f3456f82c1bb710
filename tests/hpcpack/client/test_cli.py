"""`hpcspec cluster info` and `hpcspec config view`, on a mocked cluster and on the emulator."""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner, Result

from hpcspec.cli import cli
from hpcspec.emulator import local
from tests.emulator_fixture import RunningEmulator
from tests.hpcpack.client.conftest import BASE, CANARY, USER, rows


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A private contexts file (tests/conftest.py already isolates the rest)."""
    return {"HPCSPEC_CONFIG": str(tmp_path / "config.yaml")}


def invoke(args: list[str], env: dict[str, str], stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, args, env=env, input=stdin, catch_exceptions=False)


@pytest.fixture
def mocked_cluster() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        mocked.add("GET", BASE + "/cluster/version", json="5.3.6450.0")
        mocked.add("GET", BASE + "/cluster/activeHeadNode", json="HEAD01")
        mocked.add("GET", BASE + "/cluster/info/dateTimeFormat", json="M/d/yyyy h:mm:ss tt")
        mocked.add(
            "GET",
            BASE + "/nodes/groups",
            json=rows({"Name": "ComputeNodes", "Description": "compute"}, {"Name": "Empty"}),
        )
        mocked.add("GET", BASE + "/nodes/groups/ComputeNodes", json=["CN01", "CN02", "CN03"])
        mocked.add("GET", BASE + "/nodes/groups/Empty", json=[])
        mocked.add(
            "GET",
            re.compile(re.escape(BASE + "/nodes") + r"\?.*"),
            json=rows(
                {"Name": "CN01", "State": "Online"},
                {"Name": "CN02", "State": "Online"},
                {"Name": "CN03", "State": "Offline"},
            ),
        )
        mocked.add("GET", BASE + "/jobs/templates", json=["Default", "Gpu"])
        yield mocked


def test_cluster_info_text_on_a_mocked_cluster(
    env: dict[str, str], mocked_cluster: responses.RequestsMock
) -> None:
    env |= {"HPCSPEC_CLUSTER": BASE, "HPCSPEC_USERNAME": USER, "HPCSPEC_PASSWORD": CANARY}
    done = invoke(["cluster", "info"], env)
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == [
        f"cluster        {BASE}",
        "version        5.3.6450.0",
        "head node      HEAD01",
        "date format    M/d/yyyy h:mm:ss tt",
        "nodes          3 (1 Offline, 2 Online)",
        "node groups",
        "  ComputeNodes  CN01, CN02, CN03  — compute",
        "  Empty         (no nodes)",
        "job templates  Default, Gpu",
    ]
    assert CANARY not in done.output


def test_cluster_info_reads_the_password_from_stdin(
    env: dict[str, str], mocked_cluster: responses.RequestsMock
) -> None:
    env |= {"HPCSPEC_CLUSTER": BASE, "HPCSPEC_USERNAME": USER}
    done = invoke(["cluster", "info", "-o", "json", "--password-stdin"], env, stdin=CANARY + "\n")
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert document["nodes_by_state"] == {"Offline": 1, "Online": 2}
    sent = mocked_cluster.calls[0].request.headers["Authorization"]
    assert base64.b64decode(sent.split()[1]).decode() == f"{USER}:{CANARY}"


def test_cluster_info_refuses_plain_http_to_a_remote_host(env: dict[str, str]) -> None:
    env |= {
        "HPCSPEC_CLUSTER": "http://head.example.test/hpc",
        "HPCSPEC_USERNAME": USER,
        "HPCSPEC_PASSWORD": CANARY,
    }
    with responses.RequestsMock() as mocked:
        done = CliRunner().invoke(cli, ["cluster", "info"], env=env)
        assert len(mocked.calls) == 0
    assert isinstance(done.exception, Exception)
    assert "plain http" in str(done.exception)


def test_cluster_info_against_the_emulator(env: dict[str, str], emulator: RunningEmulator) -> None:
    user, password = emulator.admin
    env |= {"HPCSPEC_CLUSTER": emulator.url, "HPCSPEC_USERNAME": user}
    done = invoke(["cluster", "info", "--output", "json", "--password-stdin"], env, password)
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert document["format_version"] == 1
    assert document["url"] == emulator.url
    assert document["date_time_format"] == "M/d/yyyy h:mm:ss tt"
    assert "Default" in document["job_templates"]
    groups = {g["name"]: g["members"] for g in document["node_groups"]}
    assert "ComputeNodes" in groups
    assert sum(document["nodes_by_state"].values()) >= len(groups["ComputeNodes"]) >= 1
    assert password not in done.output


def test_no_cluster_configured_uses_the_users_local_cluster_and_says_so(
    env: dict[str, str], emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Path] = []

    def ensure_up(directory: Path) -> local.LocalCluster:  # the emulator stands in for the spawn
        started.append(directory)
        return local.LocalCluster(emulator.url, *emulator.admin)

    monkeypatch.setattr(local, "ensure_up", ensure_up)
    done = invoke(["cluster", "info"], env)
    assert done.exit_code == 0, done.output
    assert done.stderr == (
        f"hpcspec: cluster {emulator.url} "
        "(embedded local cluster: no cluster configured, not in CI)\n"
    )
    assert started == [Path(os.environ["HPCSPEC_STATE_DIR"]) / "local"]
    assert f"cluster        {emulator.url}" in done.stdout


def test_every_command_names_the_cluster_it_talks_to_and_why(
    env: dict[str, str], mocked_cluster: responses.RequestsMock
) -> None:
    env |= {"HPCSPEC_CLUSTER": BASE, "HPCSPEC_USERNAME": USER, "HPCSPEC_PASSWORD": CANARY}
    done = invoke(["cluster", "info"], env)
    assert done.exit_code == 0, done.output
    assert done.stderr == f"hpcspec: cluster {BASE} (env HPCSPEC_CLUSTER)\n"


def test_cluster_local_is_refused_as_a_context_name(env: dict[str, str]) -> None:
    done = CliRunner().invoke(cli, ["config", "set-context", "local", "--cluster", BASE], env=env)
    assert done.exit_code != 0
    assert "`local` names the embedded local cluster" in str(done.exception)


def test_config_view_shows_each_setting_and_its_origin(env: dict[str, str], tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    done = invoke(
        [
            "config",
            "set-context",
            "prod",
            "--cluster",
            BASE,
            "--username",
            USER,
            "--request-timeout",
            "30",
        ],
        env,
    )
    assert done.exit_code == 0, done.output
    env |= {"HPCSPEC_PASSWORD": CANARY, "HPCSPEC_CA_BUNDLE": str(ca)}
    done = invoke(["config", "view", "-o", "json", "--as-user", "HPC\\bob"], env)
    assert done.exit_code == 0, done.output
    settings = json.loads(done.stdout)["settings"]
    shown = {name: (s["value"], s["origin"]) for name, s in settings.items()}
    where = f"current context in {env['HPCSPEC_CONFIG']}"
    assert json.loads(done.stdout)["state_dir"] == os.environ["HPCSPEC_STATE_DIR"]
    assert shown == {
        "cluster": (BASE, where),
        "context": ("prod", where),
        "username": (USER, "context prod"),
        "password": ("********", "env HPCSPEC_PASSWORD"),
        "as-user": ("HPC\\bob", "flag --as-user"),
        "ca-bundle": (str(ca), "env HPCSPEC_CA_BUNDLE"),
        "insecure": ("no", "default"),
        "timeout": ("30s", "context prod"),
    }
    text = invoke(["config", "view"], env)
    assert CANARY not in text.output
    assert re.search(r"^password\s+\*{8}\s+\(env HPCSPEC_PASSWORD\)$", text.stdout, re.M)


@pytest.mark.parametrize("where", ["env", "flag", "context"])
@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://u:hunter2_CANARY@127.0.0.1:40041/hpc", "must not carry a user name or password"),
        ("http://127.0.0.1:1/hpc\n::error::injected", "control character or white space"),
        ("https://head/hpc\r##vso[task.setvariable]x", "control character or white space"),
    ],
)
@pytest.mark.parametrize("command", [["config", "view"], ["cluster", "info"]])
def test_a_cluster_url_with_credentials_or_a_line_break_is_refused_before_it_is_printed(
    env: dict[str, str], where: str, url: str, said: str, command: list[str]
) -> None:
    """Red-team finding: the URL (with its password, or a CI runner command on a line of its
    own) was printed by `config view` and by the cluster line before it was refused."""
    args = list(command)
    if where == "env":
        env = env | {"HPCSPEC_CLUSTER": url}
    elif where == "flag":
        args += ["--cluster", url]
    else:
        contexts = Path(env["HPCSPEC_CONFIG"])
        contexts.parent.mkdir(parents=True, exist_ok=True)
        contexts.write_text(
            "currentContext: c\ncontexts:\n  c:\n    cluster: " + json.dumps(url) + "\n",
            encoding="utf-8",
        )
    done = CliRunner().invoke(cli, args, env=env | {"HPCSPEC_PASSWORD": "pw"})
    text = done.output + str(done.exception)
    assert done.exit_code != 0 and said in text and "[invalid-cluster-url]" in text, text
    assert "CANARY" not in text and "injected" not in text, text
    assert "##vso" not in text and "::error::" not in text, text


def test_config_use_context_switches_clusters(env: dict[str, str]) -> None:
    for name in ("a", "b"):
        invoke(["config", "set-context", name, "--cluster", f"https://{name}.test/hpc"], env)
    assert invoke(["config", "use-context", "b"], env).exit_code == 0
    settings = json.loads(invoke(["config", "view", "-o", "json"], env).stdout)["settings"]
    assert settings["cluster"]["value"] == "https://b.test/hpc"
    flagged = invoke(["config", "view", "-o", "json", "--cluster", "a"], env)
    assert json.loads(flagged.stdout)["settings"]["cluster"] == {
        "value": "https://a.test/hpc",
        "origin": "flag --cluster (context a)",
    }


@pytest.mark.parametrize(
    ("command", "options"),
    [
        (
            ["cluster", "info"],
            ["--output", "--cluster", "--username", "--password-stdin", "--as-user",
             "--ca-bundle", "--insecure", "--request-timeout"],
        ),
        (["config", "view"], ["--output", "--cluster", "--username", "--password-stdin"]),
        (["config", "set-context"], ["--cluster", "--username", "--as-user", "--ca-bundle",
                                     "--insecure", "--request-timeout", "--use"]),
    ],
)  # fmt: skip
def test_every_option_is_in_help(command: list[str], options: list[str]) -> None:
    done = CliRunner().invoke(cli, [*command, "--help"])
    assert done.exit_code == 0
    for option in options:
        assert option in done.output
    assert "--password " not in done.output and "--password=" not in done.output


def test_insecure_is_reported_on_stderr(
    env: dict[str, str], mocked_cluster: responses.RequestsMock
) -> None:
    env |= {"HPCSPEC_CLUSTER": BASE, "HPCSPEC_USERNAME": USER, "HPCSPEC_PASSWORD": CANARY}
    done = invoke(["cluster", "info", "--insecure"], env)
    assert done.exit_code == 0, done.output
    assert "TLS certificate verification is OFF (flag --insecure)" in done.stderr
    assert all(call.request.req_kwargs["verify"] is False for call in mocked_cluster.calls)
