"""Fake pull-request comment APIs of GitHub, Azure Repos and GitLab on 127.0.0.1.

Just the endpoints `ci/plan_comment.py` calls, with each forge's paths, verbs and body field,
and the bearer/private token checked, so a test sees exactly which comments exist afterwards.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

TOKEN = "forge-token-canary"


@dataclass
class Forge:
    """Comments by id, and every (method, path) the forge received."""

    url: str = ""
    comments: dict[int, str] = field(default_factory=dict)
    threads: dict[int, int] = field(default_factory=dict)  # Azure: comment id -> thread id
    calls: list[tuple[str, str]] = field(default_factory=list)

    def add(self, body: str) -> int:
        new = max(self.comments, default=100) + 1
        self.comments[new] = body
        self.threads[new] = new + 1000
        return new


def _authorised(request: Request) -> bool:
    return request.headers.get("Authorization") == f"Bearer {TOKEN}" or (
        request.headers.get("PRIVATE-TOKEN") == TOKEN
    )


def _github(forge: Forge, request: Request) -> Any:
    listing = re.fullmatch(r"/repos/o/r/issues/(\d+)/comments", request.path)
    if listing and request.method == "GET":
        page = int(request.args.get("page", "1"))
        rows = [{"id": i, "body": b} for i, b in sorted(forge.comments.items())]
        return rows[(page - 1) * 100 : page * 100]
    if listing and request.method == "POST":
        return {"id": forge.add(request.get_json()["body"])}
    one = re.fullmatch(r"/repos/o/r/issues/comments/(\d+)", request.path)
    if one and request.method == "PATCH":
        forge.comments[int(one.group(1))] = request.get_json()["body"]
        return {"id": int(one.group(1))}
    return None


def _azure(forge: Forge, request: Request) -> Any:
    base = "/org/proj/_apis/git/repositories/repo/pullRequests/7/threads"
    if request.args.get("api-version") != "7.1":
        return None
    if request.path == base and request.method == "GET":
        threads = [
            {"id": forge.threads[i], "comments": [{"id": i, "content": b}]}
            for i, b in sorted(forge.comments.items())
        ]
        return {"value": threads, "count": len(threads)}
    if request.path == base and request.method == "POST":
        (first,) = request.get_json()["comments"]
        return {"id": forge.threads[forge.add(first["content"])]}
    one = re.fullmatch(re.escape(base) + r"/(\d+)/comments/(\d+)", request.path)
    if one and request.method == "PATCH":
        comment = int(one.group(2))
        assert forge.threads[comment] == int(one.group(1))
        forge.comments[comment] = request.get_json()["content"]
        return {"id": comment}
    return None


def _gitlab(forge: Forge, request: Request) -> Any:
    base = "/api/v4/projects/42/merge_requests/3/notes"
    if request.path == base and request.method == "GET":
        page = int(request.args.get("page", "1"))
        rows = [{"id": i, "body": b} for i, b in sorted(forge.comments.items())]
        return rows[(page - 1) * 100 : page * 100]
    if request.path == base and request.method == "POST":
        return {"id": forge.add(request.get_json()["body"])}
    one = re.fullmatch(re.escape(base) + r"/(\d+)", request.path)
    if one and request.method == "PUT":
        forge.comments[int(one.group(1))] = request.get_json()["body"]
        return {"id": int(one.group(1))}
    return None


ROUTES = {"github": _github, "azure": _azure, "gitlab": _gitlab}


@pytest.fixture
def forge(request: pytest.FixtureRequest) -> Iterator[Forge]:
    """A fake forge (parametrize indirectly with "github", "azure" or "gitlab")."""
    state = Forge()
    route = ROUTES[getattr(request, "param", "github")]

    @Request.application  # type: ignore[arg-type]
    def app(incoming: Request) -> Response:
        state.calls.append((incoming.method, incoming.path))
        if not _authorised(incoming):
            return Response("unauthorised", status=401)
        answer = route(state, incoming)
        if answer is None:
            return Response("not found", status=404)
        return Response(json.dumps(answer), content_type="application/json")

    server = make_server("127.0.0.1", 0, app)
    state.url = f"http://127.0.0.1:{server.port}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield state
    server.shutdown()
    thread.join()
