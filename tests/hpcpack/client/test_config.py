"""Configuration: precedence, contexts file safety, and where the password comes from."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from hpcspec.config import (
    ClusterFlags,
    ConfigError,
    Context,
    ContextsFile,
    load_contexts,
    resolve,
    save_contexts,
)
from hpcspec.hpcpack.errors import InsecureConnection
from hpcspec.hpcpack.transport import Transport
from tests.conftest import ROOT

URL = "https://head.example.test/hpc"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HPCSPEC_CONFIG": str(tmp_path / "config.yaml"), **extra}


def _write(tmp_path: Path, text: str) -> None:
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")


def _no_keyring(service: str, user: str) -> None:
    return None


def test_nothing_configured_means_the_local_cluster(tmp_path: Path) -> None:
    config = resolve(ClusterFlags(), env=_env(tmp_path), keyring=_no_keyring)
    assert config.is_local
    assert config.password.value is None


def test_flag_beats_env_beats_context(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "currentContext: prod\ncontexts:\n  prod: {cluster: 'https://ctx.test/hpc', "
        "username: 'HPC\\ctx', asUser: 'HPC\\x', timeout: 5}\n",
    )
    env = _env(tmp_path, HPCSPEC_USERNAME="HPC\\env", HPCSPEC_PASSWORD="pw")
    config = resolve(ClusterFlags(as_user="HPC\\flag"), env=env, keyring=_no_keyring)
    assert (config.url.value, config.context) == ("https://ctx.test/hpc", "prod")
    assert (config.username.value, config.username.origin) == ("HPC\\env", "env HPCSPEC_USERNAME")
    assert (config.as_user.value, config.as_user.origin) == ("HPC\\flag", "flag --as-user")
    assert (config.timeout.value, config.timeout.origin) == (5, "context prod")
    options = config.transport_options()
    assert (options.connect_timeout, options.read_timeout) == (5, 5)
    env_cluster = _env(tmp_path, HPCSPEC_CLUSTER=URL, HPCSPEC_USERNAME="u", HPCSPEC_PASSWORD="p")
    direct = resolve(ClusterFlags(), env=env_cluster, keyring=_no_keyring)
    # a URL given directly uses no context (the current context's user is for its cluster)
    assert (direct.url.value, direct.context, direct.as_user.value) == (URL, None, None)


def test_password_from_stdin_wins_and_is_masked(tmp_path: Path) -> None:
    env = _env(tmp_path, HPCSPEC_CLUSTER=URL, HPCSPEC_USERNAME="u", HPCSPEC_PASSWORD="env-pw")
    config = resolve(
        ClusterFlags(password_stdin=True), env=env, stdin=io.StringIO("stdin-pw\nrest\n")
    )
    assert (config.password.value, config.password.origin) == ("stdin-pw", "--password-stdin")
    assert "stdin-pw" not in repr(config)
    assert ("password", "********", "--password-stdin") in config.rows()


def test_keyring_then_prompt(tmp_path: Path) -> None:
    env = _env(tmp_path, HPCSPEC_CLUSTER=URL, HPCSPEC_USERNAME="HPC\\u")
    asked: list[tuple[str, str]] = []

    def keyring(service: str, user: str) -> str | None:
        asked.append((service, user))
        return "from-keyring"

    config = resolve(ClusterFlags(), env=env, keyring=keyring)
    assert (config.password.value, config.password.origin) == ("from-keyring", "keyring")
    assert asked == [(f"hpcspec {URL}", "HPC\\u")]
    prompted = resolve(
        ClusterFlags(), env=env, keyring=_no_keyring, prompt=lambda q, hide: f"{q}:{hide}"
    )
    assert prompted.password.value == "Password for HPC\\u:True"
    assert prompted.password.origin == "prompt"


def test_no_password_and_no_terminal_is_an_error(tmp_path: Path) -> None:
    env = _env(tmp_path, HPCSPEC_CLUSTER=URL, HPCSPEC_USERNAME="u")
    with pytest.raises(ConfigError, match="no password") as failure:
        resolve(ClusterFlags(), env=env, keyring=_no_keyring)
    assert "--password-stdin" in (failure.value.hint or "")


def test_unknown_context_name_lists_the_known_ones(tmp_path: Path) -> None:
    _write(tmp_path, "contexts:\n  prod: {cluster: 'https://p/hpc'}\n")
    with pytest.raises(ConfigError, match="contexts: prod"):
        resolve(ClusterFlags(cluster="staging"), env=_env(tmp_path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "contexts:\n  p: {cluster: 'https://p/hpc', password: hunter2}\n",
            "never reads passwords",
        ),
        ("contexts:\n  p: !!python/object:os.system {cluster: x}\n", "not valid YAML"),
        (  # ruamel's own message quotes both values: the password reached CI logs
            "contexts:\n  p:\n    cluster: 'https://p/hpc'\n    password: hunter2\n"
            "    password: hunter2\n",
            r"a key appears twice in one mapping \(line 5, column 5\)",
        ),
        ("contexts:\n  p: {cluster: 'https://p/hpc', colour: red}\n", "unknown keys"),
        ("currentContext: q\ncontexts:\n  p: {cluster: 'https://p/hpc'}\n", "not one of"),
        ("contexts:\n  p: {cluster: 'https://p/hpc', timeout: soon}\n", "number of seconds"),
        ("- a list\n", "must be a mapping"),
    ],
)
def test_bad_contexts_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    _write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as failure:
        load_contexts(tmp_path / "config.yaml")
    assert failure.value.location.file == str(tmp_path / "config.yaml")
    assert "hunter2" not in failure.value.render()


def test_saved_contexts_round_trip_and_are_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.yaml"
    contexts = ContextsFile(
        path, "a", (Context("a", URL, "HPC\\a", None, "/ca.pem", True, 12.5), Context("b", URL))
    )
    save_contexts(contexts)
    assert load_contexts(path) == contexts
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_insecure_must_be_asked_for_and_http_stays_refused(tmp_path: Path) -> None:
    env = _env(tmp_path, HPCSPEC_CLUSTER="http://10.1.2.3/hpc", HPCSPEC_USERNAME="u")
    env["HPCSPEC_PASSWORD"] = "p"
    config = resolve(ClusterFlags(insecure=True), env=env)
    assert (config.insecure.value, config.insecure.origin) == (True, "flag --insecure")
    with pytest.raises(InsecureConnection):  # --insecure is about TLS, never about http
        Transport(config.transport_options())


def test_the_documented_contexts_file_loads(tmp_path: Path) -> None:
    page = ROOT / "docs" / "configuration.md"
    block = page.read_text(encoding="utf-8").split("```yaml\n")[1].split("```")[0]
    _write(tmp_path, block)
    contexts = load_contexts(tmp_path / "config.yaml")
    assert contexts.current == "prod"
    assert [c.name for c in contexts.contexts] == ["prod", "lab"]
    assert contexts.get("lab") == Context(
        "lab", "https://lab-head/hpc", "LAB\\alice", insecure=True
    )


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes (Windows: ACLs)")
@pytest.mark.parametrize("loose", ["file", "folder"])
def test_a_contexts_file_others_may_change_is_warned_about_when_it_chooses_the_cluster(
    tmp_path: Path, loose: str
) -> None:
    """Whoever may change the contexts file chooses the URL HPCSPEC_PASSWORD is sent to (ssh
    refuses such a config). hpcspec warns on every command whose cluster comes from it."""
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "config.yaml").write_text(
        "currentContext: p\ncontexts:\n  p: {cluster: 'https://p/hpc'}\n"
    )
    (folder / "config.yaml").chmod(0o666 if loose == "file" else 0o600)
    folder.chmod(0o777 if loose == "folder" else 0o700)
    env = {"HPCSPEC_CONFIG": str(folder / "config.yaml")}
    chosen = resolve(ClusterFlags(), env=env, need_password=False)
    assert len(chosen.warnings) == 1 and "others may" in chosen.warnings[0], chosen.warnings
    assert "its folder: others may write in it (mode 0777)" in chosen.warnings[0] or loose == "file"
    given = resolve(ClusterFlags(cluster="https://q/hpc"), env=env, need_password=False)
    assert given.warnings == ()  # the file chose nothing
    (folder / "config.yaml").chmod(0o600)
    folder.chmod(0o700)
    assert resolve(ClusterFlags(), env=env, need_password=False).warnings == ()
