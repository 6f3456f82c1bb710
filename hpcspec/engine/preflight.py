"""Preflight: names a manifest uses that the cluster lacks become refusals in the plan.

Before planning, the cluster is asked for its node groups, job templates and (only when a
manifest names nodes) its nodes, so a name that does not exist is a plan error, not a
surprise after submit. `block_missing` puts a `missing-on-cluster` block on every change that
would send such a job to the scheduler. `block_xml_only` refuses, for `--create-via rest`, a
job that sets a property only job XML can carry; `block_xml_trims`, for job XML, a job whose
env or custom property values the importer would trim.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from hpcspec.engine.plan import Action, Block, BlockCode, Change, Plan
from hpcspec.engine.protocols import ClusterFacts
from hpcspec.hpcpack.definition import JobDefinition
from hpcspec.manifest.resolve import ResolvedStack


class ClusterName(StrEnum):
    """What kind of name a manifest may use that the cluster must have."""

    NODE_GROUP = "node group"
    JOB_TEMPLATE = "job template"
    NODE = "node"


@dataclass(frozen=True)
class Missing:
    """A name the manifest uses that the cluster does not have."""

    key: str
    what: ClusterName
    name: str


def preflight(cluster: ClusterFacts, stack: ResolvedStack) -> list[Missing]:
    """Names of node groups, job templates and nodes that the cluster lacks (each kind is
    asked for only when the manifest names one)."""
    wanted: dict[ClusterName, list[tuple[str, str]]] = {kind: [] for kind in ClusterName}
    for key, job in stack.jobs.items():
        for name in _names(job.definition.get("NodeGroups")):
            wanted[ClusterName.NODE_GROUP].append((key, name))
        template = job.definition.get("JobTemplate")
        if template:
            wanted[ClusterName.JOB_TEMPLATE].append((key, str(template)))
        for name in _names(job.definition.get("RequestedNodes")):
            wanted[ClusterName.NODE].append((key, name))
        for task in job.definition.tasks:
            group = task.get("RequestedNodeGroup")
            if group:
                wanted[ClusterName.NODE_GROUP].append((key, str(group)))
            for name in _names(task.get("RequiredNodes")):
                wanted[ClusterName.NODE].append((key, name))
    known: dict[ClusterName, Callable[[], Iterable[str]]] = {
        ClusterName.NODE_GROUP: lambda: (g.name for g in cluster.node_groups()),
        ClusterName.JOB_TEMPLATE: cluster.job_templates,
        ClusterName.NODE: cluster.node_names,
    }
    missing: list[Missing] = []
    for kind, names in wanted.items():
        if names:
            have = {name.lower() for name in known[kind]()}
            missing += [Missing(k, kind, n) for k, n in names if n.lower() not in have]
    return missing


def _names(value: object) -> list[str]:
    return [n.strip() for n in str(value or "").split(",") if n.strip()]


def _acts(change: Change) -> bool:
    """Whether the change would send the job's spec to the scheduler (so a missing name
    matters): an unchanged job, or one that is only cancelled, is not refused for it."""
    return change.action not in (Action.NO_OP, Action.CANCEL)


def block_missing(plan: Plan, missing: Iterable[Missing]) -> Plan:
    """`plan` with a refusal on each change whose job names something the cluster lacks."""
    by_key: dict[str, list[Block]] = {}
    for item in missing:
        by_key.setdefault(item.key, []).append(
            Block(
                BlockCode.MISSING_ON_CLUSTER,
                f"{item.what} {item.name!r} does not exist on the cluster",
                f"check the name, or create the {item.what} first",
            )
        )
    if not by_key:
        return plan
    changes: list[Change] = [
        replace(c, blocks=(*c.blocks, *by_key.get(c.key, ()))) if _acts(c) else c
        for c in plan.changes
    ]
    return replace(plan, changes=tuple(changes))


def block_xml_only(plan: Plan, stack: ResolvedStack) -> Plan:
    """`plan` with an `xml-only` refusal on each change that would create, through the REST
    API, a job setting a property the REST API documents no way to send (the catalogue's
    `rest`; e.g. TaskExecutionFailureRetryLimit, a task's RequestedNodeGroup)."""

    def refusal(key: str, place: tuple[str, ...]) -> Block:
        return Block(
            BlockCode.XML_ONLY,
            f"jobs.{key}.{'.'.join(place)}: the REST API cannot set {place[-1]}, so "
            "--create-via rest cannot create this job",
            "create it through job XML (the default: leave out --create-via rest), or "
            f"remove {place[-1]}",
        )

    return _block_creates(plan, stack, lambda job: job.xml_only_properties(), refusal)


def block_xml_trims(plan: Plan, stack: ResolvedStack) -> Plan:
    """`plan` with an `xml-trims` refusal on each change that would create, through job XML,
    a job with an env variable or custom property whose name or value starts or ends with
    white space: HPC Pack's importer trims them (`JobDefinition.xml_trimmed_pairs`), so the
    job would carry another value than the manifest's while its digest said it matched."""

    def refusal(key: str, place: tuple[str, ...]) -> Block:
        what = "environment variable" if place[-2] == "env" else "custom property"
        return Block(
            BlockCode.XML_TRIMS,
            f"jobs.{key}.{'.'.join(place)}: HPC Pack's job XML importer trims the white "
            f"space around this {what}'s name and value, so job XML cannot create it as "
            "the manifest writes it",
            "remove the leading and trailing white space, or pass --create-via rest (the "
            "REST API sends it as written)",
        )

    return _block_creates(plan, stack, lambda job: job.xml_trimmed_pairs(), refusal)


def note_xml_trims(plan: Plan, stack: ResolvedStack) -> Plan:
    """`plan` with a note for each create apply's default path (job XML) would refuse with
    `xml-trims`: plan does not know how apply will create (`--create-via` is apply's), so it
    tells a reviewer now rather than the pipeline's apply later."""
    refused = block_xml_trims(plan, stack)
    notes = [
        f"{block.message}; apply refuses it unless --create-via rest"
        for change in refused.changes
        for block in change.blocks
        if block.code is BlockCode.XML_TRIMS
    ]
    return replace(plan, notes=(*plan.notes, *notes)) if notes else plan


def _block_creates(
    plan: Plan,
    stack: ResolvedStack,
    places_of: Callable[[JobDefinition], tuple[tuple[str, ...], ...]],
    refusal: Callable[[str, tuple[str, ...]], Block],
) -> Plan:
    """`plan` with `refusal(key, place)` on each change that creates a job (create, replace,
    rerun, extend) for each of `places_of(its definition)`."""
    changes: list[Change] = []
    for change in plan.changes:
        job = stack.jobs.get(change.key)
        places = places_of(job.definition) if job is not None else ()
        if not change.action.makes_job or not places:
            changes.append(change)
            continue
        blocks = tuple(refusal(change.key, place) for place in places)
        changes.append(replace(change, blocks=(*change.blocks, *blocks)))
    return replace(plan, changes=tuple(changes))
