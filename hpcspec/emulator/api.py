"""The `/hpc` WSGI application: routing, Basic auth and `x-ms-as-user`, JSON/XML negotiation.

Routes are the 37 operations of `reference/hpcpack-rest-api-2016.md`; query parameter names
are matched case-insensitively (ground truth §7). Errors render their own body
(`errors.SchedulerError.body`).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.http import parse_accept_header
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from hpcspec.emulator import bodies, errors, handlers, messages, node_handlers
from hpcspec.emulator.error_bodies import render_error
from hpcspec.emulator.scheduler import Caller, Scheduler
from hpcspec.hpcpack.profile import NodeEndpoints

log = logging.getLogger(__name__)
MAX_BODY = 8 * 1024 * 1024

_J = "/jobs/<int:job_id>"
_T = _J + "/tasks/<int:task_id>"
_S = _T + "/subtasks/<int:subtask_id>"
# (method, path, handler, body: "pairs" | "text" | None)
Route = tuple[str, str, Callable[..., bodies.Body], str | None]
ROUTES: list[Route] = [
    ("GET", "/cluster/version", handlers.cluster_version, None),
    ("GET", "/cluster/activeHeadNode", handlers.active_head_node, None),
    ("GET", "/cluster/info/dateTimeFormat", handlers.datetime_format, None),
    ("GET", "/jobs", handlers.list_jobs, None),
    ("POST", "/jobs", handlers.create_job, "pairs"),
    ("POST", "/jobs/jobFile", handlers.create_job_from_xml, "text"),
    ("GET", "/jobs/templates", handlers.job_templates, None),
    ("GET", _J, handlers.get_job, None),
    ("PUT", _J, handlers.set_job, "pairs"),
    ("GET", _J + "/customProperties", handlers.get_job_custom, None),
    ("POST", _J + "/customProperties", handlers.set_job_custom, "pairs"),
    ("GET", _J + "/envVariables", handlers.get_job_env, None),
    ("POST", _J + "/envVariables", handlers.set_job_env, "pairs"),
    ("POST", _J + "/submit", handlers.submit_job, "pairs"),
    ("POST", _J + "/cancel", handlers.cancel_job, "text"),
    ("POST", _J + "/finish", handlers.finish_job, "text"),
    ("POST", _J + "/requeue", handlers.requeue_job, None),
    ("GET", _J + "/tasks", handlers.list_tasks, None),
    ("POST", _J + "/tasks", handlers.add_task, "pairs"),
    ("GET", _T, handlers.get_task, None),
    ("PUT", _T, handlers.set_task, "pairs"),
    ("GET", _T + "/customProperties", handlers.get_task_custom, None),
    ("POST", _T + "/customProperties", handlers.set_task_custom, "pairs"),
    ("GET", _T + "/envVariables", handlers.get_task_env, None),
    ("POST", _T + "/envVariables", handlers.set_task_env, "pairs"),
    ("POST", _T + "/cancel", handlers.cancel_task, "text"),
    ("POST", _T + "/finish", handlers.finish_task, "text"),
    ("POST", _T + "/requeue", handlers.requeue_task, "text"),
    ("GET", _S, handlers.get_task, None),
    ("PUT", _S, handlers.set_task, "pairs"),
    ("POST", _S + "/cancel", handlers.cancel_task, "text"),
    ("POST", _S + "/finish", handlers.finish_task, "text"),
    ("POST", _S + "/requeue", handlers.requeue_task, None),
]  # fmt: skip
# Nodes by version (a profile's node_endpoints): 2016 U3 (openapi/hpcpack-rest-2016u3.json)
# lists RestObjects under /nodes; 2019 and the 2020 revision of 2016 U3
# (openapi/hpcpack-rest-2019.json) list typed Node and NodeGroup objects under /cluster.
NODE_ROUTES: dict[NodeEndpoints, list[Route]] = {
    NodeEndpoints.NODES: [
        ("GET", "/nodes", node_handlers.list_nodes, None),
        ("GET", "/nodes/groups", node_handlers.list_node_groups, None),
        ("GET", "/nodes/groups/<name>", node_handlers.node_group_members, None),
        ("GET", "/nodes/<name>", node_handlers.get_node, None),
    ],
    NodeEndpoints.CLUSTER: [
        ("GET", "/cluster/nodes", node_handlers.cluster_nodes, None),
        ("GET", "/cluster/nodes/<name>", node_handlers.cluster_node, None),
        ("GET", "/cluster/nodeGroups", node_handlers.cluster_node_groups, None),
        ("GET", "/cluster/nodeGroups/<name>", node_handlers.cluster_node_group, None),
    ],
}


class Ok(NamedTuple):
    """A 200 answer: its body, Content-Type and extra headers (in the order werkzeug sends)."""

    payload: bytes
    content_type: str
    headers: dict[str, str]


class NoContent(NamedTuple):
    """A 204 answer: its extra headers."""

    headers: dict[str, str]


def no_content(headers: dict[str, str]) -> tuple[str, list[tuple[str, str]]]:
    """The status and headers werkzeug's `Response(status=204, headers=headers)` starts its
    answer with (no body, no Content-Length), without building one per request."""
    return "204 NO CONTENT", [*headers.items(), ("Content-Type", "text/plain; charset=utf-8")]


@dataclass(frozen=True)
class User:
    """A Basic-auth account: `DOMAIN\\name`, its password, and whether it is an administrator."""

    name: str
    password: str
    admin: bool = False

    @property
    def secret(self) -> bytes:
        """The password as the UTF-8 bytes a Basic credential carries."""
        return self.password.encode("utf-8", "surrogateescape")


def qualify(name: str, domain: str) -> str:
    """`alice` → `HPC\\alice`; names with a domain stay as they are."""
    return name if "\\" in name else f"{domain}\\{name}"


class HpcApp:
    """The WSGI callable serving `/hpc`; `on_request` lets the server track idleness."""

    def __init__(
        self,
        scheduler: Scheduler,
        users: Iterable[User],
        domain: str = "HPC",
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.profile = scheduler.profile
        self.domain = domain
        self.users = {qualify(u.name, domain).lower(): u for u in users}
        self.on_request = on_request
        rules = [
            Rule("/hpc" + path, endpoint=(handler, body), methods=[method])
            for method, path, handler, body in ROUTES + NODE_ROUTES[self.profile.node_endpoints]
        ]
        self.urls = Map(rules, strict_slashes=False, merge_slashes=False)
        # the routes never change: a path and method match the same route every time (misses
        # raise, and raising is never cached)
        self._route = functools.lru_cache(maxsize=1024)(self._match)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        request.max_content_length = MAX_BODY  # chunked bodies too: 413 past the cap
        try:
            response = self.handle(request)
        finally:
            self.scheduler.store.release()
        if isinstance(response, Response):
            return response(environ, start_response)
        if isinstance(response, NoContent):  # werkzeug's Response(status=204) sends this
            start_response(*no_content(response.headers))
            return []
        # what werkzeug's Response would send for a 200, without building one per request
        payload, content_type, extra = response
        headers = [*extra.items(), ("Content-Type", content_type)]
        start_response("200 OK", [*headers, ("Content-Length", str(len(payload)))])
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [payload]

    def handle(self, request: Request) -> Response | Ok | NoContent:
        if self.on_request is not None:
            self.on_request()
        xml_out = _wants_xml(request)
        try:
            (handler, body_kind), values = self._route(request.path, request.method)
            caller = self._authenticate(request)
            context = handlers.Context(
                self.scheduler, caller, {k.lower(): v for k, v in request.args.items()}
            )
            if body_kind is not None:
                data = request.get_data(cache=False)
                xml_in = bodies.is_xml(request.content_type)
                if body_kind == "pairs":
                    context.pairs = bodies.read_pairs(data, xml_in)
                else:
                    context.text = bodies.read_string(data, xml_in)
            result = handler(context, **values)
        except errors.SchedulerError as error:
            status, payload, content_type = render_error(error, self.profile, xml_out)
            response = Response(payload, status=status, content_type=content_type)
            if error.status == 401:
                response.headers["WWW-Authenticate"] = 'Basic realm="HPC Pack"'
            return response
        except (NotFound, MethodNotAllowed) as error:
            status = error.code or 404
            return Response(
                f"{status} {error.name}", status=status, content_type="text/plain; charset=utf-8"
            )
        except HTTPException as error:
            return Response(str(error), status=error.code or 400, content_type="text/plain")
        except Exception:  # an emulator bug must not kill the server thread
            log.exception("unhandled error for %s %s", request.method, request.path)
            failure = errors.SchedulerError(500, messages.UNKNOWN_ERROR)
            status, payload, content_type = render_error(failure, self.profile, xml_out)
            return Response(payload, status=status, content_type=content_type)
        if result is None:
            return NoContent(context.headers)
        content_type = (
            "application/xml; charset=utf-8" if xml_out else "application/json; charset=utf-8"
        )
        return Ok(bodies.render(result, xml_out), content_type, context.headers)

    def _match(self, path: str, method: str) -> tuple[Any, Mapping[str, Any]]:
        adapter = self.urls.bind("emulator")  # cheaper than bind_to_environ
        return adapter.match(path, method)

    def _authenticate(self, request: Request) -> Caller:
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise errors.SchedulerError(401, messages.AUTHENTICATION_FAILURE, "No credentials.")
        try:
            name, _, password = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise errors.SchedulerError(
                401, messages.AUTHENTICATION_FAILURE, "Bad header."
            ) from None
        user = self.users.get(qualify(name, self.domain).lower())
        # compare_digest takes only ASCII str: compare the UTF-8 bytes (RFC 7617 charset).
        given = password.encode("utf-8", "surrogateescape")
        if user is None or not hmac.compare_digest(user.secret, given):
            raise errors.SchedulerError(
                401, messages.AUTHENTICATION_FAILURE, "Unknown user name or bad password."
            )
        caller = Caller(qualify(user.name, self.domain), user.admin)
        as_user = request.headers.get("x-ms-as-user", "").strip()
        if as_user:
            if not caller.admin:
                raise errors.forbidden("Only administrators may use x-ms-as-user.")
            target = qualify(as_user, self.domain)
            known = self.users.get(target.lower())
            caller = Caller(known.name if known else target, bool(known and known.admin))
            caller = Caller(qualify(caller.name, self.domain), caller.admin)
        return caller


def _wants_xml(request: Request) -> bool:
    accept = request.headers.get("Accept", "")
    return bool(accept) and _prefers_xml(accept)


@functools.lru_cache(maxsize=64)  # a client sends the same Accept header every time
def _prefers_xml(accept: str) -> bool:
    offered = parse_accept_header(accept, MIMEAccept)
    best = offered.best_match(["application/json", "application/xml", "text/xml"])
    return best in ("application/xml", "text/xml")
