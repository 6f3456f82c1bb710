"""Cluster profiles: what one HPC Pack head node really does where clusters differ.

HPC Pack's REST API leaves much undocumented (error bodies, status codes, whether `ClientSource`
survives, node endpoints by version, date formats, sweep expansion; ground truth §8), and real
clusters differ by version and configuration. A `ClusterProfile` records those facts for one
cluster. `hpcspec cluster check` measures them on a head node and saves the profile; the client
adapts to it; `hpcspec emulator serve --profile FILE` makes the emulator behave like it, so a
team's CI runs against a model of its own cluster.

Every field has a default equal to what hpcspec's emulator does without a profile, so
`ClusterProfile()` is "the emulator" and a profile file need only name what differs. Facts a
check could not establish keep their default and are listed in `unverified`.

The file is JSON (`to_json` / `from_json`, a lossless round trip):

    {"format": 1, "version": "5.3.6435.0", "client_source": {"kept": false, "stamp": "HPC"},
     "errors": {"style": "aspnet", "not_found": 400}, "node_endpoints": "cluster", …}

Fields (JSON keys in brackets):

- `version` [version]: what `GET /cluster/version` answers, e.g. `5.3.6435.0` (2016 Update 3)
  or `6.0.7128.0` (2019). Free text: it is shown, never parsed.
- `client_source_kept` / `client_source_stamp` [client_source.kept / .stamp]: whether the
  server keeps the `ClientSource` a client sends (create, PUT, job XML) or replaces it with
  `client_source_stamp` on every job (references: settable, `msdocs/schedulerwebservice--
  createjob.md`; "the name of the process that created the job", `sdk-xmldoc`).
- `client_source_stamped_at` [client_source.at] (`StampedAt`), where it is not kept: the
  server replaces it at every write (`write`: create, PUT, job XML), or keeps what a client
  writes until the job is submitted and replaces it then (`submit`). The references are
  silent on when; the check's after-submit probe tells the two apart.
- `error_style` [errors.style] (`ErrorStyle`) and the status per kind of refusal
  [errors.not_found / refused_by_state / bad_value / forbidden]: how a refusal reaches the
  client. The references document no error schema or status codes for `/hpc` (§1.5).
- `node_endpoints` [node_endpoints] (`NodeEndpoints`): `/nodes*` (2016 Update 3,
  `openapi/hpcpack-rest-2016u3.json`) or `/cluster/nodes*` and `/cluster/nodeGroups*`
  (2019 and the 2020 revision of 2016 U3, `openapi/hpcpack-rest-2019.json`).
- `datetime_format` [datetime_format]: the .NET custom format of every date and time the server
  writes and reads (`GET /cluster/info/dateTimeFormat`), e.g. `M/d/yyyy h:mm:ss tt`; times are UTC.
- `sweep_expansion` [sweep_expansion] (`SweepExpansion`): `eager` (every subtask exists once the
  job is validated, the 2008 COM documentation) or `lazy` (subtasks appear as they are
  dispatched; `GET …/subtasks/N` may answer "has not been expanded yet" while the job runs,
  as 2016 U3 does per its BVT, ground truth §5).
- `custom_property_states` / `environment_states` [writes.custom_properties /
  writes.environment]: the job states in which a job's custom properties and environment
  variables may be written (`msdocs/updating-a-job.md`: custom properties in Configuring,
  Queued, Running; environment variables are in neither list).
- `default_rows_per_read` / `max_rows_per_read` / `start_row` [paging.default_rows /
  paging.max_rows / paging.start_row]: listing page size when `rowsPerRead` is absent, the
  largest page the server honours (0 = no limit), and whether `startRow` + `x-ms-row-count`
  paging is there (HPC Pack 2016 U3 QFE KB4537169 and later).
- `listing_lag_ms` [listing.lag_ms]: how long after a create has answered the job listing
  (`GET /jobs`) may still leave the new job out, in milliseconds (0: at once). The references
  do not say how soon a listing shows a write; a listing served by a read replica a moment
  behind the primary shows it late. `hpcspec cluster check` measures it (the `listing-lag`
  probe); apply waits for a listing that shows its own jobs up to a bound derived from it
  (`engine/listing_lag.py`, docs/apply.md).
- `listing_omits_empty` [listing.omits_empty]: whether the server leaves a property whose
  value is empty out of the rows it answers (a listing's and a job's read), instead of
  sending it as `""`. The references do not say (their examples list only properties that
  hold a value). hpcspec refuses a job listing row without `Name` or `ClientSource` unless
  `hpcspec cluster check` measured this habit (the `paging.identity-columns` probe); then a
  left-out one is read as empty.
- `source` [source], `checked_at` [checked_at]: where and when the facts were measured (a
  head node URL and an ISO 8601 time; empty for a hand-written profile).
- `unverified` [unverified]: field names a check could not establish (they hold defaults).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from typing import Any

from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.errors import Kind
from hpcspec.hpcpack.states import JobState
from hpcspec.hpcpack.timeformat import TimeFormat

FORMAT = 1  # the profile file's own format version
DEFAULT_DATETIME_FORMAT = "M/d/yyyy h:mm:ss tt"  # the spec's dateTimeFormat example (§7)


class ErrorStyle(Enum):
    """How a refusal's body looks."""

    SCHEDULER = "scheduler"  # {"Code": <HRESULT>, "Message": "…"} (hpcspec's emulator)
    ASPNET = "aspnet"  # ASP.NET Web API HttpError: {"Message": "An error has occurred.",
    # "ExceptionMessage": "…", "ExceptionType": "…"}
    IIS_HTML = "iis-html"  # an IIS error page (text/html) with the message in it
    PLAIN_TEXT = "plain-text"  # the message alone (text/plain)


class NodeEndpoints(Enum):
    """Where nodes and node groups are listed."""

    NODES = "nodes"  # /nodes, /nodes/{name}, /nodes/groups, /nodes/groups/{name} (2016 U3)
    CLUSTER = "cluster"  # /cluster/nodes*, /cluster/nodeGroups* (2019, 2016 U3 rev. 2020)


class StampedAt(Enum):
    """When a server that does not keep ClientSource puts its own value there."""

    WRITE = "write"  # at every create, PUT and job XML import
    SUBMIT = "submit"  # kept while the job is Configuring, replaced by the submit


class SweepExpansion(Enum):
    """When a parametric sweep's subtasks exist."""

    EAGER = "eager"  # all of them once the job passes validation
    LAZY = "lazy"  # each as it is dispatched


class ProfileError(HpcspecError):
    """A profile file that cannot be read."""


_CUSTOM_STATES = (JobState.Configuring, JobState.Queued, JobState.Running)


@dataclass(frozen=True)
class ClusterProfile:
    """What one cluster does where HPC Pack clusters differ; defaults = hpcspec's emulator."""

    version: str = "5.3.6435.0"
    client_source_kept: bool = True
    client_source_stamp: str = ""
    client_source_stamped_at: StampedAt = StampedAt.WRITE
    error_style: ErrorStyle = ErrorStyle.SCHEDULER
    not_found_status: int = 404
    refused_by_state_status: int = 409
    bad_value_status: int = 400
    forbidden_status: int = 403
    node_endpoints: NodeEndpoints = NodeEndpoints.NODES
    datetime_format: str = DEFAULT_DATETIME_FORMAT
    sweep_expansion: SweepExpansion = SweepExpansion.EAGER
    custom_property_states: frozenset[JobState] = field(
        default_factory=lambda: frozenset(_CUSTOM_STATES)
    )
    environment_states: frozenset[JobState] = field(
        default_factory=lambda: frozenset({JobState.Configuring})
    )
    default_rows_per_read: int = 10
    max_rows_per_read: int = 0  # 0: no limit
    start_row: bool = True
    listing_lag_ms: int = 0
    listing_omits_empty: bool = False
    source: str = ""
    checked_at: str = ""
    unverified: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("not_found_status", "refused_by_state_status", "bad_value_status"):
            status = getattr(self, name)
            if not 400 <= status <= 599:
                raise ProfileError(f"profile: {name} {status} is not an HTTP error status")
        if not 400 <= self.forbidden_status <= 599:
            raise ProfileError(f"profile: forbidden_status {self.forbidden_status} is not an error")
        if self.default_rows_per_read < 1 or self.max_rows_per_read < 0:
            raise ProfileError("profile: paging.default_rows must be ≥ 1 and max_rows ≥ 0")
        if self.listing_lag_ms < 0:
            raise ProfileError(f"profile: listing.lag_ms {self.listing_lag_ms} is below 0")
        known = {f.name for f in fields(self)}
        strays = [n for n in self.unverified if n not in known]
        if strays:
            raise ProfileError(f"profile: unverified names unknown fields {strays}")

    def rows_per_read(self, asked: int | None) -> int:
        """The page size the server uses when a client asks for `asked` rows (None: not asked)."""
        rows = self.default_rows_per_read if asked is None else max(asked, 1)
        return min(rows, self.max_rows_per_read) if self.max_rows_per_read else rows

    def status_kinds(self) -> dict[int, Kind]:
        """Each error status this cluster answers for one kind of refusal only (a status
        shared by two kinds says nothing), for `errors.classify`."""
        claims = {
            Kind.NOT_FOUND: self.not_found_status,
            Kind.REFUSED_BY_STATE: self.refused_by_state_status,
            Kind.BAD_VALUE: self.bad_value_status,
            Kind.AUTH: self.forbidden_status,
        }
        statuses = list(claims.values())
        return {s: k for k, s in claims.items() if statuses.count(s) == 1}

    def knows(self, name: str) -> bool:
        """Whether field `name` was measured (or written by hand), not a default stand-in."""
        return name not in self.unverified

    def learned(self, **facts: Any) -> ClusterProfile:
        """A copy with facts measured since: each named field set and no longer unverified."""
        left = tuple(n for n in self.unverified if n not in facts)
        return replace(self, unverified=left, **facts)

    def with_changes(self, **changes: Any) -> ClusterProfile:
        """A copy with some fields changed (checked like a new profile)."""
        return replace(self, **changes)

    # -- JSON ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The profile as the JSON object its file holds."""
        return {
            "format": FORMAT,
            "version": self.version,
            "client_source": {
                "kept": self.client_source_kept,
                "stamp": self.client_source_stamp,
                "at": self.client_source_stamped_at.value,
            },
            "errors": {
                "style": self.error_style.value,
                "not_found": self.not_found_status,
                "refused_by_state": self.refused_by_state_status,
                "bad_value": self.bad_value_status,
                "forbidden": self.forbidden_status,
            },
            "node_endpoints": self.node_endpoints.value,
            "datetime_format": self.datetime_format,
            "sweep_expansion": self.sweep_expansion.value,
            "writes": {
                "custom_properties": _state_names(self.custom_property_states),
                "environment": _state_names(self.environment_states),
            },
            "paging": {
                "default_rows": self.default_rows_per_read,
                "max_rows": self.max_rows_per_read,
                "start_row": self.start_row,
            },
            "listing": {"lag_ms": self.listing_lag_ms, "omits_empty": self.listing_omits_empty},
            "source": self.source,
            "checked_at": self.checked_at,
            "unverified": list(self.unverified),
        }

    def to_json(self) -> str:
        """The profile file's text (stable key order, one trailing newline)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: object, where: str = "profile") -> ClusterProfile:
        """A profile from its JSON object; keys left out keep their defaults."""
        reader = _Reader(data, where)
        fmt = reader.take("format", int, FORMAT)
        if fmt > FORMAT:
            raise ProfileError(
                f"{where}: format {fmt} was written by a newer hpcspec (this one reads {FORMAT})",
                code="profile-format",
                hint="upgrade hpcspec, or run `hpcspec cluster check` again",
            )
        default = cls()
        client = reader.section("client_source")
        errors = reader.section("errors")
        writes = reader.section("writes")
        paging = reader.section("paging")
        listing = reader.section("listing")
        profile = cls(
            version=reader.take("version", str, default.version),
            client_source_kept=client.take("kept", bool, default.client_source_kept),
            client_source_stamp=client.take("stamp", str, default.client_source_stamp),
            client_source_stamped_at=client.enum("at", StampedAt, default.client_source_stamped_at),
            error_style=errors.enum("style", ErrorStyle, default.error_style),
            not_found_status=errors.take("not_found", int, default.not_found_status),
            refused_by_state_status=errors.take(
                "refused_by_state", int, default.refused_by_state_status
            ),
            bad_value_status=errors.take("bad_value", int, default.bad_value_status),
            forbidden_status=errors.take("forbidden", int, default.forbidden_status),
            node_endpoints=reader.enum("node_endpoints", NodeEndpoints, default.node_endpoints),
            datetime_format=reader.take("datetime_format", str, default.datetime_format),
            sweep_expansion=reader.enum("sweep_expansion", SweepExpansion, default.sweep_expansion),
            custom_property_states=writes.states(
                "custom_properties", default.custom_property_states
            ),
            environment_states=writes.states("environment", default.environment_states),
            default_rows_per_read=paging.take("default_rows", int, default.default_rows_per_read),
            max_rows_per_read=paging.take("max_rows", int, default.max_rows_per_read),
            start_row=paging.take("start_row", bool, default.start_row),
            listing_lag_ms=listing.take("lag_ms", int, default.listing_lag_ms),
            listing_omits_empty=listing.take("omits_empty", bool, default.listing_omits_empty),
            source=reader.take("source", str, default.source),
            checked_at=reader.take("checked_at", str, default.checked_at),
            unverified=tuple(reader.take("unverified", list, [])),
        )
        for section in (reader, client, errors, writes, paging, listing):
            section.finish()
        problem = TimeFormat(profile.datetime_format).problem()
        if problem is not None:
            raise ProfileError(
                f"{where}.datetime_format {profile.datetime_format!r} is not a usable .NET "
                f"date-time format: {problem}",
                code="profile-invalid",
                hint=f"the cluster's own format (GET /cluster/info/dateTimeFormat), e.g. "
                f"{DEFAULT_DATETIME_FORMAT!r}; `hpcspec cluster check` measures it",
            )
        return profile

    @classmethod
    def from_json(cls, text: str, where: str = "profile") -> ClusterProfile:
        """A profile from its file's text; ProfileError names the key that is wrong."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ProfileError(f"{where}: not JSON: {error}", code="profile-json") from None
        return cls.from_dict(data, where)


def _state_names(states: frozenset[JobState]) -> list[str]:
    return [s.name or "" for s in sorted(states, key=lambda s: s.value)]


class _Reader:
    """Takes keys out of one JSON object, checking types; leftovers are an error."""

    def __init__(self, data: object, where: str) -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ProfileError(f"{where}: expected an object", code="profile-invalid")
        self.data = dict(data)
        self.where = where

    def take(self, key: str, kind: type, default: Any) -> Any:
        if key not in self.data:
            return default
        value = self.data.pop(key)
        if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
            raise ProfileError(
                f"{self.where}.{key}: expected {kind.__name__}, got {json.dumps(value)}",
                code="profile-invalid",
            )
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ProfileError(f"{self.where}.{key}: expected a list of names")
        return value

    def enum(self, key: str, kind: type[Enum], default: Any) -> Any:
        text = self.take(key, str, None)
        if text is None:
            return default
        try:
            return kind(text)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in kind)
            raise ProfileError(
                f"{self.where}.{key}: {text!r} is not one of {allowed}", code="profile-invalid"
            ) from None

    def states(self, key: str, default: frozenset[JobState]) -> frozenset[JobState]:
        names = self.take(key, list, None)
        if names is None:
            return default
        try:
            return frozenset(JobState.parse(n) for n in names)
        except ValueError as error:
            raise ProfileError(f"{self.where}.{key}: {error}", code="profile-invalid") from None

    def section(self, key: str) -> _Reader:
        return _Reader(self.take(key, dict, {}), f"{self.where}.{key}")

    def finish(self) -> None:
        if self.data:
            raise ProfileError(
                f"{self.where}: unknown keys {sorted(self.data)}",
                code="profile-invalid",
                hint="see the ClusterProfile fields in docs/emulator.md",
            )


_ABOUT = ("source", "checked_at", "unverified")  # facts about the profile, not the cluster
UNKNOWN = ClusterProfile(
    unverified=tuple(f.name for f in fields(ClusterProfile) if f.name not in _ABOUT)
)
"""A cluster nothing is known about yet: the defaults, every fact unverified."""
