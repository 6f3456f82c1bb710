"""Checking and storing the job properties a client sets (create, PUT, submit, job XML).

Which properties exist and their types: `properties.py` (`derived/property-ids.json`); which
may change in which state: `hpcspec.hpcpack.modify_rules` (`derived/job-modify-rules.json`);
value rules and messages: `derived/error-codes.json`, cited per rule below.
"""

from __future__ import annotations

from collections.abc import Sequence

from hpcspec.emulator import errors
from hpcspec.emulator.cluster import ClusterSpec
from hpcspec.emulator.properties import (
    JOB_SETTABLE,
    JOB_TYPES,
    WRITE_ONLY,
    canonical,
    check_exit_codes,
    format_bool,
    parse_value,
)
from hpcspec.emulator.rows import JobRow
from hpcspec.hpcpack import catalogue, modify_rules, values

Pairs = Sequence[tuple[str, str]]


def apply_job_props(job: JobRow, props: Pairs, creating: bool, cluster: ClusterSpec) -> None:
    """Set `props` on `job`, refusing unknown, read-only, invalid or not-now properties."""
    state = job.state
    given: set[str] = set()
    for raw_name, raw_value in props:
        name = canonical(JOB_TYPES, raw_name)
        if name is None:
            raise errors.bad_request(errors.NO_TABLE_DEFINED_FOR_PROPERTY, raw_name)
        if name not in JOB_SETTABLE:
            raise errors.bad_request(errors.PROPERTY_IS_READ_ONLY, name)
        if not creating and not modify_rules.can_set_job_property(name, state):
            raise errors.conflict(errors.SET_INVALID_PROP_UNDER_CERTAIN_STATE, name, state.name)
        given.add(name)
        _set_job_value(job, name, raw_value, cluster)
    if creating:
        for bound in ("Min", "Max"):
            if f"AutoCalculate{bound}" not in given:
                explicit = any(f"{bound}{unit}" in given for unit in ("Cores", "Nodes", "Sockets"))
                job.props[f"AutoCalculate{bound}"] = format_bool(not explicit)


def _set_job_value(job: JobRow, name: str, raw: str, cluster: ClusterSpec) -> None:
    if name in WRITE_ONLY:  # accepted, never stored: a secret is not saved to disk
        return
    if name == "Priority":
        job.props["ExpandedPriority"] = str(_expanded_priority(raw))
        return
    value = parse_value(JOB_TYPES[name], name, raw)
    if name == "ExpandedPriority" and not 0 <= int(value) <= values.MAX_PRIORITY:
        raise errors.bad_request(errors.INVALID_OPERATION, " ExpandedPriority is 0..4000.")
    if name in ("Name", "Project") and len(value) > catalogue.MAX_NAME_LENGTH:
        raise errors.bad_request(errors.PROPERTY_VALUE_TOO_LARGE, name, 80)
    if name == "JobValidExitCodes" and value:
        check_exit_codes(value)
    if name == "JobTemplate" and cluster.template(value) is None:
        raise errors.bad_request(errors.PROFILE_NOT_FOUND)
    if name == "ParentJobIds" and value:
        parts = [p.strip() for p in value.split(",")]
        if not all(p.isdigit() and int(p) >= 1 for p in parts):
            raise errors.bad_request(errors.INVALID_PARENT_JOB_IDS, value)
        value = ",".join(parts)
    if name == "NodeGroups":
        for group in filter(None, value.split(",")):
            if cluster.group(group) is None:
                raise errors.bad_request(errors.UNKNOWN_NODE_GROUP, group)
    job.props[name] = value


def _expanded_priority(raw: str) -> int:
    """`Normal`, `2` (a JobPriority number), `Normal+5` or `2005` → the expanded priority."""
    text = raw.strip()
    try:
        bucket = parse_value("JobPriority", "Priority", text)
        return values.PRIORITY_BUCKETS[bucket]
    except errors.SchedulerError:
        try:
            return values.parse_priority(text)
        except ValueError as error:
            raise errors.bad_request(errors.INVALID_OPERATION, f" {error}", detail="") from None
