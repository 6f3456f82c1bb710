"""Post hpcspec's markdown as one pull-request comment, updated in place on every later run.

Used by the CI integrations shipped in this repository (`action.yml`, `ci/azure/hpcspec.yml`,
`templates/hpcspec.yml`) as a step of its own, never by an hpcspec command: hpcspec writes
files, posting them is the pipeline's job, so no forge token ever reaches hpcspec
(research R1.3b; an import-linter contract keeps every other module from importing this one).

    python -m hpcspec.pr_comment github|azure|gitlab --key KEY --body-file plan.md

The comment starts with a hidden line `<!-- hpcspec-comment KEY -->`; the comment that starts
with it is edited, else one is created. KEY names what the comment is about (the command and
manifests), not the plan's digest, which changes with every push. Each forge's variables:

- github: GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_PATH (pull_request);
- azure:  SYSTEM_ACCESSTOKEN, SYSTEM_COLLECTIONURI, SYSTEM_TEAMPROJECTID, BUILD_REPOSITORY_ID,
          SYSTEM_PULLREQUEST_PULLREQUESTID;
- gitlab: HPCSPEC_GITLAB_TOKEN (a token with the api scope: CI_JOB_TOKEN cannot write notes),
          CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID.

Outside a pull request it says so and exits 0. Only the standard library is used (and
hpcspec's own capped reader and markdown cutter, which import nothing else). The token
is sent in a header and never printed, only over https (or http to this machine), and never
along a redirect (a 3xx is an error); a failed request prints its method, URL and status.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpcspec.capped_read import FileTooLarge, read_capped_text
from hpcspec.markdown_cut import cut_at_line

# GitHub refuses comment bodies over 65,536 characters; Azure and GitLab allow more.
BODY_LIMIT = 65_000
TIMEOUT = 30.0


# What is read of a file named on the command line or by the runner (`capped_read`: a
# device or a FIFO reports no size, so the read itself stops; the body is cut to BODY_LIMIT).
FILE_LIMIT = 10 * 1024 * 1024
EVENT_LIMIT = 64 * 1024 * 1024


def _read(path: Path, limit: int) -> str:
    try:
        return read_capped_text(path, limit)
    except FileTooLarge as error:
        raise CommentError(f"{path}: {error}") from None


class CommentError(Exception):
    """A request failed or a variable is missing; the message says which."""


@dataclass(frozen=True)
class Comment:
    id: str
    body: str
    thread: str = ""  # Azure Pipelines: the thread that holds the comment


def marker(key: str) -> str:
    """The hidden first line that identifies hpcspec's comment for `key`."""
    clean = " ".join(key.replace("--", "- -").split())
    return f"<!-- hpcspec-comment {clean} -->"


def compose(key: str, markdown: str, limit: int = BODY_LIMIT) -> str:
    """The comment body: marker, then the markdown cut at a line to fit `limit` characters
    (its open folds closed, so the closing note is never hidden inside one)."""
    head = marker(key) + "\n"
    body = head + markdown
    if len(body) <= limit:
        return body
    note = "\n\n> **hpcspec:** cut to fit a comment; the job log and summary have it all.\n"
    return head + cut_at_line(markdown, limit - len(head) - len(note)) + note


def _require(env: Mapping[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise CommentError(f"cannot comment: {', '.join(missing)} not set")
    return [env[n] for n in names]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is an error: the token never follows a redirect to another host."""

    def redirect_request(self, *_: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)  # https: a proxy only tunnels (CONNECT)
# http goes only to this machine (`_checked`), and never through HTTP_PROXY: a proxy would
# receive the token in clear.
_DIRECT = urllib.request.build_opener(_NoRedirects, urllib.request.ProxyHandler({}))
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _checked(url: str) -> str:
    """`url`, if the token may go there: https, or http to this machine (a test's forge)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return url
    raise CommentError(f"refusing to send the token to {parts.scheme}://{parts.hostname}: "
                       "the forge API URL must be https")  # fmt: skip


def _request(method: str, url: str, headers: Mapping[str, str], data: Any = None) -> Any:
    body = None if data is None else json.dumps(data).encode("utf-8")
    request = urllib.request.Request(_checked(url), data=body, method=method)
    for name, value in {**headers, "Content-Type": "application/json"}.items():
        request.add_unredirected_header(name, value)
    try:
        opener = _OPENER if request.type == "https" else _DIRECT
        with opener.open(request, timeout=TIMEOUT) as response:
            text = response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        raise CommentError(f"{method} {url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, TimeoutError) as error:
        raise CommentError(f"{method} {url}: {error}") from None
    return json.loads(text) if text.strip() else None


class GitHub:
    """Issue comments on the pull request (REST v3)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        token, repo, event_path = _require(
            env, "GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_EVENT_PATH"
        )
        event = json.loads(_read(Path(event_path), EVENT_LIMIT))
        self.number = (event.get("pull_request") or {}).get("number")
        api = env.get("GITHUB_API_URL") or "https://api.github.com"
        self.base = f"{api.rstrip('/')}/repos/{repo}/issues"
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    def comments(self) -> Iterator[Comment]:
        page = 1
        while True:
            url = f"{self.base}/{self.number}/comments?per_page=100&page={page}"
            rows = _request("GET", url, self.headers)
            yield from (Comment(str(r["id"]), r.get("body") or "") for r in rows)
            if len(rows) < 100:
                return
            page += 1

    def create(self, body: str) -> None:
        _request("POST", f"{self.base}/{self.number}/comments", self.headers, {"body": body})

    def update(self, comment: Comment, body: str) -> None:
        _request("PATCH", f"{self.base}/comments/{comment.id}", self.headers, {"body": body})


class Azure:
    """A pull-request thread in Azure Repos (Git REST API 7.1)."""

    VERSION = "api-version=7.1"

    def __init__(self, env: Mapping[str, str]) -> None:
        token, collection, project, repo = _require(
            env,
            "SYSTEM_ACCESSTOKEN",
            "SYSTEM_COLLECTIONURI",
            "SYSTEM_TEAMPROJECTID",
            "BUILD_REPOSITORY_ID",
        )
        self.number = env.get("SYSTEM_PULLREQUEST_PULLREQUESTID")
        self.base = (
            f"{collection.rstrip('/')}/{project}/_apis/git/repositories/{repo}"
            f"/pullRequests/{self.number}/threads"
        )
        self.headers = {"Authorization": f"Bearer {token}"}

    def comments(self) -> Iterator[Comment]:
        threads = _request("GET", f"{self.base}?{self.VERSION}", self.headers)["value"]
        for thread in threads:
            first = (thread.get("comments") or [{}])[0]
            if "id" in first:
                yield Comment(str(first["id"]), first.get("content") or "", str(thread["id"]))

    def create(self, body: str) -> None:
        thread = {
            "comments": [{"parentCommentId": 0, "content": body, "commentType": 1}],
            "status": 4,  # closed: information, nothing to resolve
        }
        _request("POST", f"{self.base}?{self.VERSION}", self.headers, thread)

    def update(self, comment: Comment, body: str) -> None:
        url = f"{self.base}/{comment.thread}/comments/{comment.id}?{self.VERSION}"
        _request("PATCH", url, self.headers, {"content": body})


class GitLab:
    """A note on the merge request (REST v4)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        token, api, project = _require(
            env, "HPCSPEC_GITLAB_TOKEN", "CI_API_V4_URL", "CI_PROJECT_ID"
        )
        self.number = env.get("CI_MERGE_REQUEST_IID")
        self.base = f"{api.rstrip('/')}/projects/{project}/merge_requests/{self.number}/notes"
        self.headers = {"PRIVATE-TOKEN": token}

    def comments(self) -> Iterator[Comment]:
        page = 1
        while True:
            rows = _request("GET", f"{self.base}?per_page=100&page={page}", self.headers)
            yield from (Comment(str(r["id"]), r.get("body") or "") for r in rows)
            if len(rows) < 100:
                return
            page += 1

    def create(self, body: str) -> None:
        _request("POST", self.base, self.headers, {"body": body})

    def update(self, comment: Comment, body: str) -> None:
        _request("PUT", f"{self.base}/{comment.id}", self.headers, {"body": body})


PROVIDERS: dict[str, Callable[[Mapping[str, str]], GitHub | Azure | GitLab]] = {
    "github": GitHub,
    "azure": Azure,
    "gitlab": GitLab,
}


def in_pull_request(provider: str, env: Mapping[str, str]) -> bool:
    """Whether this build is for a pull request (asked before any token is needed)."""
    if provider == "github":
        event_path = env.get("GITHUB_EVENT_PATH")
        if not event_path:
            return False
        event = json.loads(_read(Path(event_path), EVENT_LIMIT))
        return bool((event.get("pull_request") or {}).get("number"))
    name = "SYSTEM_PULLREQUEST_PULLREQUESTID" if provider == "azure" else "CI_MERGE_REQUEST_IID"
    return bool(env.get(name))


def post(provider: str, key: str, markdown: str, env: Mapping[str, str]) -> str:
    """Create or update the comment; returns what was done, for the log."""
    if not in_pull_request(provider, env):
        return "not a pull request: no comment"
    target = PROVIDERS[provider](env)
    body = compose(key, markdown)
    head = marker(key)
    mine = next((c for c in target.comments() if c.body.startswith(head)), None)
    if mine is None:
        target.create(body)
        return f"commented on pull request {target.number}"
    target.update(mine, body)
    return f"updated the comment on pull request {target.number}"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits 1 as every hpcspec usage error does (docs/cli.md)."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(1, f"hpcspec: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    """Command line: provider, --key, --body-file."""
    parser = _Parser(description=__doc__.splitlines()[0])
    parser.add_argument("provider", choices=sorted(PROVIDERS))
    parser.add_argument("--key", required=True, help="what the comment is about")
    parser.add_argument("--body-file", required=True, type=Path, help="the markdown to post")
    args = parser.parse_args(argv)
    try:
        markdown = _read(args.body_file, FILE_LIMIT)
        print(f"hpcspec: {post(args.provider, args.key, markdown, os.environ)}")
    except (CommentError, OSError, ValueError, KeyError) as error:
        print(f"hpcspec: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
