r"""Checking and storing the job properties a client sets (create, PUT, submit, job XML).

Which properties exist and their types: `properties.py` (`derived/property-ids.json`); which
may change in which state: `hpcspec.hpcpack.modify_rules` (`derived/job-modify-rules.json`);
value rules and messages: `derived/error-codes.json`. Each rule names its reference where it
is checked; the whole list is the "Strict rules" table of `docs/emulator.md`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from hpcspec.emulator import errors, messages
from hpcspec.emulator.cluster import ClusterSpec
from hpcspec.emulator.properties import (
    JOB_SETTABLE,
    JOB_TYPES,
    WRITE_ONLY,
    canonical,
    check_exit_codes,
    format_bool,
    format_time,
    parse_time,
    parse_value,
    priority_name,
)
from hpcspec.emulator.rows import JobRow
from hpcspec.emulator.time_format import TimeFormat
from hpcspec.hpcpack import catalogue, modify_rules, values
from hpcspec.hpcpack.profile import ClusterProfile, StampedAt

Pairs = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class JobSettings:
    """What checking job properties needs: the cluster, its profile, its time format, now."""

    cluster: ClusterSpec
    profile: ClusterProfile
    times: TimeFormat | None  # the profile's date format, when not the default
    now: float


def apply_job_props(job: JobRow, props: Pairs, creating: bool, settings: JobSettings) -> None:
    """Set `props` on `job`, refusing unknown, read-only, invalid or not-now properties."""
    state, cluster, now = job.state, settings.cluster, settings.now
    given: set[str] = set()
    priority: tuple[int, bool] | None = None  # (expanded value, given as a bare bucket)
    for raw_name, raw_value in props:
        name = canonical(JOB_TYPES, raw_name)
        if name is None:
            raise errors.bad_request(messages.NO_TABLE_DEFINED_FOR_PROPERTY, raw_name)
        if name not in JOB_SETTABLE:
            raise errors.bad_request(messages.PROPERTY_IS_READ_ONLY, name)
        if not creating and not modify_rules.can_set_job_property(name, state):
            raise errors.conflict(messages.SET_INVALID_PROP_UNDER_CERTAIN_STATE, name, state.name)
        given.add(name)
        if name == "Priority":
            priority = _priority(raw_value)
            job.props["ExpandedPriority"] = str(priority[0])
        elif name == "HoldUntil":
            job.props[name] = _hold_until(read_time(raw_value, settings.times), now)
        else:
            _set_job_value(job, name, raw_value, cluster)
    if priority is not None and "ExpandedPriority" in given:
        _check_priorities_agree(priority, int(job.props["ExpandedPriority"]))
    if creating or "ClientSource" in given:
        stamp_client_source(job, settings.profile, StampedAt.WRITE)
    if creating:
        for bound in ("Min", "Max"):
            if f"AutoCalculate{bound}" not in given:
                explicit = any(f"{bound}{unit}" in given for unit in ("Cores", "Nodes", "Sockets"))
                job.props[f"AutoCalculate{bound}"] = format_bool(not explicit)


def stamp_client_source(job: JobRow, profile: ClusterProfile, moment: StampedAt) -> None:
    """A server that does not keep ClientSource puts its own value there at `moment` (a
    create or PUT; a submit) if that is when its profile says it does (issue 15)."""
    if not profile.client_source_kept and profile.client_source_stamped_at is moment:
        job.props["ClientSource"] = profile.client_source_stamp


def _set_job_value(job: JobRow, name: str, raw: str, cluster: ClusterSpec) -> None:
    if name in WRITE_ONLY:  # accepted, never stored: a secret is not saved to disk
        return
    value = parse_value(JOB_TYPES[name], name, raw)
    if name == "ExpandedPriority" and not 0 <= int(value) <= values.MAX_PRIORITY:
        raise errors.bad_request(messages.EXPANDED_PRIORITY_OUT_OF_RANGE, 0, values.MAX_PRIORITY)
    if name in ("Name", "Project") and len(value) > catalogue.MAX_NAME_LENGTH:
        raise errors.bad_request(messages.PROPERTY_VALUE_TOO_LARGE, name, 80)
    if name == "JobValidExitCodes" and value:
        check_exit_codes(value)
    if name == "JobTemplate" and cluster.template(value) is None:
        raise errors.bad_request(messages.PROFILE_NOT_FOUND)
    if name == "ParentJobIds" and value:
        parts = [p.strip() for p in value.split(",")]
        if not all(p.isdigit() and int(p) >= 1 for p in parts):
            raise errors.bad_request(messages.INVALID_PARENT_JOB_IDS, value)
        value = ",".join(parts)
    if name == "NodeGroups":
        for group in filter(None, value.split(",")):
            if cluster.group(group) is None:
                raise errors.bad_request(messages.UNKNOWN_NODE_GROUP, group)
    if name == "OrderBy" and value:
        value = _order_by(value)
    job.props[name] = value


def _priority(raw: str) -> tuple[int, bool]:
    """`Normal` or `2` (a JobPriority) → (2000, True); `Normal+5` or `2005` → (2005, False)."""
    text = raw.strip()
    try:
        bucket = parse_value("JobPriority", "Priority", text)
        return values.PRIORITY_BUCKETS[bucket], True
    except errors.SchedulerError:
        try:
            return values.parse_priority(text), False
        except ValueError:
            raise errors.bad_request(messages.PRIORITY_NOT_VALID) from None


def _check_priorities_agree(priority: tuple[int, bool], expanded: int) -> None:
    """Priority and ExpandedPriority set together must name the same priority: a bare bucket
    (`Normal`) takes any ExpandedPriority inside it, a precise form only its own value
    (Operation_PriorityAndExPriCannotBeSetTogether)."""
    value, bucket = priority
    agree = priority_name(value) == priority_name(expanded) if bucket else value == expanded
    if not agree:
        raise errors.bad_request(messages.PRIORITY_AND_EXPANDED_PRIORITY_CONFLICT)


def read_time(text: str, times: TimeFormat | None) -> str:
    """A time in the cluster's own format (a profile's), else as `parse_value` reads it."""
    if times is not None and text.strip():
        try:
            return format_time(times.parse(text))
        except ValueError:
            pass
    return text


HOLD_LIMIT_YEARS = 1  # Operation_JobHoldUntilTooLong: "cannot be held for more than 1 year"


def _hold_until(raw: str, now: float) -> str:
    """A HoldUntil time that is neither past nor more than a year ahead ("" clears it)."""
    value = parse_value("DateTime", "HoldUntil", raw)
    if not value:
        return value
    moment = parse_time(value)
    if moment < math.floor(now):  # times travel with whole seconds
        raise errors.bad_request(messages.JOB_INVALID_HOLD_UNTIL)
    today = datetime.fromtimestamp(now, UTC)
    try:
        limit = today.replace(year=today.year + HOLD_LIMIT_YEARS)
    except ValueError:  # 29 February
        limit = today.replace(year=today.year + HOLD_LIMIT_YEARS, day=28)
    if moment > limit.timestamp():
        raise errors.bad_request(messages.JOB_HOLD_UNTIL_TOO_LONG)
    return value


# JobOrderBy.Parse takes "[-][Core|Memory]" (sdk-xmldoc); the OrderByProperty members are
# Cores and Memory, so both spellings of the first are read; a list is comma-separated.
_ORDER_BY = {"core": "Core", "cores": "Core", "memory": "Memory"}


def _order_by(value: str) -> str:
    """`-Memory,Core` (or `Memory,Cores`) is kept as it is; anything else is refused."""
    seen: list[str] = []
    for part in value.split(","):
        name = _ORDER_BY.get(part.strip().removeprefix("-").strip().lower())
        if name is None or name in seen:
            raise errors.bad_request(
                messages.INVALID_OPERATION,
                f" OrderBy '{value}' is not a list of [-]Core or [-]Memory, each at most once.",
            )
        seen.append(name)
    return value  # kept as sent: a client reads back what it wrote
