"""Which cluster a command talks to (DESIGN.md §6, issue 14 items 2 and 12), and where the
per-user state lives: the local cluster only when nothing is configured outside CI, a
variable set but empty is an error, `--cluster local` always means the local cluster."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpcspec.config import (
    CI_VARIABLES,
    ClusterChoice,
    ClusterFlags,
    ConfigError,
    ci_marker,
    cluster_key,
    local_cluster_dir,
    resolve,
    stack_state_dir,
    state_dir,
)
from tests.conftest import ROOT

URL = "https://head.example.test/hpc"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HPCSPEC_CONFIG": str(tmp_path / "config.yaml"), **extra}


def _resolve(env: dict[str, str], **flags: object) -> object:
    return resolve(ClusterFlags(**flags), env=env, keyring=lambda s, u: None)  # type: ignore[arg-type]


def test_nothing_configured_outside_ci_is_the_local_cluster(tmp_path: Path) -> None:
    config = resolve(ClusterFlags(), env=_env(tmp_path))
    assert config.choice is ClusterChoice.LOCAL and config.is_local
    assert config.url.origin == "no cluster configured, not in CI"
    assert config.state_key == "local"


@pytest.mark.parametrize(
    ("name", "value"),
    [("CI", "true"), ("CI", "1"), ("GITHUB_ACTIONS", "true"), ("TF_BUILD", "True"),
     ("GITLAB_CI", "true"), ("JENKINS_URL", "https://ci.example/"), ("BUILDKITE", "true"),
     ("TF_IN_AUTOMATION", "yes")],
)  # fmt: skip
def test_nothing_configured_in_ci_is_an_error_that_says_how_to_configure(
    tmp_path: Path, name: str, value: str
) -> None:
    env = _env(tmp_path, **{name: value})
    with pytest.raises(ConfigError) as failure:
        resolve(ClusterFlags(), env=env)
    assert f"this run is in CI ({name}={value})" in failure.value.message
    assert "HPCSPEC_CLUSTER" in (failure.value.hint or "")
    assert "--cluster local" in (failure.value.hint or "")
    shown = resolve(ClusterFlags(), env=env, need_cluster=False)  # config view shows it
    assert shown.choice is ClusterChoice.MISSING
    assert shown.rows()[0][1] == "(none: no cluster configured, and this run is in CI)"


@pytest.mark.parametrize("value", ["", "0", "false", "False", "no"])
def test_a_ci_variable_set_to_false_is_not_ci(value: str) -> None:
    assert ci_marker({"CI": value}) is None


def test_every_documented_ci_variable_is_detected() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text("utf-8")
    for name in CI_VARIABLES:
        assert ci_marker({name: "true"}) == f"{name}=true"
        assert f"`{name}`" in page, name


@pytest.mark.parametrize("where", ["flag", "env"])
def test_local_chosen_explicitly_works_in_ci(tmp_path: Path, where: str) -> None:
    env = _env(tmp_path, CI="true", GITHUB_ACTIONS="true", HPCSPEC_USERNAME="HPC\\u")
    flags = {"cluster": "local"} if where == "flag" else {}
    if where == "env":
        env["HPCSPEC_CLUSTER"] = "local"
    config = resolve(ClusterFlags(**flags), env=env)  # type: ignore[arg-type]
    assert config.choice is ClusterChoice.LOCAL
    origin = "flag --cluster local" if where == "flag" else "env HPCSPEC_CLUSTER local"
    assert config.url.origin == origin
    assert config.username.value is None  # the local cluster's own credentials are used


@pytest.mark.parametrize(
    "name",
    ["HPCSPEC_CLUSTER", "HPCSPEC_USERNAME", "HPCSPEC_PASSWORD", "HPCSPEC_AS_USER",
     "HPCSPEC_CA_BUNDLE", "HPCSPEC_CONFIG"],
)  # fmt: skip
@pytest.mark.parametrize("empty", ["", "  "])
def test_a_variable_set_but_empty_is_an_error_never_not_configured(
    tmp_path: Path, name: str, empty: str
) -> None:
    env = _env(tmp_path, HPCSPEC_CLUSTER=URL, HPCSPEC_USERNAME="u", HPCSPEC_PASSWORD="p")
    env[name] = empty
    with pytest.raises(ConfigError, match=f"{name} is set but empty"):
        resolve(ClusterFlags(), env=env)


def test_an_empty_cluster_variable_is_an_error_even_with_a_current_context(
    tmp_path: Path,
) -> None:
    contexts = f"currentContext: p\ncontexts:\n  p: {{cluster: '{URL}'}}\n"
    (tmp_path / "config.yaml").write_text(contexts, encoding="utf-8")
    with pytest.raises(ConfigError, match="HPCSPEC_CLUSTER is set but empty") as failure:
        resolve(ClusterFlags(), env=_env(tmp_path, HPCSPEC_CLUSTER=""))
    assert "unset it" in (failure.value.hint or "")
    flagged = resolve(  # the flag wins: the empty variable is not consulted
        ClusterFlags(cluster=URL),
        env=_env(tmp_path, HPCSPEC_CLUSTER="", HPCSPEC_USERNAME="u", HPCSPEC_PASSWORD="p"),
    )
    assert flagged.url.value == URL


def test_an_empty_cluster_flag_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--cluster is empty"):
        resolve(ClusterFlags(cluster=" "), env=_env(tmp_path))


def test_the_state_dir_is_per_user_not_per_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HPCSPEC_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    import platformdirs

    default = platformdirs.user_state_path("hpcspec")
    assert state_dir({}) == default
    monkeypatch.chdir(tmp_path)
    assert local_cluster_dir({}) == default / "local"
    assert state_dir({"HPCSPEC_STATE_DIR": str(tmp_path / "s")}) == tmp_path / "s"
    with pytest.raises(ConfigError, match="HPCSPEC_STATE_DIR is set but empty"):
        state_dir({"HPCSPEC_STATE_DIR": ""})


def test_stack_state_dirs_are_private_and_keyed_by_cluster_and_stack(tmp_path: Path) -> None:
    env = {"HPCSPEC_STATE_DIR": str(tmp_path / "state")}
    one = stack_state_dir("https://Head.Example.test:443/hpc/", "nightly", env)
    assert one == stack_state_dir("https://head.example.test/hpc", "nightly", env)
    assert one.is_dir() and one.parts[-2:] == ("stacks", "nightly")
    assert one.parent.parent.name.startswith("head.example.test-")
    for directory in (tmp_path / "state", one):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stack_state_dir("https://other.test/hpc", "nightly", env) != one
    assert stack_state_dir("https://head.example.test:8443/hpc", "nightly", env) != one
    local = tmp_path / "state" / "clusters" / "local" / "stacks" / "nightly"
    assert stack_state_dir("local", "nightly", env) == local
    with pytest.raises(ValueError):
        stack_state_dir("local", "../escape", env)


def test_an_existing_state_dir_keeps_its_mode(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    stack_state_dir("local", "s", {"HPCSPEC_STATE_DIR": str(mine)})
    assert stat.S_IMODE(mine.stat().st_mode) == 0o755


def test_a_state_dir_reached_through_the_users_own_link_is_used(tmp_path: Path) -> None:
    """A HOME or state directory that is a link (macOS's /var -> /private/var is root's; a
    user's own link to a bigger disk) is not refused."""
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "home").symlink_to(tmp_path / "real")
    made = stack_state_dir("local", "s", {"HPCSPEC_STATE_DIR": str(tmp_path / "home" / "st")})
    assert (tmp_path / "real" / "st").is_dir() and made.is_dir()
    stack_state_dir("local", "s", {"HPCSPEC_STATE_DIR": str(tmp_path / "home")})


@pytest.mark.skipif(not hasattr(os, "lchown"), reason="POSIX owners")
def test_a_state_dir_that_is_another_users_link_is_refused(tmp_path: Path) -> None:
    """A link in a shared sticky directory (HPCSPEC_STATE_DIR=/tmp/ci-state) that another
    user planted, pointing at a directory of ours: they may point it at theirs between the
    check and the journal's open. Before: the check followed the link and found ours."""
    (tmp_path / "ours").mkdir(mode=0o700)
    link = tmp_path / "state"
    link.symlink_to(tmp_path / "ours")
    other = os.getuid() + 4242
    try:
        os.lchown(link, other, other)
    except PermissionError:
        pytest.skip("giving a link to another user takes root")
    with pytest.raises(ConfigError) as refused:
        stack_state_dir("local", "s", {"HPCSPEC_STATE_DIR": str(link)})
    assert f"symbolic link owned by another user (uid {other})" in refused.value.message
    assert (
        not (tmp_path / "ours" / "clusters").exists() and not (tmp_path / "ours" / "local").exists()
    )


@given(
    st.sampled_from(["http", "https", "HTTPS"]),
    st.sampled_from(["head", "Head.Example.TEST", "127.0.0.1", "[::1]"]),
    st.sampled_from(["", ":443", ":80", ":8443"]),
    st.sampled_from(["/hpc", "/hpc/", "/HPC"]),
)
def test_cluster_key_is_idempotent(scheme: str, host: str, port: str, path: str) -> None:
    key = cluster_key(f"{scheme}://{host}{port}{path}")
    assert cluster_key(key) == key
    assert not key.endswith("/")
