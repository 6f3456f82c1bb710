"""`python -m hpcspec.pr_comment`: one comment per key, created once, then edited in place."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from hpcspec import pr_comment
from tests.ci.fake_forges import TOKEN, Forge


def forge_env(provider: str, forge: Forge, tmp_path: Path) -> dict[str, str]:
    """The variables each runner sets in a pull-request build, pointed at the fake forge."""
    if provider == "github":
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"pull_request": {"number": 5}}))
        return {
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_API_URL": forge.url,
            "GITHUB_REPOSITORY": "o/r",
            "GITHUB_EVENT_PATH": str(event),
        }
    if provider == "azure":
        return {
            "SYSTEM_ACCESSTOKEN": TOKEN,
            "SYSTEM_COLLECTIONURI": f"{forge.url}/org/",
            "SYSTEM_TEAMPROJECTID": "proj",
            "BUILD_REPOSITORY_ID": "repo",
            "SYSTEM_PULLREQUEST_PULLREQUESTID": "7",
        }
    return {
        "HPCSPEC_GITLAB_TOKEN": TOKEN,
        "CI_API_V4_URL": f"{forge.url}/api/v4",
        "CI_PROJECT_ID": "42",
        "CI_MERGE_REQUEST_IID": "3",
    }


PROVIDERS = ["github", "azure", "gitlab"]


@pytest.mark.parametrize("forge", PROVIDERS, indirect=True)
def test_second_post_edits_the_first_comment_and_another_key_gets_its_own(
    forge: Forge, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    provider = request.node.callspec.params["forge"]
    env = forge_env(provider, forge, tmp_path)
    forge.add("a human's comment")
    assert pr_comment.post(provider, "plan jobs/a.yaml", "first plan", env).startswith("commented")
    assert pr_comment.post(provider, "plan jobs/a.yaml", "second plan", env).startswith("updated")
    pr_comment.post(provider, "drift jobs/a.yaml", "drift", env)
    assert list(forge.comments.values()) == [
        "a human's comment",
        "<!-- hpcspec-comment plan jobs/a.yaml -->\nsecond plan",
        "<!-- hpcspec-comment drift jobs/a.yaml -->\ndrift",
    ]


@pytest.mark.parametrize("forge", PROVIDERS, indirect=True)
def test_outside_a_pull_request_nothing_is_posted(
    forge: Forge, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    provider = request.node.callspec.params["forge"]
    env = forge_env(provider, forge, tmp_path)
    if provider == "github":
        Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps({"ref": "refs/heads/main"}))
    else:
        env.pop(
            "SYSTEM_PULLREQUEST_PULLREQUESTID" if provider == "azure" else "CI_MERGE_REQUEST_IID"
        )
    assert pr_comment.post(provider, "k", "plan", env) == "not a pull request: no comment"
    # nor is a token needed there (GitLab's protected variables reach protected branches only)
    tokenless = {k: v for k, v in env.items() if "TOKEN" not in k}
    assert pr_comment.post(provider, "k", "plan", tokenless) == "not a pull request: no comment"
    assert forge.calls == []


def test_a_body_over_the_comment_limit_is_cut_at_a_line_with_a_note() -> None:
    markdown = "".join(f"line {n}\n" for n in range(20_000))
    body = pr_comment.compose("plan a.yaml", markdown, limit=1_000)
    assert len(body) <= 1_000
    assert body.startswith("<!-- hpcspec-comment plan a.yaml -->\nline 0\n")
    assert body.endswith("the job log and summary have it all.\n")
    kept = body.split("\n\n> ")[0].splitlines()[1:]
    assert kept == [f"line {n}" for n in range(len(kept))]


def test_a_key_cannot_close_the_hidden_marker_early() -> None:
    assert (
        pr_comment.marker("plan --target a -->x")
        == "<!-- hpcspec-comment plan - -target a - ->x -->"
    )


@pytest.mark.parametrize("forge", ["github"], indirect=True)
def test_a_refused_request_exits_1_naming_the_request_not_the_token(
    forge: Forge,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = forge_env("github", forge, tmp_path) | {"GITHUB_REPOSITORY": "o/other"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    body = tmp_path / "plan.md"
    body.write_text("plan")
    assert pr_comment.main(["github", "--key", "k", "--body-file", str(body)]) == 1
    err = capsys.readouterr().err
    assert f"GET {forge.url}/repos/o/other/issues/5/comments?per_page=100&page=1: HTTP 404" in err
    assert TOKEN not in err


def test_a_missing_variable_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = tmp_path / "plan.md"
    body.write_text("plan")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("CI_API_V4_URL", "CI_PROJECT_ID", "HPCSPEC_GITLAB_TOKEN"):
            patch.delenv(name, raising=False)
        patch.setenv("CI_PROJECT_ID", "42")
        patch.setenv("CI_MERGE_REQUEST_IID", "3")
        assert pr_comment.main(["gitlab", "--key", "k", "--body-file", str(body)]) == 1
    assert "cannot comment: HPCSPEC_GITLAB_TOKEN, CI_API_V4_URL not set" in capsys.readouterr().err


@contextlib.contextmanager
def _server(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_token_never_follows_a_redirect(provider: str, forge: Forge, tmp_path: Path) -> None:
    """Red-team finding: a forge API answering 302 to another host got the token sent there."""
    elsewhere: list[str | None] = []

    @Request.application  # type: ignore[arg-type]
    def other(incoming: Request) -> Response:
        elsewhere.append(incoming.headers.get("Authorization") or incoming.headers.get(
            "PRIVATE-TOKEN"))  # fmt: skip
        return Response("[]", content_type="application/json")

    with _server(other) as other_url:

        @Request.application  # type: ignore[arg-type]
        def redirecting(incoming: Request) -> Response:
            return Response("", status=302, headers={"Location": other_url + incoming.path})

        with _server(redirecting) as url:
            env = forge_env(provider, Forge(url=url), tmp_path)
            with pytest.raises(pr_comment.CommentError, match="HTTP 302"):
                pr_comment.post(provider, "k", "plan", env)
    assert elsewhere == []


def test_the_token_goes_only_over_https_or_to_this_machine(tmp_path: Path) -> None:
    env = forge_env("github", Forge(url="http://forge.example"), tmp_path)
    with pytest.raises(pr_comment.CommentError, match="must be https"):
        pr_comment.post("github", "k", "plan", env)


def test_a_usage_error_exits_1_as_hpcspec_usage_errors_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        pr_comment.main(["github"])
    assert done.value.code == 1
    assert "--key" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_body_file_that_never_ends_is_refused_after_a_bounded_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A device reports no size: the read itself stops (it used to read until memory ran out)."""
    for name, value in forge_env("github", Forge(url="https://forge.example"), tmp_path).items():
        monkeypatch.setenv(name, value)
    assert pr_comment.main(["github", "--key", "k", "--body-file", "/dev/zero"]) == 1
    assert "larger than 10 MB" in capsys.readouterr().err


@pytest.mark.parametrize("forge", PROVIDERS, indirect=True)
def test_the_token_to_a_forge_on_this_machine_never_goes_through_an_http_proxy(
    forge: Forge,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """Red-team verification: with HTTP_PROXY set, the Bearer token for an http (loopback)
    API URL went in clear to the proxy."""
    provider = request.node.callspec.params["forge"]
    heard: list[str] = []

    @Request.application  # type: ignore[arg-type]
    def proxy(incoming: Request) -> Response:
        heard.append(incoming.headers.get("Authorization") or "")
        return Response("no", status=502)

    body = tmp_path / "plan.md"
    body.write_text("plan", encoding="utf-8")
    with _server(proxy) as proxy_url:  # a process of its own: urllib reads proxies at import
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env |= forge_env(provider, forge, tmp_path)
        env |= {"HTTP_PROXY": proxy_url, "http_proxy": proxy_url, "ALL_PROXY": proxy_url}
        command = [sys.executable, "-m", "hpcspec.pr_comment", provider, "--key", "k"]
        done = subprocess.run(
            [*command, "--body-file", str(body)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert heard == [] and list(forge.comments.values()) == ["<!-- hpcspec-comment k -->\nplan"]
